// tests/unit/fault_injection.hpp — the fault injector used by tests: fail
// writes, syncs, reads and name operations with an errno (now, after a
// count, or at random), tear writes short, freeze the disk at an instant,
// and simulate a power cut that loses everything not made durable.
//
// Install it with io::set_process_fault_injector(&faults) before opening a
// db: it then sees every data operation of that db's io engine and every
// call of io/fs.hpp (create, remove, rename, directory sync, MANIFEST
// writes and syncs, torn-tail truncation).
//
// The power-loss model (LevelDB's FaultInjectionTestEnv, made exact):
// - Data: each completed write leaves a dirty byte range in its file; a
//   successful fdatasync/fsync makes durable the ranges whose writes had
//   completed before the sync was issued (a write finishing while the sync
//   runs is not counted: the kernel may or may not have covered it).
//   simulate_power_loss() zeroes the dirty ranges and cuts each file after
//   its last durable byte. Ranges, not sizes: the WAL pre-zeroes space and
//   syncs it, so a later record inside that space is below the file's
//   durable size and must still be lost if it was not synced.
// - Names: creating, removing and renaming a name is durable only once its
//   directory is synced. simulate_power_loss() undoes, newest first, every
//   name operation not covered by a directory sync: a created file goes, a
//   removed file comes back (a hard link kept it), a rename is reversed.
//   This catches a missing directory fsync after a file is created or a
//   CURRENT is renamed into place.
// - freeze(): the instant of the power cut. From then on every operation
//   fails with EIO and nothing more becomes durable, so the db's flushes,
//   compactions and MANIFEST writes in flight are cut where they stand.
//   Destroy the db, then call simulate_power_loss().
//
// Files that existed before the injector saw them are taken as durable.
// Thread-safe (one mutex): the engines call it from their own threads.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "io/fs.hpp"
#include "io/io_engine.hpp"

namespace strata::testing {

class test_faults final : public io::fault_injector {
 public:
  enum class kind { write, sync, read, meta };

  ~test_faults() override {
    std::error_code ec;
    for (const auto& b : backups_) std::filesystem::remove(b, ec);
  }

  // Fail `count` operations of this kind with `error` (an errno), after
  // letting `skip` of them through.
  void fail_writes(int error, int count = 1000000, int skip = 0) { arm(kind::write, error, count, skip); }
  void fail_syncs(int error, int count = 1000000, int skip = 0) { arm(kind::sync, error, count, skip); }
  void fail_reads(int error, int count = 1000000, int skip = 0) { arm(kind::read, error, count, skip); }
  // Name and metadata operations (create, remove, rename, directory sync,
  // MANIFEST/CURRENT writes and syncs).
  void fail_meta(int error, int count = 1000000, int skip = 0) { arm(kind::meta, error, count, skip); }
  // The next `count` engine writes (after `skip`) write the first half of
  // their bytes for real and then fail with `error`: a short write cut off
  // by a full disk, leaving a partial record behind.
  void tear_writes(int error, int count = 1, int skip = 0) {
    std::lock_guard lock(mu_);
    tear_ = {error, count, skip};
  }
  // Each operation of this kind fails with probability `p` (seeded).
  void fail_at_random(kind k, int error, double p, std::uint64_t seed) {
    std::lock_guard lock(mu_);
    random_[index(k)] = {error, p};
    rng_.seed(seed);
  }
  void heal() {
    std::lock_guard lock(mu_);
    for (auto& a : armed_) a = {};
    for (auto& r : random_) r = {};
    tear_ = {};
  }
  // How many faults were injected, by kind (torn writes count as writes).
  std::uint64_t injected(kind k) const {
    std::lock_guard lock(mu_);
    return injected_[index(k)];
  }

  void freeze() {
    std::lock_guard lock(mu_);
    frozen_ = true;
  }

  // Rolls the disk back to what a power cut at freeze() (or now) leaves.
  void simulate_power_loss() {
    std::lock_guard lock(mu_);
    for (auto it = journal_.rbegin(); it != journal_.rend(); ++it) undo(*it);
    journal_.clear();
    for (auto& [path, f] : files_) {
      const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) continue;  // gone
      static const std::string zeros(64 << 10, '\0');
      for (const auto& r : f.dirty) {
        for (std::uint64_t at = r.begin; at < std::min(r.end, f.durable_end);) {
          const std::size_t n =
              static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), std::min(r.end, f.durable_end) - at));
          if (::pwrite(fd, zeros.data(), n, static_cast<off_t>(at)) <= 0) break;
          at += n;
        }
      }
      struct stat st {};
      if (::fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) > f.durable_end) {
        if (::ftruncate(fd, static_cast<off_t>(f.durable_end)) != 0) { /* reported by the reopen, if it matters */
        }
      }
      ::close(fd);
      f.dirty.clear();
    }
    files_.clear();
    frozen_ = false;
  }

  // --- io::fault_injector ---
  int before(const io::io_op& op) override {
    std::lock_guard lock(mu_);
    if (frozen_) return EIO;
    const bool writes = op.kind == io::op_kind::write || op.kind == io::op_kind::write_fdatasync;
    const bool syncs = op.kind != io::op_kind::read && op.kind != io::op_kind::write;
    if (op.kind == io::op_kind::read) {
      if (const int e = fire(kind::read)) return e;
      return 0;
    }
    if (op.path != nullptr) track(*op.path, op.fd);
    if (writes) {
      if (const int e = fire(kind::write)) return e;
      if (tear_.count > 0) {
        if (tear_.skip > 0) {
          --tear_.skip;
        } else {
          --tear_.count;
          ++injected_[index(kind::write)];
          write_half(op);
          return tear_.error;
        }
      }
    }
    if (syncs) {
      if (const int e = fire(kind::sync)) return e;
      if (op.path != nullptr) sync_marks_[&op] = write_clock_;
    }
    return 0;
  }

  void after(const io::io_op& op, long result) override {
    if (op.path == nullptr || op.kind == io::op_kind::read) return;
    std::lock_guard lock(mu_);
    auto& f = files_[*op.path];
    const bool writes = op.kind == io::op_kind::write || op.kind == io::op_kind::write_fdatasync;
    if (writes && op.done_bytes > 0) f.dirty.push_back({op.offset, op.offset + op.done_bytes, ++write_clock_});
    if (op.kind == io::op_kind::write) return;
    const auto mark = sync_marks_.find(&op);
    if (mark == sync_marks_.end()) return;
    const std::uint64_t covered = mark->second;
    sync_marks_.erase(mark);
    if (result < 0 || frozen_) return;
    make_durable(f, covered);
    if (op.kind == io::op_kind::write_fdatasync) make_durable(f, write_clock_, write_clock_);  // its own write
  }

  int before_meta(const io::meta_op& op) override {
    std::lock_guard lock(mu_);
    if (frozen_) return EIO;
    if (const int e = fire(kind::meta)) return e;
    switch (op.kind) {
      case io::meta_kind::remove:
        pending_backups_[&op] = keep(*op.path);
        break;
      case io::meta_kind::rename:
        pending_backups_[&op] = keep(*op.target);
        break;
      case io::meta_kind::write:
      case io::meta_kind::truncate:
        track(*op.path, op.fd);
        break;
      case io::meta_kind::sync:
        track(*op.path, op.fd);
        sync_marks_[&op] = write_clock_;
        break;
      case io::meta_kind::sync_dir:
        meta_marks_[&op] = journal_clock_;
        break;
      default:
        break;
    }
    return 0;
  }

  void after_meta(const io::meta_op& op, int result) override {
    std::lock_guard lock(mu_);
    std::optional<std::string> backup;
    if (auto it = pending_backups_.find(&op); it != pending_backups_.end()) {
      backup = std::move(it->second);
      pending_backups_.erase(it);
    }
    const bool ok = result >= 0 && !frozen_;
    switch (op.kind) {
      case io::meta_kind::create:
        if (ok) {
          files_[*op.path] = {};
          journal_.push_back({io::meta_kind::create, *op.path, {}, {}, {}, ++journal_clock_});
        }
        break;
      case io::meta_kind::remove:
        if (ok) {
          entry e{io::meta_kind::remove, *op.path, {}, backup, {}, ++journal_clock_};
          if (auto it = files_.find(*op.path); it != files_.end()) {
            e.state = std::move(it->second);
            files_.erase(it);
          }
          journal_.push_back(std::move(e));
        } else if (backup) {
          drop_backup(*backup);
        }
        break;
      case io::meta_kind::rename:
        if (ok) {
          entry e{io::meta_kind::rename, *op.path, *op.target, backup, {}, ++journal_clock_};
          if (auto it = files_.find(*op.target); it != files_.end()) e.state = std::move(it->second);
          if (auto it = files_.find(*op.path); it != files_.end()) {
            files_[*op.target] = std::move(it->second);
            files_.erase(*op.path);
          } else {
            files_.erase(*op.target);
          }
          journal_.push_back(std::move(e));
        } else if (backup) {
          drop_backup(*backup);
        }
        break;
      case io::meta_kind::sync_dir: {
        const auto mark = meta_marks_.find(&op);
        if (mark == meta_marks_.end()) break;
        const std::uint64_t upto = mark->second;
        meta_marks_.erase(mark);
        if (!ok) break;
        // Name operations in this directory journaled before the sync began are durable now.
        std::erase_if(journal_, [&](const entry& e) {
          if (e.clock > upto || io::parent_dir(e.path) != *op.path) return false;
          if (e.backup) drop_backup(*e.backup);
          return true;
        });
        break;
      }
      case io::meta_kind::write:
        if (result >= 0 || op.size > 0)
          files_[*op.path].dirty.push_back({op.offset, op.offset + op.size, ++write_clock_});
        break;
      case io::meta_kind::sync: {
        const auto mark = sync_marks_.find(&op);
        if (mark == sync_marks_.end()) break;
        const std::uint64_t covered = mark->second;
        sync_marks_.erase(mark);
        if (ok) make_durable(files_[*op.path], covered);
        break;
      }
      case io::meta_kind::truncate:
        if (ok) {
          auto& f = files_[*op.path];
          f.durable_end = op.size;
          std::erase_if(f.dirty, [&](const range& r) { return r.begin >= op.size; });
          for (auto& r : f.dirty) r.end = std::min(r.end, op.size);
        }
        break;
    }
  }

 private:
  struct range {
    std::uint64_t begin, end, clock;
  };
  struct file_state {
    std::uint64_t durable_end = 0;
    std::vector<range> dirty;  // written, not yet durable
  };
  struct entry {
    io::meta_kind kind;
    std::string path;
    std::string target;                 // rename
    std::optional<std::string> backup;  // remove: the file; rename: what `target` was
    std::optional<file_state> state;    // its durability state, to restore with it
    std::uint64_t clock = 0;            // journal order, against directory syncs
  };
  struct armed {
    int error = 0, count = 0, skip = 0;
  };
  struct chance {
    int error = 0;
    double p = 0;
  };

  static std::size_t index(kind k) { return static_cast<std::size_t>(k); }

  void arm(kind k, int error, int count, int skip) {
    std::lock_guard lock(mu_);
    armed_[index(k)] = {error, count, skip};
  }

  // An errno if an armed or random fault of this kind fires now, else 0.
  int fire(kind k) {
    auto& a = armed_[index(k)];
    if (a.count > 0) {
      if (a.skip > 0) {
        --a.skip;
      } else {
        --a.count;
        ++injected_[index(k)];
        return a.error;
      }
    }
    const auto& r = random_[index(k)];
    if (r.p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < r.p) {
      ++injected_[index(k)];
      return r.error;
    }
    return 0;
  }

  // Writes the first half of a write op's bytes (a torn write) and records them.
  void write_half(const io::io_op& op) {
    std::size_t left = op.remaining() / 2;
    std::uint64_t at = op.offset + op.done_bytes;
    const std::uint64_t from = at;
    for (const auto& v : op.iov) {
      if (left == 0) break;
      const std::size_t n = std::min(left, v.iov_len);
      if (::pwrite(op.fd, v.iov_base, n, static_cast<off_t>(at)) != static_cast<ssize_t>(n)) break;
      at += n;
      left -= n;
    }
    if (op.path != nullptr && at > from) files_[*op.path].dirty.push_back({from, at, ++write_clock_});
  }

  // Makes durable the dirty ranges whose writes completed at clock <= covered
  // (and >= from).
  void make_durable(file_state& f, std::uint64_t covered, std::uint64_t from = 0) {
    std::erase_if(f.dirty, [&](const range& r) {
      if (r.clock > covered || r.clock < from) return false;
      f.durable_end = std::max(f.durable_end, r.end);
      return true;
    });
  }

  // First sight of a file the injector did not see created: what it holds
  // now was there before, so it counts as durable.
  void track(const std::string& path, int fd) {
    if (files_.count(path) != 0) return;
    struct stat st {};
    files_[path].durable_end = fd >= 0 && ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  }

  // A hard link that keeps `path`'s current contents (if it exists) for undo.
  std::optional<std::string> keep(const std::string& path) {
    const std::filesystem::path p(path);
    const std::string backup = (p.parent_path().parent_path() /
                                (".power-loss-" + std::to_string(::getpid()) + "-" + std::to_string(++backup_counter_)))
                                   .string();
    if (::link(path.c_str(), backup.c_str()) != 0) return std::nullopt;
    backups_.push_back(backup);
    return backup;
  }
  void drop_backup(const std::string& b) {
    ::unlink(b.c_str());
    std::erase(backups_, b);
  }

  void undo(entry& e) {
    switch (e.kind) {
      case io::meta_kind::create:
        ::unlink(e.path.c_str());
        files_.erase(e.path);
        break;
      case io::meta_kind::remove:
        if (e.backup) {
          (void)::rename(e.backup->c_str(), e.path.c_str());
          std::erase(backups_, *e.backup);
          if (e.state) files_[e.path] = std::move(*e.state);
        }
        break;
      case io::meta_kind::rename:
        (void)::rename(e.target.c_str(), e.path.c_str());
        if (auto it = files_.find(e.target); it != files_.end()) {
          files_[e.path] = std::move(it->second);
          files_.erase(e.target);
        }
        if (e.backup) {
          (void)::rename(e.backup->c_str(), e.target.c_str());
          std::erase(backups_, *e.backup);
          if (e.state) files_[e.target] = std::move(*e.state);
        }
        break;
      default:
        break;
    }
  }

  mutable std::mutex mu_;
  std::array<armed, 4> armed_{};
  std::array<chance, 4> random_{};
  std::array<std::uint64_t, 4> injected_{};
  armed tear_{};
  std::mt19937_64 rng_{1};
  bool frozen_ = false;
  std::uint64_t write_clock_ = 0;                    // orders write completions against sync starts
  std::map<const void*, std::uint64_t> sync_marks_;  // sync in flight -> write_clock_ at its start
  std::map<const void*, std::uint64_t> meta_marks_;  // directory sync in flight -> journal_clock_ at its start
  std::map<std::string, file_state> files_;
  std::vector<entry> journal_;  // name operations not yet covered by a directory sync
  std::uint64_t journal_clock_ = 0;
  std::map<const void*, std::optional<std::string>> pending_backups_;  // remove/rename in flight -> its backup
  std::vector<std::string> backups_;
  std::uint64_t backup_counter_ = 0;
};

// Installs a test_faults as the process's fault injector for its lifetime.
struct faults_installed {
  test_faults faults;
  faults_installed() { io::set_process_fault_injector(&faults); }
  ~faults_installed() { io::set_process_fault_injector(nullptr); }
  faults_installed(const faults_installed&) = delete;
  faults_installed& operator=(const faults_installed&) = delete;
};

}  // namespace strata::testing
