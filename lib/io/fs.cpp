#include "io/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "io/file.hpp"

namespace strata::io {

namespace {

// Release/acquire: a test publishes a fully built injector with the store
// and every caller that loads it sees that object whole.
std::atomic<fault_injector*> process_faults{nullptr};

std::error_code os_error(int e, std::string_view what, std::string_view path, std::string& message) {
  message = fmt::format("{} {}: {}", what, path, std::strerror(e));
  return errno_to_error(e);
}

// Runs `call` (returns 0 or -errno) between the injector's two hooks.
template <typename Call>
int observed(const meta_op& op, Call call) {
  fault_injector* f = process_faults.load(std::memory_order_acquire);
  if (f != nullptr) {
    if (const int error = f->before_meta(op)) return -error;
  }
  const int result = call();
  if (f != nullptr) f->after_meta(op, result);
  return result;
}

}  // namespace

fault_injector* process_fault_injector() noexcept { return process_faults.load(std::memory_order_acquire); }
void set_process_fault_injector(fault_injector* f) noexcept { process_faults.store(f, std::memory_order_release); }

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

int open_fd(const std::string& path, int flags, std::error_code& ec) {
  const auto plain_open = [&]() -> int {
    int fd;
    do {
      fd = ::open(path.c_str(), flags, 0644);
    } while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
  };
  int result;
  // A create the injector should see: O_EXCL always makes a new name;
  // otherwise only when the name was not there (our callers never race
  // on names, so the check is exact for them).
  struct stat st {};
  const bool creates = (flags & O_CREAT) != 0 && ((flags & O_EXCL) != 0 || ::stat(path.c_str(), &st) != 0);
  if (creates) {
    int fd = -1;
    result = observed({.kind = meta_kind::create, .path = &path}, [&] {
      fd = plain_open();
      return fd < 0 ? fd : 0;
    });
    if (result == 0) result = fd;
  } else {
    result = plain_open();
  }
  if (result < 0) {
    ec = errno_to_error(-result);
    errno = -result;
    return -1;
  }
  ec.clear();
  return result;
}

std::error_code remove_file(const std::string& path) {
  const int result = observed({.kind = meta_kind::remove, .path = &path},
                              [&] { return ::unlink(path.c_str()) == 0 || errno == ENOENT ? 0 : -errno; });
  return errno_to_error(-result);
}

std::error_code rename_file(const std::string& from, const std::string& to, std::string& message) {
  const int result = observed({.kind = meta_kind::rename, .path = &from, .target = &to},
                              [&] { return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : -errno; });
  if (result < 0) return os_error(-result, "rename to " + to, from, message);
  return {};
}

std::error_code sync_dir(const std::string& dir, std::string& message) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return os_error(errno, "open directory", dir, message);
  const int result = observed({.kind = meta_kind::sync_dir, .path = &dir, .fd = fd}, [&] {
    while (::fsync(fd) != 0) {
      if (errno != EINTR) return -errno;
    }
    return 0;
  });
  ::close(fd);
  if (result < 0) return os_error(-result, "fsync directory", dir, message);
  return {};
}

std::error_code write_all(int fd, std::string_view bytes, const std::string& path, std::string& message) {
  const off_t position = ::lseek(fd, 0, SEEK_CUR);
  const meta_op op{.kind = meta_kind::write,
                   .path = &path,
                   .fd = fd,
                   .offset = position < 0 ? 0 : static_cast<std::uint64_t>(position),
                   .size = bytes.size()};
  const int result = observed(op, [&] {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return n < 0 ? -errno : -EIO;  // no progress: never spin
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
  });
  if (result < 0) return os_error(-result, "write", path, message);
  return {};
}

std::error_code sync_fd(int fd, const std::string& path, std::string& message) {
  const int result = observed({.kind = meta_kind::sync, .path = &path, .fd = fd}, [&] {
    while (::fdatasync(fd) != 0) {
      if (errno != EINTR) return -errno;
    }
    return 0;
  });
  if (result < 0) return os_error(-result, "fdatasync", path, message);
  return {};
}

std::error_code truncate_fd(int fd, std::uint64_t length, const std::string& path, std::string& message) {
  const int result = observed({.kind = meta_kind::truncate, .path = &path, .fd = fd, .size = length}, [&] {
    if (::ftruncate(fd, static_cast<off_t>(length)) != 0) return -errno;
    while (::fdatasync(fd) != 0) {
      if (errno != EINTR) return -errno;
    }
    return 0;
  });
  if (result < 0) return os_error(-result, "truncate", path, message);
  return {};
}

}  // namespace strata::io
