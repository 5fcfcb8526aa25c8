// sst/table_reader.hpp — reads an SSTable written by table_builder.
//
// open() reads the footer, then the index, filter and properties blocks
// (each checksum-verified) and keeps them in memory while the table is
// open. get() answers a point lookup at a snapshot: the bloom filter first
// (an absent key usually costs no I/O at all), then the in-memory index,
// then one data block read through the io layer (io_uring), verified and
// decompressed. Block caching is not here yet (see issue 5).
//
// Damage is reported, never trusted: a bad footer or block is
// errc::corruption and message() names the file and the block offset.
// Thread safety: after open, get() may run concurrently from many
// coroutines and threads; the reader owns nothing mutable. The io::file
// must outlive the reader.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "io/file.hpp"
#include "sst/block_reader.hpp"
#include "sst/bloom_filter.hpp"
#include "sst/format.hpp"
#include "strata/memtable.hpp"

namespace strata::sst {

struct table_lookup {
  enum class state : std::uint8_t { absent, found, deleted };
  state status = state::absent;
  std::string value;
  sequence_number sequence = 0;
  std::error_code error;  // corruption / io_error; status is absent then
  std::string message;
  bool filtered = false;  // answered by the bloom filter without reading a block
};

class table_reader {
 public:
  struct open_result {
    std::error_code error;
    std::string message;
    std::unique_ptr<table_reader> table;
  };
  static boost::asio::awaitable<open_result> open(io::file& file, std::uint64_t file_size);

  boost::asio::awaitable<table_lookup> get(std::string_view user_key, sequence_number snapshot) const;

  const table_properties& properties() const noexcept { return properties_; }
  bool has_filter() const noexcept { return filter_.valid(); }

 private:
  explicit table_reader(io::file& file) : file_(file), index_(std::string_view{}) {}
  // Reads and verifies one block (handle.size + trailer bytes at handle.offset).
  boost::asio::awaitable<std::error_code> read_block(const block_handle& h, std::string& contents,
                                                     std::string& message) const;

  io::file& file_;
  std::string index_bytes_;
  std::string filter_bytes_;
  block_reader index_;
  bloom_filter_reader filter_{std::string_view{}};
  table_properties properties_;
};

}  // namespace strata::sst
