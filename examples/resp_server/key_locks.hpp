// resp_server/key_locks.hpp — awaitable shared/exclusive locks over key
// stripes, which make the server's read-modify-write commands atomic.
//
// Strata has no conditional write, so INCR, SET NX/XX and DEL (which
// counts the keys it removed) read, decide and write. Each such command
// holds its key's stripe exclusively from its read until its write is
// acknowledged; plain writes (SET, MSET) hold their stripes shared until
// acknowledged. So writes never wait for each other, but no write to a key
// lands between an RMW's read and its write: INCR from many clients never
// loses an increment, and a SET racing an INCR is ordered before or after
// it, never in the middle. Reads take no lock.
//
// A key maps to one of `stripes` stripes by hash; two keys sharing a
// stripe only make each other wait, never give a wrong answer. Waiting is
// awaitable (no thread blocks) and FIFO per stripe, so a stream of shared
// holders cannot starve an exclusive waiter. A holder of several stripes
// must take them in ascending order (lock_set does): then no cycle of
// waiters, and so no deadlock, is possible.
//
// Thread safety: every member may be called from any thread. A waiter is
// resumed through its own executor (the coroutine's), never inline.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace strata::resp {

enum class lock_mode { shared, exclusive };

class key_locks {
 public:
  explicit key_locks(std::size_t stripes = 4096);

  std::size_t stripe_of(std::string_view key) const noexcept;
  boost::asio::awaitable<void> lock(std::size_t stripe, lock_mode mode);
  void unlock(std::size_t stripe, lock_mode mode);

 private:
  struct waiter {
    lock_mode mode;
    boost::asio::any_io_executor executor;  // the waiting coroutine's
    boost::asio::any_completion_handler<void()> resume;
  };
  struct stripe {
    std::mutex mu;
    std::size_t shared_holders = 0;
    bool exclusive_holder = false;
    std::deque<waiter> waiters;
  };
  static bool compatible(const stripe& s, lock_mode mode) noexcept;
  bool try_lock(stripe& s, lock_mode mode);

  std::unique_ptr<stripe[]> stripes_;
  std::size_t count_;
};

// The stripes of a set of keys, taken in ascending order and released when
// the lock_set is destroyed (also on an exception).
class lock_set {
 public:
  explicit lock_set(key_locks& locks) : locks_(&locks) {}
  lock_set(const lock_set&) = delete;
  lock_set& operator=(const lock_set&) = delete;
  ~lock_set() { release(); }

  void add(std::string_view key) { stripes_.push_back(locks_->stripe_of(key)); }
  boost::asio::awaitable<void> acquire(lock_mode mode);
  void release();

 private:
  key_locks* locks_;
  std::vector<std::size_t> stripes_;
  lock_mode mode_ = lock_mode::shared;
  std::size_t held_ = 0;  // stripes_[0, held_) are locked
};

}  // namespace strata::resp
