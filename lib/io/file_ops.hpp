// io/file_ops.hpp — awaitable file operations (Asio completion tokens).
//
//   auto [ec, n] = co_await async_write_at(f, offset, buffers, as_tuple(use_awaitable));
//
// Each function follows Asio's completion-token model (use_awaitable,
// deferred, use_future, callbacks, as_tuple). The operation runs on the
// file's engine; its completion is posted to the handler's associated
// executor (system_executor if it has none), never run on the engine's
// thread, and the executor is kept busy (outstanding work) until then.
// Completion signature: void(std::error_code, std::size_t bytes).
//
// Buffers must stay valid until completion. Writes complete in full or with
// an error (short writes are finished by the engine); reads may return fewer
// bytes at end of file.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>
#include <cstdint>
#include <span>
#include <system_error>
#include <utility>

#include "io/file.hpp"
#include "io/io_op.hpp"

namespace strata::io {

namespace detail {

template <typename Handler>
class handler_op final : public io_op {
 public:
  using executor_type = boost::asio::associated_executor_t<Handler, boost::asio::system_executor>;

  handler_op(file& f, Handler&& handler)
      : file_(f),
        handler_(std::move(handler)),
        work_(boost::asio::get_associated_executor(handler_, boost::asio::system_executor())) {
    path = &f.path();
    fd = f.fd();
    complete = &handler_op::on_complete;
  }

  // Runs the op (or fails it through the fault injector) and frees itself on completion.
  void start() {
    io_engine& engine = file_.engine();
    if (fault_injector* faults = engine.faults()) {
      if (const int error = faults->before(*this)) {
        on_complete(this, -error);
        return;
      }
    }
    engine.submit(this);
  }

 private:
  static void on_complete(io_op* base, long result) {
    auto* self = static_cast<handler_op*>(base);
    std::error_code ec;
    std::size_t bytes = 0;
    if (result < 0) {
      ec = self->file_.fail(op_name(self->kind), result);
    } else {
      bytes = static_cast<std::size_t>(result);
    }
    Handler handler = std::move(self->handler_);
    auto work = std::move(self->work_);
    delete self;
    auto ex = work.get_executor();
    boost::asio::post(ex, [handler = std::move(handler), ec, bytes]() mutable { std::move(handler)(ec, bytes); });
  }

  file& file_;
  Handler handler_;
  boost::asio::executor_work_guard<executor_type> work_;
};

template <typename Handler, typename Buffers>
void start_op(file& f, op_kind kind, std::uint64_t offset, const Buffers& buffers, Handler&& handler) {
  auto* op = new handler_op<std::decay_t<Handler>>(f, std::forward<Handler>(handler));
  op->kind = kind;
  op->offset = offset;
  for (const auto& b : buffers) {
    op->iov.push_back(iovec{const_cast<void*>(static_cast<const void*>(b.data())), b.size()});
  }
  op->start();
}

}  // namespace detail

using io_signature = void(std::error_code, std::size_t);

template <typename Token>
auto async_read_at(file& f, std::uint64_t offset, boost::asio::mutable_buffer buffer, Token&& token) {
  return boost::asio::async_initiate<Token, io_signature>(
      [&f, offset, buffer](auto handler) {
        const boost::asio::mutable_buffer one[1] = {buffer};
        detail::start_op(f, op_kind::read, offset, one, std::move(handler));
      },
      token);
}

// Writes every buffer, in order, starting at offset. With `sync`, the write
// is linked to an fdatasync and completes once the data is durable.
template <typename Token>
auto async_write_at(file& f, std::uint64_t offset, std::span<const boost::asio::const_buffer> buffers, bool sync,
                    Token&& token) {
  return boost::asio::async_initiate<Token, io_signature>(
      [&f, offset, buffers, sync](auto handler) {
        detail::start_op(f, sync ? op_kind::write_fdatasync : op_kind::write, offset, buffers, std::move(handler));
      },
      token);
}

template <typename Token>
auto async_write_at(file& f, std::uint64_t offset, boost::asio::const_buffer buffer, bool sync, Token&& token) {
  return boost::asio::async_initiate<Token, io_signature>(
      [&f, offset, buffer, sync](auto handler) {
        const boost::asio::const_buffer one[1] = {buffer};
        detail::start_op(f, sync ? op_kind::write_fdatasync : op_kind::write, offset, one, std::move(handler));
      },
      token);
}

// fdatasync (data_only) or fsync.
template <typename Token>
auto async_sync(file& f, bool data_only, Token&& token) {
  return boost::asio::async_initiate<Token, io_signature>(
      [&f, data_only](auto handler) {
        const std::span<const boost::asio::const_buffer> none;
        detail::start_op(f, data_only ? op_kind::fdatasync : op_kind::fsync, 0, none, std::move(handler));
      },
      token);
}

}  // namespace strata::io
