#include "io/pool_engine.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace strata::io {

pool_engine::pool_engine(const engine_options& options) {
  const unsigned n = std::max(1u, options.fallback_threads);
  for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
}

pool_engine::~pool_engine() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void pool_engine::submit(io_op* op) {
  operations_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    queue_.push_back(op);
  }
  ready_.notify_one();
}

void pool_engine::work() {
  for (;;) {
    io_op* op = nullptr;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      op = queue_.front();
      queue_.pop_front();
    }
    submissions_.fetch_add(1, std::memory_order_relaxed);
    finish(op, execute(*op));
  }
}

long pool_engine::write_all(io_op& op) {
  std::uint64_t short_writes = 0;
  const long result = write_fully(op, short_writes);
  if (short_writes > 0) retries_.fetch_add(short_writes, std::memory_order_relaxed);
  return result;
}

long pool_engine::execute(io_op& op) {
  switch (op.kind) {
    case op_kind::read: {
      ssize_t n;
      do {
        n = ::preadv(op.fd, op.iov.data(), static_cast<int>(op.iov.size()), static_cast<off_t>(op.offset));
      } while (n < 0 && errno == EINTR);
      return n < 0 ? -errno : n;
    }
    case op_kind::write:
      return write_all(op);
    case op_kind::fdatasync:
      return ::fdatasync(op.fd) < 0 ? -errno : 0;
    case op_kind::fsync:
      return ::fsync(op.fd) < 0 ? -errno : 0;
    case op_kind::write_fdatasync: {
      const long written = write_all(op);
      if (written < 0) return written;
      return ::fdatasync(op.fd) < 0 ? -errno : written;
    }
  }
  return -EINVAL;
}

}  // namespace strata::io
