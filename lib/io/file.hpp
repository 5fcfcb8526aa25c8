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
#include <string>
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

  // Records a failure of `what` with -errno `result` and returns its code.
  std::error_code fail(const char* what, long result);
  std::string last_error() const;

 private:
  file(io_engine& engine, std::string path, int fd) : engine_(engine), path_(std::move(path)), fd_(fd) {}

  io_engine& engine_;
  const std::string path_;
  const int fd_;
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
