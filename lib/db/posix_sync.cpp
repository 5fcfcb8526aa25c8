#include "db/posix_sync.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "io/file.hpp"

namespace strata::db_internal {

namespace {
std::error_code os_error(int e, std::string_view what, std::string_view path, std::string& message) {
  message = fmt::format("{} {}: {}", what, path, std::strerror(e));
  return io::errno_to_error(e);
}
}  // namespace

std::error_code write_all(int fd, std::string_view bytes, const std::string& path, std::string& message) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return os_error(n < 0 ? errno : EIO, "write", path, message);  // no progress: never spin
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::error_code sync_fd(int fd, const std::string& path, std::string& message) {
  while (::fdatasync(fd) != 0) {
    if (errno != EINTR) return os_error(errno, "fdatasync", path, message);
  }
  return {};
}

std::error_code sync_dir(const std::string& dir, std::string& message) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return os_error(errno, "open directory", dir, message);
  std::error_code ec;
  while (::fsync(fd) != 0) {
    if (errno != EINTR) {
      ec = os_error(errno, "fsync directory", dir, message);
      break;
    }
  }
  ::close(fd);
  return ec;
}

}  // namespace strata::db_internal
