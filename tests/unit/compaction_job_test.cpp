// compaction::run_compaction_job on an in-memory input: where it cuts its
// output tables. By size, by the bytes of the plan's grandparent files an
// output passes over (LevelDB's ShouldStopBefore), and at grandparent
// boundaries when aligning (RocksDB's dynamic file size), always between
// user keys. Registered as meson test `compaction_job` (suite `unit`).
#include <fmt/format.h>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "compaction/compaction_job.hpp"
#include "compaction/internal_iterator.hpp"
#include "db/file_names.hpp"
#include "io/file.hpp"
#include "io/io_engine.hpp"
#include "run_awaitable.hpp"
#include "sst/internal_key.hpp"
#include "temp_dir.hpp"

namespace asio = boost::asio;
using namespace strata;
using strata::testing::run;

namespace {

// Sorted internal keys with their values, as a compaction input.
class vector_child final : public compaction::internal_iterator {
 public:
  explicit vector_child(std::vector<std::pair<std::string, std::string>> entries) : entries_(std::move(entries)) {}
  bool valid() const noexcept override { return at_ < entries_.size(); }
  std::string_view key() const noexcept override { return entries_[at_].first; }
  std::string_view value() const noexcept override { return entries_[at_].second; }
  std::error_code error() const noexcept override { return {}; }
  const std::string& message() const noexcept override { return message_; }
  asio::awaitable<void> seek_to_first() override {
    at_ = 0;
    co_return;
  }
  asio::awaitable<void> seek_to_last() override {
    at_ = entries_.empty() ? 0 : entries_.size() - 1;
    co_return;
  }
  asio::awaitable<void> seek(std::string_view target) override {
    try_seek(target);
    co_return;
  }
  asio::awaitable<void> next() override {
    ++at_;
    co_return;
  }
  asio::awaitable<void> prev() override {
    at_ = at_ == 0 ? entries_.size() : at_ - 1;
    co_return;
  }
  bool try_next() override {
    ++at_;
    return true;
  }
  bool try_prev() override { return false; }
  bool try_seek(std::string_view target) override {
    at_ = static_cast<std::size_t>(
        std::find_if(entries_.begin(), entries_.end(),
                     [&](const auto& e) { return sst::compare_internal_keys(e.first, target) >= 0; }) -
        entries_.begin());
    return true;
  }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
  std::size_t at_ = 0;
  std::string message_;
};

std::string user_key(int i) { return fmt::format("k{:03}", i); }

db_internal::table_file grandparent(int first, int last, std::uint64_t size) {
  db_internal::table_file f;
  f.size = size;
  f.smallest = sst::make_internal_key(user_key(first), 5, value_type::value);
  f.largest = sst::make_internal_key(user_key(last), 5, value_type::value);
  return f;
}

// Keys k000..k099, one version each (k050 has two: sequences 200 and 101,
// the others 100..106), merged into level 2 of
// a plan whose grandparents (level 3) are ten files of 100 bytes, k000..k009,
// k010..k019, and so on. Returns the job's outputs.
std::vector<db_internal::table_file> outputs(std::uint64_t target_file_bytes,
                                             std::uint64_t max_grandparent_overlap_bytes,
                                             sequence_number oldest_snapshot = 1000, bool align = false,
                                             std::size_t block_size = 4096, bool with_grandparents = true) {
  asio::io_context ctx;
  testing::temp_dir dir;
  auto engine = io::make_io_engine({});
  std::vector<std::pair<std::string, std::string>> entries;
  for (int i = 0; i < 100; ++i) {
    if (i == 50) entries.emplace_back(sst::make_internal_key(user_key(i), 200, value_type::value), "newer");
    entries.emplace_back(
        sst::make_internal_key(user_key(i), 100 + static_cast<sequence_number>(i) % 7, value_type::value),
        std::string(10, 'v'));
  }
  std::vector<std::unique_ptr<compaction::internal_iterator>> inputs;
  inputs.push_back(std::make_unique<vector_child>(std::move(entries)));

  compaction::compaction_plan plan;
  plan.level = 1;
  plan.output = 2;
  for (int g = 0; g < 10 && with_grandparents; ++g) plan.grandparents.push_back(grandparent(10 * g, 10 * g + 9, 100));
  const compaction::job_options options{.table = {.block_size = block_size, .bits_per_key = 10},
                                        .target_file_bytes = target_file_bytes,
                                        .max_grandparent_overlap_bytes = max_grandparent_overlap_bytes,
                                        .align_to_grandparents = align,
                                        .oldest_snapshot = oldest_snapshot};
  std::uint64_t next_number = 1;
  std::vector<std::unique_ptr<io::file>> files;
  const compaction::new_output_fn new_output = [&](std::uint64_t& number, std::unique_ptr<io::file>& file,
                                                   std::string& message) -> std::error_code {
    number = next_number++;
    std::error_code ec;
    file = io::file::open(*engine, db_internal::table_file_name(dir.path(), number), {.create = true, .truncate = true},
                          ec);
    if (ec) message = ec.message();
    return ec;
  };
  compaction::job_result result;
  std::string message;
  const auto ec =
      run(ctx, compaction::run_compaction_job(plan, std::move(inputs), options, new_output, result, message));
  BOOST_TEST_REQUIRE(!ec, message);
  BOOST_TEST(result.entries_in == 101u);
  // k050's older version goes unless a snapshot below its newer one needs it.
  BOOST_TEST(result.entries_out == (oldest_snapshot >= 200 ? 100u : 101u));
  return result.outputs;
}

// Each output's first and last user key.
std::vector<std::pair<std::string, std::string>> output_ranges(std::uint64_t target_file_bytes,
                                                               std::uint64_t max_grandparent_overlap_bytes) {
  std::vector<std::pair<std::string, std::string>> ranges;
  for (const auto& f : outputs(target_file_bytes, max_grandparent_overlap_bytes)) {
    ranges.emplace_back(std::string(sst::user_key_of(f.smallest)), std::string(sst::user_key_of(f.largest)));
  }
  return ranges;
}

using ranges = std::vector<std::pair<std::string, std::string>>;

}  // namespace

BOOST_AUTO_TEST_SUITE(compaction_job)

BOOST_AUTO_TEST_CASE(without_a_grandparent_limit_one_output_holds_everything) {
  const auto got = output_ranges(1 << 20, 0);
  BOOST_TEST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].first == "k000");
  BOOST_TEST(got[0].second == "k099");
}

BOOST_AUTO_TEST_CASE(outputs_are_cut_once_they_pass_over_too_many_grandparent_bytes) {
  // Limit 250 bytes: an output may pass over two 100-byte grandparents; at
  // the first key past the third it ends (LevelDB counts a grandparent once
  // the output has a key before it and a key after it).
  const auto got = output_ranges(1 << 20, 250);
  const ranges want = {{"k000", "k029"}, {"k030", "k059"}, {"k060", "k089"}, {"k090", "k099"}};
  BOOST_TEST_REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    BOOST_TEST(got[i].first == want[i].first);
    BOOST_TEST(got[i].second == want[i].second);
  }
}

BOOST_AUTO_TEST_CASE(a_grandparent_cut_keeps_a_user_keys_versions_together) {
  // Limit 450 bytes: the cut falls at k050, the first key past the fifth
  // grandparent. A snapshot at 150 keeps both versions of k050 (sequences
  // 200 and 101); both go to the second output.
  const auto got = outputs(1 << 20, 450, 150);
  BOOST_TEST_REQUIRE(got.size() == 2u);
  BOOST_TEST(sst::user_key_of(got[0].largest) == "k049");
  BOOST_TEST(sst::user_key_of(got[1].smallest) == "k050");
  BOOST_TEST(sst::user_key_of(got[1].largest) == "k099");
  // 101 entries came out (checked in outputs()); the first output ends
  // before k050, so the second holds both versions, the newest first.
  BOOST_TEST(got[1].smallest == sst::make_internal_key("k050", 200, value_type::value));
  BOOST_TEST(got[0].largest_sequence < 200u);
}

BOOST_AUTO_TEST_CASE(aligned_outputs_end_where_grandparents_end) {
  // 64-byte blocks: an output's size grows a few entries at a time. A
  // target of 400 bytes is about 16 keys, so cuts by size alone fall inside
  // the 10-key grandparents; aligned, every output but the last ends on a
  // grandparent's last key (k?09, k?19, ...) and none outgrows twice the
  // target by more than a block.
  constexpr std::uint64_t target = 400;
  const auto by_size = outputs(target, 0, 1000, false, 64);
  BOOST_TEST_REQUIRE(by_size.size() >= 3u);
  const bool size_cuts_all_aligned = std::all_of(
      by_size.begin(), by_size.end() - 1, [](const auto& f) { return sst::user_key_of(f.largest).back() == '9'; });
  BOOST_TEST(!size_cuts_all_aligned);  // else this setup could not tell the two apart

  const auto aligned = outputs(target, 0, 1000, true, 64);
  BOOST_TEST_REQUIRE(aligned.size() >= 3u);
  for (std::size_t i = 0; i + 1 < aligned.size(); ++i) {
    BOOST_TEST(sst::user_key_of(aligned[i].largest).back() == '9',
               "output " << i << " ends at " << sst::user_key_of(aligned[i].largest));
  }
  for (std::size_t i = 0; i < aligned.size(); ++i) {
    const std::string_view first = sst::user_key_of(aligned[i].smallest);
    if (i > 0) BOOST_TEST(first.back() == '0', "output " << i << " starts at " << first);
  }
  // Sizes: an aligned output ends only past 55 % of the target, and grows
  // to at most 2 * target (plus the block that crossed it and the table's
  // index, filter and footer).
  for (std::size_t i = 0; i + 1 < aligned.size(); ++i) BOOST_TEST(aligned[i].size > target * 55 / 100);
  for (const auto& f : aligned) BOOST_TEST(f.size <= 2 * target + 64 + 400);
}

BOOST_AUTO_TEST_CASE(without_grandparents_alignment_cuts_by_size_alone) {
  // The last level has no grandparents: aligned outputs there are cut at
  // the target exactly as unaligned ones (not allowed to grow to twice it).
  const auto plain = outputs(400, 0, 1000, false, 64, false);
  const auto aligned = outputs(400, 0, 1000, true, 64, false);
  BOOST_TEST_REQUIRE(plain.size() >= 3u);
  BOOST_TEST_REQUIRE(aligned.size() == plain.size());
  for (std::size_t i = 0; i < plain.size(); ++i) BOOST_TEST(aligned[i].largest == plain[i].largest);
}

BOOST_AUTO_TEST_SUITE_END()
