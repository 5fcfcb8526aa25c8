// memtable/memtable_core.hpp — the state behind strata::memtable.
//
// Owns the arena, the skip list, the sequence publisher, the per-shard
// in-flight and statistics counters, the seal flag and the min/max key
// pointers. memtable.cpp implements the public API on top of it.
//
// Seal protocol (why a write can never land in a sealed table unnoticed):
// a writer increments its shard's in_flight, then reads `closed`; seal()
// sets `closed`, then waits for every shard's in_flight to reach zero. All
// four accesses are seq_cst, so either the writer sees `closed` (and backs
// out with errc::sealed) or seal() sees the writer in flight (and waits for
// it to finish). The counter lives on the writer's own shard line, so the
// common path costs an uncontended RMW, not a global one.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "memtable/arena.hpp"
#include "memtable/publication.hpp"
#include "memtable/skiplist.hpp"
#include "strata/memtable.hpp"

namespace strata::detail {

// Per-shard counters, one cache line each. Relaxed RMWs throughout: they
// are statistics, summed by readers, and publish no other data; a shard may
// be shared by several threads, hence RMWs rather than plain stores.
struct alignas(64) shard_counters {
  std::atomic<std::uint64_t> in_flight{0};  // seq_cst: part of the seal protocol
  std::atomic<std::uint64_t> entries{0};
  std::atomic<std::uint64_t> deletions{0};
  std::atomic<std::uint64_t> key_bytes{0};
  std::atomic<std::uint64_t> value_bytes{0};
  std::atomic<std::uint64_t> memory_used{0};
  std::atomic<std::uint64_t> attempts{0};
};

class memtable_core {
 public:
  explicit memtable_core(const memtable::options& opts);

  memtable::options options;
  arena memory;
  std::unique_ptr<shard_counters[]> shards;
  std::unique_ptr<char[]> head_memory;
  skiplist list;
  sequence_publisher sequences;

  // seq_cst: see the seal protocol above.
  std::atomic<bool> closed{false};
  // seal() ran (as opposed to an auto-seal that only closed the table).
  std::atomic<bool> sealed_by_call{false};

  // Only maintained when a limit is configured (one shared line per write
  // otherwise costs scalability for nothing). Relaxed: the RMW result alone
  // decides admission; no data is published through them.
  std::atomic<std::uint64_t> limit_entries{0};
  std::atomic<std::uint64_t> limit_bytes{0};
  bool tracks_limits() const noexcept {
    return options.max_entries != 0 || options.max_memory_bytes != 0 || options.hard_memory_limit != 0;
  }

  // Nodes holding the smallest / largest user key. Updated with CAS before
  // the node is linked, so any reader that can see the node (through
  // publication, which happens after the link) also sees the range include it.
  std::atomic<const memtable_node*> min_node{nullptr};
  std::atomic<const memtable_node*> max_node{nullptr};

  unsigned shard_of_this_thread() const noexcept;
  void widen_key_range(const memtable_node* n) noexcept;
  bool outside_key_range(std::string_view key) const noexcept;

  template <typename F>
  std::uint64_t sum(F field) const noexcept {
    std::uint64_t total = 0;
    for (unsigned i = 0; i < memory.shard_count(); ++i) total += field(shards[i]).load(std::memory_order_relaxed);
    return total;
  }
};

}  // namespace strata::detail
