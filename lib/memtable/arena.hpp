// memtable/arena.hpp — a sharded, lock-free bump allocator.
//
// Each shard hands out memory from its current block by an atomic fetch_add
// on the block's fill mark; callers pick the shard of their CPU, so that add
// is normally uncontended, but shards may be shared by any number of threads
// (the add makes ranges disjoint). An exhausted block is replaced by CAS; a loser of
// that race frees its unpublished block and retries. Allocations larger than
// a quarter block get a dedicated block so a big value does not waste the
// rest of a shared one.
//
// Blocks of 2 MiB or more can be backed by transparent huge pages
// (util/huge_pages: a 2 MiB-aligned mapping advised MADV_HUGEPAGE): a memtable is a large
// pointer-chased structure, and with 4 KiB pages nearly every node visit of a
// search also misses the TLB (worse under a VM's nested paging).
//
// Nothing is freed individually: the destructor frees every block at once.
// allocate() and the statistics are thread-safe; destruction is not (the
// owner destroys the arena when no thread uses it any more).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

namespace strata::detail {

class arena {
 public:
  static constexpr std::size_t alignment = 8;  // nodes hold atomic pointers
  static constexpr std::size_t min_block_bytes = 4096;
  static constexpr std::size_t huge_page_bytes = 2u << 20;

  // block_bytes is each block's whole allocation, header included. With
  // huge_pages and block_bytes >= 2 MiB, blocks are rounded up to a multiple
  // of 2 MiB, aligned to it and advised as huge pages.
  arena(std::size_t block_bytes, unsigned shards, bool huge_pages);
  ~arena();
  arena(const arena&) = delete;
  arena& operator=(const arena&) = delete;

  // Returns `bytes` (rounded up to alignment) of uninitialised memory,
  // 8-byte aligned, owned by the arena. Throws std::bad_alloc if the system
  // allocator fails.
  char* allocate(std::size_t bytes, unsigned shard);

  // Bytes of all blocks currently held (dedicated blocks included).
  std::size_t reserved() const noexcept { return reserved_.load(std::memory_order_relaxed); }
  unsigned shard_count() const noexcept { return shard_count_; }
  std::size_t block_bytes() const noexcept { return block_bytes_; }

  static std::size_t round_up(std::size_t bytes) noexcept { return (bytes + alignment - 1) & ~(alignment - 1); }

 private:
  struct block;
  struct alignas(64) shard {  // one cache line per shard: no false sharing
    std::atomic<block*> current{nullptr};
  };

  block* new_block(std::size_t capacity, block* previous, bool huge);
  static void free_block(block* b) noexcept;
  char* allocate_dedicated(std::size_t bytes);

  const bool huge_pages_;
  const std::size_t block_bytes_;
  const unsigned shard_count_;
  std::unique_ptr<shard[]> shards_;
  std::atomic<block*> dedicated_{nullptr};  // Treiber stack, push-only until destruction
  // Relaxed: a statistic, read on its own; no other data is published through it.
  std::atomic<std::size_t> reserved_{0};
};

}  // namespace strata::detail
