// db/db_impl.hpp — what strata::db does, behind its templates.
//
// State. The active memtable and its WAL (a mem_state); sealed memtables
// waiting for their flush (oldest first), each still backed by its own WAL
// file; the live tables (version_set's current version) opened in a table
// map; the visible sequence (db/visible_sequence.hpp).
//
// Write path, under mu_: pick the active mem_state (rotating first if its
// memtable is full: seal it, take the spare WAL, start a fresh memtable),
// then queue the batch in that state's WAL, reserving its sequence numbers
// inside the WAL's queue lock (wal_writer::async_append_prepared). Because
// both happen under mu_, sequence order = WAL order, and every sequence in
// a sealed memtable is below every sequence in the one after it. When the
// group commit completes: insert into that state's memtable, complete the
// range in the visible sequence (visible once every lower range is in: a
// reader never sees half a batch), acknowledge the caller (parked_ack).
//
// Flush (background pool, one at a time, oldest sealed memtable first):
// once its writes have all landed, write the memtable's versions to a new
// table, fdatasync it and the directory, log the edit (the table added,
// log number = the next memtable's WAL) to the MANIFEST, open the table,
// drop the memtable, delete the WAL files below the log number. A failure
// puts the db in the read-only error state: writes fail, reads work, the
// WAL is kept, nothing acknowledged is lost.
//
// Read path: the active memtable, the sealed ones newest first, then L0
// tables newest first, then levels 1+ by key range, at the published
// sequence; the first version found wins and a tombstone ends the search.
// Tables answer without suspending when their blocks are cached
// (table_reader::try_get); otherwise the rest of the search continues as a
// coroutine on the background pool.
//
// Compaction (background pool, up to max_concurrent_compactions jobs on
// disjoint levels): the picker (compaction/compaction_picker.hpp) chooses
// from the current version; the job merges the inputs into new tables of
// the next level; the new tables are opened and put in the table map, then
// the edit (inputs out, outputs in) is logged, then the inputs leave the
// map and their files are unlinked. A read that took its view earlier
// still holds the input tables open (shared_ptr), and an unlinked file
// stays readable through its descriptor, so reads never miss data.
//
// Lock order: mu_, then versions_mu_, then a wal_writer's own lock.
// Thread safety: every public member may be called from any thread.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/container/small_vector.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "compaction/compaction_job.hpp"
#include "compaction/compaction_picker.hpp"
#include "compaction/level_iterator.hpp"
#include "db/db_lock.hpp"
#include "db/version_set.hpp"
#include "db/visible_sequence.hpp"
#include "io/io_engine.hpp"
#include "sst/block_cache.hpp"
#include "sst/table_reader.hpp"
#include "strata/db.hpp"
#include "strata/memtable.hpp"
#include "util/adaptive_mutex.hpp"
#include "util/histogram.hpp"
#include "util/polling_thread.hpp"
#include "util/striped_counter.hpp"
#include "wal/wal_writer.hpp"

namespace strata {

class db_impl {
 public:
  using error_handler = detail::posted_handler<boost::system::error_code>;
  using get_handler = detail::posted_handler<boost::system::error_code, std::optional<std::string>>;
  using get_many_handler = detail::posted_handler<boost::system::error_code, std::vector<std::optional<std::string>>>;

  db_impl(std::string path, options opts);
  ~db_impl();

  // Blocking: runs on the background pool. On failure the LOCK is already
  // released, so a caller told "failed" may open the directory again at once
  // (the impl itself is destroyed later, off its own pool).
  std::error_code recover(std::string& message);

  void write(write_batch batch, write_options wo, error_handler handler);
  void get(std::string key, read_options ro, get_handler handler);
  // db::try_get: false when a read is needed (nothing counted then).
  bool try_get(std::string_view key, const read_options& ro, std::error_code& error, std::optional<std::string>& value);
  void get_many(std::vector<std::string> keys, read_options ro, get_many_handler handler);
  std::shared_ptr<const snapshot> take_snapshot();
  // The oldest sequence a live snapshot pins (what compaction must keep
  // visible), or the newest visible sequence if none is held.
  sequence_number oldest_snapshot() const;
  void flush(error_handler handler);
  // db::compact / compact_range: a flush, then every level merged down.
  void compact(std::optional<std::string> begin, std::optional<std::string> end, error_handler handler);
  std::unique_ptr<db_iterator> scan(const read_options& ro);  // (db/db_iterator.cpp)
  void clear_cache() { cache_.clear(); }
  void close(error_handler handler);

  db_stats stats() const;
  std::string last_error() const;
  const std::string& path() const noexcept { return path_; }
  boost::asio::any_io_executor background_executor() { return background_.get_executor(); }

 private:
  std::error_code recover_locked_directory(std::string& message);

  // One memtable and the WAL file that backs it.
  struct mem_state {
    std::shared_ptr<memtable> mem;
    std::shared_ptr<wal::wal_writer> wal;  // null with options::wal off, or once recovered
    std::uint64_t log_number = 0;          // its WAL file: the oldest log it needs
    std::uint64_t writes_in_flight = 0;    // guarded by mu_ (a rotation's WAL sync counts as one)
    bool sealed = false;                   // guarded by mu_
    bool wal_synced = false;               // guarded by mu_: its WAL is durable to its end (set once sealed)
  };
  struct open_table {
    std::unique_ptr<io::file> file;
    std::unique_ptr<sst::table_reader> reader;
  };
  // The current version's tables, opened: levels[l][i] is the table of
  // version->levels[l][i], or null while a flush has logged its table but
  // not yet opened it (its memtable still answers for it then). Built by
  // the first read after the version changes and shared by every read
  // until the next change, so a read copies one pointer instead of one per
  // table, and finds a level's table by binary search.
  struct table_set {
    std::shared_ptr<const db_internal::version> version;
    std::uint64_t generation = 0;  // versions_.generation() of `version`
    std::array<std::vector<std::shared_ptr<open_table>>, db_internal::num_levels> levels;
    // Levels >= 1 as the runs a scan's level children read (built once per
    // version, so making an iterator costs nothing per table file).
    std::array<std::shared_ptr<const std::vector<compaction::run_table>>, db_internal::num_levels> runs;
  };
  // What a read looks at, taken under mu_ and then used without it. Inline
  // storage for the usual counts (an active memtable and a sealed one or
  // two; a few level-0 tables and one per deeper level): a get allocates
  // nothing for its view.
  struct read_view {
    boost::container::small_vector<std::shared_ptr<mem_state>, 3> mems;  // newest first
    std::shared_ptr<const table_set> set;                                // keeps `tables` open
    boost::container::small_vector<const open_table*, 16> tables;        // in search order
    sequence_number snapshot = 0;
  };
  // The table_set of the current version (mu_ held).
  std::shared_ptr<const table_set> current_tables() const;
  // One key's answer.
  struct lookup_result {
    std::optional<std::string> value;
    std::error_code error;
    std::string message;
  };
  // The part of a lookup that needs no read: true with `out` set, or false
  // with `from` = the table to continue at with search_tables().
  bool search_without_reads(const read_view& v, std::string_view key, lookup_result& out, std::size_t& from) const;
  boost::asio::awaitable<lookup_result> search_tables(read_view v, std::string key, std::size_t from) const;
  void count_filter(const sst::table_reader& t, const sst::table_lookup& r) const noexcept;
  // Reads one table's answer into `out`: true if it ends the search (found,
  // a tombstone, or an error), false if the key is absent from that table.
  bool table_answered(const sst::table_reader& table, sst::table_lookup& t, lookup_result& out) const;
  using clock = std::chrono::steady_clock;
  void record_latency(histogram& h, clock::time_point start);
  // Gets are timed one in get_latency_sampling per thread: the start time
  // of a timed get, or time_point{} for one that is not.
  static constexpr std::uint32_t get_latency_sampling = 8;  // a power of two
  static clock::time_point get_latency_start();
  // The end of one get's lookup: its latency (if timed), its hit, or its
  // error made the db's background error. The error to report, if any.
  std::error_code settle_get(lookup_result& r, clock::time_point start);
  sequence_number read_sequence(const read_options& ro) const;
  // The view of one key's get: false (and v untouched) once close() has
  // begun; one lock of mu_ for both.
  bool view_for(std::string_view key, sequence_number snapshot, read_view& v) const;
  // view_for in two halves, so that a get_many takes mu_ once for all its
  // keys: the memtables and tables now (mu_ taken; false once closing),
  // then the tables that may hold `key` (replacing v.tables; no lock).
  bool current_view(sequence_number snapshot, read_view& v) const;
  void choose_tables(read_view& v, std::string_view key) const;
  struct pending_write;
  struct flush_waiter {
    std::shared_ptr<mem_state> until;  // complete once this one is flushed
    error_handler handler;
  };

  void submit(const std::shared_ptr<pending_write>& w);  // (again, after a stall)
  // A write's WAL append finished (on the group loop, or inline without a
  // WAL): insert it, make it visible, acknowledge what is ready. On the loop
  // (from_group) a successful write waits in group_applied_ for the group's
  // end (finish_wal_group), which inserts the whole group, makes it visible
  // and acknowledges it under one hold of mu_.
  void apply(const std::shared_ptr<pending_write>& w, std::error_code ec, bool from_group);
  // A write that failed (its WAL append, or its insert: a bug): the error
  // state, its range completed as abandoned, its handler completed with ec.
  void fail_write(const std::shared_ptr<pending_write>& w, std::error_code ec);
  // One WAL per memtable: the writer never rotates on its own (its numbers
  // would collide with the version set's).
  wal::writer_options wal_options();
  // A write whose batch is in its memtable, waiting to be acknowledged until
  // (a) the visible sequence covers it (so a read issued after the
  // acknowledgement sees it) and (b) for a synced write, every older
  // memtable's WAL is synced too (so a crash can never keep it while losing
  // an earlier write: recovery's prefix rule depends on it).
  struct parked_ack {
    sequence_number last = 0;
    bool sync = false;
    std::shared_ptr<mem_state> state;
    error_handler handler;
    std::chrono::steady_clock::time_point start;
  };
  bool ack_ready_locked(const parked_ack& a) const;
  void drain_acks_locked(std::vector<parked_ack>& ready);
  // Records their latencies and completes them, one post per executor.
  void complete_acks(std::vector<parked_ack>& ready);
  // The WAL loop's on_group_end: inserts group_applied_ (a run of
  // consecutive sequences in one memtable as one batch), then finish_writes.
  void finish_wal_group();
  // Successful writes, inserted into their memtables: completes their
  // sequence ranges, publishes them and acknowledges what is ready, under
  // one hold of mu_ for all of them.
  void finish_writes(std::span<const std::shared_ptr<pending_write>> writes);
  // Sets the error state and hands back everyone who would otherwise wait
  // for work that will no longer happen (mu_ held).
  struct woken {
    std::vector<parked_ack> acks;  // to complete with `error`
    std::vector<flush_waiter> flushes;
    std::vector<std::function<void()>> stalled;
    std::error_code error;
  };
  void fail_locked(std::error_code ec, std::string message, woken& out);
  void wake(woken& w);
  void on_rotation_synced(const std::shared_ptr<mem_state>& sealed, std::error_code ec);
  void set_error(std::string message);
  // mu_ held. Seals the active memtable and installs a fresh one with the
  // spare WAL; false if there is no spare yet.
  bool rotate_locked();
  void prepare_spare_wal();            // background: creates the next WAL file
  void maybe_schedule_flush_locked();  // mu_ held
  void run_flush();                    // background
  void after_flush(std::error_code ec, std::string message, std::shared_ptr<open_table> table,
                   const db_internal::table_file& meta);
  void wake_stalled_locked(std::vector<std::function<void()>>& out);
  // Compaction: start what the picker (or a pending db::compact) wants, up
  // to max_concurrent_compactions (mu_ held).
  void maybe_schedule_compaction_locked();
  void run_compaction(compaction::compaction_plan plan, bool manual);  // background
  // One key-range part of a split compaction job (compaction/subcompaction.hpp).
  struct subcompaction {
    std::vector<std::unique_ptr<compaction::internal_iterator>> inputs;
    compaction::job_options options;
    compaction::job_result result;
    std::string message;
    std::error_code error;
  };
  // Runs the parts (one, for a job that is not split) in parallel on this
  // thread and free pool threads; their outputs, in key order, into `result`.
  std::error_code run_subcompactions(const compaction::compaction_plan& plan, std::vector<subcompaction>& parts,
                                     const compaction::new_output_fn& new_output, compaction::job_result& result,
                                     std::string& message);
  void after_compaction(const compaction::compaction_plan& plan, bool manual, std::error_code ec, std::string message,
                        std::vector<std::uint64_t> unlink, double seconds, std::uint64_t read, std::uint64_t written);
  void refresh_level0_locked();  // l0_files_ from the current version (mu_ held)
  // After its flush: queues a db::compact / compact_range.
  void start_manual_compaction(std::optional<std::string> begin, std::optional<std::string> end, error_handler handler);
  // A pending db::compact(): levels next_level .. last_level - 1 are merged
  // down one after the other, then last_level is rewritten in place.
  struct manual_compaction {
    int next_level = 0;
    int last_level = 1;
    bool running = false;
    std::optional<std::string> begin, end;  // compact_range's user keys; nullopt: unbounded
    error_handler handler;
  };
  void finish_close_if_idle_locked();  // mu_ held
  void finish_close();                 // background
  void close_done(std::error_code ec);
  std::error_code open_table_file(std::uint64_t number, std::shared_ptr<open_table>& out, std::string& message);

  const std::string path_;
  const options options_;
  std::unique_ptr<io::io_engine> engine_;
  sst::block_cache cache_;
  boost::asio::thread_pool background_;
  // The WAL group loops (and the memtable inserts and acks they do for each
  // group) on a thread of their own: on the pool they waited, and with them
  // every write, whenever a flush and a compaction held both pool threads.
  // It polls a while before sleeping (options.wal_poll_microseconds; see
  // docs/db.md, "Threads").
  util::polling_thread wal_thread_;
  db_internal::db_lock lock_;
  mutable std::mutex versions_mu_;  // guards versions_' non-const calls
  db_internal::version_set versions_;
  std::unique_ptr<db_internal::visible_sequence> sequences_;  // reserve/complete under mu_
  std::shared_ptr<snapshot::registry> snapshots_;

  mutable util::adaptive_mutex mu_;  // guards everything below; spins before it sleeps (see there)
  std::shared_ptr<mem_state> active_;
  std::deque<std::shared_ptr<mem_state>> sealed_;  // oldest first
  std::shared_ptr<wal::wal_writer> spare_wal_;
  std::uint64_t spare_wal_number_ = 0;
  bool spare_wal_pending_ = false;
  std::map<std::uint64_t, std::shared_ptr<open_table>> tables_;
  mutable std::shared_ptr<const table_set> table_set_;  // guarded by mu_; see current_tables()
  bool flush_running_ = false;
  std::vector<flush_waiter> flush_waiters_;
  std::vector<std::function<void()>> stalled_;  // writes waiting for room
  std::vector<parked_ack> acks_;
  // The current WAL group's successful writes, in the WAL but not yet in
  // their memtable. Not guarded by mu_: only the group loops touch it, all
  // on wal_thread_, and each fills it and empties it (on_written, then
  // on_group_end) without suspending in between, so two loops never mix.
  std::vector<std::shared_ptr<pending_write>> group_applied_;
  std::vector<memtable::batch_op> group_ops_;  // finish_wal_group's scratch; the same rule
  std::error_code background_error_;           // sticky: the db is read-only
  bool closing_ = false;
  bool closed_ = false;
  bool close_started_ = false;
  error_handler close_handler_;
  std::string last_error_;
  std::uint64_t flushes_ = 0, flush_bytes_ = 0, stalls_ = 0;
  wal::writer_stats retired_wal_stats_;  // WALs of flushed memtables
  compaction::leveled_picker picker_;
  std::array<bool, db_internal::num_levels> busy_levels_{};  // a running job reads or writes the level
  unsigned compactions_running_ = 0;
  std::size_t l0_files_ = 0;     // level 0 of the current version
  unsigned delayed_writes_ = 0;  // writes waiting out a slowdown delay
  std::deque<manual_compaction> manual_;
  std::uint64_t subcompactions_ = 0;  // parts run by split jobs
  std::uint64_t compactions_ = 0, trivial_moves_ = 0, compaction_bytes_read_ = 0, compaction_bytes_written_ = 0;
  std::uint64_t slowdowns_ = 0;
  double compaction_seconds_ = 0;
  std::array<std::uint64_t, db_internal::num_levels> level_compaction_read_{}, level_compaction_written_{};

  // Relaxed counters: statistics only.
  // Bumped by every write and get, on any thread: striped (see
  // util/striped_counter.hpp), so that readers on different cores do not
  // trade one cache line per count.
  util::striped_counter puts_, erases_, batches_, gets_, get_hits_, user_bytes_;
  mutable util::striped_counter bloom_checked_, bloom_useful_;
  mutable std::mutex latency_mu_;  // guards the two histograms
  histogram put_latency_, get_latency_;
  std::uint64_t recovered_records_ = 0;  // written once, in recover()
};

}  // namespace strata
