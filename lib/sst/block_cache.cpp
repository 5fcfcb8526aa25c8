// sst/block_cache.cpp — sharded CLOCK block cache: shards, slot table,
// eviction sweep, counters.
//
// Each shard is a mutex and an open-addressing hash table of slots (linear
// probing, power-of-two size, at most half full) that hold the key, the
// block pointer, its size and the CLOCK mark inline, so a lookup usually
// costs one cache line of the table plus the block's own first line. The
// CLOCK hand is an index into the same table. Everything a shard holds,
// counters included, is guarded by its mutex; blocks carry their own atomic
// reference counts (see block_cache::block).
#include "sst/block_cache.hpp"

#include <bit>
#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>
#include <vector>

#include "util/huge_page_slab.hpp"
#include "util/huge_pages.hpp"

namespace strata::sst {

namespace {

struct slot {
  std::uint64_t table_id = 0;
  std::uint64_t block_offset = 0;
  const block_cache::block* block = nullptr;  // null: the slot is empty
  // size << 1 | referenced: the size, for the charge, so that eviction
  // need not touch the block.
  std::uint64_t size_and_mark = 0;

  bool empty() const noexcept { return block == nullptr; }
  bool referenced() const noexcept { return (size_and_mark & 1) != 0; }
  std::size_t size() const noexcept { return static_cast<std::size_t>(size_and_mark >> 1); }
  void mark() noexcept { size_and_mark |= 1; }
  void unmark() noexcept { size_and_mark &= ~std::uint64_t{1}; }
  block_cache::key key() const noexcept { return {table_id, block_offset}; }
};
static_assert(sizeof(slot) == 32);  // two per cache line; entry_overhead counts on it
using slot_table = std::vector<slot, util::huge_page_allocator<slot>>;

std::size_t charge_of(std::size_t size) { return size + block_cache::entry_overhead; }

}  // namespace

namespace {
// An allocation of `bytes` for one block: from the slab when asked and it
// fits there, else from operator new; freed by free_block_memory.
char* allocate_block_memory(std::size_t bytes, bool on_huge_pages, bool& from_slab) {
  from_slab = on_huge_pages && bytes <= util::slab_max_object;
  return static_cast<char*>(from_slab ? util::slab_allocate(bytes) : ::operator new(bytes));
}

void free_block_memory(void* memory, std::size_t bytes, bool from_slab) noexcept {
  if (from_slab) {
    util::slab_free(memory, bytes);
  } else {
    ::operator delete(memory);
  }
}
}  // namespace

block_cache::block* block_cache::block::make_at(char* memory, std::size_t size, bool from_slab) noexcept {
  return new (memory + padded(size)) block(size, from_slab);
}

block_cache::block_memory::~block_memory() {
  if (memory_ != nullptr) free_block_memory(memory_, block::allocation_size(size_), from_slab_);
}

block_cache::block_memory block_cache::memory_for(std::size_t size, bool on_huge_pages) {
  bool from_slab = false;
  char* memory = allocate_block_memory(block::allocation_size(size), on_huge_pages, from_slab);
  return {memory, size, from_slab};
}

block_cache::block_memory block_cache::allocate(std::size_t size) const { return memory_for(size, on_huge_pages_); }

block_cache::block_memory block_cache::allocate_uncached(std::size_t size) { return memory_for(size, false); }

void block_cache::block::release() const noexcept {
  // acq_rel: see refs_. The holder that drops the last reference frees.
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    void* memory = const_cast<char*>(data());
    const std::size_t bytes = allocation_size(size_);
    const bool from_slab = from_slab_ != 0;
    this->~block();
    free_block_memory(memory, bytes, from_slab);
  }
}

// 64-byte aligned so that two shards' mutexes and counters never share a
// cache line: threads working on different shards do not contend at all.
struct alignas(64) block_cache::shard {
  mutable std::mutex mu;
  // Size 0 or a power of two. A lookup's first miss is its slot: a large
  // cache's tables (1 MiB and up) go on huge pages, sparing it a page walk.
  slot_table slots;
  // slots.data() and mask() for prefetch(), which reads them without the
  // mutex. Relaxed on both sides: prefetch() only computes an address to
  // hint at, and a stale or mismatched pair gives a useless address, which
  // a prefetch instruction ignores (it never faults); nothing is read
  // through it. Stored under the mutex whenever slots changes.
  std::atomic<const slot*> hint_base{nullptr};
  std::atomic<std::size_t> hint_mask{0};

  void publish_hint() noexcept {
    hint_base.store(slots.data(), std::memory_order_relaxed);
    hint_mask.store(slots.empty() ? 0 : mask(), std::memory_order_relaxed);
  }
  std::size_t used = 0;  // non-empty slots
  std::size_t hand = 0;  // the CLOCK hand: the next slot the sweep looks at
  std::size_t bytes = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t inserts = 0;
  std::uint64_t evictions = 0;

  std::size_t mask() const noexcept { return slots.size() - 1; }
  std::size_t home_of(const key& k) const noexcept { return static_cast<std::size_t>(k.hash()) & mask(); }

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // The slot holding k, or npos. Caller holds mu (so do all below).
  std::size_t find(const key& k) const noexcept {
    if (slots.empty()) return npos;
    for (std::size_t i = home_of(k);; i = (i + 1) & mask()) {
      const slot& s = slots[i];
      if (s.empty()) return npos;
      if (s.table_id == k.table_id && s.block_offset == k.block_offset) return i;
    }
  }

  // Where k goes (the table has room: at most half full).
  std::size_t free_slot_for(const key& k) const noexcept {
    std::size_t i = home_of(k);
    while (!slots[i].empty()) i = (i + 1) & mask();
    return i;
  }

  // Doubles the table (at least 16 slots); CLOCK marks are kept.
  void grow() {
    slot_table old(std::max<std::size_t>(16, 2 * slots.size()));
    old.swap(slots);
    for (const slot& s : old) {
      if (!s.empty()) slots[free_slot_for(s.key())] = s;
    }
    hand &= mask();
    publish_hint();
  }

  // Empties slot i and closes the gap (backward-shift deletion: linear
  // probing needs no tombstones). The caller owns the removed reference.
  // An entry may move into slot i, so a sweep at i looks at i again.
  void remove_at(std::size_t i) noexcept {
    slots[i] = slot{};
    --used;
    for (std::size_t j = (i + 1) & mask(); !slots[j].empty(); j = (j + 1) & mask()) {
      const std::size_t home = home_of(slots[j].key());
      // Slot j may stay only if its home lies cyclically in (i, j].
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!stays) {
        slots[i] = slots[j];
        slots[j] = slot{};
        i = j;
      }
    }
  }

  // Sweeps until the shard is within `capacity`, never evicting `keep`.
  // Victims are released under the lock (one free each): deferring them
  // would cost an allocation per insert for a list of them.
  void evict_until_within(std::size_t capacity, const block* keep) noexcept {
    // Terminates: each step clears a mark, evicts, or passes an empty slot
    // or `keep`; no mark is set meanwhile, so after one full turn every
    // entry but `keep` is unmarked, and while bytes > capacity such an entry
    // exists (keep's own charge is at most capacity).
    while (bytes > capacity) {
      slot& s = slots[hand];
      if (s.empty() || s.block == keep) {
        hand = (hand + 1) & mask();
      } else if (s.referenced()) {
        s.unmark();
        hand = (hand + 1) & mask();
      } else {
        ++evictions;
        bytes -= charge_of(s.size());
        const block* victim = s.block;
        remove_at(hand);
        victim->release();
      }
    }
  }

  stats snapshot() const {  // caller holds mu
    return {hits, misses, inserts, evictions, used, bytes};
  }
};

block_cache::block_cache(std::size_t capacity_bytes, unsigned shards, memory where)
    : capacity_(capacity_bytes),
      shard_capacity_(shards == 0 ? 0 : capacity_bytes / shards),
      shard_mask_(shards - 1),
      on_huge_pages_(where == memory::huge_pages || (where == memory::automatic && capacity_bytes >= huge_pages_from)) {
  if (shards == 0 || shards > max_shards || !std::has_single_bit(shards)) {
    throw std::invalid_argument("block_cache: shard count must be a power of two in [1, 65536]");
  }
  shards_ = std::make_unique<shard[]>(shards);
}

block_cache::~block_cache() {
  for (unsigned i = 0; i < shard_count(); ++i) {
    for (const slot& s : shards_[i].slots) {
      if (!s.empty()) s.block->release();
    }
  }
}

block_cache::block_ptr block_cache::lookup(const key& k) {
  shard& s = shards_[shard_of(k)];
  std::lock_guard lock(s.mu);
  const std::size_t i = s.find(k);
  if (i == shard::npos) {
    ++s.misses;
    return nullptr;
  }
  ++s.hits;
  slot& hit = s.slots[i];
  hit.mark();
  hit.block->refs_.fetch_add(1, std::memory_order_relaxed);  // the cache's reference keeps it alive
  return block_ptr(hit.block);
}

block_cache::block_memory block_cache::copy_into(block_memory memory, std::string_view contents) noexcept {
  if (!contents.empty()) std::memcpy(memory.data(), contents.data(), contents.size());
  return memory;
}

block_cache::block_ptr block_cache::make_block(block_memory memory) noexcept {
  return block_ptr(block::make_at(std::exchange(memory.memory_, nullptr), memory.size_, memory.from_slab_));
}

block_cache::block_ptr block_cache::insert(const key& k, std::string_view contents) {
  // Allocate and copy before locking: the shard's critical section stays short.
  return insert(k, copy_into(allocate(contents.size()), contents));
}

block_cache::block_ptr block_cache::insert(const key& k, block_memory memory) {
  block_ptr fresh = make_block(std::move(memory));
  const std::size_t size = fresh->size();
  const std::size_t charge = charge_of(size);
  shard& s = shards_[shard_of(k)];

  // Declared before the lock, so released after it: a block this insert
  // replaces is freed outside the critical section.
  block_ptr replaced;
  std::lock_guard lock(s.mu);

  std::size_t i = s.find(k);
  if (charge > shard_capacity_) {
    // Not retained; the stale block under k must not outlive the insert,
    // or a later lookup would return contents the caller has replaced.
    ++s.inserts;
    ++s.evictions;
    if (i != shard::npos) {
      s.bytes -= charge_of(s.slots[i].size());
      replaced = block_ptr(s.slots[i].block);  // adopts the cache's reference
      s.remove_at(i);
    }
    return fresh;
  }

  if (i == shard::npos) {
    if (2 * (s.used + 1) > s.slots.size()) s.grow();  // may throw: nothing changed yet
    i = s.free_slot_for(k);
    ++s.used;
  } else {
    s.bytes -= charge_of(s.slots[i].size());
    replaced = block_ptr(s.slots[i].block);
  }
  ++s.inserts;                                           // only now: an insert that threw above is not counted
  fresh->refs_.fetch_add(1, std::memory_order_relaxed);  // the cache's; `fresh` holds one
  s.slots[i] = slot{k.table_id, k.block_offset, fresh.get(), (std::uint64_t{size} << 1) | 1};
  s.bytes += charge;
  s.evict_until_within(shard_capacity_, fresh.get());
  return fresh;
}

void block_cache::prefetch_slot(const key& k) const noexcept {
  const shard& s = shards_[shard_of(k)];
  const slot* base = s.hint_base.load(std::memory_order_relaxed);  // relaxed: see hint_base
  if (base == nullptr) return;
  __builtin_prefetch(base + (static_cast<std::size_t>(k.hash()) & s.hint_mask.load(std::memory_order_relaxed)));
}

void block_cache::prefetch_block(const key& k) const noexcept {
  const shard& s = shards_[shard_of(k)];
  std::unique_lock lock(s.mu, std::try_to_lock);  // a hint is not worth waiting for
  if (!lock.owns_lock()) return;
  const std::size_t i = s.find(k);
  if (i == shard::npos) return;
  const slot& found = s.slots[i];
  // Addresses from the slot alone: reading the block to find its start
  // would wait for the very line being prefetched.
  const char* count = reinterpret_cast<const char*>(found.block);
  __builtin_prefetch(count);  // the count, next to the last bytes
  __builtin_prefetch(count - (found.size() + 7) / 8 * 8);
}

block_cache::block_ptr block_cache::make_uncached(std::string_view contents) {
  return make_block(copy_into(allocate_uncached(contents.size()), contents));
}

block_cache::block_ptr block_cache::make_uncached(block_memory memory) { return make_block(std::move(memory)); }

void block_cache::erase(const key& k) {
  shard& s = shards_[shard_of(k)];
  block_ptr dropped;  // released after unlocking (see insert)
  std::lock_guard lock(s.mu);
  if (const std::size_t i = s.find(k); i != shard::npos) {
    s.bytes -= charge_of(s.slots[i].size());
    dropped = block_ptr(s.slots[i].block);
    s.remove_at(i);
  }
}

void block_cache::clear() {
  for (unsigned i = 0; i < shard_count(); ++i) {
    shard& s = shards_[i];
    slot_table dropped;
    {
      std::lock_guard lock(s.mu);
      dropped.swap(s.slots);
      s.publish_hint();
      s.used = 0;
      s.hand = 0;
      s.bytes = 0;
    }
    for (const slot& d : dropped) {  // released after unlocking (see insert)
      if (!d.empty()) d.block->release();
    }
  }
}

std::uint64_t block_cache::new_table_id() noexcept {
  // relaxed: only distinctness matters, and every RMW on one atomic reads the
  // latest value in its modification order; no other data is published by it.
  return next_table_id_.fetch_add(1, std::memory_order_relaxed);
}

block_cache::stats block_cache::get_stats() const {
  // All shard mutexes at once, in index order (nothing else holds two, so no
  // deadlock): the sum is a consistent cut, not a blend of moments.
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(shard_count());
  for (unsigned i = 0; i < shard_count(); ++i) locks.emplace_back(shards_[i].mu);
  stats total;
  for (unsigned i = 0; i < shard_count(); ++i) {
    const stats s = shards_[i].snapshot();
    total.hits += s.hits;
    total.misses += s.misses;
    total.inserts += s.inserts;
    total.evictions += s.evictions;
    total.entries += s.entries;
    total.bytes += s.bytes;
  }
  return total;
}

block_cache::stats block_cache::get_shard_stats(unsigned shard) const {
  if (shard >= shard_count()) throw std::out_of_range("block_cache: no such shard");
  std::lock_guard lock(shards_[shard].mu);
  return shards_[shard].snapshot();
}

}  // namespace strata::sst
