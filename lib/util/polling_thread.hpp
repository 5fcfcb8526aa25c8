// util/polling_thread.hpp — one thread running its own executor, which
// polls for new work for a short while before it sleeps.
//
// For work that arrives in quick succession from other threads, like the
// WAL's group commits: on this VM, waking a sleeping thread costs tens of
// microseconds (a futex wake and an inter-processor interrupt to a halted
// vCPU), more than the work itself. A thread that is still polling picks
// a post up without being woken. `spin` bounds the polling after the last
// handler ran (0: sleep at once, like an asio thread_pool of one thread).
//
// Thread safety: get_executor() and posting to it from any thread.
// join() waits until no work is left (posted handlers, coroutines spawned
// on it, outstanding work guards) and then stops the thread; the
// destructor joins. Handlers run on the one thread, in order.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <thread>

namespace strata::util {

class polling_thread {
 public:
  explicit polling_thread(std::chrono::microseconds spin);
  ~polling_thread();
  polling_thread(const polling_thread&) = delete;
  polling_thread& operator=(const polling_thread&) = delete;

  boost::asio::any_io_executor get_executor() { return context_.get_executor(); }
  void join();

 private:
  void run();

  const std::chrono::microseconds spin_;
  boost::asio::io_context context_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> keep_running_;
  std::thread thread_;
};

}  // namespace strata::util
