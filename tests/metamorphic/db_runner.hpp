// tests/metamorphic/db_runner.hpp — runs the operations against a real db
// (one coroutine, one operation at a time) and records the transcript, plus
// what the db did meanwhile (flushes, compactions, ...), so the test can
// check that an option set really exercised what it was chosen for.
//
// Every result is rendered as the model renders it; a failed operation
// records its error instead ("error: ..."), which never matches the model.
// Flushes and compactions that completed during an operation which does
// not ask for them (anything but flush, compact, compact_range and reopen)
// count as automatic: they prove the memtable and level size options
// triggered background work, not only the explicit calls.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "operation.hpp"
#include "operation_generator.hpp"
#include "strata/db.hpp"
#include "transcript.hpp"

namespace strata::metamorphic {

// What the db did over a whole run, summed over its reopens.
struct run_activity {
  std::uint64_t flushes = 0, automatic_flushes = 0;
  std::uint64_t compactions = 0, automatic_compactions = 0;
  std::uint64_t trivial_moves = 0, subcompactions = 0;
  std::uint64_t bloom_checked = 0, bloom_useful = 0;
  std::uint64_t block_cache_hits = 0, block_cache_misses = 0;
  std::uint64_t stalls = 0, slowdowns = 0, reopens = 0;
  std::size_t deepest_level = 0;  // the deepest level that ever held a table

  void add(const run_activity& a) {
    flushes += a.flushes;
    automatic_flushes += a.automatic_flushes;
    compactions += a.compactions;
    automatic_compactions += a.automatic_compactions;
    trivial_moves += a.trivial_moves;
    subcompactions += a.subcompactions;
    bloom_checked += a.bloom_checked;
    bloom_useful += a.bloom_useful;
    block_cache_hits += a.block_cache_hits;
    block_cache_misses += a.block_cache_misses;
    stalls += a.stalls;
    slowdowns += a.slowdowns;
    reopens += a.reopens;
    deepest_level = std::max(deepest_level, a.deepest_level);
  }

  std::string summary() const {
    return "flushes " + std::to_string(flushes) + " (automatic " + std::to_string(automatic_flushes) +
           "), compactions " + std::to_string(compactions) + " (automatic " + std::to_string(automatic_compactions) +
           "), trivial moves " + std::to_string(trivial_moves) + ", subcompactions " + std::to_string(subcompactions) +
           ", deepest level " + std::to_string(deepest_level) + ", bloom useful " + std::to_string(bloom_useful) + "/" +
           std::to_string(bloom_checked) + ", cache misses " + std::to_string(block_cache_misses) + "/" +
           std::to_string(block_cache_hits + block_cache_misses) + ", stalls " + std::to_string(stalls) +
           ", slowdowns " + std::to_string(slowdowns) + ", reopens " + std::to_string(reopens);
  }
};

class db_runner {
 public:
  db_runner(std::string path, options opts) : path_(std::move(path)), options_(opts) {}

  // The transcript of `ops`; the db is open only while this runs.
  boost::asio::awaitable<transcript> run(const std::vector<operation>& ops) {
    transcript out;
    out.reserve(ops.size());
    co_await open();
    for (const auto& op : ops) {
      auto result = co_await apply(op);
      out.push_back(std::move(result));
      account(op.kind);
    }
    co_await close();
    co_return out;
  }

  const run_activity& activity() const noexcept { return activity_; }

 private:
  static constexpr auto with_error = boost::asio::as_tuple(boost::asio::use_awaitable);

  boost::asio::awaitable<void> open() {
    const auto executor = co_await boost::asio::this_coro::executor;
    auto [ec, opened] = co_await db::open(executor, path_, options_, with_error);
    if (ec) {
      open_error_ = "open failed: " + ec.message() + " (" + last_open_error() + ")";
      co_return;
    }
    db_ = std::move(opened);
    baseline_ = db_->stats();
    // What the WAL held is flushed in the background after open: not the
    // memtable filling up, so not counted as an automatic flush.
    recovery_flush_pending_ = baseline_.immutable_memtables > 0;
  }

  boost::asio::awaitable<void> close() {
    if (!db_) co_return;
    account(op_kind::reopen);
    auto [ec] = co_await db_->close(with_error);
    if (ec) open_error_ = "close failed: " + ec.message();
    db_.reset();
  }

  std::string failure(const boost::system::error_code& ec) const {
    return "error: " + ec.message() + " (" + db_->last_error() + ")";
  }
  std::string status(const boost::system::error_code& ec) const { return ec ? failure(ec) : ok_result; }

  read_options read_at(int snapshot_slot) const {
    read_options ro;
    if (snapshot_slot >= 0) ro.snapshot = snapshots_[static_cast<std::size_t>(snapshot_slot)];
    return ro;
  }

  static std::string position(const db_iterator& it) {
    return it.valid() ? show_entry(std::string(it.key()), std::string(it.value())) : end_item;
  }

  boost::asio::awaitable<std::string> scan(const operation& op) {
    const scan_spec& spec = op.scan;
    read_options ro = read_at(op.snapshot_slot);
    ro.upper_bound = spec.upper_bound;
    ro.lower_bound = spec.lower_bound;
    ro.prefix = spec.prefix;
    auto it = db_->scan(ro);
    switch (spec.kind) {
      case scan_kind::forward_all:
        co_await it->seek_to_first();
        break;
      case scan_kind::backward_all:
        co_await it->seek_to_last();
        break;
      case scan_kind::seek_then_next:
      case scan_kind::walk:
        co_await it->seek(spec.target);
        break;
      case scan_kind::seek_for_prev_then_prev:
        co_await it->seek_for_prev(spec.target);
        break;
    }
    std::string out = position(*it);
    const std::size_t limit = scan_move_limit(spec);
    for (std::size_t i = 0; i < limit && it->valid(); ++i) {
      if (scan_move(spec, i) == 'p') {
        co_await it->prev();
      } else if (spec.use_try_next) {
        const bool stepped = it->try_next();
        if (!stepped) co_await it->next();
      } else {
        co_await it->next();
      }
      out += "\n" + position(*it);
    }
    if (it->error()) out += "\nerror: " + it->message();
    co_return out;
  }

  boost::asio::awaitable<std::string> apply(const operation& op) {
    if (!db_) co_return "error: no db (" + open_error_ + ")";
    write_options wo;
    wo.sync = op.sync;
    switch (op.kind) {
      case op_kind::put: {
        auto [ec] = co_await db_->put(op.key, op.value, wo, with_error);
        co_return status(ec);
      }
      case op_kind::erase: {
        auto [ec] = co_await db_->erase(op.key, wo, with_error);
        co_return status(ec);
      }
      case op_kind::write_batch: {
        write_batch batch;
        for (const auto& e : op.batch) {
          if (e.is_put) {
            batch.put(e.key, e.value);
          } else {
            batch.erase(e.key);
          }
        }
        auto [ec] = co_await db_->write(std::move(batch), wo, with_error);
        co_return status(ec);
      }
      case op_kind::get: {
        const read_options ro = read_at(op.snapshot_slot);
        auto [ec, value] = co_await db_->get(op.key, ro, with_error);
        co_return ec ? failure(ec) : show_lookup(value);
      }
      case op_kind::get_many: {
        const read_options ro = read_at(op.snapshot_slot);
        auto [ec, values] = co_await db_->get_many(op.keys, ro, with_error);
        if (ec) co_return failure(ec);
        std::string out;
        for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "\n" : "") + show_lookup(values[i]);
        co_return out;
      }
      case op_kind::take_snapshot:
        snapshots_[static_cast<std::size_t>(op.snapshot_slot)] = db_->snapshot();
        co_return ok_result;
      case op_kind::release_snapshot:
        snapshots_[static_cast<std::size_t>(op.snapshot_slot)].reset();
        co_return ok_result;
      case op_kind::scan: {
        auto result = co_await scan(op);
        co_return result;
      }
      case op_kind::flush: {
        auto [ec] = co_await db_->flush(with_error);
        co_return status(ec);
      }
      case op_kind::compact: {
        auto [ec] = co_await db_->compact(with_error);
        co_return status(ec);
      }
      case op_kind::compact_range: {
        auto [ec] = co_await db_->compact_range(op.range_begin, op.range_end, with_error);
        co_return status(ec);
      }
      case op_kind::reopen: {
        for (auto& s : snapshots_) s.reset();
        co_await close();
        ++activity_.reopens;
        co_await open();
        co_return db_ ? ok_result : "error: " + open_error_;
      }
    }
    co_return ok_result;
  }

  // Adds what the db did since the last call to the run's activity.
  void account(op_kind kind) {
    if (!db_) return;
    const db_stats now = db_->stats();
    const auto delta = [](std::uint64_t after, std::uint64_t before) { return after >= before ? after - before : 0; };
    const bool asked_for_flush =
        kind == op_kind::flush || kind == op_kind::compact || kind == op_kind::compact_range || kind == op_kind::reopen;
    const bool asked_for_compaction =
        kind == op_kind::compact || kind == op_kind::compact_range || kind == op_kind::reopen;
    const auto flushes = delta(now.flushes, baseline_.flushes);
    const auto compactions = delta(now.compactions, baseline_.compactions);
    activity_.flushes += flushes;
    std::uint64_t automatic_flushes = asked_for_flush ? 0 : flushes;
    if (flushes > 0 && recovery_flush_pending_) {
      recovery_flush_pending_ = false;
      if (automatic_flushes > 0) --automatic_flushes;
    }
    activity_.automatic_flushes += automatic_flushes;
    activity_.compactions += compactions;
    if (!asked_for_compaction) activity_.automatic_compactions += compactions;
    activity_.trivial_moves += delta(now.trivial_moves, baseline_.trivial_moves);
    activity_.subcompactions += delta(now.subcompactions, baseline_.subcompactions);
    activity_.bloom_checked += delta(now.bloom_checked, baseline_.bloom_checked);
    activity_.bloom_useful += delta(now.bloom_useful, baseline_.bloom_useful);
    activity_.block_cache_hits += delta(now.block_cache_hits, baseline_.block_cache_hits);
    activity_.block_cache_misses += delta(now.block_cache_misses, baseline_.block_cache_misses);
    activity_.stalls += delta(now.stalls, baseline_.stalls);
    activity_.slowdowns += delta(now.slowdowns, baseline_.slowdowns);
    for (std::size_t level = 0; level < now.level_files.size(); ++level) {
      if (now.level_files[level] > 0) activity_.deepest_level = std::max(activity_.deepest_level, level);
    }
    baseline_ = now;
  }

  std::string path_;
  options options_;
  std::shared_ptr<db> db_;
  std::string open_error_;
  db_stats baseline_;
  bool recovery_flush_pending_ = false;
  std::array<std::shared_ptr<const snapshot>, snapshot_slots> snapshots_;
  run_activity activity_;
};

}  // namespace strata::metamorphic
