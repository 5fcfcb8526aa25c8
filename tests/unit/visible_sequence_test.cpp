// db_internal::visible_sequence: ranges complete in any order; the visible
// point covers exactly the completed prefix, with any number in flight.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "db/visible_sequence.hpp"

using strata::db_internal::visible_sequence;

BOOST_AUTO_TEST_SUITE(visible_sequence_suite)

BOOST_AUTO_TEST_CASE(visible_is_the_completed_prefix) {
  visible_sequence v(10);
  BOOST_TEST(v.visible() == 10u);
  const auto a = v.reserve(3);  // 11..13
  const auto b = v.reserve(1);  // 14
  const auto c = v.reserve(5);  // 15..19
  BOOST_TEST(a == 11u);
  BOOST_TEST(b == 14u);
  BOOST_TEST(c == 15u);
  v.complete(c, 5);
  BOOST_TEST(v.visible() == 10u);  // 11..14 still landing
  v.complete(b, 1);
  BOOST_TEST(v.visible() == 10u);
  v.complete(a, 3);
  BOOST_TEST(v.visible() == 19u);  // all three at once
}

BOOST_AUTO_TEST_CASE(any_number_in_flight_in_any_order) {
  // Far more ranges outstanding than a fixed ring could hold; completing
  // them in random order never waits and ends exactly at the last one.
  visible_sequence v(0);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t n = 1 + rng() % 4;
    ranges.emplace_back(v.reserve(n), n);
  }
  std::shuffle(ranges.begin(), ranges.end(), rng);
  std::uint64_t last_visible = 0;
  bool monotonic = true;
  for (const auto& [first, n] : ranges) {
    v.complete(first, n);
    monotonic = monotonic && v.visible() >= last_visible;
    last_visible = v.visible();
  }
  BOOST_TEST(monotonic);
  BOOST_TEST(v.visible() == v.reserve(0) - 1);
}

BOOST_AUTO_TEST_SUITE_END()
