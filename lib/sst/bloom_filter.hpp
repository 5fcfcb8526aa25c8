// sst/bloom_filter.hpp — the cache-line-local ("blocked") bloom filter stored
// in an SSTable's filter block (docs/bloom_filter.md has the format).
//
// A point read asks the filter before it reads a data block: "no" means the
// user key is certainly not in the table, so the block read is skipped.
// Every key's probes fall into one 64-byte line, so a query costs at most one
// cache miss. At 10 bits per key the false-positive rate is about 0.96 %.
//
// Guarantees:
//   * no false negatives: a filter built by bloom_filter_builder answers
//     may_contain() == true for every key that was added to it;
//   * deterministic: the same keys and bits_per_key give the same bytes, on
//     any host (the format is defined byte by byte, not by word);
//   * the reader trusts nothing: the bytes come from disk. A filter that is
//     truncated, has a wrong size, an unknown version or an impossible probe
//     count is invalid: valid() is false and may_contain() is always true
//     ("no filtering"), which costs a block read but is never wrong. No input
//     makes it read outside the bytes it was given.
//
// Thread safety: a builder is single-threaded. The reader views the bytes
// (no copy), which must outlive it; a reader over immutable bytes may be
// shared between threads (may_contain is const and keeps no state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::sst {

namespace bloom_format {
inline constexpr std::size_t line_bytes = 64;  // one cache line
inline constexpr std::size_t line_bits = line_bytes * 8;
// version (1) + num_probes (1) + num_lines (fixed32)
inline constexpr std::size_t trailer_size = 1 + 1 + 4;
inline constexpr std::uint8_t version = 1;
inline constexpr int min_probes = 1;
inline constexpr int max_probes = 24;
}  // namespace bloom_format

// Probes per key for a bits-per-key budget (bits_per_key clamped to 1..100).
// Measured for this layout; lower than the k = 0.69 * bits of a plain bloom
// filter, because a line that draws more keys than average gets dense.
int bloom_num_probes(int bits_per_key) noexcept;

class bloom_filter_builder {
 public:
  // bits_per_key is clamped to 1..100.
  explicit bloom_filter_builder(int bits_per_key = 10);

  void add_key(std::string_view user_key);
  // The serialized filter for the keys added since the last finish(); resets the builder.
  std::string finish();
  std::size_t num_keys() const noexcept { return hashes_.size(); }

 private:
  int bits_per_key_;
  int num_probes_;
  std::vector<std::uint64_t> hashes_;  // XXH3-64 of each key; keys are not kept
};

class bloom_filter_reader {
 public:
  explicit bloom_filter_reader(std::string_view serialized) noexcept;
  // The reader keeps a view: a temporary string would dangle at the end of
  // the statement, so refuse it at compile time.
  explicit bloom_filter_reader(std::string&&) = delete;

  // False only if user_key was certainly not added. Always true when !valid().
  bool may_contain(std::string_view user_key) const noexcept;
  bool valid() const noexcept { return valid_; }
  std::uint32_t num_lines() const noexcept { return num_lines_; }
  int num_probes() const noexcept { return num_probes_; }

 private:
  const unsigned char* lines_ = nullptr;  // num_lines_ * 64 bytes, any alignment
  std::uint32_t num_lines_ = 0;
  int num_probes_ = 0;
  bool valid_ = false;
};

}  // namespace strata::sst
