// memtable/publication.hpp — hands out sequence numbers and publishes them
// in order.
//
// Writers reserve a range of sequence numbers, do their insert, then report
// the range complete. published() is the largest S such that every range
// ending at or below S has completed, so a snapshot taken at published()
// never starts seeing a later entry (fastskip's snapshots did not have this
// property: they counted reservations, not completions).
//
// Completion is lock-free: a finished range is recorded in a ring slot keyed
// by its first sequence; any thread that finds the range right after
// `published` complete advances `published` over it with a CAS, so a slow
// writer delays visibility of later ranges but never blocks anyone's
// progress. A writer waits only if it is more than `ring_size` ranges ahead
// of the oldest incomplete one (thousands of writes in flight at once).
//
// Thread safety: all members are safe to call concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "strata/memtable.hpp"

namespace strata::detail {

class sequence_publisher {
 public:
  static constexpr std::uint64_t ring_size = 1024;

  explicit sequence_publisher(sequence_number first)
      : next_(first), published_(first - 1), ring_(std::make_unique<slot[]>(ring_size)) {
    for (std::uint64_t i = 0; i < ring_size; ++i) ring_[i].first.store(0, std::memory_order_relaxed);
  }

  // Reserves `count` consecutive sequence numbers; returns the first.
  // Relaxed: the RMW alone makes ranges unique; ordering with the entries
  // written under them is established by complete()/published().
  sequence_number reserve(std::uint64_t count) noexcept { return next_.fetch_add(count, std::memory_order_relaxed); }

  // Marks [first, first+count) complete (inserted or abandoned).
  void complete(sequence_number first, std::uint64_t count) noexcept {
    // The slot is free once its previous occupant (first - ring_size) was published.
    while (published_.load(std::memory_order_acquire) + ring_size < first) std::this_thread::yield();
    slot& s = ring_[first % ring_size];
    // Relaxed: published by the seq_cst store of s.first right after it.
    s.count.store(count, std::memory_order_relaxed);
    // seq_cst here and on published_ below: this is a store-then-load
    // handshake with a concurrent advancer (it CASes published_ then loads
    // the slot; we store the slot then load published_). Sequential
    // consistency guarantees at least one of us sees the other's write, so
    // the range is never left complete but unpublished.
    s.first.store(first, std::memory_order_seq_cst);
    advance();
  }

  sequence_number published() const noexcept { return published_.load(std::memory_order_seq_cst); }
  sequence_number next() const noexcept { return next_.load(std::memory_order_relaxed); }

  // Store mode: raise the published point directly (monotonic).
  void publish(sequence_number seq) noexcept {
    sequence_number p = published_.load(std::memory_order_relaxed);
    while (p < seq && !published_.compare_exchange_weak(p, seq, std::memory_order_seq_cst)) {
    }
  }

 private:
  struct alignas(64) slot {
    std::atomic<std::uint64_t> first;
    std::atomic<std::uint64_t> count;
  };

  void advance() noexcept {
    sequence_number p = published_.load(std::memory_order_seq_cst);
    for (;;) {
      const slot& s = ring_[(p + 1) % ring_size];
      if (s.first.load(std::memory_order_seq_cst) != p + 1) return;  // next range not complete yet
      // Relaxed: ordered after the seq_cst load of first, which saw the
      // store that followed this count's store.
      const std::uint64_t count = s.count.load(std::memory_order_relaxed);
      // On success p becomes p + count below; on failure p is reloaded and we
      // look again (someone else advanced; maybe over our range).
      if (published_.compare_exchange_strong(p, p + count, std::memory_order_seq_cst)) p += count;
    }
  }

  alignas(64) std::atomic<sequence_number> next_;
  alignas(64) std::atomic<sequence_number> published_;
  std::unique_ptr<slot[]> ring_;
};

// Completes a reserved range when it goes out of scope, on every path.
class range_completion {
 public:
  range_completion(sequence_publisher& p, sequence_number first, std::uint64_t count) noexcept
      : publisher_(p), first_(first), count_(count) {}
  ~range_completion() { publisher_.complete(first_, count_); }
  range_completion(const range_completion&) = delete;
  range_completion& operator=(const range_completion&) = delete;

 private:
  sequence_publisher& publisher_;
  sequence_number first_;
  std::uint64_t count_;
};

}  // namespace strata::detail
