// io/pool_engine.hpp — the fallback engine: a few threads doing blocking
// pread/pwrite/fdatasync, for machines where io_uring is unavailable.
//
// Same contract as the io_uring engine: short writes are finished, a write
// followed by fdatasync runs as one queued operation, completions are
// reported through io_op::complete on a worker thread.
// Thread safety: submit() from any thread; the destructor drains the queue.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "io/io_engine.hpp"

namespace strata::io {

class pool_engine final : public io_engine {
 public:
  explicit pool_engine(const engine_options& options);
  ~pool_engine() override;

  void submit(io_op* op) override;
  const char* name() const noexcept override { return "threads"; }

 private:
  void work();

  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<io_op*> queue_;  // guarded by mu_
  bool stop_ = false;         // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace strata::io
