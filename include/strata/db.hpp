// strata/db.hpp — the store: an LSM-tree key-value db with an awaitable API.
//
//   auto db = co_await strata::db::open(executor, "/var/lib/app/db", {});
//   co_await db->put("key", "value");
//   std::optional<std::string> v = co_await db->get("key");
//   co_await db->close();
//
// Every operation follows Asio's completion-token model. The default token
// is use_awaitable (errors are thrown as boost::system::system_error); also
// use_future, deferred, callbacks, and as_tuple(use_awaitable) for error
// codes without exceptions. Completions run on the caller's associated
// executor (the handler's), never on a Strata thread.
//
// How it works: writes go to the write-ahead log (group commit) and then
// into the active memtable; a full memtable is sealed, a fresh memtable and
// WAL take over, and the sealed one is flushed to a level-0 table on the
// background pool, recorded in the MANIFEST, and only then is its WAL
// deleted. Reads look in the active memtable, the sealed ones newest first,
// then the tables: level 0 newest first, then one table per deeper level.
// db::scan() merges all of them into one ordered view at a snapshot.
// Leveled compaction on the background pool merges level n into n+1 as
// levels fill (docs/compaction.md). docs/db.md has the details and the
// choices.
//
// Thread safety: a db may be used from any number of threads and
// coroutines at once. A batch is atomic: readers see all of it or none.
// Keep the db (the shared_ptr) alive until close() completes.
#pragma once

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "strata/detail/posted_handler.hpp"
#include "strata/error.hpp"
#include "strata/write_batch.hpp"

namespace strata {

struct options {
  bool create_if_missing = true;  // RocksDB's default is false; see docs/db.md
  bool error_if_exists = false;
  // The write buffer: a memtable holding this many bytes is sealed and
  // flushed; each memtable has its own WAL file.
  std::size_t memtable_bytes = std::size_t{64} << 20;
  // Sealed memtables waiting for their flush; at this many, writers wait
  // (awaitably, no thread blocks) until a flush completes.
  unsigned max_immutable_memtables = 2;
  bool wal = true;  // off: unflushed writes are lost on any crash or close
  // A damaged record in the middle of a WAL: fail open (true) or drop the
  // damaged bytes and go on (false). A torn tail is never an error.
  bool error_on_corrupt_wal = true;
  unsigned background_threads = 2;
  // The WAL's group commits run on a thread of their own (docs/db.md,
  // "Threads"). After a group it keeps looking for the next one this long,
  // yielding the CPU to anyone else who wants it, before it sleeps: waking
  // a sleeping thread costs more here than a lone write does. 0: sleep at
  // once.
  unsigned wal_poll_microseconds = 50;
  // Tables.
  std::size_t block_size = 4096;
  int bits_per_key = 10;         // bloom filter; 0 = none
  bool compress_tables = false;  // lz4 on data blocks
  std::size_t block_cache_bytes = std::size_t{64} << 20;
  // Leveled compaction (docs/compaction.md). Level 0 is compacted into
  // level 1 once it holds level0_compaction_trigger tables; at
  // level0_slowdown_writes_trigger each write waits 1 ms first (awaitably);
  // at level0_stop_writes_trigger a full memtable waits for compaction
  // before it is sealed. Level n >= 1 is compacted into n+1 once it holds
  // more than max_bytes_for_level_base * multiplier^(n-1) bytes. Outputs
  // are cut at target_file_bytes (between user keys); see also
  // align_compaction_outputs.
  unsigned level0_compaction_trigger = 4;
  unsigned level0_slowdown_writes_trigger = 8;
  unsigned level0_stop_writes_trigger = 12;
  std::uint64_t max_bytes_for_level_base = std::uint64_t{256} << 20;
  double max_bytes_for_level_multiplier = 10;
  std::uint64_t target_file_bytes = std::uint64_t{64} << 20;
  unsigned max_concurrent_compactions = 1;  // jobs at once, on disjoint levels
  // Which file of level n >= 1 a compaction takes: false (default) the one
  // with the least overlap in level n+1 per byte (RocksDB's
  // kMinOverlappingRatio, the lower write amplification); true the next
  // one round the key space (LevelDB's way).
  bool compaction_round_robin = false;
  // true (default): a compaction output ends, once past half its target
  // size, where a file of the level below its own begins or ends, and may
  // grow to 2 * target_file_bytes waiting for one (RocksDB's
  // level_compaction_dynamic_file_size, on by default since 7.8). A later
  // compaction of it then rewrites whole files below it, not slivers:
  // lower write amplification, more varied file sizes. false: outputs end
  // at target_file_bytes (LevelDB's way).
  bool align_compaction_outputs = true;
  // A compaction reads its inputs this many bytes at a time (one large
  // read instead of one per block; RocksDB's compaction_readahead_size).
  // 0: block by block.
  std::size_t compaction_readahead_bytes = std::size_t{2} << 20;
  // A compaction job of at least 2 target files is split into up to this
  // many key ranges run in parallel on the background pool (RocksDB's
  // max_subcompactions, also 1 by default: a part on the pool's second
  // thread can delay a flush that writers wait for).
  unsigned subcompactions = 1;
  bool force_io_fallback = false;  // thread-pool I/O instead of io_uring (tests)
};

struct write_options {
  // true: complete only once the write is on disk (fdatasync, shared by the
  // whole commit group). false: once it is in the OS page cache (survives a
  // process crash, not a power cut) — RocksDB's meaning.
  bool sync = false;
};

// A consistent point in the db's history: reads that carry it see exactly
// the writes acknowledged before db::snapshot() returned (and no part of a
// batch that was still landing). Holding one keeps the versions it sees
// alive (once compaction exists, it will not drop them). Cheap: no I/O.
// Thread-safe; may outlive the db (it then pins nothing).
class snapshot {
 public:
  ~snapshot();
  snapshot(const snapshot&) = delete;
  snapshot& operator=(const snapshot&) = delete;
  std::uint64_t sequence() const noexcept { return sequence_; }

 private:
  friend class db_impl;
  struct registry;
  snapshot(std::shared_ptr<registry> r, std::uint64_t sequence) : registry_(std::move(r)), sequence_(sequence) {}
  std::shared_ptr<registry> registry_;
  std::uint64_t sequence_;
};

struct read_options {
  // Read at this snapshot; null: the newest visible state.
  std::shared_ptr<const strata::snapshot> snapshot;
  // Scans only: stop before this key (exclusive); none: to the end.
  std::optional<std::string> upper_bound = std::nullopt;
  // Scans only: no key below this one (inclusive): seek_to_first() and
  // seeks below it start there, and moving backward ends there.
  std::optional<std::string> lower_bound = std::nullopt;
  // Scans only: only keys that start with these bytes (RocksDB's
  // prefix_same_as_start, with the prefix given): seek_to_first() goes to
  // the prefix's first key, a seek below the prefix starts there, and the
  // scan ends at the first key without it (in either direction;
  // seek_to_last() goes to the prefix's last key).
  std::optional<std::string> prefix = std::nullopt;
};

// An ordered view of the whole db at one point: every key that has a value
// there, ascending (bytewise), with its newest visible value; deleted keys
// never show. Made by db::scan(). It pins what it reads (the memtables and
// tables of that moment), so flushes and compactions running meanwhile
// change nothing it returns and free nothing it reads; keep it short-lived
// (it keeps obsolete table files on disk while it lives). Moves are
// awaitable (co_await, use_awaitable); a move may read blocks from disk.
// key()/value() are valid until the next move. After a read error valid()
// is false and error()/message() say why. Both directions, and a direction
// may change at any key (a turn re-seeks every source once, as in LevelDB
// and RocksDB; moving forward is the fast path). One coroutine at a time;
// it may outlive nothing: close() waits for no iterator, so drop iterators
// before closing the db.
class db_iterator {
 public:
  ~db_iterator();
  db_iterator(const db_iterator&) = delete;
  db_iterator& operator=(const db_iterator&) = delete;

  bool valid() const noexcept;
  std::string_view key() const noexcept;
  std::string_view value() const noexcept;
  std::error_code error() const noexcept;
  const std::string& message() const noexcept;

  boost::asio::awaitable<void> seek_to_first();
  boost::asio::awaitable<void> seek_to_last();
  boost::asio::awaitable<void> seek(std::string_view key);           // first key >= key
  boost::asio::awaitable<void> seek_for_prev(std::string_view key);  // last key <= key
  boost::asio::awaitable<void> next();
  boost::asio::awaitable<void> prev();
  // next() without a coroutine when the step needs no disk read (the next
  // entries are in memtables, the block cache or the page cache): true when
  // done; false when it needs a read, and then `co_await next()` finishes
  // the step (call nothing else in between). For tight scan loops:
  //   if (!it->try_next()) co_await it->next();
  bool try_next();

  struct state;  // (lib/db/db_iterator.cpp)
  explicit db_iterator(std::unique_ptr<state> s);

 private:
  std::unique_ptr<state> s_;
};

struct db_stats {
  std::uint64_t puts = 0, erases = 0, batches = 0, gets = 0, get_hits = 0;
  std::uint64_t user_bytes_written = 0;                                // keys + values as given
  std::uint64_t wal_bytes_written = 0, wal_groups = 0, wal_syncs = 0;  // every WAL since open
  double wal_mean_group_size = 0;
  std::uint64_t last_sequence = 0;                         // newest visible
  std::uint64_t memtable_entries = 0, memtable_bytes = 0;  // the active memtable
  std::uint64_t immutable_memtables = 0;
  std::uint64_t flushes = 0, flush_bytes = 0;  // tables written by flushes
  std::uint64_t l0_files = 0, table_files = 0, table_bytes = 0;
  std::uint64_t stalls = 0;          // writes that waited for a flush or for level 0 to shrink
  std::uint64_t slowdowns = 0;       // writes delayed 1 ms because level 0 was at the slowdown trigger
  std::uint64_t compactions = 0;     // jobs that rewrote tables
  std::uint64_t trivial_moves = 0;   // tables moved a level down without a rewrite
  std::uint64_t subcompactions = 0;  // parts run by jobs split into key ranges
  std::uint64_t compaction_bytes_read = 0, compaction_bytes_written = 0;
  double compaction_seconds = 0;
  std::uint64_t compactions_running = 0;
  // The picker's highest level score (>= 1: a level wants compacting). With
  // compactions_running, 0 and < 1 mean the tree has settled.
  double max_compaction_score = 0;
  // (flush_bytes + compaction_bytes_written) / user_bytes_written; 0 before any write.
  double write_amplification = 0;
  std::array<std::uint64_t, 7> level_files{}, level_bytes{};
  // Compaction traffic by output level: input bytes read, output bytes written.
  std::array<std::uint64_t, 7> level_compaction_read{}, level_compaction_written{};
  std::uint64_t block_cache_hits = 0, block_cache_misses = 0;
  std::uint64_t bloom_checked = 0, bloom_useful = 0;  // table lookups that asked a filter / were answered by it
  // Latency from call to completion (before the handler is posted), in
  // microseconds; 0 until there is one.
  double put_p50_us = 0, put_p99_us = 0, put_p999_us = 0;
  double get_p50_us = 0, get_p99_us = 0, get_p999_us = 0;
  std::uint64_t recovered_records = 0;  // WAL records replayed at open
  // Live keys, estimated without reading (RocksDB's estimate-num-keys):
  // entries of the memtables and live tables, less twice the tables'
  // tombstones (each hides one older entry). A key overwritten before its
  // versions meet in a compaction counts once per version, so this is
  // high after overwrites and exact after a full compact().
  std::uint64_t estimated_keys = 0;
};

// One `name=value` line per field, for logs and tools.
std::string to_string(const db_stats& s);

class db_impl;

class db {
 public:
  using executor_type = boost::asio::any_io_executor;
  using default_token = boost::asio::use_awaitable_t<>;
  static constexpr std::size_t max_key_bytes = 64u << 10;
  static constexpr std::size_t max_value_bytes = 256u << 20;

  // Creates or recovers the db in `path`. Completion: (error_code,
  // std::shared_ptr<db>). busy if another db has it open; invalid_argument
  // for create_if_missing / error_if_exists conflicts; corruption for damaged
  // files; the message of the error names the file.
  template <typename Token = default_token>
  static auto open(executor_type executor, std::string path, options opts, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::shared_ptr<db>)>(
        [](auto handler, executor_type ex, std::string p, options o) {
          start_open(std::move(ex), std::move(p), o,
                     detail::posted_handler<boost::system::error_code, std::shared_ptr<db>>(std::move(handler)));
        },
        token, std::move(executor), std::move(path), opts);
  }

  template <typename Token = default_token>
  auto put(std::string_view key, std::string_view value, write_options wo = {}, Token&& token = {}) {
    write_batch b;
    b.put(key, value);
    return write(std::move(b), wo, std::forward<Token>(token));
  }
  template <typename Token = default_token>
  auto erase(std::string_view key, write_options wo = {}, Token&& token = {}) {
    write_batch b;
    b.erase(key);
    return write(std::move(b), wo, std::forward<Token>(token));
  }
  // All of the batch or none of it; readers see it at once.
  template <typename Token = default_token>
  auto write(write_batch batch, write_options wo = {}, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler, write_batch b, write_options w) {
          start_write(std::move(b), w, detail::posted_handler<boost::system::error_code>(std::move(handler)));
        },
        token, std::move(batch), wo);
  }
  // Completion: (error_code, std::optional<std::string>): nullopt if absent.
  // With the default token (co_await db->get(k)), a get that memory can
  // answer (see try_get) completes without suspending: no post, no resume.
  template <typename Token = default_token>
  auto get(std::string_view key, read_options ro = {}, Token&& token = {}) {
    if constexpr (std::is_same_v<std::decay_t<Token>, default_token>) {
      return get_now_or_later(std::string(key), ro);
    } else {
      return initiate_get(std::string(key), ro, std::forward<Token>(token));
    }
  }
  // All keys at one snapshot. Completion: (error_code,
  // std::vector<std::optional<std::string>>), in the order of `keys`.
  template <typename Token = default_token>
  auto get_many(std::vector<std::string> keys, read_options ro = {}, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::vector<std::optional<std::string>>)>(
        [this](auto handler, std::vector<std::string> k, read_options r) {
          start_get_many(std::move(k), r,
                         detail::posted_handler<boost::system::error_code, std::vector<std::optional<std::string>>>(
                             std::move(handler)));
        },
        token, std::move(keys), ro);
  }
  // get(key, ro) answered without suspending: from the memtables, or from
  // a table whose block is in the block cache or the OS page cache (a
  // non-blocking read that fails rather than waits), the bloom filters
  // ruling the other tables out. Like RocksDB's read_tier =
  // kBlockCacheTier, plus the page cache. nullopt when the answer needs a
  // disk read: co_await get() then. An answered lookup counts in stats() as a get; an
  // unanswered one does not. Errors (closed, a corrupt cached block) are
  // answers, with `error` set. Any thread; like get(), it never blocks on I/O.
  struct cached_get {
    boost::system::error_code error;
    std::optional<std::string> value;
  };
  std::optional<cached_get> try_get(std::string_view key, const read_options& ro = {});

  // The newest visible state, pinned; pass it in read_options.
  std::shared_ptr<const strata::snapshot> snapshot();

  // An unpositioned iterator over the whole db at ro.snapshot (or now),
  // up to ro.upper_bound; seek before reading. No I/O until it moves.
  std::unique_ptr<db_iterator> scan(read_options ro = {});

  // Empties the block cache (the seed's clear_cache): later reads go to
  // disk until it warms again. Blocks in use by readers stay valid.
  void clear_cache();

  // Full compaction: flushes the memtables, then merges every level into
  // the next, from level 0 down to the deepest level that holds data, so
  // that all data ends in that one level with obsolete versions and
  // tombstones that no snapshot needs dropped.
  template <typename Token = default_token>
  auto compact(Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler) {
          start_compact(std::nullopt, std::nullopt,
                        detail::posted_handler<boost::system::error_code>(std::move(handler)));
        },
        token);
  }
  // compact() limited to the tables whose keys meet [begin, end] (both
  // inclusive; nullopt: unbounded on that side): each level's tables in
  // the range are merged with what they overlap in the next level, down to
  // the deepest level holding data, whose tables in the range are then
  // rewritten. Data outside the range moves only if it shares a table.
  template <typename Token = default_token>
  auto compact_range(std::optional<std::string> begin, std::optional<std::string> end, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler, std::optional<std::string> b, std::optional<std::string> e) {
          start_compact(std::move(b), std::move(e),
                        detail::posted_handler<boost::system::error_code>(std::move(handler)));
        },
        token, std::move(begin), std::move(end));
  }
  // Waits for writes in flight, syncs the WAL, closes files and releases
  // the LOCK. Later operations complete with errc::closed.
  template <typename Token = default_token>
  auto close(Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler) { start_close(detail::posted_handler<boost::system::error_code>(std::move(handler))); },
        token);
  }
  // Seals the active memtable (if it holds anything) and completes once it
  // and every memtable sealed before it are flushed to tables.
  template <typename Token = default_token>
  auto flush(Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler) { start_flush(detail::posted_handler<boost::system::error_code>(std::move(handler))); },
        token);
  }

  db_stats stats() const;
  const std::string& path() const noexcept;
  // The message of this db's most recent failed operation ("" if none).
  std::string last_error() const;

  ~db();
  db(const db&) = delete;
  db& operator=(const db&) = delete;

 private:
  explicit db(std::unique_ptr<db_impl> impl);
  friend class db_impl;

  static void start_open(executor_type ex, std::string path, options opts,
                         detail::posted_handler<boost::system::error_code, std::shared_ptr<db>> handler);
  void start_write(write_batch batch, write_options wo, detail::posted_handler<boost::system::error_code> handler);
  void start_get(std::string key, read_options ro,
                 detail::posted_handler<boost::system::error_code, std::optional<std::string>> handler);
  // get() with the default token: try_get, else the posted get.
  boost::asio::awaitable<std::optional<std::string>> get_now_or_later(std::string key, read_options ro);
  // The posted get, for any token.
  template <typename Token>
  auto initiate_get(std::string key, read_options ro, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::optional<std::string>)>(
        [this](auto handler, std::string k, read_options r) {
          start_get(std::move(k), r,
                    detail::posted_handler<boost::system::error_code, std::optional<std::string>>(std::move(handler)));
        },
        token, std::move(key), ro);
  }
  void start_get_many(
      std::vector<std::string> keys, read_options ro,
      detail::posted_handler<boost::system::error_code, std::vector<std::optional<std::string>>> handler);
  void start_compact(std::optional<std::string> begin, std::optional<std::string> end,
                     detail::posted_handler<boost::system::error_code> handler);
  void start_close(detail::posted_handler<boost::system::error_code> handler);
  void start_flush(detail::posted_handler<boost::system::error_code> handler);

  std::unique_ptr<db_impl> impl_;
};

// Error codes say what kind of failure; these say which file and why
// ("corruption in /d/000004.log at offset 7: checksum mismatch"), for logs.
// The message of the most recent failed db::open in this process ("" if none).
std::string last_open_error();

}  // namespace strata
