// The log format on its own: encode records, parse them back, and what the
// reader does with torn tails and damaged bytes.
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

#include "wal/log_encoder.hpp"
#include "wal/log_format.hpp"
#include "wal/log_reader.hpp"

using namespace strata::wal;

namespace {

std::vector<std::string> random_records(std::mt19937_64& rng, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    std::size_t size = 0;
    switch (rng() % 4) {
      case 0:
        size = 0;
        break;
      case 1:
        size = rng() % 100;
        break;
      case 2:
        size = rng() % (3 * block_size);
        break;  // up to several blocks
      default:
        size = block_size - header_size - rng() % 16;
        break;  // near block-size edges
    }
    std::string r(size, '\0');
    for (auto& c : r) c = static_cast<char>(rng());
    out.push_back(std::move(r));
  }
  return out;
}

std::string encode(const std::vector<std::string>& records, std::vector<std::size_t>* ends = nullptr) {
  log_encoder enc;
  std::string out;
  for (const auto& r : records) {
    const auto before = out.size();
    const auto predicted = enc.encoded_size(r.size());
    enc.add_record(r, out);
    BOOST_REQUIRE_EQUAL(out.size() - before, predicted);
    if (ends) ends->push_back(out.size());
  }
  return out;
}

struct read_result {
  std::vector<std::string> records;
  log_reader::status last = log_reader::status::end;
  bool torn = false;
  std::uint64_t valid_end = 0;
  std::uint64_t dropped = 0;
  std::string error;
};

read_result read_all(std::string_view bytes, log_reader_options options = {}) {
  log_reader reader(bytes, "test.log", options);
  read_result r;
  std::string_view rec;
  for (;;) {
    r.last = reader.next(rec);
    if (r.last != log_reader::status::record) break;
    r.records.emplace_back(rec);
  }
  r.torn = reader.torn_tail();
  r.valid_end = reader.valid_end();
  r.dropped = reader.dropped_bytes();
  r.error = reader.error();
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(log_format)

BOOST_AUTO_TEST_CASE(round_trip_of_random_records_across_blocks) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    const auto records = random_records(rng, 60);
    const auto bytes = encode(records);
    const auto r = read_all(bytes);
    BOOST_REQUIRE((r.last == log_reader::status::end));
    BOOST_REQUIRE(!r.torn);
    BOOST_REQUIRE(r.records == records);
    BOOST_REQUIRE_EQUAL(r.valid_end, bytes.size());
  }
}

BOOST_AUTO_TEST_CASE(fragments_never_cross_blocks_and_trailers_are_zero) {
  // A record sized to leave 1..6 bytes in the block forces a zero trailer.
  std::vector<std::string> records{std::string(block_size - header_size - 3, 'a'), "b"};
  const auto bytes = encode(records);
  BOOST_TEST(bytes.substr(block_size - 3, 3) == std::string(3, '\0'));
  BOOST_TEST(static_cast<unsigned char>(bytes[block_size + 6]) == 1u);  // "b" is a full fragment at the next block
  BOOST_TEST((read_all(bytes).records == records));
}

BOOST_AUTO_TEST_CASE(torn_tail_at_every_byte_offset) {
  std::mt19937_64 rng(7);
  std::vector<std::string> records = random_records(rng, 6);
  records.push_back(std::string(2 * block_size, 'L'));  // a last record spanning three blocks
  records.push_back("tail");
  std::vector<std::size_t> ends;
  const auto bytes = encode(records, &ends);
  const std::size_t first_cut = ends[ends.size() - 4];
  for (std::size_t cut = first_cut; cut <= bytes.size(); ++cut) {
    const auto r = read_all(std::string_view(bytes).substr(0, cut));
    std::size_t complete = 0;
    while (complete < ends.size() && ends[complete] <= cut) ++complete;
    BOOST_REQUIRE_MESSAGE(r.last == log_reader::status::end, "cut at " << cut << ": " << r.error);
    BOOST_REQUIRE_EQUAL(r.records.size(), complete);
    for (std::size_t i = 0; i < complete; ++i) BOOST_REQUIRE(r.records[i] == records[i]);
    BOOST_REQUIRE_EQUAL(r.valid_end, complete ? ends[complete - 1] : 0);
    // A cut exactly after a record (or inside the zero trailer after it) is not torn.
    if (r.torn) BOOST_REQUIRE(cut > r.valid_end);
  }
}

BOOST_AUTO_TEST_CASE(zero_filled_tail_is_a_clean_end_in_any_file) {
  // Space the writer zero-filled ahead of its appends (or that the file
  // grew by and no data reached): nothing was written there.
  const std::vector<std::string> records{"one", "two"};
  for (const std::size_t zeros : {40000, 3}) {  // across a block boundary; shorter than a header
    const auto bytes = encode(records) + std::string(zeros, '\0');
    for (const bool last : {true, false}) {
      const auto r = read_all(bytes, {.last_file = last});
      BOOST_TEST(r.records == records);
      BOOST_TEST(!r.torn);
      BOOST_TEST((r.last == log_reader::status::end));
    }
  }
}

BOOST_AUTO_TEST_CASE(zeros_followed_by_data_are_damage) {
  const std::vector<std::string> records{"one", "two"};
  const auto head = encode(records);
  auto bytes = head;
  bytes.append(100, '\0');
  bytes += encode({"three"});  // a later record landed, an earlier one did not
  const auto last = read_all(bytes);
  BOOST_TEST(last.records == records);
  BOOST_TEST((last.last == log_reader::status::corruption));  // an intact fragment follows the hole
  const auto skipped = read_all(bytes, {.skip_corruption = true});
  BOOST_TEST(skipped.dropped > 0u);
  BOOST_TEST(skipped.records.back() == "three");
  // A hole of zeros with only garbage after it, in the last file: a torn tail.
  auto torn = head;
  torn.append(100, '\0');
  torn += "\x01\x02";
  const auto t = read_all(torn);
  BOOST_TEST(t.records == records);
  BOOST_TEST(t.torn);
  BOOST_TEST(t.valid_end == head.size());
}

BOOST_AUTO_TEST_CASE(damage_before_the_tail_is_corruption_with_offset) {
  std::mt19937_64 rng(11);
  std::vector<std::string> records;
  for (int i = 0; i < 40; ++i) records.push_back(std::string(200 + rng() % 3000, static_cast<char>('a' + i % 26)));
  std::vector<std::size_t> ends;
  const auto clean = encode(records, &ends);
  for (int trial = 0; trial < 200; ++trial) {
    auto bytes = clean;
    const std::size_t victim = rng() % 30;  // never the last records
    const std::size_t start = victim ? ends[victim - 1] : 0;
    const std::size_t pos = start + rng() % (ends[victim] - start);
    if (block_size - pos % block_size < header_size) continue;  // a zero trailer: carries no data
    bytes[pos] = static_cast<char>(bytes[pos] ^ (1 << (rng() % 8)));
    const auto r = read_all(bytes);
    BOOST_REQUIRE_MESSAGE(r.last == log_reader::status::corruption, "flip at " << pos);
    BOOST_REQUIRE(r.error.find("test.log") != std::string::npos);
    BOOST_REQUIRE(r.error.find("offset") != std::string::npos);
    // Everything returned before the error is an intact prefix.
    BOOST_REQUIRE(r.records.size() <= victim);
    for (std::size_t i = 0; i < r.records.size(); ++i) BOOST_REQUIRE(r.records[i] == records[i]);

    // Under skip_corruption: the damaged record is dropped, every record
    // returned is one that was written, in order, and the rest survive.
    const auto s = read_all(bytes, {.skip_corruption = true});
    BOOST_REQUIRE((s.last == log_reader::status::end));
    BOOST_REQUIRE(s.dropped > 0);
    std::size_t j = 0;
    for (const auto& rec : s.records) {
      while (j < records.size() && records[j] != rec) ++j;
      BOOST_REQUIRE_MESSAGE(j < records.size(), "skip mode returned a record never written");
      ++j;
    }
    BOOST_REQUIRE(s.records.back() == records.back());
  }
}

BOOST_AUTO_TEST_CASE(a_torn_non_last_file_is_corruption) {
  const auto bytes = encode({"a", std::string(100, 'b')});
  const auto r = read_all(std::string_view(bytes).substr(0, bytes.size() - 10), {.last_file = false});
  BOOST_TEST((r.last == log_reader::status::corruption));
  BOOST_TEST(r.records.size() == 1u);
}

BOOST_AUTO_TEST_CASE(garbage_never_yields_a_record) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    std::string junk(rng() % 70000, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    const auto r = read_all(junk, {.skip_corruption = true});
    BOOST_REQUIRE(r.records.empty());
    BOOST_REQUIRE((r.last == log_reader::status::end));
  }
}

BOOST_AUTO_TEST_SUITE_END()
