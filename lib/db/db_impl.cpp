#include "db/db_impl.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <limits>
#include <set>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "compaction/compaction_job.hpp"
#include "compaction/level_iterator.hpp"
#include "compaction/subcompaction.hpp"
#include "db/file_names.hpp"
#include "io/fs.hpp"
#include "sst/internal_key.hpp"
#include "sst/table_writer.hpp"
#include "wal/wal_recovery.hpp"

namespace strata {

namespace asio = boost::asio;
using db_internal::table_file;

namespace {

std::mutex open_error_mu;
std::string open_error;  // guarded by open_error_mu

boost::system::error_code to_boost(std::error_code ec) { return ec; }

// The grandparent bytes one compaction output may overlap, which also
// bounds trivial moves: LevelDB's 10 target files.
std::uint64_t grandparent_overlap_limit(const options& o) {
  return 10 * std::max<std::uint64_t>(1, o.target_file_bytes);
}

// Any file a db would have written: a directory holding one is not empty.
// MANIFEST and temp files alone are what a crash during the db's creation
// leaves (CURRENT is written last, and the first logs after it): not data.
bool has_db_files(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::uint64_t number = 0;
    const auto kind = db_internal::parse_file_name(entry.path().filename().string(), number);
    if (kind == db_internal::file_kind::log || kind == db_internal::file_kind::table) return true;
  }
  return false;
}

memtable::batch_op op_of(bool is_put, std::string_view key, std::string_view value) {
  return {is_put ? value_type::value : value_type::deletion, key, value};
}

// Appends a batch's ops to `ops` (views into the batch). No reserve here:
// called once per member of a group, an exact reserve each time would
// defeat the vector's geometric growth.
void append_ops_of(const write_batch& batch, std::vector<memtable::batch_op>& ops) {
  batch.for_each(
      [&](bool is_put, std::string_view key, std::string_view value) { ops.push_back(op_of(is_put, key, value)); });
}

std::vector<memtable::batch_op> ops_of(const write_batch& batch) {
  std::vector<memtable::batch_op> ops;
  ops.reserve(batch.count());
  append_ops_of(batch, ops);
  return ops;
}

// insert_batch for a batch's ops; small batches (most writes are one put)
// decode onto the stack instead of a vector.
std::error_code insert_batch_of(memtable& mem, sequence_number first, const write_batch& batch) {
  constexpr std::uint32_t small = 8;
  if (batch.count() > small) return mem.insert_batch(first, ops_of(batch));
  std::array<memtable::batch_op, small> ops;
  std::size_t n = 0;
  batch.for_each([&](bool is_put, std::string_view key, std::string_view value) {
    if (n < small) ops[n] = op_of(is_put, key, value);
    ++n;
  });
  if (n > small) return mem.insert_batch(first, ops_of(batch));  // count() disagreed: let insert_batch judge
  return mem.insert_batch(first, std::span<const memtable::batch_op>(ops.data(), n));
}

// Runs an awaitable to completion on the calling (background) thread: the
// io layer posts its completions to this private context, which we run.
template <typename T>
T run_here(asio::awaitable<T> aw) {
  asio::io_context ctx;
  auto result = asio::co_spawn(ctx, std::move(aw), asio::use_future);
  ctx.run();
  return result.get();
}

// Every version in the memtable, in internal-key order, into one table.
asio::awaitable<std::error_code> write_table(const memtable& mem, io::file& file, sst::table_options topts,
                                             table_file& meta) {
  sst::table_file_writer writer(file, topts);
  auto cursor = mem.new_cursor({.snapshot = std::nullopt, .all_versions = true, .include_deletions = true});
  cursor.seek_to_first();
  bool first = true;
  std::string key;
  while (cursor.valid()) {
    const memtable::entry e = cursor.current();
    key = sst::make_internal_key(e.key, e.sequence, e.type);
    std::error_code ec = writer.append(key, e.value);
    if (!ec && writer.should_write()) ec = co_await writer.write_pending();
    if (ec) {
      co_await writer.drain();  // a write in flight must not outlive the writer's caller
      co_return ec;
    }
    if (first) {
      meta.smallest = key;
      meta.smallest_sequence = e.sequence;
      meta.largest_sequence = e.sequence;
      first = false;
    }
    meta.smallest_sequence = std::min(meta.smallest_sequence, e.sequence);
    meta.largest_sequence = std::max(meta.largest_sequence, e.sequence);
    cursor.next();
  }
  meta.largest = key;
  co_return co_await writer.finish();
}

}  // namespace

std::string to_string(const db_stats& s) {
  std::string out;
  auto line = [&out](std::string_view name, auto value) {
    fmt::format_to(std::back_inserter(out), "{}={}\n", name, value);
  };
  auto micros = [&out](std::string_view name, double value) {
    fmt::format_to(std::back_inserter(out), "{}={:.1f}\n", name, value);
  };
  line("puts", s.puts);
  line("erases", s.erases);
  line("batches", s.batches);
  line("gets", s.gets);
  line("get_hits", s.get_hits);
  line("user_bytes_written", s.user_bytes_written);
  line("wal_bytes_written", s.wal_bytes_written);
  line("wal_groups", s.wal_groups);
  line("wal_syncs", s.wal_syncs);
  micros("wal_mean_group_size", s.wal_mean_group_size);
  line("last_sequence", s.last_sequence);
  line("memtable_entries", s.memtable_entries);
  line("estimated_keys", s.estimated_keys);
  line("memtable_bytes", s.memtable_bytes);
  line("immutable_memtables", s.immutable_memtables);
  line("flushes", s.flushes);
  line("flush_bytes", s.flush_bytes);
  line("l0_files", s.l0_files);
  line("table_files", s.table_files);
  line("table_bytes", s.table_bytes);
  line("stalls", s.stalls);
  line("slowdowns", s.slowdowns);
  line("compactions", s.compactions);
  line("trivial_moves", s.trivial_moves);
  line("subcompactions", s.subcompactions);
  line("compaction_bytes_read", s.compaction_bytes_read);
  line("compaction_bytes_written", s.compaction_bytes_written);
  micros("compaction_seconds", s.compaction_seconds);
  line("compactions_running", s.compactions_running);
  micros("max_compaction_score", s.max_compaction_score);
  micros("write_amplification", s.write_amplification);
  for (std::size_t level = 0; level < s.level_files.size(); ++level) {
    if (s.level_files[level] == 0 && s.level_compaction_written[level] == 0) continue;
    line(fmt::format("level{}_files", level), s.level_files[level]);
    line(fmt::format("level{}_bytes", level), s.level_bytes[level]);
    line(fmt::format("level{}_compaction_read", level), s.level_compaction_read[level]);
    line(fmt::format("level{}_compaction_written", level), s.level_compaction_written[level]);
  }
  line("block_cache_hits", s.block_cache_hits);
  line("block_cache_misses", s.block_cache_misses);
  line("bloom_checked", s.bloom_checked);
  line("bloom_useful", s.bloom_useful);
  micros("put_p50_us", s.put_p50_us);
  micros("put_p99_us", s.put_p99_us);
  micros("put_p999_us", s.put_p999_us);
  micros("get_p50_us", s.get_p50_us);
  micros("get_p99_us", s.get_p99_us);
  micros("get_p999_us", s.get_p999_us);
  line("recovered_records", s.recovered_records);
  return out;
}

std::string last_open_error() {
  std::lock_guard lock(open_error_mu);
  return open_error;
}

struct snapshot::registry {
  std::mutex mu;
  std::multiset<std::uint64_t> live;  // guarded by mu
};

snapshot::~snapshot() {
  std::lock_guard lock(registry_->mu);
  registry_->live.erase(registry_->live.find(sequence_));
}

struct db_impl::pending_write {
  write_batch batch;
  error_handler handler;
  bool sync = false;
  std::shared_ptr<mem_state> state;  // set when queued
  sequence_number first = 0;         // 0 until reserved
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  bool delayed = false;  // already waited out one slowdown delay
};

db_impl::db_impl(std::string path, options opts)
    : path_(std::move(path)),
      options_(opts),
      engine_(io::make_io_engine({.force_fallback = opts.force_io_fallback})),
      cache_(std::max<std::size_t>(opts.block_cache_bytes, 1)),
      background_(opts.background_threads == 0 ? 1 : opts.background_threads),
      wal_thread_(std::chrono::microseconds(opts.wal_poll_microseconds)),
      versions_(path_),
      snapshots_(std::make_shared<snapshot::registry>()),
      // The trigger never above the stop: writers stopped by level 0 must
      // be able to count on the compaction that frees them.
      picker_({.level0_compaction_trigger =
                   opts.level0_stop_writes_trigger > 0
                       ? std::min(std::max(1u, opts.level0_compaction_trigger), opts.level0_stop_writes_trigger)
                       : opts.level0_compaction_trigger,
               .max_bytes_for_level_base = opts.max_bytes_for_level_base,
               .max_bytes_for_level_multiplier = opts.max_bytes_for_level_multiplier,
               .choice = opts.compaction_round_robin ? compaction::file_choice::round_robin
                                                     : compaction::file_choice::min_overlapping_ratio,
               .expanded_compaction_limit = 25 * std::max<std::uint64_t>(1, opts.target_file_bytes),
               .max_grandparent_overlap_bytes = grandparent_overlap_limit(opts)}) {
  if (auto* faults = io::process_fault_injector()) engine_->set_fault_injector(faults);
}

db_impl::~db_impl() {
  // Jobs in flight finish first; they may still append to a WAL (a close's
  // final flush), so the WAL thread stops after them. (Its loops may post
  // to the pool, e.g. a flush once a memtable fills; after the pool is
  // joined such a post is dropped, which only happens to a db destroyed
  // without close(), whose data is still in its WAL.)
  background_.join();
  wal_thread_.join();
  std::lock_guard lock(mu_);
  active_.reset();
  sealed_.clear();
  spare_wal_.reset();
  tables_.clear();
}

std::error_code db_impl::open_table_file(std::uint64_t number, std::shared_ptr<open_table>& out, std::string& message) {
  auto t = std::make_shared<open_table>();
  std::error_code ec;
  const std::string name = db_internal::table_file_name(path_, number);
  t->file = io::file::open(*engine_, name, {.read_only = true}, ec);
  if (ec) {
    const int error = errno;
    if (error == ENOENT) {  // named by the MANIFEST, so the db is damaged
      message = fmt::format("open {}: No such file or directory (a live table named by the MANIFEST is missing)", name);
      return errc::corruption;
    }
    message = fmt::format("open {}: {}", name, std::strerror(error));
    return ec;
  }
  std::uint64_t size = 0;
  if (auto sec = t->file->size(size)) {
    message = t->file->last_error();
    return sec;
  }
  auto opened = run_here(sst::table_reader::open(*t->file, size, &cache_));
  if (opened.error) {
    message = opened.message;
    return opened.error;
  }
  t->reader = std::move(opened.table);
  out = std::move(t);
  return {};
}

std::error_code db_impl::recover(std::string& message) {
  auto ec = recover_locked_directory(message);
  if (ec) lock_.release();
  return ec;
}

std::error_code db_impl::recover_locked_directory(std::string& message) {
  std::error_code fs_ec;
  if (!std::filesystem::is_directory(path_, fs_ec)) {
    if (!options_.create_if_missing) {
      message = fmt::format("{}: no such db (create_if_missing is off)", path_);
      return errc::invalid_argument;
    }
    std::filesystem::create_directories(path_, fs_ec);
    if (fs_ec) {
      message = fmt::format("create directory {}: {}", path_, fs_ec.message());
      return io::errno_to_error(fs_ec.value());
    }
    // The new directory's own name is durable before anything in it is.
    if (auto ec = io::sync_dir(io::parent_dir(path_), message)) return ec;
  }
  if (auto ec = lock_.acquire(path_, message)) return ec;
  auto ec = versions_.recover(message);
  if (ec == errc::not_found) {
    if (has_db_files(path_)) {
      message = fmt::format("{}: holds db files but no CURRENT (damaged db; not opening it)", path_);
      return errc::corruption;
    }
    if (!options_.create_if_missing) {
      message = fmt::format("{}: not a strata db (create_if_missing is off)", path_);
      return errc::invalid_argument;
    }
    // Leftovers of an interrupted creation go with the other leftovers below
    // (a MANIFEST number met again is simply rewritten: O_TRUNC).
    if ((ec = versions_.create(message))) return ec;
  } else if (ec) {
    return ec;
  } else if (options_.error_if_exists) {
    message = fmt::format("{}: db exists (error_if_exists is on)", path_);
    return errc::invalid_argument;
  }

  // The live tables.
  const auto version = versions_.current();
  for (const auto& level : version->levels) {
    for (const auto& f : level) {
      std::shared_ptr<open_table> t;
      if ((ec = open_table_file(f.number, t, message))) {
        message += fmt::format(" (listed in {})", db_internal::manifest_file_name(path_, versions_.manifest_number()));
        return ec;
      }
      tables_[f.number] = std::move(t);
    }
  }

  // Replay every log from the recorded log number on, oldest first, into
  // one memtable, which is then flushed like any sealed memtable.
  auto recovered = memtable::create();
  auto logs = wal::list_logs(path_, ec);
  if (ec) {
    message = fmt::format("list {}: {}", path_, ec.message());
    return ec;
  }
  std::vector<std::uint64_t> live;
  for (const auto n : logs) {
    versions_.mark_file_number_used(n);
    if (n >= versions_.log_number()) live.push_back(n);
  }
  sequence_number last = versions_.last_sequence();
  wal::replay_result replayed;
  const auto on_record = [&](std::string_view record, std::uint64_t log_number) -> std::error_code {
    write_batch batch;
    if (auto dec = write_batch::decode(record, batch)) {
      message = fmt::format("corruption in {}: a record that passed its checksum is not a write batch",
                            wal::log_file_name(path_, log_number));
      return dec;
    }
    if (batch.count() == 0) return {};
    if (auto ins = recovered->insert_batch(batch.sequence(), ops_of(batch))) {
      message = fmt::format("replaying {}: {}", wal::log_file_name(path_, log_number), ins.message());
      return ins;
    }
    last = std::max<sequence_number>(last, batch.sequence() + batch.count() - 1);
    return {};
  };
  ec = wal::replay_logs(path_, live, {.skip_corruption = !options_.error_on_corrupt_wal, .torn_tail_ends_replay = true},
                        on_record, replayed);
  if (ec) {
    if (message.empty()) message = replayed.error;
    return ec;
  }
  if (replayed.ignored_logs > 0) {
    // Logs after a torn one hold nothing acknowledged as durable (see
    // replay_options) and must never be replayed later, after the tear has
    // been truncated away: delete them, durably, before anything else.
    for (std::size_t i = live.size() - replayed.ignored_logs; i < live.size(); ++i)
      io::remove_file(wal::log_file_name(path_, live[i]));
    live.resize(live.size() - replayed.ignored_logs);
    if ((ec = io::sync_dir(path_, message))) return ec;
  }
  recovered_records_ = replayed.records;
  versions_.set_last_sequence(last);
  recovered->publish(last);
  sequences_ = std::make_unique<db_internal::visible_sequence>(last);

  auto active = std::make_shared<mem_state>();
  active->mem = memtable::create();
  if (options_.wal) {
    for (auto* target : {&active->wal, &spare_wal_}) {
      const std::uint64_t number = versions_.new_file_number();
      *target = wal::wal_writer::create(*engine_, wal_thread_.get_executor(), path_, number, wal_options(), ec);
      if (ec) {
        message = fmt::format("create {}: {}", wal::log_file_name(path_, number), ec.message());
        return ec;
      }
      (target == &active->wal ? active->log_number : spare_wal_number_) = number;
    }
    // The logs' names are durable before a synced write in them is
    // acknowledged: otherwise a power cut takes the whole file.
    if ((ec = io::sync_dir(path_, message))) return ec;
  }
  // Logs that held no record at all (a db opened and closed without
  // writes leaves its two fresh logs so) have nothing to keep: they go
  // below, or every open would add two more. A log with anything in it,
  // even a damaged record skipped or a torn tail, stays until the flush of
  // what it recovered makes it obsolete.
  const bool replayed_logs_were_empty =
      recovered->empty() && replayed.records == 0 && replayed.dropped_bytes == 0 && !replayed.torn_tail;
  std::lock_guard lock(mu_);
  if (!recovered->empty()) {
    auto state = std::make_shared<mem_state>();
    state->mem = std::move(recovered);
    state->log_number = live.empty() ? active->log_number : live.front();
    state->sealed = true;
    state->wal_synced = true;  // its logs are read back; the memtable itself is flushed next
    sealed_.push_back(std::move(state));
  }
  active_ = std::move(active);
  // Leftovers: tables a crash left unrecorded, temp files, obsolete logs.
  std::set<std::uint64_t> live_tables;
  for (const auto& level : version->levels) {
    for (const auto& f : level) live_tables.insert(f.number);
  }
  for (const auto& entry : std::filesystem::directory_iterator(path_, fs_ec)) {
    std::uint64_t number = 0;
    const auto kind = db_internal::parse_file_name(entry.path().filename().string(), number);
    const bool obsolete = (kind == db_internal::file_kind::table && live_tables.count(number) == 0) ||
                          kind == db_internal::file_kind::temp ||
                          (kind == db_internal::file_kind::manifest && number != versions_.manifest_number()) ||
                          (kind == db_internal::file_kind::log &&
                           (number < versions_.log_number() ||
                            (replayed_logs_were_empty && std::find(live.begin(), live.end(), number) != live.end())));
    if (obsolete) io::remove_file(entry.path().string());
  }
  refresh_level0_locked();
  maybe_schedule_flush_locked();
  maybe_schedule_compaction_locked();
  return {};
}

void db_impl::set_error(std::string message) {
  std::lock_guard lock(mu_);
  last_error_ = std::move(message);
}

std::string db_impl::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

// ---- writes ----

void db_impl::write(write_batch batch, write_options wo, error_handler handler) {
  bool invalid = false;
  std::uint64_t puts = 0, erases = 0, bytes = 0;
  const auto malformed = batch.for_each([&](bool is_put, std::string_view key, std::string_view value) {
    invalid = invalid || key.size() > db::max_key_bytes || value.size() > db::max_value_bytes;
    (is_put ? puts : erases) += 1;
    bytes += key.size() + value.size();
  });
  if (malformed || invalid) {
    set_error(malformed
                  ? std::string("malformed write batch")
                  : fmt::format("key over {} bytes or value over {} bytes", db::max_key_bytes, db::max_value_bytes));
    handler.complete(to_boost(errc::invalid_argument));
    return;
  }
  puts_.add(puts);
  erases_.add(erases);
  batches_.add(1);
  user_bytes_.add(bytes);
  submit(std::make_shared<pending_write>(pending_write{std::move(batch), std::move(handler), wo.sync, nullptr, 0}));
}

void db_impl::submit(const std::shared_ptr<pending_write>& w) {
  std::unique_lock lock(mu_);
  std::error_code refuse;
  if (closing_ || closed_) refuse = errc::closed;
  if (!refuse && background_error_) refuse = background_error_;
  if (refuse) {
    lock.unlock();
    w->handler.complete(to_boost(refuse));
    return;
  }
  if (w->batch.count() == 0) {
    lock.unlock();
    w->handler.complete({});
    return;
  }
  if (!w->delayed && options_.level0_slowdown_writes_trigger > 0 &&
      l0_files_ >= options_.level0_slowdown_writes_trigger) {
    // Level 0 is filling faster than compaction drains it: hand each write
    // a 1 ms delay (LevelDB's), once, so compaction gets the disk and the
    // CPU before the stop trigger halts writers outright.
    w->delayed = true;
    ++slowdowns_;
    ++delayed_writes_;
    auto timer = std::make_shared<asio::steady_timer>(background_, std::chrono::milliseconds(1));
    timer->async_wait([this, w, timer](boost::system::error_code) {
      {
        std::lock_guard relock(mu_);
        --delayed_writes_;
      }
      submit(w);
    });
    return;
  }
  if (active_->mem->memory_usage() >= options_.memtable_bytes) {
    // Backpressure: wait for a flush to make room (or for the spare WAL), or
    // for compaction to shrink level 0.
    const bool level0_full =
        options_.level0_stop_writes_trigger > 0 && l0_files_ >= options_.level0_stop_writes_trigger;
    if (level0_full || sealed_.size() >= std::max(1u, options_.max_immutable_memtables) || !rotate_locked()) {
      ++stalls_;
      stalled_.push_back([this, w] { submit(w); });
      return;
    }
  }
  auto state = active_;
  ++state->writes_in_flight;
  w->state = state;
  if (!state->wal) {
    w->first = sequences_->reserve(w->batch.count());
    w->batch.set_sequence(w->first);
    lock.unlock();
    apply(w, {}, false);
    return;
  }
  auto* raw = w.get();
  // Under mu_: sequence order = WAL order, across memtable rotations too.
  // apply runs on the WAL's group loop, a background thread, right after
  // the group's write.
  state->wal->append_prepared(
      raw->batch.rep(), raw->sync,
      [this, raw] {
        raw->first = sequences_->reserve(raw->batch.count());
        raw->batch.set_sequence(raw->first);  // in place: the queued payload view stays valid
      },
      [this, w](std::error_code ec) { apply(w, ec, !ec); });  // success only ever comes from the loop
}

void db_impl::apply(const std::shared_ptr<pending_write>& w, std::error_code ec, bool from_group) {
  if (!ec && from_group) {
    // Inserted at the group's end (finish_wal_group), with the rest of the
    // group: one hold of mu_ for all of them (taken here for every member,
    // it made the loop and the callers' submit() contend, and every
    // contended hand-off is a futex wake-up), and one memtable insert for
    // every run of consecutive sequences, whose searches overlap.
    group_applied_.push_back(w);
    return;
  }
  if (!ec) ec = insert_batch_of(*w->state->mem, w->first, w->batch);  // validated: only a bug fails here
  if (!ec) {
    finish_writes({&w, 1});
    return;
  }
  fail_write(w, ec);
}

void db_impl::fail_write(const std::shared_ptr<pending_write>& w, std::error_code ec) {
  woken failed;
  std::vector<parked_ack> ready;
  {
    std::lock_guard lock(mu_);
    // Complete the range even on failure (abandoned), or later ranges
    // would never become visible.
    if (w->first != 0) sequences_->complete(w->first, w->batch.count());
    // The WAL writer is failed for good: no later write may be acknowledged.
    fail_locked(ec, fmt::format("write failed: {}", w->state->wal ? w->state->wal->last_error() : ec.message()),
                failed);
    --w->state->writes_in_flight;
    drain_acks_locked(ready);
    maybe_schedule_flush_locked();
    finish_close_if_idle_locked();
  }
  w->state->mem->publish(sequences_->visible());  // the memtable's own snapshot point, kept in step
  record_latency(put_latency_, w->start);
  w->handler.complete(to_boost(ec));
  complete_acks(ready);
  wake(failed);
}

wal::writer_options db_impl::wal_options() {
  return {.max_file_bytes = std::numeric_limits<std::uint64_t>::max(), .on_group_end = [this] { finish_wal_group(); }};
}

void db_impl::complete_acks(std::vector<parked_ack>& ready) {
  if (ready.empty()) return;
  std::vector<error_handler> handlers;
  handlers.reserve(ready.size());
  const auto now = clock::now();
  {
    std::lock_guard lock(latency_mu_);
    for (auto& a : ready) {
      put_latency_.record(static_cast<std::uint64_t>(std::chrono::nanoseconds(now - a.start).count()));
      handlers.push_back(std::move(a.handler));
    }
  }
  ready.clear();
  error_handler::complete_all(handlers, boost::system::error_code{});
}

void db_impl::finish_wal_group() {
  std::vector<std::shared_ptr<pending_write>> applied;
  applied.swap(group_applied_);
  // Members whose sequence ranges follow one another in the same memtable
  // (a group's members always do, unless a write without the WAL took a
  // sequence between them) go in as one batch.
  std::vector<std::pair<std::shared_ptr<pending_write>, std::error_code>> failed;
  std::size_t run_begin = 0;
  for (std::size_t i = 1; i <= applied.size(); ++i) {
    if (i < applied.size() && applied[i]->state == applied[i - 1]->state &&
        applied[i]->first == applied[i - 1]->first + applied[i - 1]->batch.count()) {
      continue;
    }
    const auto run = std::span(applied).subspan(run_begin, i - run_begin);
    group_ops_.clear();
    for (const auto& w : run) append_ops_of(w->batch, group_ops_);
    const std::error_code ec = run[0]->state->mem->insert_batch(run[0]->first, group_ops_);
    // Validated: only a bug fails here. Which member's op it was is not
    // known, so the whole run fails.
    if (ec) {
      for (auto& w : run) failed.emplace_back(std::move(w), ec);
    }
    run_begin = i;
  }
  if (!failed.empty()) std::erase(applied, nullptr);
  finish_writes(applied);
  for (const auto& [w, ec] : failed) fail_write(w, ec);
}

void db_impl::finish_writes(std::span<const std::shared_ptr<pending_write>> writes) {
  std::vector<parked_ack> ready;
  {
    std::lock_guard lock(mu_);
    for (const auto& w : writes) {
      const std::uint32_t count = w->batch.count();
      sequences_->complete(w->first, count);
      acks_.push_back({w->first + count - 1, w->sync, w->state, std::move(w->handler), w->start});
      --w->state->writes_in_flight;
    }
    if (!writes.empty()) {
      drain_acks_locked(ready);
      maybe_schedule_flush_locked();
    }
    finish_close_if_idle_locked();
  }
  // The memtable's own snapshot point, kept in step, before any
  // acknowledgement, so a read issued after one sees the write. A WAL
  // group's members share their memtable: one publish for the run.
  const mem_state* published = nullptr;
  for (const auto& w : writes) {
    if (w->state.get() == published) continue;
    published = w->state.get();
    w->state->mem->publish(sequences_->visible());
  }
  complete_acks(ready);
}

bool db_impl::ack_ready_locked(const parked_ack& a) const {
  if (a.last > sequences_->visible()) return false;
  if (!a.sync) return true;
  for (const auto& s : sealed_) {  // oldest first: the ones before a.state are older
    if (s == a.state) break;
    if (!s->wal_synced) return false;
  }
  return true;
}

void db_impl::drain_acks_locked(std::vector<parked_ack>& ready) {
  // One pass that compacts what stays: erasing each ready entry in place
  // moved the rest every time, quadratic in a WAL group's size, under mu_.
  auto kept = acks_.begin();
  for (auto it = acks_.begin(); it != acks_.end(); ++it) {
    if (ack_ready_locked(*it)) {
      ready.push_back(std::move(*it));
    } else {
      if (kept != it) *kept = std::move(*it);
      ++kept;
    }
  }
  acks_.erase(kept, acks_.end());
}

void db_impl::fail_locked(std::error_code ec, std::string message, woken& out) {
  if (!background_error_) background_error_ = ec;
  last_error_ = std::move(message);
  out.error = background_error_;
  // Writes parked for a WAL sync that may never come: not acknowledged.
  for (auto it = acks_.begin(); it != acks_.end();) {
    if (!ack_ready_locked(*it)) {
      out.acks.push_back(std::move(*it));
      it = acks_.erase(it);
    } else {
      ++it;
    }
  }
  if (!flush_running_) out.flushes.swap(flush_waiters_);  // no flush will run now
  out.stalled.swap(stalled_);                             // they will see the error state
}

void db_impl::wake(woken& w) {
  for (auto& a : w.acks) a.handler.complete(to_boost(w.error));
  for (auto& f : w.flushes) f.handler.complete(to_boost(w.error));
  for (auto& f : w.stalled) f();
}

void db_impl::on_rotation_synced(const std::shared_ptr<mem_state>& sealed, std::error_code ec) {
  woken failed;
  std::vector<parked_ack> ready;
  {
    std::lock_guard lock(mu_);
    if (ec) {
      fail_locked(ec,
                  fmt::format("syncing {}: {}", wal::log_file_name(path_, sealed->log_number),
                              sealed->wal ? sealed->wal->last_error() : ec.message()),
                  failed);
    } else {
      sealed->wal_synced = true;
    }
    --sealed->writes_in_flight;
    drain_acks_locked(ready);
    maybe_schedule_flush_locked();
    finish_close_if_idle_locked();
  }
  complete_acks(ready);
  wake(failed);
}

void db_impl::record_latency(histogram& h, clock::time_point start) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start).count();
  std::lock_guard lock(latency_mu_);
  h.record(static_cast<std::uint64_t>(ns));
}

void db_impl::count_filter(const sst::table_reader& t, const sst::table_lookup& r) const noexcept {
  if (!t.has_filter()) return;
  bloom_checked_.add(1);
  if (r.filtered) bloom_useful_.add(1);
}

bool db_impl::rotate_locked() {
  if (options_.wal && !spare_wal_) {
    if (!spare_wal_pending_) {
      spare_wal_pending_ = true;
      asio::post(background_, [this] { prepare_spare_wal(); });
    }
    return false;
  }
  active_->sealed = true;
  sealed_.push_back(active_);
  if (active_->wal) {
    // Make the sealed WAL durable to its end (counted as a write in flight,
    // so its flush and close wait for it): synced writes in the next WAL are
    // acknowledged only after it (see parked_ack).
    ++active_->writes_in_flight;
    active_->wal->async_flush(asio::bind_executor(
        background_.get_executor(), [this, sealed = active_](std::error_code ec) { on_rotation_synced(sealed, ec); }));
  } else {
    active_->wal_synced = true;
  }
  auto fresh = std::make_shared<mem_state>();
  fresh->mem = memtable::create();
  if (options_.wal) {
    fresh->wal = std::move(spare_wal_);
    fresh->log_number = spare_wal_number_;
    spare_wal_pending_ = true;
    asio::post(background_, [this] { prepare_spare_wal(); });
  }
  active_ = std::move(fresh);
  maybe_schedule_flush_locked();
  return true;
}

void db_impl::prepare_spare_wal() {
  std::uint64_t number = 0;
  {
    std::lock_guard lock(versions_mu_);
    number = versions_.new_file_number();
  }
  std::error_code ec;
  auto wal = wal::wal_writer::create(*engine_, wal_thread_.get_executor(), path_, number, wal_options(), ec);
  std::string message;
  // Its name is durable before it takes writes (see recover_locked_directory).
  if (!ec) ec = io::sync_dir(path_, message);
  if (ec && message.empty()) message = fmt::format("create {}: {}", wal::log_file_name(path_, number), ec.message());
  std::vector<std::function<void()>> wake;
  woken failed;
  {
    std::lock_guard lock(mu_);
    spare_wal_pending_ = false;
    if (ec) {
      fail_locked(ec, std::move(message), failed);
    } else {
      spare_wal_ = std::move(wal);
      spare_wal_number_ = number;
    }
    wake_stalled_locked(wake);
    finish_close_if_idle_locked();
  }
  for (auto& f : wake) f();
  this->wake(failed);
}

void db_impl::wake_stalled_locked(std::vector<std::function<void()>>& out) { out.swap(stalled_); }

// ---- flush ----

void db_impl::maybe_schedule_flush_locked() {
  if (flush_running_ || closing_ || closed_ || sealed_.empty() || background_error_) return;
  if (sealed_.front()->writes_in_flight > 0) return;  // its last writes have not landed yet
  flush_running_ = true;
  asio::post(background_, [this] { run_flush(); });
}

void db_impl::run_flush() {
  std::shared_ptr<mem_state> s;
  std::uint64_t next_log = 0;
  {
    std::lock_guard lock(mu_);
    s = sealed_.front();
    next_log = sealed_.size() > 1 ? sealed_[1]->log_number : active_->log_number;
  }
  std::string message;
  std::error_code ec;
  table_file meta;
  std::shared_ptr<open_table> table;
  if (!s->mem->empty()) {
    {
      std::lock_guard lock(versions_mu_);
      meta.number = versions_.new_file_number();
    }
    const std::string name = db_internal::table_file_name(path_, meta.number);
    auto file = io::file::open(*engine_, name, {.create = true, .truncate = true}, ec);
    if (ec) {
      message = fmt::format("create {}: {}", name, ec.message());
    } else {
      const sst::table_options topts{
          .block_size = options_.block_size,
          .bits_per_key = options_.bits_per_key,
          .data_compression = options_.compress_tables ? sst::compression::lz4 : sst::compression::none};
      ec = run_here(write_table(*s->mem, *file, topts, meta));
      if (ec)
        message = fmt::format("writing {}: {}", name, file->last_error().empty() ? ec.message() : file->last_error());
      if (!ec && (ec = file->size(meta.size))) message = file->last_error();
      if (!ec) ec = io::sync_dir(path_, message);  // the new name is durable before the MANIFEST names it
    }
    if (!ec) ec = open_table_file(meta.number, table, message);
    if (!ec) {
      // Open before the edit names it: once log_and_apply installs the
      // version, a compaction may pick the table at once (as compaction
      // does for its outputs). Found by tests/crash.
      std::lock_guard lock(mu_);
      tables_[meta.number] = table;
    }
  }
  if (!ec) {
    db_internal::version_edit edit;
    if (table) edit.added = {{0, meta}};
    if (options_.wal) edit.log_number = next_log;  // this memtable's WAL is no longer needed
    std::lock_guard lock(versions_mu_);
    versions_.set_last_sequence(std::max(meta.largest_sequence, sequences_->visible()));
    ec = versions_.log_and_apply(edit, message);
  }
  after_flush(ec, message, table, meta);
}

void db_impl::after_flush(std::error_code ec, std::string message, std::shared_ptr<open_table> table,
                          const table_file& meta) {
  std::vector<std::function<void()>> wake;
  std::vector<flush_waiter> done;
  std::uint64_t obsolete_below = 0;
  {
    std::lock_guard lock(mu_);
    flush_running_ = false;
    if (ec) {
      // Read-only from now on; the memtable stays readable and its WAL stays on disk.
      if (!background_error_) background_error_ = ec;
      last_error_ = fmt::format("flush failed: {}", message);
      if (table) tables_.erase(meta.number);  // opened, but no version names it
      done.swap(flush_waiters_);
    } else {
      if (const auto& done_wal = sealed_.front()->wal) retired_wal_stats_ += done_wal->stats();
      sealed_.pop_front();  // after the table is readable: a read sees one or the other, or both
      refresh_level0_locked();
      ++flushes_;
      flush_bytes_ += meta.size;
      for (auto it = flush_waiters_.begin(); it != flush_waiters_.end();) {
        const bool still_waiting = std::find(sealed_.begin(), sealed_.end(), it->until) != sealed_.end();
        if (still_waiting) {
          ++it;
        } else {
          done.push_back(std::move(*it));
          it = flush_waiters_.erase(it);
        }
      }
      std::lock_guard versions_lock(versions_mu_);  // a compaction's log_and_apply may be writing it
      obsolete_below = versions_.log_number();
    }
    wake_stalled_locked(wake);
    maybe_schedule_flush_locked();
    maybe_schedule_compaction_locked();
    finish_close_if_idle_locked();
  }
  if (obsolete_below != 0 && options_.wal) {
    std::error_code lec;
    for (const auto n : wal::list_logs(path_, lec)) {
      if (n < obsolete_below) io::remove_file(wal::log_file_name(path_, n));
    }
  }
  for (auto& w : done) w.handler.complete(to_boost(ec));
  for (auto& f : wake) f();
}

void db_impl::flush(error_handler handler) {
  std::unique_lock lock(mu_);
  std::error_code refuse = closing_ || closed_ ? std::error_code(errc::closed) : background_error_;
  if (refuse) {
    lock.unlock();
    handler.complete(to_boost(refuse));
    return;
  }
  if (!active_->mem->empty() && !rotate_locked()) {
    // No spare WAL yet: try again once it is there.
    auto h = std::make_shared<error_handler>(std::move(handler));
    stalled_.push_back([this, h] { flush(std::move(*h)); });
    return;
  }
  if (sealed_.empty()) {
    lock.unlock();
    handler.complete({});
    return;
  }
  flush_waiters_.push_back({sealed_.back(), std::move(handler)});
  maybe_schedule_flush_locked();
}

// ---- compaction ----

void db_impl::refresh_level0_locked() { l0_files_ = versions_.current()->levels[0].size(); }

void db_impl::maybe_schedule_compaction_locked() {
  if (closing_ || closed_ || background_error_) return;
  const unsigned limit = std::max(1u, options_.max_concurrent_compactions);
  while (compactions_running_ < limit) {
    const auto version = versions_.current();
    std::optional<compaction::compaction_plan> plan;
    bool manual = false;
    // A db::compact() first: it walks its levels down one job at a time.
    while (!manual_.empty() && !manual_.front().running && !plan) {
      auto& m = manual_.front();
      if (m.next_level > m.last_level) {
        auto handler = std::move(m.handler);
        manual_.pop_front();
        asio::post(background_, [h = std::make_shared<error_handler>(std::move(handler))] { h->complete({}); });
        continue;
      }
      // Levels above the last merge down; the last is rewritten in place.
      const bool in_place = m.next_level == m.last_level;
      const auto level = static_cast<std::size_t>(m.next_level);
      if (busy_levels_[level] || (!in_place && busy_levels_[level + 1])) break;  // when that job is done
      plan = picker_.whole_level(*version, m.next_level, in_place, m.begin, m.end);
      if (!plan) {
        ++m.next_level;  // nothing in this level: on to the next
        continue;
      }
      m.running = true;
      manual = true;
    }
    if (!plan) plan = picker_.pick(*version, busy_levels_);
    if (!plan) return;
    busy_levels_[static_cast<std::size_t>(plan->level)] = true;
    busy_levels_[static_cast<std::size_t>(plan->output_level())] = true;
    ++compactions_running_;
    asio::post(background_, [this, p = std::move(*plan), manual]() mutable { run_compaction(std::move(p), manual); });
  }
}

void db_impl::run_compaction(compaction::compaction_plan plan, bool manual) {
  const auto start = clock::now();
  std::string message;
  std::error_code ec;
  db_internal::version_edit edit;
  for (int side = 0; side < 2; ++side) {
    for (const auto& f : plan.inputs[static_cast<std::size_t>(side)])
      edit.deleted.emplace_back(side == 0 ? plan.level : plan.output_level(), f.number);
  }
  std::vector<std::uint64_t> unlink;   // input files, once the edit is durable
  std::vector<std::uint64_t> created;  // output files, to remove if the job fails
  compaction::job_result result;
  if (plan.trivial_move) {
    for (const auto& f : plan.inputs[0]) edit.added.emplace_back(plan.output_level(), f);
  } else {
    // Inputs: the open tables (held for the job; a reader may hold them too).
    std::vector<std::shared_ptr<open_table>> held;
    {
      std::lock_guard lock(mu_);
      for (const auto& side : plan.inputs) {
        for (const auto& f : side) {
          const auto t = tables_.find(f.number);
          if (t == tables_.end()) {
            ec = errc::corruption;
            message = fmt::format("compaction: table {} is in the version but not open", f.number);
            break;
          }
          held.push_back(t->second);
        }
      }
    }
    // Blocks read once are not cached; they are read
    // compaction_readahead_bytes at a time.
    auto make_inputs = [&] {
      std::vector<std::unique_ptr<compaction::internal_iterator>> inputs;
      std::size_t first = 0;  // held[] index of the side's first file
      for (std::size_t side = 0; side < plan.inputs.size(); ++side) {
        compaction::add_level_children(
            side == 0 ? plan.level : plan.output_level(), plan.inputs[side],
            [&](std::size_t i) { return held[first + i]->reader.get(); }, /*fill_cache=*/false,
            options_.compaction_readahead_bytes, inputs);
        first += plan.inputs[side].size();
      }
      return inputs;
    };
    const sequence_number oldest = oldest_snapshot();  // one for every part
    auto options_for = [&](compaction::key_range range) {
      return compaction::job_options{
          .table = {.block_size = options_.block_size,
                    .bits_per_key = options_.bits_per_key,
                    .data_compression = options_.compress_tables ? sst::compression::lz4 : sst::compression::none},
          .target_file_bytes = std::max<std::uint64_t>(1, options_.target_file_bytes),
          .max_grandparent_overlap_bytes = grandparent_overlap_limit(options_),
          .align_to_grandparents = options_.align_compaction_outputs,
          .oldest_snapshot = oldest,
          .range = std::move(range)};
    };
    std::mutex created_mu;  // subcompactions create outputs on several threads
    const compaction::new_output_fn new_output = [&](std::uint64_t& number, std::unique_ptr<io::file>& file,
                                                     std::string& why) -> std::error_code {
      {
        std::lock_guard lock(versions_mu_);
        number = versions_.new_file_number();
      }
      const std::string name = db_internal::table_file_name(path_, number);
      std::error_code oec;
      file = io::file::open(*engine_, name, {.create = true, .truncate = true}, oec);
      if (oec) {
        why = fmt::format("create {}: {}", name, oec.message());
        return oec;
      }
      std::lock_guard lock(created_mu);
      created.push_back(number);
      return {};
    };
    if (!ec) {
      const auto ranges = compaction::split_for_subcompactions(
          plan, options_.subcompactions, 2 * std::max<std::uint64_t>(1, options_.target_file_bytes));
      std::vector<subcompaction> parts(ranges.size());  // usually one: the whole job on this thread
      for (std::size_t i = 0; i < parts.size(); ++i) {
        parts[i].inputs = make_inputs();
        parts[i].options = options_for(ranges[i]);
      }
      ec = run_subcompactions(plan, parts, new_output, result, message);
    }
    if (!ec) ec = io::sync_dir(path_, message);  // the outputs' names are durable before the MANIFEST names them
    // Outputs are opened and readable before the edit makes inputs go away.
    std::vector<std::pair<std::uint64_t, std::shared_ptr<open_table>>> opened;
    for (const auto& out : result.outputs) {
      if (ec) break;
      std::shared_ptr<open_table> t;
      if ((ec = open_table_file(out.number, t, message))) break;
      opened.emplace_back(out.number, std::move(t));
      edit.added.emplace_back(plan.output_level(), out);
    }
    if (!ec) {
      std::lock_guard lock(mu_);
      for (auto& [number, t] : opened) tables_[number] = std::move(t);
    }
    for (const auto& side : plan.inputs) {
      for (const auto& f : side) unlink.push_back(f.number);
    }
  }
  if (!ec) {
    std::lock_guard lock(versions_mu_);
    ec = versions_.log_and_apply(edit, message);
  }
  if (ec) {
    // Nothing changed in the version: the outputs are garbage.
    for (const auto n : created) io::remove_file(db_internal::table_file_name(path_, n));
    {
      std::lock_guard lock(mu_);
      for (const auto n : created) tables_.erase(n);
    }
    unlink.clear();
  }
  const double seconds = std::chrono::duration<double>(clock::now() - start).count();
  after_compaction(plan, manual, ec, std::move(message), std::move(unlink), seconds, result.bytes_read,
                   result.bytes_written);
}

std::error_code db_impl::run_subcompactions(const compaction::compaction_plan& plan, std::vector<subcompaction>& parts,
                                            const compaction::new_output_fn& new_output, compaction::job_result& result,
                                            std::string& message) {
  // This thread and any pool thread that is free claim parts one at a time
  // until none is left; then this thread waits for the parts others are
  // still running. A helper that finds nothing to claim returns at once, so
  // no thread ever waits for a task queued behind it (no deadlock however
  // many jobs share the pool). Helpers hold the shared state, and touch
  // `parts`, `plan` and `new_output` (on this thread's stack) only for a
  // part they claimed, which this thread waits for.
  struct shared_state {
    std::size_t count = 0;  // (a helper claiming nothing must not touch `parts`)
    std::vector<subcompaction>* parts;
    const compaction::compaction_plan* plan;
    const compaction::new_output_fn* new_output;
    std::atomic<std::size_t> next{0};
    std::mutex mu;
    std::condition_variable finished;
    std::size_t done = 0;  // guarded by mu
  };
  auto state = std::make_shared<shared_state>();
  state->count = parts.size();
  state->parts = &parts;
  state->plan = &plan;
  state->new_output = &new_output;
  auto work = [](const std::shared_ptr<shared_state>& st) {
    for (;;) {
      const std::size_t i = st->next.fetch_add(1);
      if (i >= st->count) return;
      subcompaction& part = (*st->parts)[i];
      part.error = run_here(compaction::run_compaction_job(*st->plan, std::move(part.inputs), part.options,
                                                           *st->new_output, part.result, part.message));
      std::lock_guard lock(st->mu);
      if (++st->done == st->count) st->finished.notify_all();
    }
  };
  for (std::size_t helper = 1; helper < parts.size(); ++helper) asio::post(background_, [state, work] { work(state); });
  work(state);
  {
    std::unique_lock lock(state->mu);
    state->finished.wait(lock, [&] { return state->done == state->count; });
  }
  result = {};
  result.bytes_read = plan.input_bytes();
  for (auto& part : parts) {
    if (part.error) {
      message = std::move(part.message);
      return part.error;
    }
    for (auto& out : part.result.outputs) result.outputs.push_back(std::move(out));
    result.bytes_written += part.result.bytes_written;
    result.entries_in += part.result.entries_in;
    result.entries_out += part.result.entries_out;
  }
  if (parts.size() > 1) {
    std::lock_guard lock(mu_);
    subcompactions_ += parts.size();
  }
  return {};
}

void db_impl::after_compaction(const compaction::compaction_plan& plan, bool manual, std::error_code ec,
                               std::string message, std::vector<std::uint64_t> unlink, double seconds,
                               std::uint64_t read, std::uint64_t written) {
  // The inputs go before the job counts as finished, so that once stats()
  // shows no compaction running the directory holds exactly the version's
  // tables. The edit that dropped them is durable, and readers holding
  // them keep their open files (tables_ lets go of them below).
  for (const auto n : unlink) io::remove_file(db_internal::table_file_name(path_, n));
  std::vector<std::function<void()>> wake;
  std::vector<error_handler> manual_done;
  {
    std::lock_guard lock(mu_);
    --compactions_running_;
    busy_levels_[static_cast<std::size_t>(plan.level)] = false;
    busy_levels_[static_cast<std::size_t>(plan.output_level())] = false;
    if (ec) {
      if (!background_error_) background_error_ = ec;
      last_error_ = fmt::format("compaction failed: {}", message);
      for (auto& m : manual_) manual_done.push_back(std::move(m.handler));
      manual_.clear();
    } else {
      for (const auto n : unlink) tables_.erase(n);  // readers holding them keep them open
      if (plan.trivial_move) {
        trivial_moves_ += plan.inputs[0].size();
      } else {
        ++compactions_;
        compaction_bytes_read_ += read;
        compaction_bytes_written_ += written;
        level_compaction_read_[static_cast<std::size_t>(plan.output_level())] += read;
        level_compaction_written_[static_cast<std::size_t>(plan.output_level())] += written;
        compaction_seconds_ += seconds;
      }
      if (manual && !manual_.empty() && manual_.front().running) {
        manual_.front().running = false;
        ++manual_.front().next_level;
      }
      refresh_level0_locked();
    }
    wake_stalled_locked(wake);
    maybe_schedule_compaction_locked();
    finish_close_if_idle_locked();
  }
  for (auto& h : manual_done) h.complete(to_boost(ec));
  for (auto& f : wake) f();
}

void db_impl::compact(std::optional<std::string> begin, std::optional<std::string> end, error_handler handler) {
  auto h = std::make_shared<error_handler>(std::move(handler));
  auto range = std::make_shared<std::pair<std::optional<std::string>, std::optional<std::string>>>(std::move(begin),
                                                                                                   std::move(end));
  flush(error_handler(asio::bind_executor(background_.get_executor(), [this, h, range](boost::system::error_code ec) {
    if (ec) return h->complete(ec);
    start_manual_compaction(std::move(range->first), std::move(range->second), std::move(*h));
  })));
}

void db_impl::start_manual_compaction(std::optional<std::string> begin, std::optional<std::string> end,
                                      error_handler handler) {
  std::unique_lock lock(mu_);
  const std::error_code refuse = closing_ || closed_ ? std::error_code(errc::closed) : background_error_;
  if (refuse) {
    lock.unlock();
    handler.complete(to_boost(refuse));
    return;
  }
  const auto version = versions_.current();
  int deepest = 0;
  for (int level = 0; level < db_internal::num_levels; ++level) {
    if (!version->levels[static_cast<std::size_t>(level)].empty()) deepest = level;
  }
  manual_.push_back({.next_level = 0,
                     .last_level = std::max(1, deepest),
                     .running = false,
                     .begin = std::move(begin),
                     .end = std::move(end),
                     .handler = std::move(handler)});
  maybe_schedule_compaction_locked();
}

// ---- reads ----

sequence_number db_impl::read_sequence(const read_options& ro) const {
  return ro.snapshot ? ro.snapshot->sequence() : sequences_->visible();
}

std::shared_ptr<const snapshot> db_impl::take_snapshot() {
  std::lock_guard lock(snapshots_->mu);
  const sequence_number seq = sequences_->visible();
  snapshots_->live.insert(seq);
  return std::shared_ptr<const snapshot>(new snapshot(snapshots_, seq));
}

sequence_number db_impl::oldest_snapshot() const {
  std::lock_guard lock(snapshots_->mu);
  return snapshots_->live.empty() ? sequences_->visible() : *snapshots_->live.begin();
}

std::shared_ptr<const db_impl::table_set> db_impl::current_tables() const {
  // The common case, every read until the next install: no version copy,
  // no version_set lock.
  if (table_set_ && table_set_->generation == versions_.generation()) return table_set_;
  std::uint64_t generation = 0;
  auto version = versions_.current(generation);
  if (table_set_ && table_set_->version == version) return table_set_;
  auto set = std::make_shared<table_set>();
  set->generation = generation;
  bool complete = true;
  for (std::size_t level = 0; level < version->levels.size(); ++level) {
    for (const auto& f : version->levels[level]) {
      const auto t = tables_.find(f.number);
      complete = complete && t != tables_.end();
      set->levels[level].push_back(t != tables_.end() ? t->second : nullptr);
    }
  }
  for (std::size_t level = 1; level < version->levels.size(); ++level) {
    std::vector<compaction::run_table> run;
    for (std::size_t i = 0; i < set->levels[level].size(); ++i) {
      if (const auto& t = set->levels[level][i])
        run.push_back({.largest = version->levels[level][i].largest, .reader = t->reader.get()});
    }
    set->runs[level] = std::make_shared<const std::vector<compaction::run_table>>(std::move(run));
  }
  set->version = std::move(version);
  // A flush logs its table before it opens it into tables_ (and only then
  // drops its memtable, which reads still search meanwhile): a set built in
  // that window lacks the table, so it serves this read but is not kept.
  if (!complete) return set;
  table_set_ = std::move(set);
  return table_set_;
}

bool db_impl::view_for(std::string_view key, sequence_number snapshot, read_view& v) const {
  if (!current_view(snapshot, v)) return false;
  choose_tables(v, key);
  return true;
}

bool db_impl::current_view(sequence_number snapshot, read_view& v) const {
  std::lock_guard lock(mu_);
  if (closing_ || closed_) return false;  // reads refuse once close() has begun
  v.snapshot = snapshot;
  v.mems.push_back(active_);
  for (auto it = sealed_.rbegin(); it != sealed_.rend(); ++it) v.mems.push_back(*it);
  v.set = current_tables();
  return true;
}

void db_impl::choose_tables(read_view& v, std::string_view key) const {
  v.tables.clear();
  const auto& levels = v.set->version->levels;
  for (const auto& t : v.set->levels[0]) {  // newest first
    if (t) v.tables.push_back(t.get());
  }
  for (std::size_t level = 1; level < levels.size(); ++level) {
    // Disjoint, sorted ranges: the first file ending at or after the key is
    // the only one that may hold it.
    const auto& files = levels[level];
    const auto at = std::partition_point(files.begin(), files.end(), [&](const db_internal::table_file& f) {
      return sst::user_key_of(f.largest) < key;
    });
    if (at == files.end() || key < sst::user_key_of(at->smallest)) continue;
    if (const auto& t = v.set->levels[level][static_cast<std::size_t>(at - files.begin())]) v.tables.push_back(t.get());
  }
}

bool db_impl::search_without_reads(const read_view& v, std::string_view key, lookup_result& out,
                                   std::size_t& from) const {
  for (const auto& m : v.mems) {
    const auto found = m->mem->get(key, v.snapshot);
    if (found.found()) {
      out.value.emplace(found.value);
      return true;
    }
    if (found.deleted()) return true;
  }
  for (std::size_t i = 0; i < v.tables.size(); ++i) {
    sst::table_lookup t;
    if (!v.tables[i]->reader->try_get(key, v.snapshot, t)) {
      from = i;
      return false;
    }
    if (table_answered(*v.tables[i]->reader, t, out)) return true;
  }
  return true;  // nowhere: absent
}

bool db_impl::table_answered(const sst::table_reader& table, sst::table_lookup& t, lookup_result& out) const {
  count_filter(table, t);
  if (t.error) {
    out.error = t.error;
    out.message = std::move(t.message);
    return true;
  }
  if (t.status == sst::table_lookup::state::found) {
    out.value = std::move(t.value);
    return true;
  }
  return t.status == sst::table_lookup::state::deleted;  // a tombstone ends the search
}

asio::awaitable<db_impl::lookup_result> db_impl::search_tables(read_view v, std::string key, std::size_t from) const {
  lookup_result out;
  for (std::size_t i = from; i < v.tables.size(); ++i) {
    auto t = co_await v.tables[i]->reader->get(key, v.snapshot);
    if (table_answered(*v.tables[i]->reader, t, out)) co_return out;
  }
  co_return out;
}

db_impl::clock::time_point db_impl::get_latency_start() {
  // Every 8th get of each thread is timed: two clock reads cost a memtable
  // hit about 9 % of its time (50 of 540 ns here), and an eighth of the gets
  // still gives unbiased percentiles (docs/db.md, "Reads").
  thread_local std::uint32_t gets_on_this_thread = 0;
  if ((++gets_on_this_thread & (get_latency_sampling - 1)) != 0) return {};
  return clock::now();
}

std::error_code db_impl::settle_get(lookup_result& r, clock::time_point start) {
  if (start != clock::time_point{}) record_latency(get_latency_, start);
  if (r.error) {
    set_error(std::move(r.message));
    return r.error;
  }
  if (r.value) get_hits_.add(1);
  return {};
}

void db_impl::get(std::string key, read_options ro, get_handler handler) {
  read_view view;
  if (!view_for(key, read_sequence(ro), view)) {
    handler.complete(to_boost(errc::closed), std::nullopt);
    return;
  }
  gets_.add(1);
  auto finish = [this, start = get_latency_start()](get_handler& h, lookup_result r) {
    const std::error_code ec = settle_get(r, start);
    h.complete(to_boost(ec), ec ? std::nullopt : std::move(r.value));
  };
  lookup_result result;
  std::size_t from = 0;
  if (search_without_reads(view, key, result, from)) return finish(handler, std::move(result));
  // A block must be read: the rest of the search runs as a coroutine on the pool.
  asio::co_spawn(background_, search_tables(std::move(view), std::move(key), from),
                 [finish, h = std::move(handler)](std::exception_ptr e, lookup_result r) mutable {
                   if (e) r.error = errc::io_error;
                   finish(h, std::move(r));
                 });
}

bool db_impl::try_get(std::string_view key, const read_options& ro, std::error_code& error,
                      std::optional<std::string>& value) {
  const auto start = get_latency_start();
  read_view view;
  if (!view_for(key, read_sequence(ro), view)) {
    error = errc::closed;
    return true;
  }
  lookup_result result;
  std::size_t from = 0;
  if (!search_without_reads(view, key, result, from)) return false;
  gets_.add(1);
  error = settle_get(result, start);
  if (!error) value = std::move(result.value);
  return true;
}

void db_impl::get_many(std::vector<std::string> keys, read_options ro, get_many_handler handler) {
  // One view for every key (mu_ taken once); a key that needs a table read
  // takes a copy of it along.
  read_view view;
  if (!current_view(read_sequence(ro), view)) {  // one snapshot for every key
    handler.complete(to_boost(errc::closed), {});
    return;
  }
  gets_.add(keys.size());
  struct pending {
    std::size_t index;
    read_view view;
    std::size_t from;
  };
  struct many_state {
    std::vector<std::optional<std::string>> values;
    lookup_result failed;
  };
  std::vector<std::optional<std::string>> values(keys.size());
  std::vector<pending> reads;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    choose_tables(view, keys[i]);
    lookup_result r;
    std::size_t from = 0;
    if (!search_without_reads(view, keys[i], r, from)) {
      reads.push_back({i, view, from});
      continue;
    }
    if (r.error) {
      set_error(std::move(r.message));
      handler.complete(to_boost(r.error), {});
      return;
    }
    values[i] = std::move(r.value);
  }
  // One latency sample per call (a get_many is one wait for its caller).
  auto finish = [this, start = clock::now()](get_many_handler& h, std::vector<std::optional<std::string>> v,
                                             lookup_result failed) {
    record_latency(get_latency_, start);
    if (failed.error) {
      set_error(std::move(failed.message));
      h.complete(to_boost(failed.error), {});
      return;
    }
    for (const auto& x : v) get_hits_.add(x.has_value());
    h.complete({}, std::move(v));
  };
  if (reads.empty()) return finish(handler, std::move(values), {});
  auto st = std::make_shared<many_state>(many_state{std::move(values), {}});
  // A function object (not an invoked lambda): co_spawn keeps it, and with
  // it the captures, alive until the coroutine is done.
  asio::co_spawn(
      background_,
      [this, st, reads = std::move(reads), keys = std::move(keys)]() mutable -> asio::awaitable<void> {
        for (auto& p : reads) {
          auto r = co_await search_tables(std::move(p.view), keys[p.index], p.from);
          if (r.error) {
            st->failed = std::move(r);
            co_return;
          }
          st->values[p.index] = std::move(r.value);
        }
      },
      [finish, st, h = std::move(handler)](std::exception_ptr e) mutable {
        if (e && !st->failed.error) st->failed.error = errc::io_error;
        finish(h, std::move(st->values), std::move(st->failed));
      });
}

// ---- close ----

void db_impl::close(error_handler handler) {
  std::vector<std::function<void()>> refused;
  std::vector<flush_waiter> waiters;
  {
    std::lock_guard lock(mu_);
    if (closing_ || closed_) {
      handler.complete(to_boost(errc::closed));
      return;
    }
    closing_ = true;
    close_handler_ = std::move(handler);
    refused.swap(stalled_);  // they will see closing_ and complete with `closed`
    for (auto& m : manual_) {
      if (!m.running) waiters.push_back({nullptr, std::move(m.handler)});  // never starts
    }
    std::erase_if(manual_, [](const manual_compaction& m) { return !m.running; });
    if (!flush_running_) waiters.swap(flush_waiters_);  // a flush that never starts
    finish_close_if_idle_locked();
  }
  for (auto& w : waiters) w.handler.complete(to_boost(errc::closed));
  for (auto& f : refused) f();
}

void db_impl::finish_close_if_idle_locked() {
  if (!closing_ || closed_ || close_started_ || flush_running_ || spare_wal_pending_ || !acks_.empty()) return;
  if (compactions_running_ > 0 || delayed_writes_ > 0) return;
  if (active_ && active_->writes_in_flight > 0) return;
  for (const auto& s : sealed_) {
    if (s->writes_in_flight > 0) return;
  }
  close_started_ = true;
  asio::post(background_, [this] { finish_close(); });
}

void db_impl::finish_close() {
  std::shared_ptr<wal::wal_writer> wal;
  {
    std::lock_guard lock(mu_);
    if (active_) wal = active_->wal;
  }
  if (!wal) return close_done({});
  // Nothing is in flight: one last fdatasync makes every acknowledged write durable.
  wal->async_flush(asio::bind_executor(background_.get_executor(), [this](std::error_code ec) { close_done(ec); }));
}

void db_impl::close_done(std::error_code ec) {
  error_handler handler;
  std::vector<flush_waiter> waiters;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    if (active_) active_->wal.reset();
    for (auto& s : sealed_) s->wal.reset();
    spare_wal_.reset();
    handler = std::move(close_handler_);
    waiters.swap(flush_waiters_);
    if (ec) last_error_ = fmt::format("closing: final WAL sync failed: {}", ec.message());
  }
  lock_.release();
  for (auto& w : waiters) w.handler.complete(to_boost(errc::closed));
  handler.complete(to_boost(ec));
}

db_stats db_impl::stats() const {
  db_stats s;
  s.puts = puts_.load();
  s.erases = erases_.load();
  s.batches = batches_.load();
  s.gets = gets_.load();
  s.get_hits = get_hits_.load();
  s.user_bytes_written = user_bytes_.load();
  s.recovered_records = recovered_records_;
  const auto cache = cache_.get_stats();
  s.block_cache_hits = cache.hits;
  s.block_cache_misses = cache.misses;
  s.bloom_checked = bloom_checked_.load();
  s.bloom_useful = bloom_useful_.load();
  {
    std::lock_guard lock(latency_mu_);
    const auto us = [](const histogram& h, double p) { return static_cast<double>(h.percentile(p)) / 1000.0; };
    s.put_p50_us = us(put_latency_, 50);
    s.put_p99_us = us(put_latency_, 99);
    s.put_p999_us = us(put_latency_, 99.9);
    s.get_p50_us = us(get_latency_, 50);
    s.get_p99_us = us(get_latency_, 99);
    s.get_p999_us = us(get_latency_, 99.9);
  }
  const auto version = versions_.current();
  s.l0_files = version->levels[0].size();
  s.table_files = version->file_count();
  for (int level = 0; level < db_internal::num_levels; ++level) {
    s.level_files[static_cast<std::size_t>(level)] = version->levels[static_cast<std::size_t>(level)].size();
    s.level_bytes[static_cast<std::size_t>(level)] = version->level_bytes(level);
    s.table_bytes += version->level_bytes(level);
  }
  std::lock_guard lock(mu_);
  s.last_sequence = sequences_ ? sequences_->visible() : 0;
  if (active_) {
    s.memtable_entries = active_->mem->size();
    s.memtable_bytes = active_->mem->memory_usage();
  }
  {
    std::uint64_t entries = 0, deletions = 0;
    for (const auto& level : version->levels) {
      for (const auto& f : level) {
        const auto t = tables_.find(f.number);
        if (t == tables_.end() || !t->second || !t->second->reader) continue;  // being opened: its memtable counts
        entries += t->second->reader->properties().entries;
        deletions += t->second->reader->properties().deletions;
      }
    }
    if (active_) entries += active_->mem->size();
    for (const auto& m : sealed_) entries += m->mem->size();
    s.estimated_keys = entries > 2 * deletions ? entries - 2 * deletions : 0;
  }
  // Every WAL of this open: retired ones, sealed ones, the active one.
  wal::writer_stats w = retired_wal_stats_;
  auto add = [&w](const std::shared_ptr<mem_state>& m) {
    if (m && m->wal) w += m->wal->stats();
  };
  add(active_);
  for (const auto& m : sealed_) add(m);
  s.wal_bytes_written = w.bytes;
  s.wal_groups = w.groups;
  s.wal_syncs = w.syncs;
  s.wal_mean_group_size = w.mean_group_size();
  s.immutable_memtables = sealed_.size();
  s.flushes = flushes_;
  s.flush_bytes = flush_bytes_;
  s.stalls = stalls_;
  s.slowdowns = slowdowns_;
  s.compactions = compactions_;
  s.trivial_moves = trivial_moves_;
  s.subcompactions = subcompactions_;
  s.compaction_bytes_read = compaction_bytes_read_;
  s.compaction_bytes_written = compaction_bytes_written_;
  s.compaction_seconds = compaction_seconds_;
  s.level_compaction_read = level_compaction_read_;
  s.level_compaction_written = level_compaction_written_;
  s.compactions_running = compactions_running_;
  for (int level = 0; level < db_internal::num_levels; ++level)
    s.max_compaction_score = std::max(s.max_compaction_score, picker_.score(*version, level));
  if (s.user_bytes_written > 0) {
    s.write_amplification =
        static_cast<double>(flush_bytes_ + compaction_bytes_written_) / static_cast<double>(s.user_bytes_written);
  }
  return s;
}

// ---- strata::db: the non-template halves of its templates ----

db::db(std::unique_ptr<db_impl> impl) : impl_(std::move(impl)) {}
db::~db() = default;

void db::start_open(executor_type, std::string path, options opts,
                    detail::posted_handler<boost::system::error_code, std::shared_ptr<db>> handler) {
  auto impl = std::make_unique<db_impl>(std::move(path), opts);
  auto* raw = impl.get();
  // Recovery reads and writes files with blocking calls: the db's own pool.
  asio::post(raw->background_executor(), [impl = std::move(impl), handler = std::move(handler)]() mutable {
    std::string message;
    if (auto ec = impl->recover(message)) {
      {
        std::lock_guard lock(open_error_mu);
        open_error = message.empty() ? ec.message() : message;
      }
      // The impl owns the pool we are running on: let it go elsewhere.
      auto* doomed = impl.release();
      std::thread([doomed] { delete doomed; }).detach();
      handler.complete(to_boost(ec), nullptr);
      return;
    }
    handler.complete({}, std::shared_ptr<db>(new db(std::move(impl))));
  });
}

void db::start_write(write_batch batch, write_options wo, detail::posted_handler<boost::system::error_code> handler) {
  impl_->write(std::move(batch), wo, std::move(handler));
}

void db::start_get(std::string key, read_options ro,
                   detail::posted_handler<boost::system::error_code, std::optional<std::string>> handler) {
  impl_->get(std::move(key), ro, std::move(handler));
}

asio::awaitable<std::optional<std::string>> db::get_now_or_later(std::string key, read_options ro) {
  // The architecture's rule: a memtable (or cache) hit completes without
  // suspending. An unanswered try_get costs the search up to the table that
  // needs a read; get() then repeats it before reading (cheap next to the read).
  if (auto answered = try_get(key, ro)) {
    if (answered->error) throw boost::system::system_error(answered->error);  // as use_awaitable does
    co_return std::move(answered->value);
  }
  auto value = co_await initiate_get(std::move(key), ro, asio::use_awaitable);
  co_return value;
}

std::optional<db::cached_get> db::try_get(std::string_view key, const read_options& ro) {
  std::error_code error;
  std::optional<std::string> value;
  if (!impl_->try_get(key, ro, error, value)) return std::nullopt;
  return cached_get{to_boost(error), std::move(value)};
}

void db::start_get_many(
    std::vector<std::string> keys, read_options ro,
    detail::posted_handler<boost::system::error_code, std::vector<std::optional<std::string>>> handler) {
  impl_->get_many(std::move(keys), ro, std::move(handler));
}

std::shared_ptr<const snapshot> db::snapshot() { return impl_->take_snapshot(); }

void db::clear_cache() { impl_->clear_cache(); }

void db::start_compact(std::optional<std::string> begin, std::optional<std::string> end,
                       detail::posted_handler<boost::system::error_code> handler) {
  impl_->compact(std::move(begin), std::move(end), std::move(handler));
}

void db::start_close(detail::posted_handler<boost::system::error_code> handler) { impl_->close(std::move(handler)); }
void db::start_flush(detail::posted_handler<boost::system::error_code> handler) { impl_->flush(std::move(handler)); }

db_stats db::stats() const { return impl_->stats(); }
const std::string& db::path() const noexcept { return impl_->path(); }
std::string db::last_error() const { return impl_->last_error(); }

}  // namespace strata
