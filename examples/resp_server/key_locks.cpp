#include "key_locks.hpp"

#include <algorithm>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <utility>

namespace asio = boost::asio;

namespace strata::resp {

namespace {

void resume(const asio::any_io_executor& executor, asio::any_completion_handler<void()> handler) {
  // Posted, never called here: the caller of unlock() may hold other
  // stripes, and the waiter's coroutine belongs to its own executor.
  asio::post(executor, std::move(handler));
}

}  // namespace

key_locks::key_locks(std::size_t stripes)
    : stripes_(new stripe[stripes == 0 ? 1 : stripes]), count_(stripes == 0 ? 1 : stripes) {}

std::size_t key_locks::stripe_of(std::string_view key) const noexcept {
  return std::hash<std::string_view>{}(key) % count_;
}

bool key_locks::compatible(const stripe& s, lock_mode mode) noexcept {
  return mode == lock_mode::shared ? !s.exclusive_holder : !s.exclusive_holder && s.shared_holders == 0;
}

bool key_locks::try_lock(stripe& s, lock_mode mode) {
  // Only when nobody queues: FIFO, so an exclusive waiter is not overtaken.
  if (!s.waiters.empty() || !compatible(s, mode)) return false;
  if (mode == lock_mode::shared) {
    ++s.shared_holders;
  } else {
    s.exclusive_holder = true;
  }
  return true;
}

asio::awaitable<void> key_locks::lock(std::size_t index, lock_mode mode) {
  stripe& s = stripes_[index];
  {
    std::lock_guard guard(s.mu);
    if (try_lock(s, mode)) co_return;
  }
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [this, &s, mode](auto handler) {
        asio::any_io_executor executor = asio::get_associated_executor(handler);
        std::unique_lock guard(s.mu);
        if (try_lock(s, mode)) {  // released since the first look
          guard.unlock();
          resume(executor, std::move(handler));
          return;
        }
        s.waiters.push_back({mode, std::move(executor), std::move(handler)});
      },
      asio::use_awaitable);
}

void key_locks::unlock(std::size_t index, lock_mode mode) {
  stripe& s = stripes_[index];
  std::vector<waiter> granted;
  {
    std::lock_guard guard(s.mu);
    if (mode == lock_mode::shared) {
      --s.shared_holders;
    } else {
      s.exclusive_holder = false;
    }
    // Grant from the front while compatible: a run of shared waiters
    // together, or one exclusive waiter.
    while (!s.waiters.empty() && compatible(s, s.waiters.front().mode)) {
      waiter w = std::move(s.waiters.front());
      s.waiters.pop_front();
      if (w.mode == lock_mode::shared) {
        ++s.shared_holders;
      } else {
        s.exclusive_holder = true;
      }
      granted.push_back(std::move(w));
    }
  }
  for (auto& w : granted) resume(w.executor, std::move(w.resume));
}

asio::awaitable<void> lock_set::acquire(lock_mode mode) {
  std::sort(stripes_.begin(), stripes_.end());
  stripes_.erase(std::unique(stripes_.begin(), stripes_.end()), stripes_.end());
  mode_ = mode;
  while (held_ < stripes_.size()) {
    co_await locks_->lock(stripes_[held_], mode);
    ++held_;
  }
}

void lock_set::release() {
  while (held_ > 0) {
    --held_;
    locks_->unlock(stripes_[held_], mode_);
  }
}

}  // namespace strata::resp
