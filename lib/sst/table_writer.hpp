// sst/table_writer.hpp — streams a table_builder's output to a file through
// the io layer, with bounded memory, and finishes with one fdatasync.
//
//   table_file_writer w(file, options);
//   for (...) if (auto ec = co_await w.add(key, value)) ...;
//   auto ec = co_await w.finish();
//
// add() writes whenever a quarter MiB of finished blocks is waiting, so a
// table of any size needs a constant amount of memory. Not thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <system_error>

#include "io/file.hpp"
#include "sst/table_builder.hpp"

namespace strata::sst {

class table_file_writer {
 public:
  table_file_writer(io::file& file, const table_options& options) : file_(file), builder_(options) {}

  // errc::invalid_argument for keys out of order or malformed.
  boost::asio::awaitable<std::error_code> add(std::string_view internal_key, std::string_view value);
  // Writes the rest (filter, index, properties, footer) and syncs.
  boost::asio::awaitable<std::error_code> finish();

  const table_builder& builder() const noexcept { return builder_; }

 private:
  boost::asio::awaitable<std::error_code> write_pending();

  static constexpr std::size_t flush_bytes = 256 * 1024;
  io::file& file_;
  table_builder builder_;
  std::uint64_t written_ = 0;
};

}  // namespace strata::sst
