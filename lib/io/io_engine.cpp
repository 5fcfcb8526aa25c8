#include "io/io_engine.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "io/pool_engine.hpp"
#include "io/uring_engine.hpp"

namespace strata::io {

const char* op_name(op_kind kind) noexcept {
  switch (kind) {
    case op_kind::read:
      return "read";
    case op_kind::write:
      return "write";
    case op_kind::fdatasync:
      return "fdatasync";
    case op_kind::fsync:
      return "fsync";
    case op_kind::write_fdatasync:
      return "write+fdatasync";
  }
  return "?";
}

void io_op::advance(std::size_t n) noexcept {
  done_bytes += n;
  std::size_t i = 0;
  while (i < iov.size() && n >= iov[i].iov_len) {
    n -= iov[i].iov_len;
    ++i;
  }
  iov.erase(iov.begin(), iov.begin() + static_cast<std::ptrdiff_t>(i));
  if (n > 0 && !iov.empty()) {
    iov.front().iov_base = static_cast<char*>(iov.front().iov_base) + n;
    iov.front().iov_len -= n;
  }
}

namespace {
// pwritev until iov is empty; counts each resumed short write in `retries`.
long write_fully(io_op& op, std::atomic<std::uint64_t>& retries) noexcept {
  while (op.remaining() > 0) {
    const ssize_t n =
        ::pwritev(op.fd, op.iov.data(), static_cast<int>(op.iov.size()), static_cast<off_t>(op.offset + op.done_bytes));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) return -EIO;  // no progress: never spin
    if (static_cast<std::size_t>(n) < op.remaining()) retries.fetch_add(1, std::memory_order_relaxed);
    op.advance(static_cast<std::size_t>(n));
  }
  return static_cast<long>(op.done_bytes);
}
}  // namespace

long io_engine::execute_blocking(io_op& op) noexcept {
  switch (op.kind) {
    case op_kind::read: {
      ssize_t n;
      do {
        n = ::preadv(op.fd, op.iov.data(), static_cast<int>(op.iov.size()), static_cast<off_t>(op.offset));
      } while (n < 0 && errno == EINTR);
      return n < 0 ? -errno : n;
    }
    case op_kind::write:
      return write_fully(op, retries_);
    case op_kind::fdatasync:
      return ::fdatasync(op.fd) < 0 ? -errno : 0;
    case op_kind::fsync:
      return ::fsync(op.fd) < 0 ? -errno : 0;
    case op_kind::write_fdatasync: {
      const long written = write_fully(op, retries_);
      if (written < 0) return written;
      return ::fdatasync(op.fd) < 0 ? -errno : written;
    }
  }
  return -EINVAL;
}

long io_engine::run_now(io_op& op) {
  operations_.fetch_add(1, std::memory_order_relaxed);
  fault_injector* f = faults();
  if (f != nullptr) {
    if (const int error = f->before(op)) return -error;
  }
  const long result = execute_blocking(op);
  if (f != nullptr) f->after(op, result);
  return result;
}

engine_stats io_engine::stats() const noexcept {
  return {operations_.load(std::memory_order_relaxed), submissions_.load(std::memory_order_relaxed),
          retries_.load(std::memory_order_relaxed)};
}

void io_engine::finish(io_op* op, long result) {
  if (fault_injector* f = faults()) f->after(*op, result);
  op->complete(op, result);  // may free op
}

std::unique_ptr<io_engine> make_io_engine(const engine_options& options) {
  if (!options.force_fallback) {
    int error = 0;
    if (auto ring = uring_engine::create(options, error)) return ring;
    std::fprintf(stderr, "strata: io_uring unavailable (%s); file I/O runs on %u threads instead\n",
                 std::strerror(error), options.fallback_threads);
  }
  return std::make_unique<pool_engine>(options);
}

}  // namespace strata::io
