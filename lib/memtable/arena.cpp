#include "memtable/arena.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>

#include "util/huge_pages.hpp"

namespace strata::detail {

struct arena::block {
  block* previous;  // the block this one replaced (or the next dedicated one)
  std::size_t capacity;
  bool huge;  // from util::allocate_maybe_huge (else malloc)
  // Fill mark. Relaxed fetch_add is enough: the RMW alone makes every
  // returned range disjoint, and the block's header was published to this
  // thread by the acquire load of shard::current (or we created it).
  std::atomic<std::size_t> used;

  char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
};

namespace {
std::size_t block_size_for(std::size_t requested, bool huge) {
  requested = std::max(requested, arena::min_block_bytes);
  if (huge && requested >= arena::huge_page_bytes) {
    return (requested + arena::huge_page_bytes - 1) / arena::huge_page_bytes * arena::huge_page_bytes;
  }
  return arena::round_up(requested);
}
}  // namespace

arena::arena(std::size_t block_bytes, unsigned shards, bool huge_pages)
    : huge_pages_(huge_pages && block_bytes >= huge_page_bytes),
      block_bytes_(block_size_for(block_bytes, huge_pages)),
      shard_count_(std::max(shards, 1u)),
      shards_(std::make_unique<shard[]>(shard_count_)) {}

arena::~arena() {
  auto free_chain = [](block* b) {
    while (b != nullptr) {
      block* previous = b->previous;
      free_block(b);
      b = previous;
    }
  };
  for (unsigned i = 0; i < shard_count_; ++i) free_chain(shards_[i].current.load(std::memory_order_relaxed));
  free_chain(dedicated_.load(std::memory_order_relaxed));
}

void arena::free_block(block* b) noexcept {
  const std::size_t total = sizeof(block) + b->capacity;
  const bool huge = b->huge;
  b->~block();
  if (huge) {
    util::deallocate_maybe_huge(b, total);
  } else {
    std::free(b);
  }
}

// `capacity` is the usable size; the block's allocation is capacity + header.
arena::block* arena::new_block(std::size_t capacity, block* previous, bool huge) {
  static_assert(sizeof(block) % alignment == 0, "block header keeps data aligned");
  const std::size_t total = sizeof(block) + capacity;
  // A huge block (a multiple of 2 MiB) is its own 2 MiB-aligned mapping
  // advised as huge pages (util/huge_pages; where THP is off it simply uses
  // normal pages). It throws bad_alloc itself.
  void* raw = huge ? util::allocate_maybe_huge(total) : std::malloc(total);
  if (raw == nullptr) throw std::bad_alloc();
  return new (raw) block{previous, capacity, huge, {0}};
}

char* arena::allocate_dedicated(std::size_t bytes) {
  block* b = new_block(bytes, nullptr, false);
  b->used.store(bytes, std::memory_order_relaxed);
  reserved_.fetch_add(sizeof(block) + bytes, std::memory_order_relaxed);
  // Push-only stack: release publishes b->previous to the destructor's
  // traversal; there is no pop, so no ABA.
  block* head = dedicated_.load(std::memory_order_relaxed);
  do {
    b->previous = head;
  } while (!dedicated_.compare_exchange_weak(head, b, std::memory_order_release, std::memory_order_relaxed));
  return b->data();
}

char* arena::allocate(std::size_t bytes, unsigned shard_index) {
  bytes = round_up(std::max<std::size_t>(bytes, 1));
  if (bytes > block_bytes_ / 4) return allocate_dedicated(bytes);

  shard& s = shards_[shard_index % shard_count_];
  // Acquire: pairs with the release CAS that installed the block, so its
  // header (capacity, previous) is visible before we use it.
  block* b = s.current.load(std::memory_order_acquire);
  for (;;) {
    if (b != nullptr) {
      const std::size_t offset = b->used.fetch_add(bytes, std::memory_order_relaxed);
      if (offset + bytes <= b->capacity) return b->data() + offset;
      // Exhausted (the overshoot is harmless: nobody allocates from b again).
      // If another thread already replaced it, use its block instead of
      // allocating one only to throw it away.
      block* now = s.current.load(std::memory_order_acquire);
      if (now != b) {
        b = now;
        continue;
      }
    }
    block* fresh = new_block(block_bytes_ - sizeof(block), b, huge_pages_);
    fresh->used.store(bytes, std::memory_order_relaxed);
    // Release: publishes fresh's header to threads that acquire-load current.
    // Failure acquire: we go on to use the block another thread installed.
    if (s.current.compare_exchange_strong(b, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) {
      reserved_.fetch_add(block_bytes_, std::memory_order_relaxed);
      return fresh->data();
    }
    // Lost the race: fresh was never visible to anyone; b is now the winner's block.
    free_block(fresh);
  }
}

}  // namespace strata::detail
