// The leveled picker on hand-built versions: which level it scores highest,
// which file of a level n >= 1 it takes (least overlap per byte, or round
// the cursor), what of level n+1 comes along, and LevelDB's expansion.
// Registered as meson test `compaction_picker` (suite `unit`).
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "compaction/compaction_picker.hpp"
#include "sst/internal_key.hpp"

using namespace strata;
using compaction::file_choice;
using compaction::leveled_options;
using compaction::leveled_picker;
using db_internal::table_file;
using db_internal::version;

namespace {

table_file file(std::uint64_t number, const std::string& smallest, const std::string& largest, std::uint64_t size) {
  table_file f;
  f.number = number;
  f.size = size;
  f.smallest = sst::make_internal_key(smallest, 10, value_type::value);
  f.largest = sst::make_internal_key(largest, 1, value_type::value);
  return f;
}

std::vector<std::uint64_t> numbers(const std::vector<table_file>& files) {
  std::vector<std::uint64_t> out;
  for (const auto& f : files) out.push_back(f.number);
  return out;
}

constexpr std::uint64_t mib = 1 << 20;
const std::array<bool, db_internal::num_levels> idle{};

// Level 1 over its 10 MiB target with three files; level 2 under them:
// file 1 (a..c) overlaps 8 MiB of level 2, file 2 (d..f) 1 MiB, file 3
// (g..i) 4 MiB.
version overfull_level1() {
  version v;
  v.levels[1] = {file(1, "a", "c", 4 * mib), file(2, "d", "f", 4 * mib), file(3, "g", "i", 4 * mib)};
  v.levels[2] = {file(10, "a", "b", 4 * mib), file(11, "b1", "c", 4 * mib), file(12, "e", "e", 1 * mib),
                 file(13, "g", "h", 4 * mib)};
  return v;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(compaction_picker)

BOOST_AUTO_TEST_CASE(min_overlapping_ratio_takes_the_cheapest_file) {
  leveled_picker picker({.max_bytes_for_level_base = 10 * mib});
  const version v = overfull_level1();
  BOOST_TEST(picker.score(v, 1) == 1.2);
  const auto ratios = compaction::overlap_ratios(v, 1);
  BOOST_TEST(ratios == (std::vector<double>{2.0, 0.25, 1.0}), boost::test_tools::per_element());
  const auto plan = picker.pick(v, idle);
  BOOST_TEST_REQUIRE(plan.has_value());
  BOOST_TEST(plan->level == 1);
  BOOST_TEST(plan->output_level() == 2);
  BOOST_TEST(numbers(plan->inputs[0]) == std::vector<std::uint64_t>{2}, boost::test_tools::per_element());
  BOOST_TEST(numbers(plan->inputs[1]) == std::vector<std::uint64_t>{12}, boost::test_tools::per_element());
  BOOST_TEST(!plan->trivial_move);
}

BOOST_AUTO_TEST_CASE(round_robin_walks_the_cursor) {
  leveled_picker picker({.max_bytes_for_level_base = 10 * mib, .choice = file_choice::round_robin});
  const version v = overfull_level1();
  std::vector<std::uint64_t> taken;
  for (int i = 0; i < 4; ++i) {
    const auto plan = picker.pick(v, idle);
    BOOST_TEST_REQUIRE(plan.has_value());
    BOOST_TEST_REQUIRE(plan->inputs[0].size() == 1u);
    taken.push_back(plan->inputs[0].front().number);
  }
  BOOST_TEST(taken == (std::vector<std::uint64_t>{1, 2, 3, 1}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(ties_go_round_the_cursor) {
  // Every file has the same ratio (no overlap: trivial moves), so the
  // cursor decides, as in round robin.
  leveled_picker picker({.max_bytes_for_level_base = 10 * mib});
  version v;
  v.levels[1] = {file(1, "a", "b", 4 * mib), file(2, "c", "d", 4 * mib), file(3, "e", "f", 4 * mib)};
  std::vector<std::uint64_t> taken;
  for (int i = 0; i < 3; ++i) {
    const auto plan = picker.pick(v, idle);
    BOOST_TEST_REQUIRE(plan.has_value());
    BOOST_TEST(plan->trivial_move);
    taken.push_back(plan->inputs[0].front().number);
  }
  BOOST_TEST(taken == (std::vector<std::uint64_t>{1, 2, 3}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(grandparents_are_listed_and_bound_trivial_moves) {
  // Level 1's file 1 (b..m) overlaps nothing in level 2, so it could move
  // down as it is; level 3 under it holds 3 x 4 MiB in b..m (file 22 is
  // outside). Within the 10 MiB grandparent limit it is a rewrite, with a
  // 20 MiB limit a move. The plan lists the overlapping level-3 files.
  version v;
  v.levels[1] = {file(1, "b", "m", 12 * mib)};
  v.levels[2] = {file(10, "x", "y", 1 * mib)};
  v.levels[3] = {file(20, "a", "c", 4 * mib), file(21, "d", "f", 4 * mib), file(23, "k", "n", 4 * mib),
                 file(22, "p", "q", 4 * mib)};
  leveled_picker tight({.max_bytes_for_level_base = 10 * mib, .max_grandparent_overlap_bytes = 10 * mib});
  auto plan = tight.pick(v, idle);
  BOOST_TEST_REQUIRE(plan.has_value());
  BOOST_TEST(numbers(plan->grandparents) == (std::vector<std::uint64_t>{20, 21, 23}), boost::test_tools::per_element());
  BOOST_TEST(plan->inputs[1].empty());
  BOOST_TEST(!plan->trivial_move);
  leveled_picker roomy({.max_bytes_for_level_base = 10 * mib, .max_grandparent_overlap_bytes = 20 * mib});
  plan = roomy.pick(v, idle);
  BOOST_TEST_REQUIRE(plan.has_value());
  BOOST_TEST(plan->trivial_move);
}

BOOST_AUTO_TEST_CASE(disjoint_level0_tables_move_down_together) {
  // Four level-0 tables of ascending, disjoint ranges (newest first, as a
  // sequential fill leaves them), nothing under them in level 1: all four
  // move. Level 1's file 9 lies past them and stays out of the plan.
  leveled_picker picker({.level0_compaction_trigger = 4, .max_bytes_for_level_base = 10 * mib});
  version v;
  v.levels[0] = {file(4, "j", "l", mib), file(3, "g", "i", mib), file(2, "d", "f", mib), file(1, "a", "c", mib)};
  v.levels[1] = {file(9, "x", "z", mib)};
  auto plan = picker.pick(v, idle);
  BOOST_TEST_REQUIRE(plan.has_value());
  BOOST_TEST(plan->level == 0);
  BOOST_TEST(plan->inputs[0].size() == 4u);
  BOOST_TEST(plan->inputs[1].empty());
  BOOST_TEST(plan->trivial_move);

  // A user key in two tables (f ends one, starts the next): they merge.
  version shared = v;
  shared.levels[0][1] = file(3, "f", "i", mib);
  plan = picker.pick(shared, idle);
  BOOST_TEST_REQUIRE(plan.has_value());
  BOOST_TEST(!plan->trivial_move);

  // A level-1 file in a gap between them is merged with them.
  version gap = v;
  gap.levels[1] = {file(9, "fa", "fb", mib)};
  plan = picker.pick(gap, idle);
  BOOST_TEST_REQUIRE(plan.has_value());
  BOOST_TEST(numbers(plan->inputs[1]) == std::vector<std::uint64_t>{9}, boost::test_tools::per_element());
  BOOST_TEST(!plan->trivial_move);

  // The grandparent limit holds per moved table: 12 MiB of level 2 under
  // g..i alone (4 MiB under each of the others would be within it).
  version deep = v;
  deep.levels[2] = {file(20, "a", "b", 4 * mib), file(21, "d", "e", 4 * mib), file(22, "g", "g", 6 * mib),
                    file(23, "h", "i", 6 * mib)};
  leveled_picker tight({.level0_compaction_trigger = 4,
                        .max_bytes_for_level_base = 10 * mib,
                        .max_grandparent_overlap_bytes = 10 * mib});
  plan = tight.pick(deep, idle);
  BOOST_TEST_REQUIRE(plan.has_value());
  BOOST_TEST(!plan->trivial_move);
  deep.levels[2].pop_back();  // now 6 MiB under g..i
  plan = tight.pick(deep, idle);
  BOOST_TEST_REQUIRE(plan.has_value());
  BOOST_TEST(plan->trivial_move);
}

BOOST_AUTO_TEST_CASE(expansion_takes_level_n_files_inside_the_range) {
  // Level 1 file 1 (b..c) pulls in level 2's file 10 (a..z); files 2 and 3
  // lie inside a..z and bring nothing new: they join. With a limit below
  // their size, they do not.
  version v;
  v.levels[1] = {file(1, "b", "c", 4 * mib), file(2, "d", "e", 4 * mib), file(3, "f", "g", 4 * mib)};
  v.levels[2] = {file(10, "a", "z", 1 * mib)};
  leveled_picker roomy({.max_bytes_for_level_base = 10 * mib, .choice = file_choice::round_robin});
  auto plan = roomy.pick(v, idle);
  BOOST_TEST_REQUIRE(plan.has_value());
  BOOST_TEST(numbers(plan->inputs[0]) == (std::vector<std::uint64_t>{1, 2, 3}), boost::test_tools::per_element());
  BOOST_TEST(numbers(plan->inputs[1]) == std::vector<std::uint64_t>{10}, boost::test_tools::per_element());
  leveled_picker tight(
      {.max_bytes_for_level_base = 10 * mib, .choice = file_choice::round_robin, .expanded_compaction_limit = 8 * mib});
  plan = tight.pick(v, idle);
  BOOST_TEST_REQUIRE(plan.has_value());
  BOOST_TEST(numbers(plan->inputs[0]) == std::vector<std::uint64_t>{1}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bottommost_covers_the_expanded_inputs) {
  // File 1 (b..c) pulls in level 2's file 10 (a..e); file 2 (d..z) meets
  // that range and brings no other level-2 file, so it joins. Level 3 holds
  // a file at x..y: under file 2's keys, so the job is not bottommost (its
  // tombstones for x..y still hide older versions there).
  version v;
  v.levels[1] = {file(1, "b", "c", 4 * mib), file(2, "d", "z", 4 * mib), file(3, "zz", "zz", 4 * mib)};
  v.levels[2] = {file(10, "a", "e", 1 * mib)};
  v.levels[3] = {file(20, "x", "y", 1 * mib)};
  leveled_picker picker({.max_bytes_for_level_base = 10 * mib, .choice = file_choice::round_robin});
  const auto plan = picker.pick(v, idle);
  BOOST_TEST_REQUIRE(plan.has_value());
  BOOST_TEST(numbers(plan->inputs[0]) == (std::vector<std::uint64_t>{1, 2}), boost::test_tools::per_element());
  BOOST_TEST(!plan->bottommost);
}

BOOST_AUTO_TEST_CASE(level0_by_count_and_busy_levels_are_skipped) {
  leveled_picker picker({.level0_compaction_trigger = 2, .max_bytes_for_level_base = 10 * mib});
  version v = overfull_level1();
  v.levels[0] = {file(30, "a", "z", mib), file(29, "c", "d", mib), file(28, "x", "y", mib)};
  BOOST_TEST(picker.score(v, 0) == 1.5);
  auto plan = picker.pick(v, idle);
  BOOST_TEST_REQUIRE(plan.has_value());
  BOOST_TEST(plan->level == 0);  // 1.5 beats level 1's 1.2
  BOOST_TEST(numbers(plan->inputs[0]) == (std::vector<std::uint64_t>{30, 29, 28}), boost::test_tools::per_element());
  BOOST_TEST(plan->inputs[1].size() == 3u);  // all of level 1 overlaps a..z
  auto busy = idle;
  busy[1] = true;  // a job writes level 1: neither level 0 nor 1 may start
  BOOST_TEST(!picker.pick(v, busy).has_value());
  busy = idle;
  busy[0] = true;  // level 0 busy: level 1 -> 2 may still run
  plan = picker.pick(v, busy);
  BOOST_TEST_REQUIRE(plan.has_value());
  BOOST_TEST(plan->level == 1);
}

BOOST_AUTO_TEST_SUITE_END()
