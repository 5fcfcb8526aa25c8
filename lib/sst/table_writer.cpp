#include "sst/table_writer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "io/file_ops.hpp"
#include "strata/error.hpp"

namespace strata::sst {

namespace asio = boost::asio;

asio::awaitable<std::error_code> table_file_writer::write_pending() {
  const std::string out = builder_.take_output();
  if (out.empty()) co_return std::error_code{};
  auto [ec, n] =
      co_await io::async_write_at(file_, written_, asio::buffer(out), false, asio::as_tuple(asio::use_awaitable));
  if (!ec) written_ += n;
  co_return ec;
}

asio::awaitable<std::error_code> table_file_writer::add(std::string_view internal_key, std::string_view value) {
  if (!builder_.add(internal_key, value)) co_return errc::invalid_argument;
  if (builder_.pending_output() >= flush_bytes) co_return co_await write_pending();
  co_return std::error_code{};
}

asio::awaitable<std::error_code> table_file_writer::finish() {
  builder_.finish();
  if (auto ec = co_await write_pending()) co_return ec;
  auto [ec, n] = co_await io::async_sync(file_, true, asio::as_tuple(asio::use_awaitable));
  co_return ec;
}

}  // namespace strata::sst
