// tests/unit/bench_key_generators_test.cpp — the benchmark's key choosers
// draw from the distributions they claim: uniform buckets even, zipfian's
// head probabilities exact (items 0 and 1 are exact in Gray's algorithm),
// zeta extended incrementally equal to zeta summed at once, scrambled
// zipfian keeping the skew, skewed latest favouring the newest record.
// Tolerances are several standard deviations wide; the seeds are fixed, so
// the outcome is deterministic.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <map>
#include <vector>

#include "bench/key_generators.hpp"

namespace bench = strata::bench;

namespace {

double zeta(std::uint64_t n) { return bench::zipfian_generator::zeta(0, n, bench::zipfian_generator::ycsb_theta, 0); }

}  // namespace

BOOST_AUTO_TEST_SUITE(bench_key_generators)

BOOST_AUTO_TEST_CASE(keys_have_the_formats_of_db_bench_and_ycsb) {
  BOOST_TEST(bench::numbered_key(42, 16) == "0000000000000042");
  BOOST_TEST(bench::numbered_key(123456789, 8) == "123456789");  // longer numbers keep their digits
  // FNV-1a over eight little-endian bytes, as YCSB's Utils.fnvhash64
  // (values from an independent Python transcription).
  BOOST_TEST(bench::fnv_hash64(0) == 6284781860667377211ULL);
  BOOST_TEST(bench::fnv_hash64(12345) == 1792800413050876852ULL);
  BOOST_TEST(bench::ycsb_key(0) == "user6284781860667377211");
}

BOOST_AUTO_TEST_CASE(uniform_fills_every_bucket_evenly) {
  bench::uniform_generator g(7);
  constexpr int draws = 100000, buckets = 10;
  std::vector<int> count(buckets);
  for (int i = 0; i < draws; ++i) {
    const auto v = g.next(buckets);
    BOOST_REQUIRE(v < buckets);
    ++count[v];
  }
  // Expected 10000 each, sigma ~95.
  for (const int c : count) BOOST_TEST(std::abs(c - draws / buckets) < 500);
}

BOOST_AUTO_TEST_CASE(zipfian_head_matches_the_exact_probabilities) {
  constexpr std::uint64_t items = 1000;
  constexpr int draws = 200000;
  bench::zipfian_generator g(items, 11);
  std::vector<int> count(items);
  for (int i = 0; i < draws; ++i) {
    const auto v = g.next();
    BOOST_REQUIRE(v < items);
    ++count[v];
  }
  const double z = zeta(items);
  const double p0 = 1 / z, p1 = 1 / std::pow(2.0, 0.99) / z;
  // p0 ~ 0.134: expected 26.8K, sigma ~150; p1 ~ 0.067: 13.5K, sigma ~110.
  BOOST_TEST(std::abs(count[0] - p0 * draws) < 800);
  BOOST_TEST(std::abs(count[1] - p1 * draws) < 600);
  // Skewed: the head outweighs the tail by far, and popularity falls.
  int head = 0, tail = 0;
  for (std::uint64_t i = 0; i < 10; ++i) head += count[i];
  for (std::uint64_t i = items / 2; i < items; ++i) tail += count[i];
  BOOST_TEST(head > 2 * tail);
  BOOST_TEST(count[0] > count[1]);
  BOOST_TEST(count[1] > count[10]);
}

BOOST_AUTO_TEST_CASE(a_growing_item_count_extends_zeta_exactly) {
  bench::zipfian_generator g(1000, 3);
  for (int i = 0; i < 1000; ++i) BOOST_REQUIRE(g.next(5000) < 5000);
  BOOST_TEST(g.items() == 5000u);
  BOOST_TEST(std::abs(g.zeta() - zeta(5000)) < 1e-9 * zeta(5000));
}

BOOST_AUTO_TEST_CASE(scrambled_zipfian_keeps_the_skew_and_the_range) {
  constexpr std::uint64_t items = 100000;
  constexpr int draws = 200000;
  bench::scrambled_zipfian_generator g(5);
  std::map<std::uint64_t, int> count;
  for (int i = 0; i < draws; ++i) {
    const auto v = g.next(items);
    BOOST_REQUIRE(v < items);
    ++count[v];
  }
  int top = 0;
  for (const auto& [item, c] : count) top = std::max(top, c);
  // The hottest of 10^10 zipfian items has p = 1/26.469 = 3.78 %; hashing
  // into 10^5 can only add colliders to it.
  BOOST_TEST(top > 0.035 * draws);
  BOOST_TEST(top < 0.06 * draws);
  // A uniform draw would touch ~86.5K distinct items (sigma ~100); the
  // skew leaves many untouched.
  BOOST_TEST(count.size() < 80000u);
}

BOOST_AUTO_TEST_CASE(skewed_latest_favours_the_newest_records) {
  constexpr std::uint64_t items = 1000;
  constexpr int draws = 100000;
  bench::skewed_latest_generator g(items, 13);
  std::vector<int> count(items);
  for (int i = 0; i < draws; ++i) {
    const auto v = g.next(items);
    BOOST_REQUIRE(v < items);
    ++count[v];
  }
  BOOST_TEST(std::abs(count[items - 1] - draws / zeta(items)) < 600);
  BOOST_TEST(count[items - 1] > count[items - 2]);
  BOOST_TEST(count[items - 2] > count[0]);
  // After inserts, the newest record is the favourite.
  int newest = 0;
  for (int i = 0; i < 10000; ++i) newest += g.next(items + 500) == items + 499;
  BOOST_TEST(newest > 1000);
}

BOOST_AUTO_TEST_SUITE_END()
