#include "io/file.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include <fmt/format.h>

#include "io/fs.hpp"
#include "strata/error.hpp"

namespace strata::io {

std::error_code errno_to_error(int error) noexcept {
  if (error == 0) return {};
  if (error == ENOSPC || error == EDQUOT) return errc::no_space;
  return errc::io_error;
}

std::unique_ptr<file> file::open(io_engine& engine, const std::string& path, const open_options& o,
                                 std::error_code& ec) {
  int flags = O_CLOEXEC | (o.read_only ? O_RDONLY : O_RDWR);
  if (o.create) flags |= O_CREAT;
  if (o.create && o.exclusive) flags |= O_EXCL;
  if (o.truncate) flags |= O_TRUNC;
  if (o.direct) flags |= O_DIRECT;
  const int fd = open_fd(path, flags, ec);
  if (fd < 0) return nullptr;
  return std::unique_ptr<file>(new file(engine, path, fd, o.direct));
}

file::~file() { ::close(fd_); }

std::error_code file::size(std::uint64_t& out) {
  struct stat st {};
  if (::fstat(fd_, &st) < 0) return fail("fstat", -errno);
  out = static_cast<std::uint64_t>(st.st_size);
  return {};
}

std::error_code file::truncate(std::uint64_t length) {
  if (::ftruncate(fd_, static_cast<off_t>(length)) < 0) return fail("ftruncate", -errno);
  return {};
}

std::error_code file::write_now(std::uint64_t offset, std::span<const std::string_view> parts, bool sync) {
  io_op op;
  op.kind = sync ? op_kind::write_fdatasync : op_kind::write;
  op.fd = fd_;
  op.offset = offset;
  op.path = &path_;
  for (const auto& part : parts) {
    if (!part.empty()) op.iov.push_back(iovec{const_cast<char*>(part.data()), part.size()});
  }
  const long result = engine_.run_now(op);
  if (result < 0) return fail(op_name(op.kind), result);
  return {};
}

bool file::read_if_cached(std::uint64_t offset, char* out, std::size_t size) noexcept {
  if (direct_ || engine_.faults() != nullptr) return false;
  iovec v{out, size};
  // EAGAIN (not all cached), EINTR, EOPNOTSUPP (a kernel or file system
  // without RWF_NOWAIT) and short reads all mean: use the engine.
  const ssize_t n = ::preadv2(fd_, &v, 1, static_cast<off_t>(offset), RWF_NOWAIT);
  return n == static_cast<ssize_t>(size);
}

std::error_code file::fail(const char* what, long result) {
  const int error = static_cast<int>(-result);
  {
    std::lock_guard lock(mu_);
    last_error_ = fmt::format("{} {}: {}", what, path_, std::strerror(error));
  }
  return errno_to_error(error);
}

std::string file::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

aligned_buffer::aligned_buffer(std::size_t size) : size_(size) {
  const std::size_t rounded = (size + alignment - 1) / alignment * alignment;
  char* p = static_cast<char*>(std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded));
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, rounded == 0 ? alignment : rounded);
  data_.reset(p);
}

void aligned_buffer::free_deleter::operator()(char* p) const noexcept { std::free(p); }

}  // namespace strata::io
