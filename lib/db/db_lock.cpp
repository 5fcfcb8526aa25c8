#include "db/db_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "db/file_names.hpp"
#include "io/file.hpp"
#include "strata/error.hpp"

namespace strata::db_internal {

db_lock::~db_lock() { release(); }

void db_lock::release() noexcept {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
    fd_ = -1;
  }
}

std::error_code db_lock::acquire(const std::string& dir, std::string& message) {
  const std::string path = lock_file_name(dir);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    message = fmt::format("open {}: {}", path, std::strerror(errno));
    return io::errno_to_error(errno);
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK) {
      message = fmt::format("{} is held: the db is open elsewhere (this or another process)", path);
      return errc::busy;
    }
    message = fmt::format("flock {}: {}", path, std::strerror(e));
    return io::errno_to_error(e);
  }
  fd_ = fd;
  return {};
}

}  // namespace strata::db_internal
