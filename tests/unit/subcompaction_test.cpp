// Splitting a compaction job into key ranges (compaction/subcompaction.hpp):
// the ranges cover every key once, in order, cut at input files' largest
// keys into parts of about equal bytes; small jobs stay whole.
// Registered as meson test `compaction_subcompaction` (suite `unit`).
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "compaction/subcompaction.hpp"
#include "sst/internal_key.hpp"

using namespace strata;
using compaction::compaction_plan;
using compaction::split_for_subcompactions;

namespace {

db_internal::table_file file(const std::string& smallest, const std::string& largest, std::uint64_t size) {
  db_internal::table_file f;
  f.size = size;
  f.smallest = sst::make_internal_key(smallest, 9, value_type::value);
  f.largest = sst::make_internal_key(largest, 3, value_type::value);
  return f;
}

// Level 0: two files over the whole range; level 1: eight files of 10 bytes.
compaction_plan wide_plan() {
  compaction_plan plan;
  plan.inputs[0] = {file("a", "z", 20), file("b", "y", 20)};
  for (char c = 'a'; c < 'a' + 8; ++c) plan.inputs[1].push_back(file(std::string(1, c), std::string(1, c) + "9", 10));
  return plan;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(subcompaction)

BOOST_AUTO_TEST_CASE(small_jobs_and_one_part_stay_whole) {
  const auto plan = wide_plan();
  for (const auto& ranges :
       {split_for_subcompactions(plan, 1, 0), split_for_subcompactions(plan, 4, plan.input_bytes() + 1)}) {
    BOOST_TEST_REQUIRE(ranges.size() == 1u);
    BOOST_TEST(!ranges[0].begin.has_value());
    BOOST_TEST(!ranges[0].end.has_value());
  }
}

BOOST_AUTO_TEST_CASE(parts_cover_the_key_space_in_order) {
  const auto plan = wide_plan();  // 120 bytes; level-1 files end at a9, b9, ..., h9
  const auto ranges = split_for_subcompactions(plan, 3, 0);
  BOOST_TEST_REQUIRE(ranges.size() == 3u);
  BOOST_TEST(!ranges.front().begin.has_value());
  BOOST_TEST(!ranges.back().end.has_value());
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    BOOST_TEST_REQUIRE(ranges[i].begin.has_value());
    BOOST_TEST((ranges[i].begin == ranges[i - 1].end));  // adjacent, no gap, no overlap
  }
  BOOST_TEST(*ranges[0].end < *ranges[1].end);
  // Cumulative bytes by largest key: a9 10, b9 20, c9 30, d9 40 (>= 120/3),
  // e9 50 ... h9 80 (>= 2*120/3), y 100, z 120.
  BOOST_TEST(*ranges[0].end == "d9");
  BOOST_TEST(*ranges[1].end == "h9");
}

BOOST_AUTO_TEST_CASE(one_huge_file_cannot_be_cut) {
  compaction_plan plan;
  plan.inputs[0] = {file("a", "z", 1000)};
  const auto ranges = split_for_subcompactions(plan, 4, 0);
  BOOST_TEST(ranges.size() == 1u);  // the only cut would be at its own end
}

BOOST_AUTO_TEST_SUITE_END()
