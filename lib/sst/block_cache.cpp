// sst/block_cache.cpp — sharded LRU block cache: shards, LRU list, counters.
//
// Each shard is a mutex, an std::unordered_map from key to entry and an
// intrusive circular doubly linked LRU list threaded through the map's
// entries (unordered_map never moves its elements, so the links stay valid
// across rehashing). Everything a shard holds, counters included, is guarded
// by its mutex; the only atomic is the table-id counter.
#include "sst/block_cache.hpp"

#include <bit>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>  // get_stats' locks

namespace strata::sst {

namespace {

struct lru_links {
  lru_links* prev = this;
  lru_links* next = this;
};

struct entry : lru_links {
  explicit entry(const block_cache::key& k) : key(k) {}
  entry(const entry&) = delete;  // the links point at it: it must never move
  entry& operator=(const entry&) = delete;

  block_cache::key key;  // to erase the map element when the entry is the LRU victim
  block_cache::block_ptr block;
  std::size_t charge = 0;
};

void unlink(lru_links& n) noexcept {
  n.prev->next = n.next;
  n.next->prev = n.prev;
}

// Inserts n right after the sentinel: head.next is the most recently used.
void push_front(lru_links& head, lru_links& n) noexcept {
  n.prev = &head;
  n.next = head.next;
  head.next->prev = &n;
  head.next = &n;
}

}  // namespace

// 64-byte aligned so that two shards' mutexes and counters never share a
// cache line: threads working on different shards do not contend at all.
struct alignas(64) block_cache::shard {
  mutable std::mutex mu;
  std::unordered_map<key, entry> map;
  lru_links lru;  // sentinel: lru.next is the MRU entry, lru.prev the LRU one
  std::size_t bytes = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t inserts = 0;
  std::uint64_t evictions = 0;

  // Caller holds mu. Returns the block so that the caller can drop what may
  // be the last reference after unlocking, outside the critical section.
  block_ptr remove(std::unordered_map<key, entry>::iterator it) {
    entry& e = it->second;
    unlink(e);
    bytes -= e.charge;
    block_ptr block = std::move(e.block);
    map.erase(it);
    return block;
  }

  stats snapshot() const {  // caller holds mu
    return {hits, misses, inserts, evictions, map.size(), bytes};
  }
};

block_cache::block_cache(std::size_t capacity_bytes, unsigned shards)
    : capacity_(capacity_bytes), shard_capacity_(shards == 0 ? 0 : capacity_bytes / shards), shard_mask_(shards - 1) {
  if (shards == 0 || shards > max_shards || !std::has_single_bit(shards)) {
    throw std::invalid_argument("block_cache: shard count must be a power of two in [1, 65536]");
  }
  shards_ = std::make_unique<shard[]>(shards);
}

block_cache::~block_cache() = default;

block_cache::block_ptr block_cache::lookup(const key& k) {
  shard& s = shards_[shard_of(k)];
  std::lock_guard lock(s.mu);
  auto it = s.map.find(k);
  if (it == s.map.end()) {
    ++s.misses;
    return nullptr;
  }
  ++s.hits;
  unlink(it->second);
  push_front(s.lru, it->second);
  return it->second.block;
}

block_cache::block_ptr block_cache::insert(const key& k, std::string contents) {
  const std::size_t charge = contents.size() + entry_overhead;
  // Allocate before locking: the shard's critical section stays short.
  block_ptr block = std::make_shared<const std::string>(std::move(contents));
  shard& s = shards_[shard_of(k)];

  // Declared before the lock, so destroyed after it is released: a block
  // this insert replaces is freed outside the critical section.
  block_ptr replaced;
  std::lock_guard lock(s.mu);

  auto it = s.map.find(k);
  if (charge > shard_capacity_) {
    // Not retained; the stale block under k must not outlive the insert,
    // or a later lookup would return contents the caller has replaced.
    ++s.inserts;
    ++s.evictions;
    if (it != s.map.end()) replaced = s.remove(it);
    return block;
  }

  if (it == s.map.end()) {
    it = s.map.try_emplace(k, k).first;  // may throw: nothing changed yet
  } else {
    entry& old = it->second;
    unlink(old);
    s.bytes -= old.charge;
    replaced = std::move(old.block);
  }
  ++s.inserts;  // only now: an insert that threw above is not counted
  entry& e = it->second;
  e.block = block;
  e.charge = charge;
  s.bytes += charge;
  push_front(s.lru, e);

  // Terminates before reaching e: charge <= shard_capacity_, so the shard is
  // within its share once e is the only entry left. Victims are freed under
  // the lock (one free, like their map node's); deferring them would cost an
  // allocation per insert for a list of them.
  while (s.bytes > shard_capacity_) {
    auto& victim = static_cast<entry&>(*s.lru.prev);
    ++s.evictions;
    s.remove(s.map.find(victim.key));
  }
  return block;
}

void block_cache::erase(const key& k) {
  shard& s = shards_[shard_of(k)];
  block_ptr dropped;  // freed after unlocking (see insert)
  std::lock_guard lock(s.mu);
  if (auto it = s.map.find(k); it != s.map.end()) dropped = s.remove(it);
}

void block_cache::clear() {
  for (unsigned i = 0; i < shard_count(); ++i) {
    shard& s = shards_[i];
    std::unordered_map<key, entry> dropped;  // destroyed after unlocking (see insert)
    std::lock_guard lock(s.mu);
    dropped.swap(s.map);
    s.lru.prev = s.lru.next = &s.lru;
    s.bytes = 0;
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
