// db/version_set.hpp — the live table set and the db's counters, made
// durable in the MANIFEST.
//
// The MANIFEST is a log of version edits in the WAL record format (so it
// shares the WAL's checksums and torn-tail handling); CURRENT names the live
// MANIFEST and is replaced only by an atomic rename. create() starts a new
// db; recover() replays CURRENT's MANIFEST and then starts a fresh MANIFEST
// holding one snapshot edit (so a MANIFEST never grows across restarts);
// log_and_apply() appends an edit, fdatasyncs it, and only then installs the
// new version. An edit that was not synced is not applied, and after a
// failed write the version set refuses further edits (the MANIFEST may end
// in a partial record): the db turns that into its read-only error state.
// docs/manifest_format.md has the format.
//
// The file operations are blocking syscalls: call these on the db's
// background executor. Not thread-safe: the db serializes all calls except
// current(), which may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>

#include "db/version.hpp"
#include "db/version_edit.hpp"
#include "wal/log_encoder.hpp"

namespace strata::db_internal {

class version_set {
 public:
  explicit version_set(std::string dir);
  ~version_set();
  version_set(const version_set&) = delete;
  version_set& operator=(const version_set&) = delete;

  // A new, empty db: MANIFEST + CURRENT. `message` says what failed.
  std::error_code create(std::string& message);
  // An existing db. errc::not_found if there is no CURRENT;
  // errc::corruption if CURRENT or the MANIFEST is damaged or the MANIFEST
  // was written in another format; io errors with the file name.
  std::error_code recover(std::string& message);

  // Fills in the counters (log number if unset, next file number, last
  // sequence), appends the edit to the MANIFEST, fdatasyncs it, then
  // installs the new version.
  std::error_code log_and_apply(version_edit edit, std::string& message);

  // The newest installed version; any thread. With `generation`, also its
  // install count (taken together under the same lock).
  std::shared_ptr<const version> current() const;
  std::shared_ptr<const version> current(std::uint64_t& generation) const;
  // How many versions have been installed: changes exactly when current()
  // does. A reader that cached what it built from current() at generation g
  // may keep using it while generation() == g, without taking the lock or
  // copying the version's shared_ptr (the db's read path does).
  std::uint64_t generation() const noexcept {
    // Acquire pairs with the release increment in install(). A caller that
    // learned of an install through its own lock (the db's mu_, released
    // after the install) reads at least that generation anyway (coherence);
    // a racing install may or may not be seen, which is either order.
    return generation_.load(std::memory_order_acquire);
  }

  std::uint64_t new_file_number() noexcept { return next_file_number_++; }
  // Makes sure numbers up to `number` are never handed out (recovered logs).
  void mark_file_number_used(std::uint64_t number) noexcept;
  std::uint64_t next_file_number() const noexcept { return next_file_number_; }
  std::uint64_t log_number() const noexcept { return log_number_; }
  sequence_number last_sequence() const noexcept { return last_sequence_; }
  void set_last_sequence(sequence_number s) noexcept { last_sequence_ = s > last_sequence_ ? s : last_sequence_; }
  std::uint64_t manifest_number() const noexcept { return manifest_number_; }
  std::uint64_t edits_applied() const noexcept { return edits_applied_; }

 private:
  // Writes a MANIFEST holding one edit that describes `v` and the counters,
  // syncs it, and points CURRENT at it.
  std::error_code write_snapshot_manifest(const version& v, std::string& message);
  std::error_code append_edit(const version_edit& edit, std::string& message);
  void install(version v);

  const std::string dir_;
  mutable std::mutex current_mu_;  // guards current_ only
  std::shared_ptr<const version> current_;
  std::atomic<std::uint64_t> generation_{0};  // written under current_mu_, read anywhere
  std::uint64_t next_file_number_ = 2;        // 1 is the first MANIFEST
  std::uint64_t log_number_ = 0;
  sequence_number last_sequence_ = 0;
  std::uint64_t manifest_number_ = 0;
  std::uint64_t edits_applied_ = 0;
  int manifest_fd_ = -1;
  wal::log_encoder encoder_;
  std::error_code failed_;  // sticky after a failed MANIFEST write
};

}  // namespace strata::db_internal
