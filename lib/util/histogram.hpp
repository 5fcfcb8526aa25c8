// util/histogram.hpp — a compact log-linear latency histogram.
//
// Records non-negative integers (by convention nanoseconds) into buckets of
// 32 linear steps per power of two, so any reported percentile is within
// 1/32 (~3 %) of the true value, over the whole uint64 range, in a fixed 15 KiB.
// Reported percentiles are the upper edge of the bucket holding the rank,
// clamped to the observed min/max (never optimistic). Shared by db stats and
// the benchmarks.
//
// Not thread-safe: give each thread its own histogram and merge() them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace strata {

class histogram {
 public:
  static constexpr unsigned sub_bucket_bits = 5;
  static constexpr std::uint64_t sub_buckets = 1u << sub_bucket_bits;  // 32
  // One linear run for values < 32, then one per octave 2^5 .. 2^63.
  static constexpr std::size_t bucket_count = (64 - sub_bucket_bits + 1) * sub_buckets;

  void record(std::uint64_t value) noexcept;
  void merge(const histogram& other) noexcept;
  void clear() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  std::uint64_t sum() const noexcept { return sum_; }
  double mean() const noexcept { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }

  // p in [0, 100]; 0 when empty. percentile(50) is the median.
  std::uint64_t percentile(double p) const noexcept;

  // "count=N mean=… p50=… p90=… p99=… p999=… max=…", values divided by
  // `divisor` and suffixed with `unit` (e.g. 1000.0, "us" for ns samples).
  std::string summary(double divisor = 1.0, std::string_view unit = "") const;

  // Bucket geometry, exposed for tests.
  static std::size_t bucket_index(std::uint64_t value) noexcept;
  static std::uint64_t bucket_lower(std::size_t index) noexcept;
  static std::uint64_t bucket_upper(std::size_t index) noexcept;

 private:
  std::array<std::uint64_t, bucket_count> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

}  // namespace strata

// fmt::format("{}", h) prints h.summary().
template <>
struct fmt::formatter<strata::histogram> : fmt::formatter<std::string_view> {
  auto format(const strata::histogram& h, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(h.summary(), ctx);
  }
};
