// tests/corruption/reference_db.hpp — the undamaged db every corruption
// trial starts from, and the model of what it holds.
//
// build_reference() writes random batches (puts with values that name their
// key and sequence, and erases) through the public API, flushing every 60
// batches, with small levels, so that the tree has tables on level 0 and on
// deeper levels, a MANIFEST with many edits, and a WAL that still holds the
// last batches (one of them longer than a 32 KiB log block). Each flush
// waits for the tree to settle before writing on, so the tree's shape (and
// so which bytes a seed damages) is the same on every run (but for the
// tables' creation times). It ends either with close() or by dropping the db without close
// (allowed by db.hpp; the same as a process crash for the page cache), after
// a reopen that recovered a WAL, with some synced writes (so the WAL ends in
// zero-filled space). The files are then held in memory with their layouts.
//
// The model is the full write history; state() gives the db after any
// subset of it (a prefix for a torn WAL tail, minus skipped records).
// Guarantees checked here, before any trial: the live WALs hold exactly the
// newest batches, in order, and the table files are exactly the live ones.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "../unit/run_awaitable.hpp"
#include "file_layout.hpp"
#include "strata/db.hpp"

namespace strata::corruption {

struct write_op {
  std::string key;
  std::optional<std::string> value;  // nullopt: erase
};

struct logged_batch {
  std::uint64_t sequence = 0;  // of its first op
  std::vector<write_op> ops;
};

using db_state = std::map<std::string, std::string>;

struct write_history {
  std::vector<logged_batch> batches;  // in sequence order
  std::set<std::string> keys;         // every key ever written

  // The db after the batches `keep(batch)` accepts, applied in order.
  template <typename Keep>
  db_state state(Keep&& keep) const {
    db_state s;
    for (const auto& b : batches) {
      if (!keep(b)) continue;
      for (const auto& op : b.ops) {
        if (op.value) {
          s[op.key] = *op.value;
        } else {
          s.erase(op.key);
        }
      }
    }
    return s;
  }
  db_state full_state() const {
    return state([](const logged_batch&) { return true; });
  }
};

enum class file_kind { wal, table, manifest, current };

inline const char* kind_name(file_kind k) {
  switch (k) {
    case file_kind::wal:
      return "WAL";
    case file_kind::table:
      return "SST";
    case file_kind::manifest:
      return "MANIFEST";
    case file_kind::current:
      return "CURRENT";
  }
  return "?";
}

struct reference_file {
  std::string name;
  file_kind kind{};
  std::string bytes;
  std::optional<log_layout> log;      // WAL and MANIFEST
  std::optional<table_layout> table;  // SST
};

enum class reference_ending { closed, dropped_after_reopen };

struct reference_db {
  std::string description;
  options open_options;  // for opening the copies
  write_history history;
  std::vector<reference_file> files;  // every file but LOCK
  std::map<std::uint64_t, std::size_t> batch_at_sequence;
  db_stats stats;  // at the end, before close or drop

  const logged_batch& batch_of_record(const reference_file& wal, std::size_t record) const {
    const std::string& p = wal.log->records[record].payload;
    return history.batches.at(batch_at_sequence.at(load_le(p.data(), 8)));
  }
};

namespace reference_detail {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Small levels: dozens of tables on three levels from about a megabyte of
// writes. The memtable is large enough never to fill (the writer flushes
// it). Level 0 stays below its trigger at the end (checked), so the flush
// of the replayed WAL at a trial's open starts no compaction.
inline options build_options(bool compress) {
  options o;
  o.memtable_bytes = 4 << 20;
  o.block_size = 1024;
  o.compress_tables = compress;
  o.block_cache_bytes = 1 << 20;
  o.level0_compaction_trigger = 4;
  o.max_bytes_for_level_base = 64 << 10;
  o.max_bytes_for_level_multiplier = 4;
  o.target_file_bytes = 16 << 10;
  o.background_threads = 2;
  return o;
}

class writer {
 public:
  writer(write_history& h, std::uint64_t seed) : history_(h), rng_(seed) {}

  // One batch of `ops` random puts and erases (a put of a value of
  // `big_value` bytes first, if non-zero). Returns its encoded size (the
  // payload of its WAL record).
  asio::awaitable<std::size_t> random_batch(db& d, int ops, bool sync = false, std::size_t big_value = 0) {
    logged_batch logged{.sequence = next_sequence_, .ops = {}};
    write_batch b;
    for (int i = 0; i < ops; ++i) {
      const std::string key = random_key();
      const std::uint64_t sequence = next_sequence_ + static_cast<std::uint64_t>(i);
      // Every batch holds a put, so dropping a batch always changes the db.
      if (i > 0 && std::uniform_int_distribution<int>(0, 99)(rng_) < 15) {
        b.erase(key);
        logged.ops.push_back({key, std::nullopt});
      } else {
        const std::size_t length =
            i == 0 && big_value > 0 ? big_value : std::uniform_int_distribution<std::size_t>(8, 200)(rng_);
        std::string value = make_value(key, sequence, length);
        b.put(key, value);
        logged.ops.push_back({key, std::move(value)});
      }
    }
    co_return co_await commit(d, std::move(b), std::move(logged), sync);
  }

  // One put whose batch encodes to exactly `bytes` bytes.
  asio::awaitable<std::size_t> batch_of_size(db& d, std::size_t bytes) {
    const std::string key = random_key();
    std::size_t length = bytes;
    write_batch b;
    std::string value;
    for (int attempt = 0; attempt < 4; ++attempt) {  // the length's varint may change size
      b.clear();
      value = make_value(key, next_sequence_, length);
      b.put(key, value);
      if (b.byte_size() == bytes) break;
      length = length + bytes - b.byte_size();
    }
    if (b.byte_size() != bytes) throw std::runtime_error("reference db: no value length gives the batch size wanted");
    logged_batch logged{.sequence = next_sequence_, .ops = {{key, value}}};
    co_return co_await commit(d, std::move(b), std::move(logged), false);
  }

  // n batches of 1..6 ops, with a flush after every 60th batch of the
  // db's life and a wait for the compactions it starts: the memtable never
  // fills up on its own (when it would rotate depends on a background
  // thread preparing the next WAL), so the tree's shape is reproducible.
  asio::awaitable<void> random_batches(db& d, int n) {
    for (int i = 0; i < n; ++i) {
      const int ops = std::uniform_int_distribution<int>(1, 6)(rng_);
      co_await random_batch(d, ops);
      if (++since_flush_ == 60) {
        since_flush_ = 0;
        co_await d.flush();
        co_await settle(d);
      }
    }
  }

  std::uint64_t last_sequence() const { return next_sequence_ - 1; }
  std::uint64_t next_sequence() const { return next_sequence_; }
  std::string random_key() { return "key" + std::to_string(std::uniform_int_distribution<int>(0, 1199)(rng_) * 7); }

  // The value names its key and sequence (a wrong version read back is
  // recognisable); a filler from four letters, so lz4 compresses it.
  std::string make_value(const std::string& key, std::uint64_t sequence, std::size_t length) {
    std::string v = key + "@" + std::to_string(sequence) + "#";
    std::uniform_int_distribution<int> letter(0, 3);
    while (v.size() < length) v.push_back(static_cast<char>('a' + letter(rng_)));
    return v;
  }

  static asio::awaitable<void> settle(db& d) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (int i = 0; i < 60000; ++i) {
      const db_stats s = d.stats();
      if (s.immutable_memtables == 0 && s.compactions_running == 0 && s.max_compaction_score < 1) co_return;
      timer.expires_after(1ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
    throw std::runtime_error("reference db: background work did not settle within a minute");
  }

 private:
  asio::awaitable<std::size_t> commit(db& d, write_batch b, logged_batch logged, bool sync) {
    for (const auto& op : logged.ops) history_.keys.insert(op.key);
    next_sequence_ += logged.ops.size();
    history_.batches.push_back(std::move(logged));
    const std::size_t bytes = b.byte_size();
    write_options wo{.sync = sync};
    co_await d.write(std::move(b), wo);
    co_return bytes;
  }

  write_history& history_;
  std::mt19937_64 rng_;
  std::uint64_t next_sequence_ = 1;
  int since_flush_ = 0;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void require(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("reference db: " + what);
}

// The tree (levels 0 to 2 at least) and then the WAL part: small batches
// around one batch longer than a log block, all in the active memtable.
inline asio::awaitable<void> write_tree(db& d, writer& w) {
  co_await w.random_batches(d, 1800);
  co_await writer::settle(d);
}

// Flushes until level 0 holds 1 to trigger-2 tables: some level-0 tables,
// and room for the flush of the replayed WAL when a trial opens a copy.
// Ends with an empty memtable (and so an empty WAL).
inline asio::awaitable<void> leave_tables_in_level0(db& d, writer& w, unsigned trigger) {
  for (int i = 0; i < 10; ++i) {
    co_await d.flush();
    co_await writer::settle(d);
    const auto l0 = d.stats().level_files[0];
    if (l0 >= 1 && l0 + 2 <= trigger) co_return;
    co_await w.random_batches(d, 60);
  }
}

// Where a log that is at `pos` ends after a record of `payload` bytes
// (docs/wal_format.md: 7-byte fragment headers, 32 KiB blocks, a block's
// last < 7 bytes zero-filled).
inline std::uint64_t log_end_after(std::uint64_t pos, std::size_t payload) {
  constexpr std::uint64_t block = log_layout::block_size, header = log_layout::header_size;
  std::uint64_t left = payload;
  do {
    std::uint64_t room = block - pos % block;
    if (room < header) {
      pos += room;
      room = block;
    }
    const std::uint64_t piece = std::min(left, room - header);
    pos += header + piece;
    left -= piece;
  } while (left > 0);
  return pos;
}

// The batches the WAL keeps, in a fresh WAL: small ones, one that ends 3
// bytes before the first block boundary (3 bytes of block padding), one
// longer than a block (first + last fragment, across the second boundary),
// small ones again.
inline asio::awaitable<void> write_wal_part(db& d, writer& w, bool some_synced) {
  const std::uint64_t flushes = d.stats().flushes;
  require(d.stats().memtable_entries == 0, "the WAL part should start in an empty WAL");
  std::uint64_t pos = 0;
  for (int i = 0; i < 20; ++i) {
    const std::size_t n = co_await w.random_batch(d, 1 + i % 4, some_synced && i % 5 == 4);
    pos = log_end_after(pos, n);
  }
  const std::uint64_t padded_end = log_layout::block_size - 3;
  const std::size_t n = co_await w.batch_of_size(d, padded_end - pos - log_layout::header_size);
  pos = log_end_after(pos, n);
  require(pos == padded_end, "the padded record does not end where planned");
  co_await w.random_batch(d, 3, some_synced, 36 << 10);
  for (int i = 0; i < 20; ++i) co_await w.random_batch(d, 1 + i % 3, some_synced && i % 7 == 6);
  require(d.stats().flushes == flushes && d.stats().immutable_memtables == 0, "the WAL part was flushed");
}

}  // namespace reference_detail

inline reference_db build_reference(boost::asio::io_context& ctx, const std::string& dir, reference_ending ending,
                                    std::uint64_t seed) {
  namespace asio = boost::asio;
  using namespace reference_detail;
  reference_db ref;
  const bool closed = ending == reference_ending::closed;
  ref.open_options = build_options(!closed);
  ref.description = closed ? "closed cleanly (uncompressed tables)"
                           : "dropped without close after a reopen (lz4 tables, synced writes in the WAL)";
  writer w(ref.history, seed);
  const options o = ref.open_options;
  strata::testing::run(ctx, [&]() -> asio::awaitable<void> {
    auto d = co_await db::open(ctx.get_executor(), dir, o);
    co_await write_tree(*d, w);
    if (closed) {
      co_await leave_tables_in_level0(*d, w, o.level0_compaction_trigger);
      co_await write_wal_part(*d, w, false);
      ref.stats = d->stats();
      co_await d->close();
      co_return;
    }
    co_await d->flush();
    co_await writer::settle(*d);
    for (int i = 0; i < 20; ++i) co_await w.random_batch(*d, 2);
    d.reset();  // a crash, for what the page cache holds
    d = co_await db::open(ctx.get_executor(), dir, o);
    require(d->stats().recovered_records == 20, "reopen did not replay the 20 batches of the WAL");
    co_await writer::settle(*d);
    co_await w.random_batches(*d, 100);
    co_await d->flush();
    std::optional<std::string> from = "key2000", to = "key5000";
    co_await d->compact_range(from, to);
    co_await w.random_batches(*d, 30);
    co_await d->flush();
    co_await writer::settle(*d);
    co_await leave_tables_in_level0(*d, w, o.level0_compaction_trigger);
    co_await write_wal_part(*d, w, true);
    ref.stats = d->stats();
    d.reset();
  }());

  const db_stats& s = ref.stats;
  require(s.last_sequence == w.last_sequence(), "last sequence differs from the writes made");
  require(s.level_files[0] >= 1 && s.level_files[0] + 2 <= o.level0_compaction_trigger,
          "level 0 should hold 1 to trigger-2 tables, holds " + std::to_string(s.level_files[0]));
  int deeper_levels = 0;
  for (std::size_t l = 1; l < s.level_files.size(); ++l) deeper_levels += s.level_files[l] > 0 ? 1 : 0;
  require(deeper_levels >= 2, "tables on fewer than two levels below 0");

  for (std::size_t i = 0; i < ref.history.batches.size(); ++i)
    ref.batch_at_sequence[ref.history.batches[i].sequence] = i;
  std::size_t tables = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    reference_file f;
    f.name = entry.path().filename().string();
    if (f.name == "LOCK") continue;
    f.bytes = slurp(entry.path());
    if (f.name == "CURRENT") {
      f.kind = file_kind::current;
    } else if (f.name.starts_with("MANIFEST-")) {
      f.kind = file_kind::manifest;
      f.log = parse_log(f.bytes, f.name);
    } else if (f.name.ends_with(".log")) {
      f.kind = file_kind::wal;
      f.log = parse_log(f.bytes, f.name);
    } else if (f.name.ends_with(".sst")) {
      f.kind = file_kind::table;
      f.table = parse_table(f.bytes, f.name);
      ++tables;
    } else {
      require(false, "unexpected file " + f.name);
    }
    ref.files.push_back(std::move(f));
  }
  std::sort(ref.files.begin(), ref.files.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  require(tables == s.table_files, "table files on disk are not exactly the live ones");

  // The live WALs (ascending names = ascending numbers) hold exactly the
  // newest batches, in order, each record one whole batch.
  std::size_t next = ref.history.batches.size();
  std::size_t wal_records = 0;
  for (const auto& f : ref.files) {
    if (f.kind == file_kind::wal) wal_records += f.log->records.size();
  }
  require(wal_records > 0 && wal_records < ref.history.batches.size(), "the WALs should hold the newest batches");
  next -= wal_records;
  for (const auto& f : ref.files) {
    if (f.kind != file_kind::wal) continue;
    for (std::size_t r = 0; r < f.log->records.size(); ++r) {
      const std::string& p = f.log->records[r].payload;
      require(p.size() >= 12, f.name + ": record too short for a batch");
      const logged_batch& expected = ref.history.batches[next++];
      require(load_le(p.data(), 8) == expected.sequence && load_le(p.data() + 8, 4) == expected.ops.size(),
              f.name + ": record " + std::to_string(r) + " is not the batch at sequence " +
                  std::to_string(expected.sequence));
    }
  }
  return ref;
}

}  // namespace strata::corruption
