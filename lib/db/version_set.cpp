#include "db/version_set.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "db/file_names.hpp"
#include "io/file.hpp"
#include "io/fs.hpp"
#include "strata/error.hpp"
#include "wal/log_reader.hpp"
#include "wal/wal_recovery.hpp"

namespace strata::db_internal {

namespace {

std::error_code os_error(int e, std::string_view what, std::string_view path, std::string& message) {
  message = fmt::format("{} {}: {}", what, path, std::strerror(e));
  return io::errno_to_error(e);
}

// CURRENT names the MANIFEST: written to a temp file, synced, renamed over
// CURRENT, and the directory synced, so CURRENT is always whole.
std::error_code set_current(const std::string& dir, std::uint64_t manifest, std::uint64_t temp_number,
                            std::string& message) {
  const std::string tmp = temp_file_name(dir, temp_number);
  std::error_code open_ec;
  const int fd = io::open_fd(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, open_ec);
  if (fd < 0) return os_error(errno, "create", tmp, message);
  const std::string contents = fmt::format("MANIFEST-{:06}\n", manifest);
  std::error_code ec = io::write_all(fd, contents, tmp, message);
  if (!ec) ec = io::sync_fd(fd, tmp, message);
  ::close(fd);
  if (!ec) ec = io::rename_file(tmp, current_file_name(dir), message);
  if (ec) {
    io::remove_file(tmp);
    return ec;
  }
  return io::sync_dir(dir, message);
}

}  // namespace

version_set::version_set(std::string dir) : dir_(std::move(dir)), current_(std::make_shared<const version>()) {}

version_set::~version_set() {
  if (manifest_fd_ >= 0) ::close(manifest_fd_);
}

std::shared_ptr<const version> version_set::current() const {
  std::lock_guard lock(current_mu_);
  return current_;
}

std::shared_ptr<const version> version_set::current(std::uint64_t& generation) const {
  std::lock_guard lock(current_mu_);
  generation = generation_.load(std::memory_order_relaxed);  // only install() writes it, under this lock
  return current_;
}

void version_set::install(version v) {
  auto next = std::make_shared<const version>(std::move(v));
  std::lock_guard lock(current_mu_);
  current_ = std::move(next);
  // Release: whoever reads the new generation also sees current_ replaced
  // (see generation()).
  generation_.fetch_add(1, std::memory_order_release);
}

void version_set::mark_file_number_used(std::uint64_t number) noexcept {
  if (number >= next_file_number_) next_file_number_ = number + 1;
}

std::error_code version_set::write_snapshot_manifest(const version& v, std::string& message) {
  const std::uint64_t number = new_file_number();
  const std::uint64_t temp_number = new_file_number();
  const std::string path = manifest_file_name(dir_, number);
  std::error_code open_ec;
  // O_TRUNC, not O_EXCL: a crash between creating this file and renaming
  // CURRENT leaves a MANIFEST that nothing names, with the number the next
  // open picks again (found by tests/crash).
  const int fd = io::open_fd(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, open_ec);
  if (fd < 0) return os_error(errno, "create", path, message);
  version_edit snapshot;
  snapshot.format_name = std::string(manifest_format_name);
  snapshot.log_number = log_number_;
  snapshot.next_file_number = next_file_number_;
  snapshot.last_sequence = last_sequence_;
  for (int level = 0; level < num_levels; ++level) {
    for (const auto& f : v.levels[static_cast<std::size_t>(level)]) snapshot.added.emplace_back(level, f);
  }
  std::string payload, bytes;
  snapshot.encode(payload);
  wal::log_encoder encoder(0);
  encoder.add_record(payload, bytes);
  std::error_code ec = io::write_all(fd, bytes, path, message);
  if (!ec) ec = io::sync_fd(fd, path, message);
  if (!ec) ec = set_current(dir_, number, temp_number, message);
  if (ec) {
    ::close(fd);
    io::remove_file(path);  // CURRENT still names the old MANIFEST
    return ec;
  }
  if (manifest_fd_ >= 0) ::close(manifest_fd_);
  const std::uint64_t old = manifest_number_;
  manifest_fd_ = fd;
  manifest_number_ = number;
  encoder_.reset(bytes.size());                                  // appends continue where the snapshot record ends
  if (old != 0) io::remove_file(manifest_file_name(dir_, old));  // best effort: obsolete now
  return {};
}

std::error_code version_set::create(std::string& message) { return write_snapshot_manifest(version{}, message); }

std::error_code version_set::recover(std::string& message) {
  std::string current;
  if (auto ec = wal::read_file(current_file_name(dir_), current)) {
    if (ec == std::errc::no_such_file_or_directory || ec == errc::io_error) {
      if (::access(current_file_name(dir_).c_str(), F_OK) != 0 && errno == ENOENT) {
        message = fmt::format("{}: no CURRENT file (not a strata db, or CURRENT was removed)", dir_);
        return errc::not_found;
      }
    }
    message = fmt::format("read {}: {}", current_file_name(dir_), ec.message());
    return ec;
  }
  std::uint64_t number = 0;
  if (current.size() < 2 || current.back() != '\n' ||
      parse_file_name(std::string_view(current).substr(0, current.size() - 1), number) != file_kind::manifest) {
    message = fmt::format("corruption in {}: does not name a MANIFEST", current_file_name(dir_));
    return errc::corruption;
  }
  const std::string path = manifest_file_name(dir_, number);
  std::string contents;
  if (auto ec = wal::read_file(path, contents)) {
    if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
      message = fmt::format("CURRENT names {}, which is missing", path);
      return errc::corruption;
    }
    message = fmt::format("read {} (named by CURRENT): {}", path, ec.message());
    return ec == errc::io_error ? ec : std::error_code(errc::corruption);
  }
  // The last edit may be cut short by a crash: it was never acted on (an
  // edit counts once synced), so ending there is correct. But an edit that
  // is all there and fails its checksum was synced and acted on (files
  // deleted because of it): that is corruption, never a torn tail.
  wal::log_reader reader(contents, path, {.skip_corruption = false, .last_file = true, .tail_must_be_cut = true});
  version v;
  bool have_log = false, have_next = false, first = true;
  std::string_view record;
  wal::log_reader::status st;
  while ((st = reader.next(record)) == wal::log_reader::status::record) {
    version_edit edit;
    std::string why;
    if (auto ec = version_edit::decode(record, edit, why)) {
      message = fmt::format("corruption in {} at offset {}: {}", path, reader.record_offset(), why);
      return ec;
    }
    if (first && edit.format_name != manifest_format_name) {
      message = fmt::format("{}: written in format '{}', this build reads '{}'", path,
                            edit.format_name.value_or("(none)"), manifest_format_name);
      return errc::corruption;
    }
    first = false;
    if (edit.log_number) {
      log_number_ = *edit.log_number;
      have_log = true;
    }
    if (edit.next_file_number) {
      next_file_number_ = *edit.next_file_number;
      have_next = true;
    }
    if (edit.last_sequence) last_sequence_ = *edit.last_sequence;
    if (auto ec = version::apply(v, edit, v, why)) {
      message = fmt::format("corruption in {} at offset {}: {}", path, reader.record_offset(), why);
      return ec;
    }
    ++edits_applied_;
  }
  if (st == wal::log_reader::status::corruption) {
    message = reader.error();
    return errc::corruption;
  }
  if (!have_log || !have_next) {
    message = fmt::format("corruption in {}: no log number or next file number recorded", path);
    return errc::corruption;
  }
  mark_file_number_used(number);
  for (const auto& l : v.levels) {
    for (const auto& f : l) mark_file_number_used(f.number);
  }
  manifest_number_ = number;  // replaced (and deleted) by the fresh MANIFEST below
  if (auto ec = write_snapshot_manifest(v, message)) return ec;
  install(std::move(v));
  return {};
}

std::error_code version_set::append_edit(const version_edit& edit, std::string& message) {
  const std::string path = manifest_file_name(dir_, manifest_number_);
  std::string payload, bytes;
  edit.encode(payload);
  encoder_.add_record(payload, bytes);
  if (auto ec = io::write_all(manifest_fd_, bytes, path, message)) return ec;
  return io::sync_fd(manifest_fd_, path, message);
}

std::error_code version_set::log_and_apply(version_edit edit, std::string& message) {
  if (failed_) {
    message =
        fmt::format("MANIFEST {} failed earlier: {}", manifest_file_name(dir_, manifest_number_), failed_.message());
    return failed_;
  }
  if (manifest_fd_ < 0) {
    message = "version set not created or recovered";
    return errc::invalid_argument;
  }
  if (!edit.log_number) edit.log_number = log_number_;
  edit.next_file_number = next_file_number_;
  edit.last_sequence = last_sequence_;
  version next;
  std::string why;
  if (auto ec = version::apply(*current(), edit, next, why)) {
    message = fmt::format("refused version edit: {}", why);
    return errc::invalid_argument;  // a caller bug, not damage on disk; nothing was written
  }
  if (auto ec = append_edit(edit, message)) {
    failed_ = ec;
    return ec;
  }
  log_number_ = *edit.log_number;
  install(std::move(next));
  ++edits_applied_;
  return {};
}

}  // namespace strata::db_internal
