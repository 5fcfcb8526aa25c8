#include "wal/wal_recovery.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>

#include "io/file.hpp"
#include "io/fs.hpp"
#include "strata/error.hpp"
#include "wal/log_reader.hpp"
#include "wal/wal_writer.hpp"

namespace strata::wal {

std::error_code read_file(const std::string& path, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io::errno_to_error(errno);
  struct stat st {};
  if (::fstat(fd, &st) < 0) {
    const int e = errno;
    ::close(fd);
    return io::errno_to_error(e);
  }
  out.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = n < 0 ? errno : 0;
      ::close(fd);
      if (n == 0) {  // shrank under us: keep what we read
        out.resize(done);
        return {};
      }
      return io::errno_to_error(e);
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return {};
}

std::vector<std::uint64_t> list_logs(const std::string& dir, std::error_code& ec) {
  std::vector<std::uint64_t> numbers;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 5 || name.substr(name.size() - 4) != ".log") continue;
    std::uint64_t n = 0;
    const auto* begin = name.data();
    const auto* end = name.data() + name.size() - 4;
    auto [ptr, err] = std::from_chars(begin, end, n);
    if (err == std::errc() && ptr == end) numbers.push_back(n);
  }
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

std::error_code replay_logs(const std::string& dir, std::span<const std::uint64_t> numbers,
                            const replay_options& options, const record_callback& on_record, replay_result& result) {
  std::string contents;
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    const std::string path = log_file_name(dir, numbers[i]);
    if (auto ec = read_file(path, contents)) {
      result.error = "read " + path + ": " + ec.message();
      return ec;
    }
    const bool last = i + 1 == numbers.size() || options.torn_tail_ends_replay;
    log_reader reader(contents, path, {.skip_corruption = options.skip_corruption, .last_file = last});
    std::string_view record;
    for (;;) {
      const auto st = reader.next(record);
      if (st == log_reader::status::end) break;
      if (st == log_reader::status::corruption) {
        result.error = reader.error();
        return errc::corruption;
      }
      ++result.records;
      if (auto ec = on_record(record, numbers[i])) return ec;
    }
    result.dropped_bytes += reader.dropped_bytes();
    if (reader.torn_tail()) {
      result.torn_tail = true;
      result.torn_tail_offset = reader.valid_end();
      if (options.truncate_torn_tail) {
        std::error_code tec;
        const int fd = io::open_fd(path, O_WRONLY | O_CLOEXEC, tec);
        if (fd < 0) {
          result.error = "truncating torn tail of " + path + ": " + tec.message();
          return tec;
        }
        tec = io::truncate_fd(fd, reader.valid_end(), path, result.error);
        ::close(fd);
        if (tec) return tec;
      }
      if (options.torn_tail_ends_replay) {
        result.ignored_logs = numbers.size() - i - 1;
        return {};
      }
    }
  }
  return {};
}

}  // namespace strata::wal
