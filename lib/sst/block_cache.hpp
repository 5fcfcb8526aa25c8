// sst/block_cache.hpp — the shared cache of decoded SSTable data blocks.
//
// Table readers look a block up by (table id, block offset) before they read
// it from disk, and insert what they read. The cache is a sharded LRU bounded
// in bytes (docs/block_cache.md has the design and its trade-offs).
//
// Guarantees:
//   * bounded: each shard retains at most capacity / shards bytes of charge
//     (block size + entry_overhead), so the whole cache retains at most
//     capacity() bytes of charge at every moment, under any concurrency;
//   * blocks are immutable and shared: a block_ptr handed out keeps its block
//     alive and unchanged after it is evicted, replaced, erased or cleared;
//   * LRU per shard: when a shard is over its share, its least recently used
//     entries (by insert or lookup hit) are evicted first;
//   * a block whose charge exceeds a shard's share is not retained: insert()
//     returns it, and counts one insert and one eviction.
//
// Thread safety: every member may be called concurrently from any number of
// threads. Each shard has its own mutex; only get_stats() holds more than one
// (all of them, in index order, so no cycle is possible).
// The counters are exact: every call is counted exactly once, in the shard of
// its key, under that shard's mutex. get_stats() takes all shard mutexes at
// once, so it returns a consistent cut: the totals of exactly the calls that
// completed before it, as if no call were in flight.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace strata::sst {

class block_cache {
 public:
  struct key {
    std::uint64_t table_id = 0;      // from new_table_id(): distinct per opened table
    std::uint64_t block_offset = 0;  // the block's offset in its table file

    bool operator==(const key&) const = default;

    // fmix64 (MurmurHash3's finalizer) is a bijection, so within one table
    // distinct offsets never collide; across tables the bits are well mixed,
    // which both the shard choice (upper bits) and the hash map (all bits) use.
    std::uint64_t hash() const noexcept { return fmix64(fmix64(table_id) ^ block_offset); }

   private:
    static constexpr std::uint64_t fmix64(std::uint64_t x) noexcept {
      x ^= x >> 33;
      x *= 0xff51afd7ed558ccdULL;
      x ^= x >> 33;
      x *= 0xc4ceb93fe53a85ceULL;
      x ^= x >> 33;
      return x;
    }
  };

  // A decoded block, shared by the cache and any number of readers.
  using block_ptr = std::shared_ptr<const std::string>;

  struct stats {
    std::uint64_t hits = 0;       // lookups that found the key
    std::uint64_t misses = 0;     // lookups that did not
    std::uint64_t inserts = 0;    // insert() calls, replacements and oversize blocks included
    std::uint64_t evictions = 0;  // LRU victims, plus oversize blocks not retained
    std::uint64_t entries = 0;    // blocks retained now
    std::uint64_t bytes = 0;      // their total charge
  };

  // Charged per entry on top of the block's size(): the bookkeeping on
  // libstdc++/glibc x86-64 — hash-map node 80 + bucket slot 8, make_shared
  // control block with its std::string 48, plus allocator headers — rounded.
  // It keeps a cache of tiny blocks from using far more than its capacity.
  static constexpr std::size_t entry_overhead = 160;
  static constexpr unsigned default_shards = 16;
  static constexpr unsigned max_shards = 1u << 16;

  // shards must be a power of two in [1, max_shards], else
  // std::invalid_argument. Each shard gets capacity_bytes / shards (rounded
  // down, so up to shards - 1 bytes of the capacity may go unused).
  explicit block_cache(std::size_t capacity_bytes, unsigned shards = default_shards);
  ~block_cache();
  block_cache(const block_cache&) = delete;
  block_cache& operator=(const block_cache&) = delete;

  // The cached block, or nullptr. A hit makes the entry most recently used.
  block_ptr lookup(const key& k);

  // Caches contents under k, replacing any block cached there, as the most
  // recently used entry; evicts LRU entries of k's shard until it is within
  // its share. Returns the (now shared) block — also when it is too large to
  // be retained, so a reader can always use what it just read.
  block_ptr insert(const key& k, std::string contents);

  // Drops k's entry if any (not counted as an eviction).
  void erase(const key& k);
  // Drops every entry (not counted as evictions). Shard by shard: an insert
  // racing with clear() may survive it. Counters other than entries and bytes
  // are kept.
  void clear();

  // A fresh table id for keys, distinct from all earlier ones; starts at 1.
  std::uint64_t new_table_id() noexcept;

  stats get_stats() const;
  // One shard's counters (shard < shard_count()), for tests and diagnostics.
  stats get_shard_stats(unsigned shard) const;

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t shard_capacity() const noexcept { return shard_capacity_; }
  unsigned shard_count() const noexcept { return shard_mask_ + 1; }
  // Which shard holds k (< shard_count()).
  unsigned shard_of(const key& k) const noexcept {
    // Bits 32 and up: the keys of one shard all share these bits, so they
    // must not be the low bits, which decide the bucket in a power-of-two
    // hash table (libstdc++ reduces modulo a prime, but need not).
    return static_cast<unsigned>(k.hash() >> 32) & shard_mask_;
  }

 private:
  struct shard;

  std::size_t capacity_;
  std::size_t shard_capacity_;
  unsigned shard_mask_;
  std::unique_ptr<shard[]> shards_;
  std::atomic<std::uint64_t> next_table_id_{1};
};

}  // namespace strata::sst

template <>
struct std::hash<strata::sst::block_cache::key> {
  std::size_t operator()(const strata::sst::block_cache::key& k) const noexcept {
    return static_cast<std::size_t>(k.hash());
  }
};
