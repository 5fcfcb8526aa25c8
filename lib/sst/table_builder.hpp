// sst/table_builder.hpp — encodes a sorted run of internal keys into an
// SSTable, block by block, with bounded memory.
//
// The builder does no I/O: finished bytes accumulate in an output buffer
// that the caller drains with take_output() and writes at the offset the
// builder tracks (table_file_writer in table_writer.hpp does exactly that
// through the io layer). Memory: one open data block, the index entries,
// one 8-byte hash per user key for the filter, and whatever output the
// caller has not taken yet. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sst/block_builder.hpp"
#include "sst/bloom_filter.hpp"
#include "sst/format.hpp"

namespace strata::sst {

struct table_options {
  std::size_t block_size = 4096;  // target size of a data block before compression
  int restart_interval = 16;
  int bits_per_key = 10;  // bloom filter; 0 = no filter
  compression data_compression = compression::none;
};

class table_builder {
 public:
  explicit table_builder(const table_options& options);

  // Internal keys must strictly increase (sst/internal_key.hpp order).
  // Returns false, adding nothing, for a key that is not a valid internal
  // key or not greater than the previous one.
  bool add(std::string_view internal_key, std::string_view value);
  // Flushes the last data block and appends filter, index, properties and
  // footer to the output. No add() afterwards.
  void finish();

  std::size_t pending_output() const noexcept { return output_.size(); }
  std::string take_output();
  std::uint64_t file_size() const noexcept { return offset_; }  // bytes produced so far, taken or not
  const table_properties& properties() const noexcept { return properties_; }
  std::uint64_t entries() const noexcept { return properties_.entries; }

 private:
  void flush_data_block();
  block_handle emit(std::string_view contents, compression c);

  table_options options_;
  block_builder data_;
  block_builder index_;
  bloom_filter_builder filter_;
  std::string output_;
  std::uint64_t offset_ = 0;
  std::string last_key_;
  std::string last_user_key_;
  bool pending_index_entry_ = false;  // a data block was flushed; its index entry waits for the next key
  block_handle pending_handle_;
  table_properties properties_;
  bool finished_ = false;
};

// Shortest internal key k with a <= k < b (b > a), used as an index
// separator; with b empty, a short key >= a (for the last block).
std::string index_separator(std::string_view a, std::string_view b);

}  // namespace strata::sst
