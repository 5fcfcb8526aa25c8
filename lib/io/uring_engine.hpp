// io/uring_engine.hpp — file I/O on one io_uring owned by one thread.
//
// Callers queue operations (a mutex-protected vector: a push is a few
// nanoseconds) and the ring thread turns everything queued into SQEs and
// submits them with one io_uring_enter, so concurrent operations share a
// submission. The ring thread is the only reaper: every CQE's user_data is
// the io_op that produced it, so a completion can never reach the wrong
// waiter (the "bad cqe data" class of bug needs two reapers on one ring).
//
// Wake-up: an eventfd read is kept armed inside the ring, so the thread
// sleeps in one place (io_uring_enter) for both completions and new work. A
// submitter writes the eventfd only when the thread has announced it is
// about to sleep, so a busy ring costs callers no syscall.
//
// Thread safety: submit() from any thread; everything else is the ring
// thread's. The destructor drains in-flight operations, then stops.
#pragma once

#include <liburing.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "io/io_engine.hpp"

namespace strata::io {

class uring_engine final : public io_engine {
 public:
  // nullptr (and errno in `error`) if io_uring cannot be set up here.
  static std::unique_ptr<uring_engine> create(const engine_options& options, int& error);
  ~uring_engine() override;

  void submit(io_op* op) override;
  const char* name() const noexcept override { return "io_uring"; }

 private:
  uring_engine() = default;
  void run();
  void wake() noexcept;
  void arm_wake_read();
  io_uring_sqe* next_sqe();
  void submit_pending_sqes();
  void reap();
  void queue(io_op* op);
  void on_cqe(std::uint64_t user_data, int result);
  // Ring-thread side of a finished op.
  void done(io_op* op, long result);

  io_uring ring_{};
  bool ring_ready_ = false;  // io_uring_queue_init succeeded
  int event_fd_ = -1;
  std::uint64_t wake_buffer_ = 0;
  // Ring thread only. CQEs we may still receive (the wake read included) are
  // kept within the CQ's size, so the kernel never has to drop or overflow
  // one; ops beyond that wait in backlog_.
  std::size_t in_flight_ = 0;
  std::size_t cqes_expected_ = 0;
  std::size_t cq_capacity_ = 0;
  std::vector<io_op*> backlog_;

  std::mutex mu_;
  std::vector<io_op*> pending_;  // guarded by mu_
  // seq_cst: the sleep/wake handshake (see run()).
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace strata::io
