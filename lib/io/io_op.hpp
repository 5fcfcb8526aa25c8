// io/io_op.hpp — one file operation as the engines see it.
//
// An io_op is created by the async functions in io/file_ops.hpp, handed to an
// io_engine, executed (io_uring or a worker thread), and completed exactly
// once through its `complete` callback with a negative errno or a byte
// count. The engine owns the op between submit() and completion; whoever
// completes it must not touch it afterwards (complete may free it).
//
// Short writes are finished by the engines (the op's iovec cursor advances
// and the remainder is written again), so a write completes with either the
// full length or an error. Short reads are returned as they are (EOF).
#pragma once

#include <sys/uio.h>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace strata::io {

enum class op_kind : std::uint8_t {
  read,   // preadv into iov
  write,  // pwritev from iov (retried until complete)
  fdatasync,
  fsync,
  write_fdatasync,  // write then fdatasync, linked (one submission)
};

const char* op_name(op_kind kind) noexcept;

struct io_op {
  op_kind kind = op_kind::read;
  int fd = -1;
  std::uint64_t offset = 0;
  std::vector<iovec> iov;             // remaining buffers (advanced on short writes)
  std::size_t done_bytes = 0;         // bytes transferred so far
  const std::string* path = nullptr;  // for error messages and fault injection

  // Engine-private bookkeeping for linked write+sync.
  int pending_cqes = 0;
  int write_result = 0;
  int sync_result = 0;

  // Called once with the final result: >= 0 bytes, or -errno.
  void (*complete)(io_op* op, long result) = nullptr;

  std::size_t remaining() const noexcept {
    std::size_t n = 0;
    for (const auto& v : iov) n += v.iov_len;
    return n;
  }
  // Drops `n` transferred bytes from the front of iov.
  void advance(std::size_t n) noexcept;
};

}  // namespace strata::io
