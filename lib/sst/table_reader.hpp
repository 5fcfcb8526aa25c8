// sst/table_reader.hpp — reads an SSTable written by table_builder.
//
// open() reads the footer, then the index, filter and properties blocks
// (each checksum-verified) and keeps them in memory while the table is
// open. get() answers a point lookup at a snapshot: the bloom filter first
// (an absent key usually costs no I/O at all), then the in-memory index,
// then the data block: from the block cache if one is given and holds it,
// else one read through the io layer (io_uring), verified, decompressed and
// put into the cache. Index and filter stay resident while the table is open
// (they are read once at open and never evicted).
//
// Damage is reported, never trusted: a bad footer or block is
// errc::corruption and message() names the file and the block offset.
// Thread safety: after open, get() may run concurrently from many
// coroutines and threads; the reader owns nothing mutable. The io::file
// must outlive the reader.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "io/file.hpp"
#include "sst/block_cache.hpp"
#include "sst/block_reader.hpp"
#include "sst/bloom_filter.hpp"
#include "sst/format.hpp"
#include "sst/table_index.hpp"
#include "strata/memtable.hpp"
#include "util/huge_pages.hpp"

namespace strata::sst {

class table_iterator;

struct table_lookup {
  enum class state : std::uint8_t { absent, found, deleted };
  state status = state::absent;
  std::string value;
  sequence_number sequence = 0;
  std::error_code error;  // corruption / io_error; status is absent then
  std::string message;
  bool filtered = false;   // answered by the bloom filter without reading a block
  bool cache_hit = false;  // the data block came from the block cache
};

class table_reader {
 public:
  struct open_result {
    std::error_code error;
    std::string message;
    std::unique_ptr<table_reader> table;
  };
  // `cache` (optional, not owned) must outlive the table.
  static boost::asio::awaitable<open_result> open(io::file& file, std::uint64_t file_size,
                                                  block_cache* cache = nullptr);

  boost::asio::awaitable<table_lookup> get(std::string_view user_key, sequence_number snapshot) const;

  // The same lookup without suspending, when it needs no disk read: the
  // filter rules the key out, the index says it is past the last block, or
  // the data block is in the block cache or the OS page cache. Returns true with `out` set (exactly
  // what get() would give); false when the answer needs a disk read (then
  // co_await get(), which looks in the cache again and so counts a second
  // miss). For callers that check many tables per lookup (the db's read
  // path), where a coroutine frame per table would dominate a cached get.
  bool try_get(std::string_view user_key, sequence_number snapshot, table_lookup& out) const;

  const table_properties& properties() const noexcept { return properties_; }
  bool has_filter() const noexcept { return filter_.valid(); }

  // Ordered reads over every entry (all versions, tombstones included), in
  // internal-key order: for scans and compaction. See table_iterator.
  // fill_cache false: blocks read from disk are not put in the block cache
  // (a compaction reads each block once; caching them would evict what
  // point reads use). Cached blocks are still used.
  // readahead > 0: moving forward, read that many bytes of consecutive data
  // blocks at once (one large read instead of one per block), for a reader
  // that will read them all (compaction).
  table_iterator new_iterator(bool fill_cache = true, std::size_t readahead = 0) const;

 private:
  friend class table_iterator;
  explicit table_reader(io::file& file) : file_(file) {}
  // Reads and verifies one block (handle.size + trailer bytes at handle.offset).
  boost::asio::awaitable<std::error_code> read_block(const block_handle& h, std::string& contents,
                                                     std::string& message) const;
  enum class lookup_step : std::uint8_t { answered, need_block };
  // The in-memory part of a lookup: filter, then index. need_block with
  // `handle` set when the answer is in that data block.
  lookup_step locate(std::string_view user_key, std::string_view target, block_handle& handle, table_lookup& out) const;
  // The answer from the data block (decoded `contents`) for `target`.
  void search_block(std::string_view contents, const block_handle& handle, std::string_view user_key,
                    std::string_view target, table_lookup& out) const;
  // A data block through the cache (if any); `hit` says whether it was cached.
  // `look_in_cache` false: the caller has just missed in the cache for this
  // block, so go straight to the read (a second lookup would count a second miss).
  boost::asio::awaitable<std::error_code> data_block(const block_handle& h, block_cache::block_ptr& out, bool& hit,
                                                     std::string& message, bool look_in_cache = true,
                                                     bool fill_cache = true) const;
  // The data block at h if it can be had without waiting: from the block
  // cache (hit = true), or read from the page cache (io::file::
  // read_if_cached), verified and cached if fill_cache. nullptr: it needs a
  // disk read (or is damaged: the engine read will report it).
  // look_in_cache false: the caller has just missed in the block cache.
  block_cache::block_ptr block_without_waiting(const block_handle& h, bool fill_cache, bool& hit,
                                               bool look_in_cache = true) const;
  // `contents` (data block h) as a counted block: put in the cache if there
  // is one and fill_cache, else held only by its users.
  block_cache::block_ptr keep_block(const block_handle& h, std::string_view contents, bool fill_cache) const;
  // The same for a block read in place into memory_for_block(h, fill_cache).
  block_cache::block_ptr keep_block(const block_handle& h, block_cache::block_memory memory, bool fill_cache) const;
  block_cache::block_memory memory_for_block(const block_handle& h, bool fill_cache) const;
  bool keeps_in_cache(bool fill_cache) const noexcept { return cache_ != nullptr && fill_cache; }
  // The cached data block at h, or nullptr (also without a cache).
  block_cache::block_ptr cached_block(const block_handle& h) const {
    return cache_ != nullptr ? cache_->lookup({cache_id_, h.offset}) : nullptr;
  }
  // Cache hints for data block `index` (nothing past the last block or
  // without a cache): its slot, or its slot and bytes (block_cache.hpp).
  void prefetch_slot_of(std::size_t index) const noexcept {
    if (cache_ != nullptr && index < index_.size()) cache_->prefetch_slot({cache_id_, index_.handle(index).offset});
  }
  void prefetch_block_of(std::size_t index) const noexcept {
    if (cache_ != nullptr && index < index_.size()) cache_->prefetch_block({cache_id_, index_.handle(index).offset});
  }

  io::file& file_;
  block_cache* cache_ = nullptr;
  std::uint64_t cache_id_ = 0;  // this table's keys in the cache
  table_index index_;
  util::huge_buffer filter_bytes_;  // huge pages when large: every probe is a random line
  bloom_filter_reader filter_{std::string_view{}};
  table_properties properties_;
};

// A two-level iterator: the in-memory index picks the data block, which is
// read (and verified) through the io layer when the iterator enters it.
// Moves are awaitable because entering a block may read it; moving within a
// block does no I/O. After a read error or corruption, valid() is false and
// error()/message() say why. One iterator per coroutine; the table must
// outlive it.
class table_iterator {
 public:
  bool valid() const noexcept { return data_valid_ && data_.valid(); }
  std::string_view key() const noexcept { return data_.key(); }
  std::string_view value() const noexcept { return data_.value(); }
  std::error_code error() const noexcept { return error_; }
  const std::string& message() const noexcept { return message_; }

  boost::asio::awaitable<void> seek_to_first();
  boost::asio::awaitable<void> seek_to_last();
  // First entry >= target in internal-key order.
  boost::asio::awaitable<void> seek(std::string_view target);
  boost::asio::awaitable<void> next();
  boost::asio::awaitable<void> prev();

  // next()/prev() without suspending, when no read is needed: the
  // neighbour is in the current block, or (try_next) in a later block that
  // is in the block cache or the page cache. Returns true when done (exactly as next()/prev()
  // would have done it, including on an invalid iterator: nothing); false,
  // without moving, when the step needs a read: then co_await next() /
  // prev(). Scans call these so that a step costs a function call, not a
  // coroutine frame.
  bool try_next() {  // inline: this is the whole per-entry cost of a scan
    if (!valid()) return true;
    if (data_.at_last()) return try_next_block();
    // Two lines of the next block per step, about the rate a scan consumes
    // the current one: the next block arrives in cache while this one is read.
    if (prefetch_next_ < prefetch_end_) {
      __builtin_prefetch(prefetch_next_);
      __builtin_prefetch(prefetch_next_ + 64);
      prefetch_next_ += 128;
    }
    data_.next();
    if (data_.corrupted()) [[unlikely]]
      fail_entry();
    return true;
  }
  bool try_prev();
  // seek() without suspending when no disk read is needed (the block is in
  // the block cache or the page cache): true when done, exactly as seek()
  // would have done it; false when a read is needed (then co_await seek(),
  // which looks in the cache again: a miss counts twice).
  bool try_seek(std::string_view target);
  // seek_to_first() without suspending when the first non-empty block needs
  // no disk read: true when done; false when it needs one (the iterator is
  // then unpositioned: co_await seek_to_first()).
  bool try_seek_to_first();

 private:
  friend class table_reader;
  table_iterator(const table_reader& table, bool fill_cache, std::size_t readahead);
  // Loads data block block_index_; false (iterator invalid) on error or past either end.
  // look_ahead: also look up the next block in the cache and start
  // prefetching it (moving forward through consecutive blocks).
  boost::asio::awaitable<bool> enter_block(bool forward, bool look_ahead);
  boost::asio::awaitable<void> skip_empty_blocks_forward();
  boost::asio::awaitable<void> skip_empty_blocks_backward();
  void fail(std::error_code ec, std::string message);
  // Makes `bytes` (data block `index`) the current block (unpositioned);
  // false (and failed) if the block is malformed. With look_ahead, it also
  // looks up the next block in the cache and prefetches its first lines:
  // blocks cached at different times lie scattered in memory, and a scan
  // would otherwise stall on every block's first cache and TLB misses.
  bool adopt_block(std::size_t index, block_cache::block_ptr bytes, bool look_ahead);
  // Readahead: whether window_ holds all of h's stored bytes; filling it
  // with the blocks from h on (now: only from the page cache); the block
  // at h from it (verified; cached if fill_cache_).
  bool in_window(const block_handle& h) const noexcept;
  std::size_t window_length(const block_handle& h) const noexcept;
  bool fill_window_now(const block_handle& h);
  boost::asio::awaitable<std::error_code> fill_window(const block_handle& h, std::string& message);
  block_cache::block_ptr block_from_window(const block_handle& h, std::error_code& ec, std::string& message) const;
  // Readahead without waiting: the block from the block cache (if
  // look_in_cache), the window, or the window refilled from the page cache.
  // nullptr with ec clear: the window needs a disk read (fill_window);
  // with ec set: the block is damaged.
  block_cache::block_ptr block_via_window_now(const block_handle& h, bool look_in_cache, std::error_code& ec,
                                              std::string& message);
  // A malformed entry in the current block: fail with corruption.
  void fail_entry();
  // try_next() across a block boundary, from the block or page cache only.
  bool try_next_block();

  const table_reader* table_;
  bool fill_cache_ = true;
  // Which data block the iterator is in: an index position, index_.size()
  // (past the end) or npos (before the beginning).
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::size_t block_index_ = npos;
  // Counted and heap-held: block_ and data_ view into it, so moving the
  // iterator must not move the bytes (and a cached block can be shared).
  block_cache::block_ptr block_bytes_;
  block_reader block_{std::string_view{}};
  block_reader::iterator data_;
  bool data_valid_ = false;
  // try_next_block() missed the cache for this block: next() reads it
  // without looking again (so a miss is counted once).
  std::size_t missed_block_ = npos;
  // The block after the current one, looked up ahead of time (forward
  // moves only); ahead_bytes_ is null if it was not cached.
  std::size_t ahead_index_ = npos;
  block_cache::block_ptr ahead_bytes_;
  // The part of ahead_bytes_ not yet prefetched (see try_next).
  const char* prefetch_next_ = nullptr;
  const char* prefetch_end_ = nullptr;
  std::size_t readahead_ = 0;
  std::string window_;  // stored bytes (with trailers) of consecutive data blocks
  std::uint64_t window_offset_ = 0;
  std::error_code error_;
  std::string message_;
};

}  // namespace strata::sst
