// sst/block_cache.hpp — the shared cache of decoded SSTable data blocks.
//
// Table readers look a block up by (table id, block offset) before they read
// it from disk, and insert what they read. The cache is sharded, bounded in
// bytes, and evicts with CLOCK (docs/block_cache.md has the design and why
// CLOCK rather than LRU). Blocks of a large cache live on huge pages (see
// `memory` below).
//
// Guarantees:
//   * bounded: each shard retains at most capacity / shards bytes of charge
//     (block size + entry_overhead), so the whole cache retains at most
//     capacity() bytes of charge at every moment, under any concurrency;
//   * blocks are immutable and shared: a block_ptr handed out keeps its block
//     alive and unchanged after it is evicted, replaced, erased or cleared,
//     and after the cache is destroyed;
//   * CLOCK per shard: an insert or a lookup hit marks the entry referenced;
//     when a shard is over its share, a hand sweeps its entries, clearing
//     marks, and evicts the first unmarked entry it meets (never the entry
//     being inserted), until the shard is within its share;
//   * a block whose charge exceeds a shard's share is not retained: insert()
//     returns it, and counts one insert and one eviction.
//
// Thread safety: every member may be called concurrently from any number of
// threads, and block_ptrs may be copied and dropped on any thread. Each shard
// has its own mutex; only get_stats() holds more than one (all of them, in
// index order, so no cycle is possible). The counters are exact: every call
// is counted exactly once, in the shard of its key, under that shard's mutex.
// get_stats() takes all shard mutexes at once, so it returns a consistent
// cut: the totals of exactly the calls that completed before it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace strata::sst {

class block_cache {
 public:
  struct key {
    std::uint64_t table_id = 0;      // from new_table_id(): distinct per opened table
    std::uint64_t block_offset = 0;  // the block's offset in its table file

    bool operator==(const key&) const = default;

    // fmix64 (MurmurHash3's finalizer) is a bijection, so within one table
    // distinct offsets never collide; across tables the bits are well mixed,
    // which both the shard choice (upper bits) and the slot (low bits) use.
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

  // A block's bytes with their reference count behind them, in one
  // allocation: [bytes, padded to 8][block]. A block_ptr points at the
  // count, which shares a cache line with the block's last bytes (the
  // restart array, where every reader starts), so taking a reference costs
  // no cache miss of its own. Immutable once made.
  class block {
   public:
    const char* data() const noexcept { return reinterpret_cast<const char*>(this) - padded(size_); }
    std::size_t size() const noexcept { return size_; }
    std::string_view view() const noexcept { return {data(), static_cast<std::size_t>(size_)}; }
    operator std::string_view() const noexcept { return view(); }  // NOLINT: a block is its bytes
    friend bool operator==(const block& b, std::string_view s) noexcept { return b.view() == s; }

   private:
    friend class block_cache;
    friend class block_ptr;
    block(std::size_t size, bool from_slab) noexcept : size_(size), from_slab_(from_slab ? 1 : 0) {}
    static constexpr std::size_t padded(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }
    static std::size_t allocation_size(std::size_t n) noexcept { return padded(n) + sizeof(block); }
    // The header of a block whose `size` bytes are already at `memory` (an
    // allocation of allocation_size(size), from the slab if from_slab).
    static block* make_at(char* memory, std::size_t size, bool from_slab) noexcept;
    void release() const noexcept;

    // Held by every block_ptr and, while the block is cached, by the cache.
    // Increments are relaxed: whoever increments already holds a reference
    // (its own block_ptr, or the cache's, under the shard mutex), so the
    // block cannot be freed meanwhile, and no data is published by the
    // count. The decrement is acq_rel: the last one must see every other
    // holder's reads of the bytes finished before it frees them.
    mutable std::atomic<std::uint64_t> refs_{1};
    std::uint64_t size_ : 63;
    std::uint64_t from_slab_ : 1;  // else from operator new
  };
  static_assert(sizeof(block) == 16 && alignof(block) == 8);

  // Memory for one block that a reader fills in place, so that a block read
  // lands where the cache keeps it instead of being copied there from a read
  // buffer. Room for size() bytes and, past them, in_place_slack bytes of the
  // reader's own (the trailer it reads along and checks first: the block's
  // header later overwrites them). insert() or make_uncached() turn it into
  // a block; dropped before that, it frees its memory. Move-only; one owner.
  class block_memory {
   public:
    block_memory() noexcept = default;
    block_memory(block_memory&& o) noexcept
        : memory_(std::exchange(o.memory_, nullptr)), size_(o.size_), from_slab_(o.from_slab_) {}
    block_memory& operator=(block_memory o) noexcept {
      std::swap(memory_, o.memory_);
      std::swap(size_, o.size_);
      std::swap(from_slab_, o.from_slab_);
      return *this;
    }
    ~block_memory();
    char* data() noexcept { return memory_; }
    std::size_t size() const noexcept { return size_; }

   private:
    friend class block_cache;
    block_memory(char* memory, std::size_t size, bool from_slab) noexcept
        : memory_(memory), size_(size), from_slab_(from_slab) {}
    char* memory_ = nullptr;
    std::size_t size_ = 0;
    bool from_slab_ = false;
  };
  // block_memory's room past size(): allocation_size() pads to 8 and adds the
  // 16-byte header, so at least 16 bytes follow any size.
  static constexpr std::size_t in_place_slack = 8;

  // A counted reference to a block (like shared_ptr<const block>, intrusive).
  class block_ptr {
   public:
    block_ptr() noexcept = default;
    block_ptr(std::nullptr_t) noexcept {}  // NOLINT: like a null pointer
    block_ptr(const block_ptr& o) noexcept : b_(o.b_) {
      if (b_ != nullptr) b_->refs_.fetch_add(1, std::memory_order_relaxed);  // see block::refs_
    }
    block_ptr(block_ptr&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
    block_ptr& operator=(block_ptr o) noexcept {
      std::swap(b_, o.b_);
      return *this;
    }
    ~block_ptr() {
      if (b_ != nullptr) b_->release();
    }
    void reset() noexcept { block_ptr().swap(*this); }
    void swap(block_ptr& o) noexcept { std::swap(b_, o.b_); }

    const block& operator*() const noexcept { return *b_; }
    const block* operator->() const noexcept { return b_; }
    const block* get() const noexcept { return b_; }
    explicit operator bool() const noexcept { return b_ != nullptr; }
    friend bool operator==(const block_ptr& a, const block_ptr& b) noexcept { return a.b_ == b.b_; }
    friend bool operator==(const block_ptr& a, std::nullptr_t) noexcept { return a.b_ == nullptr; }
    // Holders now (the cache counts as one while the block is cached); a
    // snapshot, for tests and diagnostics.
    long use_count() const noexcept {
      return b_ == nullptr ? 0 : static_cast<long>(b_->refs_.load(std::memory_order_relaxed));
    }

   private:
    friend class block_cache;
    // Adopts one reference the caller already counted.
    explicit block_ptr(const block* b) noexcept : b_(b) {}
    const block* b_ = nullptr;
  };

  struct stats {
    std::uint64_t hits = 0;       // lookups that found the key
    std::uint64_t misses = 0;     // lookups that did not
    std::uint64_t inserts = 0;    // insert() calls, replacements and oversize blocks included
    std::uint64_t evictions = 0;  // CLOCK victims, plus oversize blocks not retained
    std::uint64_t entries = 0;    // blocks retained now
    std::uint64_t bytes = 0;      // their total charge
  };

  // Charged per entry on top of the block's size(): the bookkeeping on
  // x86-64 glibc, rounded up — at most 4 slots of 32 bytes per entry (the
  // slot table is at most half full and at least a quarter after growing),
  // the 16-byte block trailer and the allocator's header. It keeps a cache of
  // tiny blocks from using far more than its capacity.
  static constexpr std::size_t entry_overhead = 160;
  static constexpr unsigned default_shards = 16;
  static constexpr unsigned max_shards = 1u << 16;

  // shards must be a power of two in [1, max_shards], else
  // std::invalid_argument. Each shard gets capacity_bytes / shards (rounded
  // down, so up to shards - 1 bytes of the capacity may go unused).
  // Where cached blocks live. On huge pages (util/huge_page_slab.hpp) a
  // warm lookup saves the TLB misses of reading a block spread over the
  // malloc heap's 4 KiB pages (about 20 % more warm gets in sst_bench), but
  // the slab keeps up to two 2 MiB chunks per block size class in use, which
  // only a large cache can afford. automatic: huge pages when the capacity
  // is at least huge_pages_from.
  enum class memory { automatic, huge_pages, heap };
  static constexpr std::size_t huge_pages_from = std::size_t{256} << 20;

  explicit block_cache(std::size_t capacity_bytes, unsigned shards = default_shards, memory where = memory::automatic);
  ~block_cache();
  block_cache(const block_cache&) = delete;
  block_cache& operator=(const block_cache&) = delete;

  // The cached block, or null. A hit marks the entry referenced.
  block_ptr lookup(const key& k);

  // Caches a copy of contents under k, replacing any block cached there, and
  // marks it referenced; then evicts (CLOCK) until k's shard is within its
  // share. Returns the cached block — also when it is too large to be
  // retained, so a reader can always use what it just read.
  block_ptr insert(const key& k, std::string_view contents);
  // The same for a block filled in place (allocate()), without the copy.
  block_ptr insert(const key& k, block_memory memory);
  // Memory for a block of `size` bytes to insert here (on this cache's huge
  // pages when it has them).
  block_memory allocate(std::size_t size) const;

  // A block that no cache holds (for readers without a cache).
  static block_ptr make_uncached(std::string_view contents);
  static block_ptr make_uncached(block_memory memory);
  static block_memory allocate_uncached(std::size_t size);

  // Hints, nothing else: they start fetching the memory a lookup(k) will
  // read, so that a scan can ask for the blocks it needs next ahead of time
  // and find those lookups cheap. They never fail and change nothing (no
  // counter, no CLOCK mark). prefetch_slot is lock-free: the line of k's
  // slot. prefetch_block, best issued after prefetch_slot has had time to
  // land, takes k's shard mutex if it is free (else does nothing) and
  // fetches the cached block's first and last lines (a reader starts at
  // the end, where the reference count lives, and the first entry).
  void prefetch_slot(const key& k) const noexcept;
  void prefetch_block(const key& k) const noexcept;

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
  bool on_huge_pages() const noexcept { return on_huge_pages_; }
  // Which shard holds k (< shard_count()).
  unsigned shard_of(const key& k) const noexcept {
    // Bits 32 and up: the keys of one shard all share these bits, so they
    // must not be the low bits, which pick the key's slot in the shard.
    return static_cast<unsigned>(k.hash() >> 32) & shard_mask_;
  }

 private:
  struct shard;
  static block_memory memory_for(std::size_t size, bool on_huge_pages);
  static block_memory copy_into(block_memory memory, std::string_view contents) noexcept;
  static block_ptr make_block(block_memory memory) noexcept;  // the block made in `memory`

  std::size_t capacity_;
  std::size_t shard_capacity_;
  unsigned shard_mask_;
  bool on_huge_pages_;
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
