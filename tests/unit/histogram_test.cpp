#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "util/histogram.hpp"

using strata::histogram;

BOOST_AUTO_TEST_SUITE(histogram_suite)

BOOST_AUTO_TEST_CASE(empty_histogram_reports_zero) {
  histogram h;
  BOOST_TEST(h.count() == 0u);
  BOOST_TEST(h.percentile(50) == 0u);
  BOOST_TEST(h.min() == 0u);
  BOOST_TEST(h.mean() == 0.0);
}

BOOST_AUTO_TEST_CASE(bucket_geometry_covers_every_value_once) {
  // Buckets tile the number line: each bucket's lower edge is the previous
  // bucket's upper edge + 1, and bucket_index inverts the edges.
  for (std::size_t i = 1; i < histogram::bucket_count; ++i) {
    BOOST_REQUIRE(histogram::bucket_lower(i) == histogram::bucket_upper(i - 1) + 1);
    BOOST_REQUIRE(histogram::bucket_index(histogram::bucket_lower(i)) == i);
    BOOST_REQUIRE(histogram::bucket_index(histogram::bucket_upper(i)) == i);
  }
  BOOST_TEST(histogram::bucket_index(UINT64_MAX) == histogram::bucket_count - 1);
}

BOOST_AUTO_TEST_CASE(small_values_are_exact) {
  histogram h;
  for (std::uint64_t v = 1; v <= 10; ++v) h.record(v);
  BOOST_TEST(h.count() == 10u);
  BOOST_TEST(h.sum() == 55u);
  BOOST_TEST(h.mean() == 5.5);
  BOOST_TEST(h.min() == 1u);
  BOOST_TEST(h.max() == 10u);
  BOOST_TEST(h.percentile(50) == 5u);
  BOOST_TEST(h.percentile(90) == 9u);
  BOOST_TEST(h.percentile(100) == 10u);
  BOOST_TEST(h.percentile(0) == 1u);
}

BOOST_AUTO_TEST_CASE(percentiles_within_three_percent_of_exact) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(10.0, 2.0);  // wide range, like latencies
  std::vector<std::uint64_t> samples;
  histogram h;
  for (int i = 0; i < 100000; ++i) {
    auto v = static_cast<std::uint64_t>(dist(rng));
    samples.push_back(v);
    h.record(v);
  }
  std::sort(samples.begin(), samples.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(samples.size())));
    const double exact = static_cast<double>(samples[rank - 1]);
    const double got = static_cast<double>(h.percentile(p));
    BOOST_TEST(got >= exact, "p" << p << " reported below the true value");
    BOOST_TEST(got <= exact * (1.0 + 1.0 / 32) + 1, "p" << p << ": " << got << " vs " << exact);
  }
  BOOST_TEST(h.max() == samples.back());
  BOOST_TEST(h.min() == samples.front());
}

BOOST_AUTO_TEST_CASE(merge_equals_recording_everything_in_one) {
  histogram a, b, all;
  for (std::uint64_t v = 0; v < 5000; ++v) {
    (v % 3 ? a : b).record(v * 17);
    all.record(v * 17);
  }
  a.merge(b);
  BOOST_TEST(a.count() == all.count());
  BOOST_TEST(a.sum() == all.sum());
  BOOST_TEST(a.min() == all.min());
  BOOST_TEST(a.max() == all.max());
  for (double p : {1.0, 50.0, 99.0, 99.9}) BOOST_TEST(a.percentile(p) == all.percentile(p));
}

BOOST_AUTO_TEST_CASE(summary_formats_with_fmt) {
  histogram h;
  for (std::uint64_t v = 1000; v <= 3000; v += 1000) h.record(v);
  const auto s = h.summary(1000.0, "us");
  BOOST_TEST(s.find("count=3") != std::string::npos, s);
  BOOST_TEST(s.find("mean=2.00us") != std::string::npos, s);
  BOOST_TEST(s.find("max=3.00us") != std::string::npos, s);
  BOOST_TEST(fmt::format("{}", h) == h.summary());
}

BOOST_AUTO_TEST_SUITE_END()
