// perf/bench/key_generators.cpp — YCSB's generators, transcribed from their
// published algorithms (see the header), and db_bench's key format.
#include "bench/key_generators.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace strata::bench {

std::uint64_t fnv_hash64(std::uint64_t value) noexcept {
  std::uint64_t hash = 0xCBF29CE484222325ULL;
  for (int i = 0; i < 8; ++i) {
    hash ^= value & 0xff;
    value >>= 8;
    hash *= 1099511628211ULL;
  }
  // Java's Math.abs on a long: YCSB's keys depend on it.
  const auto s = static_cast<std::int64_t>(hash);
  return s < 0 ? static_cast<std::uint64_t>(0) - hash : hash;
}

std::string numbered_key(std::uint64_t i, std::size_t key_size) { return fmt::format("{:0{}}", i, key_size); }

std::string ycsb_key(std::uint64_t record) { return fmt::format("user{}", fnv_hash64(record)); }

double zipfian_generator::zeta(std::uint64_t start, std::uint64_t n, double theta, double partial) {
  double sum = partial;
  for (std::uint64_t i = start; i < n; ++i) sum += 1.0 / std::pow(static_cast<double>(i + 1), theta);
  return sum;
}

zipfian_generator::zipfian_generator(std::uint64_t items, std::uint64_t seed, double theta)
    : zipfian_generator(items, zeta(0, items, theta, 0.0), seed, theta) {}

zipfian_generator::zipfian_generator(std::uint64_t items, double zeta_of_items, std::uint64_t seed, double theta)
    : items_(items),
      theta_(theta),
      alpha_(1.0 / (1.0 - theta)),
      zeta2_(zeta(0, 2, theta, 0.0)),
      zeta_n_(zeta_of_items),
      eta_(0),
      uniform_(seed) {
  eta_ = (1 - std::pow(2.0 / static_cast<double>(items_), 1 - theta_)) / (1 - zeta2_ / zeta_n_);
}

void zipfian_generator::set_items(std::uint64_t items) {
  // Growing: extend the sum. Shrinking (rare; YCSB warns about it): start over.
  zeta_n_ = items > items_ ? zeta(items_, items, theta_, zeta_n_) : zeta(0, items, theta_, 0.0);
  items_ = items;
  eta_ = (1 - std::pow(2.0 / static_cast<double>(items_), 1 - theta_)) / (1 - zeta2_ / zeta_n_);
}

std::uint64_t zipfian_generator::next(std::uint64_t items) {
  if (items != items_) set_items(items);
  const double u = uniform_.next_double();
  const double uz = u * zeta_n_;
  if (uz < 1.0) return 0;
  if (items_ < 2 || uz < 1.0 + std::pow(0.5, theta_)) return std::min<std::uint64_t>(1, items_ - 1);
  const auto ret = static_cast<std::uint64_t>(static_cast<double>(items_) * std::pow(eta_ * u - eta_ + 1, alpha_));
  return std::min(ret, items_ - 1);
}

// YCSB's ScrambledZipfianGenerator constants: 10^10 items, and zeta of them
// at theta 0.99 (computed once by YCSB; summing 10^10 terms here would take
// a minute).
scrambled_zipfian_generator::scrambled_zipfian_generator(std::uint64_t seed)
    : zipf_(10000000000ULL, 26.46902820178302, seed) {}

}  // namespace strata::bench
