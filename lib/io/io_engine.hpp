// io/io_engine.hpp — where file operations run: io_uring, or a thread pool.
//
// make_io_engine() tries io_uring first and falls back to a small pool of
// threads doing pread/pwrite/fdatasync when io_uring is unavailable (old
// kernel, io_uring_disabled sysctl, a seccomp profile such as Docker's
// default) or when options.force_fallback is set (tests run both). The choice
// is made once, at creation, and logged in one line on stderr when it falls
// back. See docs/io.md for why the ring has its own thread.
//
// Thread safety: submit() may be called from any thread. Completions run on
// the engine's thread(s); io/file_ops.hpp turns them into completions on the
// caller's associated executor. Destroying an engine waits for (and
// completes) every operation already submitted.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "io/io_op.hpp"

namespace strata::io {

// A call of io/fs.hpp as the fault injector sees it.
enum class meta_kind : std::uint8_t {
  create,    // a new name (path), before any data
  remove,    // path's name goes
  rename,    // path -> target
  sync_dir,  // path is a directory
  write,     // [offset, offset + size) of path, through fd (not through an engine)
  sync,      // fdatasync of path through fd
  truncate,  // path cut to `size` bytes, then fdatasync
};

struct meta_op {
  meta_kind kind;
  const std::string* path;
  const std::string* target = nullptr;  // rename only
  int fd = -1;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

// Test hook: decide per operation whether it fails, and observe results.
// Called on the submitting thread (before) and the engine's thread (after).
class fault_injector {
 public:
  virtual ~fault_injector() = default;
  // Return 0 to run the operation, or a positive errno to fail it without
  // touching the file.
  virtual int before(const io_op& op) = 0;
  // Called with the final result of every operation that ran.
  virtual void after(const io_op& op, long result) = 0;
  // The same pair for the name and metadata calls of io/fs.hpp (and file
  // creation by io::file::open): before_meta may fail one with an errno;
  // after_meta sees the result (0 or -errno) of each that ran.
  virtual int before_meta(const meta_op& op) {
    (void)op;
    return 0;
  }
  virtual void after_meta(const meta_op& op, int result) {
    (void)op;
    (void)result;
  }
};

struct engine_stats {
  std::uint64_t operations = 0;   // ops submitted by callers
  std::uint64_t submissions = 0;  // io_uring_enter calls that submitted (or pool dispatches)
  std::uint64_t retries = 0;      // short writes completed by resubmission
};

struct engine_options {
  unsigned queue_depth = 256;  // io_uring SQ entries
  unsigned fallback_threads = 2;
  bool force_fallback = false;
};

class io_engine {
 public:
  virtual ~io_engine() = default;
  virtual void submit(io_op* op) = 0;
  virtual const char* name() const noexcept = 0;  // "io_uring" or "threads"
  engine_stats stats() const noexcept;

  // Runs `op` on the calling thread with blocking system calls, through
  // the same fault injector, and returns its result (bytes, or -errno);
  // op.complete is not called. For the WAL's group loop: io_uring sends
  // buffered ext4 writes and fdatasync to io-wq workers, so the ring adds
  // four thread hand-offs to a group commit (docs/io.md). Blocking:
  // background threads only, never a caller's.
  long run_now(io_op& op);

  // Not owned; must outlive the engine's use of it. nullptr = no faults.
  void set_fault_injector(fault_injector* f) noexcept { faults_.store(f, std::memory_order_release); }
  // Relaxed/acquire pairs: the injector object is published by the release
  // store above and read through the acquire load below.
  fault_injector* faults() const noexcept { return faults_.load(std::memory_order_acquire); }

 protected:
  // Relaxed: statistics only.
  std::atomic<std::uint64_t> operations_{0};
  std::atomic<std::uint64_t> submissions_{0};
  std::atomic<std::uint64_t> retries_{0};

  // Shared finishing step for both engines: report to the injector, then complete.
  void finish(io_op* op, long result);
  // Runs an op with blocking system calls (preadv, pwritev, fdatasync,
  // fsync) on the calling thread: the thread-pool engine's workers, and
  // run_now. Writes are finished (short writes resumed and counted in
  // retries_, EINTR retried). Returns bytes or -errno.
  long execute_blocking(io_op& op) noexcept;

 private:
  std::atomic<fault_injector*> faults_{nullptr};
};

std::unique_ptr<io_engine> make_io_engine(const engine_options& options = {});

}  // namespace strata::io
