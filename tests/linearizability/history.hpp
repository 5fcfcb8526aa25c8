// tests/linearizability/history.hpp — a recorded concurrent history of
// single-key register operations (put, erase, get) and the recorder that
// timestamps them.
//
// The contract the checker relies on: each operation's invoke timestamp is
// taken immediately before the call starts and its response timestamp
// immediately after it completes, both from one process-wide atomic counter
// (fetch_add, sequentially consistent). So "a.response < b.invoke" means a
// really completed before b started, in a real-time order every thread
// agrees on. Wider intervals than the truth only make the check more
// permissive, never wrong.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace strata::testing::linearizability {

enum class op_kind : std::uint8_t { put, erase, get };

// An operation that never completed (the caller died or gave up) has this
// response: it may or may not have taken effect.
inline constexpr std::uint64_t never_returned = std::numeric_limits<std::uint64_t>::max();

struct operation {
  std::string key;
  op_kind kind = op_kind::get;
  // put: the value written; get: the value returned (nullopt: absent);
  // erase: unused.
  std::optional<std::string> value;
  std::uint64_t invoke = 0;
  std::uint64_t response = 0;
};

// Thread-safe: any number of threads and coroutines stamp and record at once.
class history_recorder {
 public:
  std::uint64_t now() noexcept { return clock_.fetch_add(1, std::memory_order_seq_cst); }

  void record(operation op) {
    std::lock_guard lock(mutex_);
    history_.push_back(std::move(op));
  }

  // The operations recorded so far (in recording order, which the checker
  // does not rely on).
  std::vector<operation> history() const {
    std::lock_guard lock(mutex_);
    return history_;
  }

 private:
  std::atomic<std::uint64_t> clock_{1};
  mutable std::mutex mutex_;
  std::vector<operation> history_;
};

}  // namespace strata::testing::linearizability
