#include "io/uring_engine.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace strata::io {
namespace {
constexpr std::uint64_t wake_tag = 1;       // user_data of the eventfd read (no op lives at address 1)
constexpr std::uint64_t sync_part_bit = 1;  // low bit set: the fdatasync half of a linked pair
}  // namespace

std::unique_ptr<uring_engine> uring_engine::create(const engine_options& options, int& error) {
  std::unique_ptr<uring_engine> engine(new uring_engine());
  const int r = io_uring_queue_init(options.queue_depth, &engine->ring_, 0);
  if (r < 0) {
    error = -r;
    return nullptr;
  }
  engine->event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (engine->event_fd_ < 0) {
    error = errno;
    io_uring_queue_exit(&engine->ring_);
    return nullptr;
  }
  engine->thread_ = std::thread([e = engine.get()] { e->run(); });
  return engine;
}

uring_engine::~uring_engine() {
  stop_.store(true, std::memory_order_seq_cst);
  wake();
  if (thread_.joinable()) thread_.join();
  io_uring_queue_exit(&ring_);
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

io_uring_sqe* uring_engine::next_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {  // SQ full: hand what we have to the kernel first
    if (io_uring_submit(&ring_) > 0) submissions_.fetch_add(1, std::memory_order_relaxed);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;  // non-null: the SQ was just emptied
}

void uring_engine::arm_wake_read() {
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_read(sqe, event_fd_, &wake_buffer_, sizeof wake_buffer_, 0);
  io_uring_sqe_set_data64(sqe, wake_tag);
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
      if (io_uring_sq_space_left(&ring_) < 2) {  // the pair must sit in one submission
        if (io_uring_submit(&ring_) > 0) submissions_.fetch_add(1, std::memory_order_relaxed);
      }
      io_uring_sqe* w = next_sqe();
      io_uring_prep_writev(w, op->fd, op->iov.data(), iov_count, op->offset + op->done_bytes);
      io_uring_sqe_set_data64(w, data);
      w->flags |= IOSQE_IO_LINK;  // the sync starts only after the write completed in full
      io_uring_sqe* s = next_sqe();
      io_uring_prep_fsync(s, op->fd, IORING_FSYNC_DATASYNC);
      io_uring_sqe_set_data64(s, data | sync_part_bit);
      op->pending_cqes = 2;
      break;
    }
  }
}

void uring_engine::done(io_op* op, long result) {
  --in_flight_;
  finish(op, result);
}

void uring_engine::on_cqe(std::uint64_t user_data, int result) {
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
    for (io_op* op : batch) {
      ++in_flight_;
      queue(op);
    }
    batch.clear();
    if (stop_.load(std::memory_order_seq_cst) && in_flight_ == 0) {
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
    int submitted = 0;
    if (more) {
      sleeping_.store(false, std::memory_order_seq_cst);
      submitted = io_uring_submit(&ring_);
    } else {
      submitted = io_uring_submit_and_wait(&ring_, 1);
      sleeping_.store(false, std::memory_order_seq_cst);
    }
    if (submitted > 0) submissions_.fetch_add(1, std::memory_order_relaxed);
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      on_cqe(io_uring_cqe_get_data64(cqe), cqe->res);
      ++seen;
    }
    io_uring_cq_advance(&ring_, seen);
  }
}

}  // namespace strata::io
