#include "util/polling_thread.hpp"

#include <sched.h>

namespace strata::util {

polling_thread::polling_thread(std::chrono::microseconds spin)
    : spin_(spin), keep_running_(context_.get_executor()), thread_([this] { run(); }) {}

polling_thread::~polling_thread() { join(); }

void polling_thread::join() {
  keep_running_.reset();
  if (thread_.joinable()) thread_.join();
}

void polling_thread::run() {
  using clock = std::chrono::steady_clock;
  for (;;) {
    if (context_.poll() > 0) continue;
    // Poll for a while before sleeping. sched_yield between polls: a thread
    // that can run on this CPU (a caller's, a flush) runs instead, so the
    // polling only takes time nobody else wants.
    bool ran = false;
    const auto until = clock::now() + spin_;
    while (!ran && clock::now() < until) {
      sched_yield();
      ran = context_.poll() > 0;
    }
    // Sleeps until a handler arrives; 0 once no work is left (join).
    if (!ran && context_.run_one() == 0) return;
  }
}

}  // namespace strata::util
