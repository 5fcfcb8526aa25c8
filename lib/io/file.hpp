// io/file.hpp — an open file descriptor with its path, bound to an engine.
//
// Opening, creating, truncating and removing are ordinary blocking calls:
// the store runs them on its background executor, never on a caller's
// thread (ARCHITECTURE.md, "Threading and I/O model"). Data-path operations
// (read/write/sync) go through io/file_ops.hpp.
//
// Errors carry the path: the error_code is strata::errc::io_error or
// no_space, and last_error() gives "write /dir/000007.log: No space left on
// device". Thread safety: a file may be used by many operations at once;
// last_error() is guarded.
#pragma once

#include <fcntl.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "io/io_engine.hpp"

namespace strata::io {

struct open_options {
  bool create = false;     // O_CREAT
  bool exclusive = false;  // with create: fail if it exists
  bool truncate = false;
  bool read_only = false;
  bool direct = false;  // O_DIRECT: buffers, offsets and sizes must be 4 KiB-aligned
};

class file {
 public:
  static std::unique_ptr<file> open(io_engine& engine, const std::string& path, const open_options& options,
                                    std::error_code& ec);
  ~file();
  file(const file&) = delete;
  file& operator=(const file&) = delete;

  int fd() const noexcept { return fd_; }
  const std::string& path() const noexcept { return path_; }
  io_engine& engine() const noexcept { return engine_; }

  // Blocking metadata calls (background executor only).
  std::error_code size(std::uint64_t& out);
  std::error_code truncate(std::uint64_t length);
  // Writes every buffer, in order, at `offset` with pwritev on this thread
  // (then fdatasync, with `sync`), through the engine's fault injector:
  // io_engine::run_now says when that beats the ring. Background executor
  // only.
  std::error_code write_now(std::uint64_t offset, std::span<const std::string_view> parts, bool sync);

  // Reads `size` bytes at `offset` only if all of them are already in the
  // page cache: one preadv2(RWF_NOWAIT), which never waits for the disk, so
  // it may run on a caller's thread. true: `out` holds them. false: nothing
  // usable (not cached, short, an error, O_DIRECT, or a fault injector on
  // the engine, so that tests see every read); then read through the engine,
  // which reports any error. Why: a page-cache hit through io_uring costs
  // two thread handoffs (~20 us here) for a ~1 us copy (docs/io.md).
  bool read_if_cached(std::uint64_t offset, char* out, std::size_t size) noexcept;
  // Records a failure of `what` with -errno `result` and returns its code.
  std::error_code fail(const char* what, long result);
  std::string last_error() const;

 private:
  file(io_engine& engine, std::string path, int fd, bool direct)
      : engine_(engine), path_(std::move(path)), fd_(fd), direct_(direct) {}

  io_engine& engine_;
  const std::string path_;
  const int fd_;
  const bool direct_;
  mutable std::mutex mu_;
  std::string last_error_;  // guarded by mu_
};

// errno -> strata::errc (ENOSPC/EDQUOT -> no_space, anything else -> io_error).
std::error_code errno_to_error(int error) noexcept;

// A heap buffer aligned for O_DIRECT.
struct aligned_buffer {
  static constexpr std::size_t alignment = 4096;
  explicit aligned_buffer(std::size_t size);
  char* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }

 private:
  struct free_deleter {
    void operator()(char* p) const noexcept;
  };
  std::unique_ptr<char, free_deleter> data_;
  std::size_t size_;
};

}  // namespace strata::io
