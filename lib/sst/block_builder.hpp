// sst/block_builder.hpp — builds one data or index block.
//
// Entries are added in strictly increasing internal-key order. Each key is
// stored as the length of the prefix it shares with the previous key plus
// the rest; every `restart_interval` entries the full key is stored (a
// restart point), and the offsets of the restart points close the block, so
// a reader can binary-search restarts and then scan at most an interval.
//
//   entry:   shared varint32 | unshared varint32 | value_len varint32 |
//            key[shared..] (unshared bytes) | value (value_len bytes)
//   trailer: restart offsets fixed32 x n | n fixed32
//
// (docs/sst_format.md has the table.) Not thread-safe; one builder per block
// being written, reused after reset().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::sst {

class block_builder {
 public:
  explicit block_builder(int restart_interval = 16);

  // Keys must be added in increasing order (checked in debug builds).
  void add(std::string_view key, std::string_view value);
  // The finished block; valid until reset() or destruction.
  std::string_view finish();
  void reset();

  // Size of the block if finished now.
  std::size_t size_estimate() const noexcept;
  bool empty() const noexcept { return entries_ == 0; }
  std::size_t entries() const noexcept { return entries_; }
  std::string_view last_key() const noexcept { return last_key_; }

 private:
  const int restart_interval_;
  std::string buffer_;
  std::vector<std::uint32_t> restarts_;
  int since_restart_ = 0;
  std::size_t entries_ = 0;
  bool finished_ = false;
  std::string last_key_;
};

}  // namespace strata::sst
