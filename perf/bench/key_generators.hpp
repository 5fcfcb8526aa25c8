// perf/bench/key_generators.hpp — which key a benchmark operation touches.
//
// db_bench's uniform and sequential picks, and YCSB's request distributions
// (core/src/main/java/site/ycsb/generator in YCSB): zipfian (Gray et al.,
// "Quickly generating billion-record synthetic databases", with the item
// count allowed to grow as YCSB's ZipfianGenerator does), scrambled zipfian
// (the popular items spread over the key space by an FNV hash, YCSB's
// default for workloads A, B, C, E, F) and skewed latest (workload D: the
// newest records are the most popular).
//
// Every generator is deterministic for a seed. Not thread-safe: each
// benchmark worker owns its own generators.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace strata::bench {

// YCSB's Utils.fnvhash64: FNV-1a over the 8 bytes of the value, low first,
// made non-negative.
std::uint64_t fnv_hash64(std::uint64_t value) noexcept;

// db_bench's keys: the number in decimal, zero-padded to key_size bytes
// (longer numbers keep all their digits).
std::string numbered_key(std::uint64_t i, std::size_t key_size);
// YCSB's keys with insertorder=hashed: "user" + fnvhash64(record number).
std::string ycsb_key(std::uint64_t record);

class uniform_generator {
 public:
  uniform_generator(std::uint64_t seed) : rng_(seed) {}
  // Uniform over [0, n); n > 0.
  std::uint64_t next(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
  double next_double() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }
  std::mt19937_64& engine() noexcept { return rng_; }

 private:
  std::mt19937_64 rng_;
};

// Zipfian over [0, items): item 0 the most popular, P(i) ∝ 1 / (i+1)^theta.
// next(n) with a larger n extends zeta incrementally (YCSB's way), so the
// cost of a growing key space is paid once per new item.
class zipfian_generator {
 public:
  static constexpr double ycsb_theta = 0.99;
  zipfian_generator(std::uint64_t items, std::uint64_t seed, double theta = ycsb_theta);
  // As above with zeta(items) already known (skips the O(items) sum).
  zipfian_generator(std::uint64_t items, double zeta_of_items, std::uint64_t seed, double theta = ycsb_theta);

  std::uint64_t next() { return next(items_); }
  std::uint64_t next(std::uint64_t items);
  std::uint64_t items() const noexcept { return items_; }
  double zeta() const noexcept { return zeta_n_; }

  // sum_{i=1..n} 1/i^theta, from `start` with `partial` = zeta(start) so far.
  static double zeta(std::uint64_t start, std::uint64_t n, double theta, double partial);

 private:
  void set_items(std::uint64_t items);
  std::uint64_t items_;
  double theta_, alpha_, zeta2_, zeta_n_, eta_;
  uniform_generator uniform_;
};

// YCSB's ScrambledZipfianGenerator: a zipfian draw over 10^10 items (zeta
// precomputed by YCSB for theta 0.99), hashed, modulo the live item count.
// The popularity skew survives; the popular items are scattered.
class scrambled_zipfian_generator {
 public:
  scrambled_zipfian_generator(std::uint64_t seed);
  std::uint64_t next(std::uint64_t items) { return fnv_hash64(zipf_.next()) % items; }

 private:
  zipfian_generator zipf_;
};

// YCSB's SkewedLatestGenerator: newest - zipfian(newest + 1): the most
// recently inserted records are the most popular.
class skewed_latest_generator {
 public:
  skewed_latest_generator(std::uint64_t items, std::uint64_t seed) : zipf_(items, seed) {}
  skewed_latest_generator(std::uint64_t items, double zeta_of_items, std::uint64_t seed)
      : zipf_(items, zeta_of_items, seed) {}
  // A record number in [0, items), biased towards items - 1.
  std::uint64_t next(std::uint64_t items) { return items - 1 - zipf_.next(items); }

 private:
  zipfian_generator zipf_;
};

}  // namespace strata::bench
