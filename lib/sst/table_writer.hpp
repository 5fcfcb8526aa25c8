// sst/table_writer.hpp — streams a table_builder's output to a file through
// the io layer, with bounded memory, and finishes with one fdatasync.
//
//   table_file_writer w(file, options);
//   for (...) if (auto ec = co_await w.add(key, value)) ...;
//   auto ec = co_await w.finish();
//
// add() writes whenever a quarter MiB of finished blocks is waiting, so a
// table of any size needs a constant amount of memory. Loops over many
// small entries use the two halves instead, so that an entry costs a call,
// not a coroutine frame:
//   if (auto ec = w.append(key, value)) ...;
//   if (w.should_write()) if (auto ec = co_await w.write_pending()) ...;
// Writes overlap building: write_pending() starts writing what is ready
// and returns while the write is in flight (at most one at a time; the next
// write_pending(), finish() or drain() waits for it). So a writer that
// stops early (an error elsewhere) must co_await drain() before it and its
// file go away. Completions run on the awaiting coroutine's executor.
// Not thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
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
  // add() without the write: buffers the entry (errc::invalid_argument as
  // add()); then write_pending() once should_write() says so.
  std::error_code append(std::string_view internal_key, std::string_view value);
  bool should_write() const noexcept { return builder_.pending_output() >= flush_bytes; }
  // The error of the previous write, if it failed; else starts the next.
  boost::asio::awaitable<std::error_code> write_pending();
  // Writes the rest (filter, index, properties, footer) and syncs.
  boost::asio::awaitable<std::error_code> finish();
  // Waits for a write in flight, if any (its error is dropped).
  boost::asio::awaitable<void> drain();

  const table_builder& builder() const noexcept { return builder_; }

 private:
  struct write_in_flight;
  // Waits for the write in flight (if any); its error.
  boost::asio::awaitable<std::error_code> wait_for_write();

  static constexpr std::size_t flush_bytes = 256 * 1024;
  io::file& file_;
  table_builder builder_;
  std::uint64_t next_offset_ = 0;  // where the next write goes
  std::shared_ptr<write_in_flight> in_flight_;
};

}  // namespace strata::sst
