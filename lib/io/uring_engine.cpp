#include "io/uring_engine.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace strata::io {
namespace {
#if defined(__SANITIZE_THREAD__)
// The kernel may map a new ring where a destroyed one was. munmap/mmap
// order the two, but ThreadSanitizer cannot see that and reports the new
// ring thread's SQE writes as racing with the old one's. Every ring's
// teardown releases this token (after its thread is joined, before the
// munmap) and every ring's setup acquires it (after the mmap), which is the
// ordering the kernel provides. Released after the munmap, a ring mapped in
// between could acquire first and see no order at all.
char ring_memory_reuse;
void ring_mapped() noexcept { __tsan_acquire(&ring_memory_reuse); }
void ring_unmapped() noexcept { __tsan_release(&ring_memory_reuse); }
#else
void ring_mapped() noexcept {}
void ring_unmapped() noexcept {}
#endif

constexpr std::uint64_t wake_tag = 1;       // user_data of the eventfd read (no op lives at address 1)
constexpr std::uint64_t sync_part_bit = 1;  // low bit set: the fdatasync half of a linked pair
}  // namespace

std::unique_ptr<uring_engine> uring_engine::create(const engine_options& options, int& error) {
  std::unique_ptr<uring_engine> engine(new uring_engine());
  // At least 2 entries: a write and its linked fdatasync share a submission.
  const unsigned depth = std::max(options.queue_depth, 2u);
  const int r = io_uring_queue_init(depth, &engine->ring_, 0);
  if (r < 0) {
    error = -r;
    return nullptr;  // the destructor releases only what was set up
  }
  engine->ring_ready_ = true;
  ring_mapped();
  engine->cq_capacity_ = engine->ring_.cq.ring_entries;
  engine->event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (engine->event_fd_ < 0) {
    error = errno;
    return nullptr;
  }
  engine->thread_ = std::thread([e = engine.get()] { e->run(); });
  return engine;
}

uring_engine::~uring_engine() {
  if (thread_.joinable()) {
    stop_.store(true, std::memory_order_seq_cst);
    wake();
    thread_.join();
  }
  if (ring_ready_) {
    // Before the unmap: a ring mapped at this address later (after the
    // munmap) then acquires after this release.
    ring_unmapped();
    io_uring_queue_exit(&ring_);
  }
  if (event_fd_ >= 0) ::close(event_fd_);
}

void uring_engine::wake() noexcept {
  const std::uint64_t one = 1;
  // EAGAIN (counter saturated) still leaves the eventfd readable: a wake-up is pending either way.
  [[maybe_unused]] const auto n = ::write(event_fd_, &one, sizeof one);
}

void uring_engine::submit(io_op* op) {
  operations_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    pending_.push_back(op);
  }
  // Only a sleeping ring needs the syscall; exchange so one submitter wakes it.
  if (sleeping_.exchange(false, std::memory_order_seq_cst)) wake();
}

void uring_engine::submit_pending_sqes() {
  for (;;) {
    const int r = io_uring_submit(&ring_);
    if (r >= 0) {
      if (r > 0) submissions_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (r == -EINTR) continue;
    // EAGAIN/EBUSY: the kernel wants completions reaped first. We bound the
    // CQEs in flight by the CQ size, so this is transient: reap and retry.
    reap();
    std::this_thread::yield();
  }
}

io_uring_sqe* uring_engine::next_sqe() {
  for (;;) {
    if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) return sqe;
    submit_pending_sqes();  // SQ full: hand what we have to the kernel first
  }
}

void uring_engine::arm_wake_read() {
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_read(sqe, event_fd_, &wake_buffer_, sizeof wake_buffer_, 0);
  io_uring_sqe_set_data64(sqe, wake_tag);
  ++cqes_expected_;
}

void uring_engine::reap() {
  io_uring_cqe* cqe = nullptr;
  unsigned head = 0;
  unsigned seen = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    on_cqe(io_uring_cqe_get_data64(cqe), cqe->res);
    ++seen;
  }
  io_uring_cq_advance(&ring_, seen);
}

void uring_engine::queue(io_op* op) {
  const auto data = reinterpret_cast<std::uint64_t>(op);
  const auto iov_count = static_cast<unsigned>(op->iov.size());
  switch (op->kind) {
    case op_kind::read: {
      io_uring_sqe* sqe = next_sqe();
      io_uring_prep_readv(sqe, op->fd, op->iov.data(), iov_count, op->offset);
      io_uring_sqe_set_data64(sqe, data);
      break;
    }
    case op_kind::write: {
      io_uring_sqe* sqe = next_sqe();
      io_uring_prep_writev(sqe, op->fd, op->iov.data(), iov_count, op->offset + op->done_bytes);
      io_uring_sqe_set_data64(sqe, data);
      break;
    }
    case op_kind::fdatasync:
    case op_kind::fsync: {
      io_uring_sqe* sqe = next_sqe();
      io_uring_prep_fsync(sqe, op->fd, op->kind == op_kind::fdatasync ? IORING_FSYNC_DATASYNC : 0);
      io_uring_sqe_set_data64(sqe, data);
      break;
    }
    case op_kind::write_fdatasync: {
      while (io_uring_sq_space_left(&ring_) < 2) submit_pending_sqes();  // the pair must sit in one submission
      io_uring_sqe* w = next_sqe();
      io_uring_prep_writev(w, op->fd, op->iov.data(), iov_count, op->offset + op->done_bytes);
      io_uring_sqe_set_data64(w, data);
      w->flags |= IOSQE_IO_LINK;  // the sync starts only after the write completed in full
      io_uring_sqe* s = next_sqe();
      io_uring_prep_fsync(s, op->fd, IORING_FSYNC_DATASYNC);
      io_uring_sqe_set_data64(s, data | sync_part_bit);
      op->pending_cqes = 2;
      cqes_expected_ += 1;  // the second of the pair; the first is counted below
      break;
    }
  }
  ++cqes_expected_;
}

void uring_engine::done(io_op* op, long result) {
  --in_flight_;
  finish(op, result);
}

void uring_engine::on_cqe(std::uint64_t user_data, int result) {
  --cqes_expected_;
  if (user_data == wake_tag) {
    arm_wake_read();
    return;
  }
  auto* op = reinterpret_cast<io_op*>(user_data & ~sync_part_bit);
  switch (op->kind) {
    case op_kind::read:
      done(op, result);
      return;
    case op_kind::fdatasync:
    case op_kind::fsync:
      done(op, result < 0 ? result : 0);
      return;
    case op_kind::write:
      op->write_result = result;
      break;
    case op_kind::write_fdatasync:
      (user_data & sync_part_bit ? op->sync_result : op->write_result) = result;
      if (--op->pending_cqes > 0) return;
      break;
  }
  // A write (alone or linked): finish it, or write the rest.
  if (op->write_result < 0) return done(op, op->write_result);
  if (op->write_result == 0 && op->remaining() > 0) return done(op, -EIO);  // no progress: never spin
  op->advance(static_cast<std::size_t>(op->write_result));
  if (op->remaining() > 0) {  // short write: the linked sync was cancelled; send both again
    retries_.fetch_add(1, std::memory_order_relaxed);
    queue(op);
    return;
  }
  if (op->kind == op_kind::write_fdatasync && op->sync_result < 0) return done(op, op->sync_result);
  done(op, static_cast<long>(op->done_bytes));
}

void uring_engine::run() {
  arm_wake_read();
  std::vector<io_op*> batch;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      batch.swap(pending_);
    }
    backlog_.insert(backlog_.end(), batch.begin(), batch.end());
    batch.clear();
    // Queue what the CQ can take (2 CQEs per op at most; a retry's CQEs
    // replace its own, so it never needs more room).
    std::size_t taken = 0;
    while (taken < backlog_.size() && cqes_expected_ + 2 <= cq_capacity_) {
      ++in_flight_;
      queue(backlog_[taken++]);
    }
    backlog_.erase(backlog_.begin(), backlog_.begin() + static_cast<std::ptrdiff_t>(taken));
    if (stop_.load(std::memory_order_seq_cst) && in_flight_ == 0 && backlog_.empty()) {
      std::lock_guard lock(mu_);
      if (pending_.empty()) return;
      continue;
    }
    // Announce sleep, then look once more: a submitter that pushed before
    // our look is seen here; one that pushes after it sees sleeping_ (the
    // mutex orders the two) and writes the eventfd, which completes the
    // armed read and ends the wait.
    sleeping_.store(true, std::memory_order_seq_cst);
    bool more = false;
    {
      std::lock_guard lock(mu_);
      more = !pending_.empty();
    }
    if (more) {
      sleeping_.store(false, std::memory_order_seq_cst);
      submit_pending_sqes();
    } else {
      const int r = io_uring_submit_and_wait(&ring_, 1);
      sleeping_.store(false, std::memory_order_seq_cst);
      if (r > 0) submissions_.fetch_add(1, std::memory_order_relaxed);
      // r < 0 (EINTR, or EAGAIN/EBUSY): reap whatever is there and go round again.
    }
    reap();
  }
}

}  // namespace strata::io
