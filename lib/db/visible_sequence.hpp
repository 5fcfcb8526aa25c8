// db/visible_sequence.hpp — hands out sequence numbers and tracks the
// newest one that readers may see.
//
// reserve() gives each write batch a range of sequence numbers, in commit
// order; complete() reports the batch inserted (or abandoned). visible() is
// the largest S such that every range ending at or below S has completed,
// so a read at visible() never sees half a batch, nor a batch before an
// earlier one.
//
// Thread safety: reserve() and complete() must be called with the db's
// mutex held (its commit and apply steps already take it, so this costs no
// extra lock); visible() may be called from any thread. Unlike the
// memtable's lock-free publisher this never waits, however many writes are
// in flight: a writer that spins on a pool thread while the write it waits
// for needs that pool could deadlock.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>

#include "strata/memtable.hpp"

namespace strata::db_internal {

class visible_sequence {
 public:
  explicit visible_sequence(sequence_number last) : next_(last + 1), visible_(last) {}

  sequence_number reserve(std::uint64_t count) noexcept {
    const sequence_number first = next_;
    next_ += count;
    return first;
  }

  void complete(sequence_number first, std::uint64_t count) {
    sequence_number v = visible_.load(std::memory_order_relaxed);  // only writer: we hold the db mutex
    if (first != v + 1) {
      done_.emplace(first, count);  // an earlier range is still landing
      return;
    }
    v += count;
    for (auto it = done_.begin(); it != done_.end() && it->first == v + 1; it = done_.erase(it)) v += it->second;
    // Release: a reader that loads this value (acquire) also sees every
    // memtable insert of the ranges it covers; each writer inserted before
    // calling complete(), and the db mutex ordered those calls before ours.
    visible_.store(v, std::memory_order_release);
  }

  sequence_number visible() const noexcept { return visible_.load(std::memory_order_acquire); }

 private:
  sequence_number next_;                           // guarded by the db mutex
  std::map<sequence_number, std::uint64_t> done_;  // completed ranges above visible_; guarded by the db mutex
  std::atomic<sequence_number> visible_;
};

}  // namespace strata::db_internal
