#include "util/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace strata {

std::size_t histogram::bucket_index(std::uint64_t value) noexcept {
  if (value < sub_buckets) return static_cast<std::size_t>(value);
  const unsigned exponent = 63u - static_cast<unsigned>(std::countl_zero(value));  // >= sub_bucket_bits
  const unsigned shift = exponent - sub_bucket_bits;
  const std::uint64_t sub = (value >> shift) & (sub_buckets - 1);
  return static_cast<std::size_t>((exponent - sub_bucket_bits + 1) * sub_buckets + sub);
}

std::uint64_t histogram::bucket_lower(std::size_t index) noexcept {
  if (index < sub_buckets) return index;
  const std::size_t octave = index / sub_buckets;  // >= 1
  const std::uint64_t sub = index % sub_buckets;
  return (sub_buckets + sub) << (octave - 1);
}

std::uint64_t histogram::bucket_upper(std::size_t index) noexcept {
  if (index < sub_buckets) return index;
  if (index + 1 == bucket_count) return UINT64_MAX;
  return bucket_lower(index + 1) - 1;
}

void histogram::record(std::uint64_t value) noexcept {
  ++buckets_[bucket_index(value)];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void histogram::merge(const histogram& other) noexcept {
  for (std::size_t i = 0; i < bucket_count; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void histogram::clear() noexcept { *this = histogram{}; }

std::uint64_t histogram::percentile(double p) const noexcept {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // Rank of the sample we want (1-based): the smallest r with r/count >= p/100.
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::clamp(bucket_upper(i), min(), max_);
  }
  return max_;
}

std::string histogram::summary(double divisor, std::string_view unit) const {
  auto v = [&](std::uint64_t x) { return static_cast<double>(x) / divisor; };
  return fmt::format("count={} mean={:.2f}{} p50={:.2f}{} p90={:.2f}{} p99={:.2f}{} p999={:.2f}{} max={:.2f}{}", count_,
                     mean() / divisor, unit, v(percentile(50)), unit, v(percentile(90)), unit, v(percentile(99)), unit,
                     v(percentile(99.9)), unit, v(max()), unit);
}

}  // namespace strata
