#include "sst/table_writer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "io/file_ops.hpp"
#include "strata/error.hpp"

namespace strata::sst {

namespace asio = boost::asio;

// The buffer and the result of one write, shared with its completion
// handler (which may outlive the writer if the write is abandoned).
struct table_file_writer::write_in_flight {
  std::string buffer;
  bool done = false;
  std::error_code ec;
  // Set while a coroutine waits; the completion cancels it to wake it.
  std::unique_ptr<asio::steady_timer> waiter;
};

asio::awaitable<std::error_code> table_file_writer::wait_for_write() {
  // (GCC 12: every co_await below is a statement of its own; inside an
  // argument list it miscompiles and frees what the frame still uses.)
  std::shared_ptr<write_in_flight> w;
  w.swap(in_flight_);
  if (!w) co_return std::error_code{};
  if (!w->done) {
    const auto executor = co_await asio::this_coro::executor;
    w->waiter = std::make_unique<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
    auto [cancelled] = co_await w->waiter->async_wait(asio::as_tuple(asio::use_awaitable));  // ends by cancel()
    (void)cancelled;
  }
  const std::error_code ec = w->ec;
  co_return ec;
}

asio::awaitable<std::error_code> table_file_writer::write_pending() {
  if (auto ec = co_await wait_for_write()) co_return ec;
  std::string out = builder_.take_output();
  if (out.empty()) co_return std::error_code{};
  auto w = std::make_shared<write_in_flight>();
  w->buffer = std::move(out);
  const std::uint64_t offset = next_offset_;
  next_offset_ += w->buffer.size();
  in_flight_ = w;
  // Not awaited: the builder goes on with the next blocks meanwhile. The
  // handler runs on this coroutine's executor, as the waiter does, so the
  // two never race.
  const auto executor = co_await asio::this_coro::executor;
  io::async_write_at(file_, offset, asio::buffer(w->buffer), false,
                     asio::bind_executor(executor, [w](std::error_code ec, std::size_t) {
                       w->done = true;
                       w->ec = ec;
                       if (w->waiter) w->waiter->cancel();
                     }));
  co_return std::error_code{};
}

asio::awaitable<void> table_file_writer::drain() { co_await wait_for_write(); }

std::error_code table_file_writer::append(std::string_view internal_key, std::string_view value) {
  if (!builder_.add(internal_key, value)) return errc::invalid_argument;
  return {};
}

asio::awaitable<std::error_code> table_file_writer::add(std::string_view internal_key, std::string_view value) {
  if (auto ec = append(internal_key, value)) co_return ec;
  if (should_write()) co_return co_await write_pending();
  co_return std::error_code{};
}

asio::awaitable<std::error_code> table_file_writer::finish() {
  builder_.finish();
  if (auto ec = co_await write_pending()) co_return ec;
  if (auto ec = co_await wait_for_write()) co_return ec;
  auto [ec, n] = co_await io::async_sync(file_, true, asio::as_tuple(asio::use_awaitable));
  co_return ec;
}

}  // namespace strata::sst
