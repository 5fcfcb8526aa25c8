// tests/unit/fault_injection.hpp — the io-layer fault injector used by
// tests: make writes or syncs fail with an errno, and simulate a crash that
// drops every byte not yet made durable by fdatasync/fsync.
//
// Durability model (like LevelDB's FaultInjectionTestEnv): for each file
// written through the engine, remember its size at the last successful
// sync; simulate_crash() truncates each file back to that size. Files are
// append-only in Strata's WAL, so that is exactly the data a power cut could
// lose. Thread-safe.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "io/io_engine.hpp"

namespace strata::testing {

class test_faults final : public io::fault_injector {
 public:
  // Fail the next `count` operations of this kind with `error` (an errno).
  void fail_writes(int error, int count = 1000000) {
    write_error_.store(error);
    write_budget_.store(count);
  }
  void fail_syncs(int error, int count = 1000000) {
    sync_error_.store(error);
    sync_budget_.store(count);
  }
  void heal() {
    write_budget_.store(0);
    sync_budget_.store(0);
  }

  int before(const io::io_op& op) override {
    const bool writes = op.kind == io::op_kind::write || op.kind == io::op_kind::write_fdatasync;
    const bool syncs = op.kind != io::op_kind::read && op.kind != io::op_kind::write;
    if (writes && write_budget_.fetch_sub(1) > 0) return write_error_.load();
    // A failed write+fdatasync is failed whole (nothing written): either
    // way its data is not durable, which is what the caller must assume.
    if (syncs && sync_budget_.fetch_sub(1) > 0) return sync_error_.load();
    return 0;
  }

  void after(const io::io_op& op, long result) override {
    if (op.path == nullptr || op.kind == io::op_kind::read) return;
    std::lock_guard lock(mu_);
    auto& synced = synced_size_[*op.path];  // 0 for a file never synced
    const bool synced_now = op.kind != io::op_kind::write && result >= 0;
    if (synced_now) {
      struct stat st {};
      if (::fstat(op.fd, &st) == 0) synced = static_cast<std::uint64_t>(st.st_size);
    }
  }

  // Drops every byte written after each file's last successful sync.
  void simulate_crash() {
    std::lock_guard lock(mu_);
    for (const auto& [path, size] : synced_size_) {
      if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) continue;  // file may be gone
    }
  }

 private:
  std::atomic<int> write_error_{0}, sync_error_{0};
  std::atomic<int> write_budget_{0}, sync_budget_{0};
  std::mutex mu_;
  std::map<std::string, std::uint64_t> synced_size_;
};

}  // namespace strata::testing
