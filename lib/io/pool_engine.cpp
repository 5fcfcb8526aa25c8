#include "io/pool_engine.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace strata::io {

pool_engine::pool_engine(const engine_options& options) {
  const unsigned n = std::max(1u, options.fallback_threads);
  for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
}

pool_engine::~pool_engine() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void pool_engine::submit(io_op* op) {
  operations_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    queue_.push_back(op);
  }
  ready_.notify_one();
}

void pool_engine::work() {
  for (;;) {
    io_op* op = nullptr;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      op = queue_.front();
      queue_.pop_front();
    }
    submissions_.fetch_add(1, std::memory_order_relaxed);
    finish(op, execute_blocking(*op));
  }
}

}  // namespace strata::io
