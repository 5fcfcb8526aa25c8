// perf/fill_bench.cpp — the whole store under leveled compaction: fill N
// random keys, wait until compaction has settled, then read. Strata next to
// LevelDB (and RocksDB) through their public DB APIs, in one run.
//
//   fill_bench [--num=N] [--quick] [--reads=R] [--scans=S] [--writers=W] [--batch=B]
//              [--subcompactions=N] [--round_robin] [--scan_length=L] [--cache_mb=M]
//              [--only=strata|leveldb|rocksdb] [--dir=PATH]
//
// Reported per engine:
//   fill      puts/s, no sync (the WAL reaches the OS page cache, as in
//             db_bench). LevelDB and RocksDB: one thread, synchronous Put.
//             Strata: the first 20000 puts one at a time (reported on their
//             own line), the rest from W coroutines at once (default 16),
//             on one thread: how an async server uses it. --batch=B: every
//             engine writes B puts per write batch instead (one WAL record).
//   settle    seconds from the last acknowledged put until no flush or
//             compaction is pending or running (each engine's own rule).
//   WA        write amplification: table bytes written by flushes and
//             compactions / user bytes put (N * 116). WAL bytes are left
//             out for every engine alike.
//   SA        space amplification: bytes of every file in the db directory
//             after settling / live logical bytes (distinct keys * 116).
//   readrandom  gets/s of random keys from the same key space (about 63 %
//             are present, as in db_bench), one reader.
//   scan100   scans/s: a fresh iterator seeks a random key and reads 100
//             entries (--scan_length), one reader.
//
// Same shape for everyone: 16-byte keys (random, drawn with replacement
// from [0, N) as db_bench's fillrandom does), 100-byte values, a 4 MiB
// write buffer, level 1 of 10 MiB growing 10x per level, 2 MiB target
// files, level-0 triggers 4/8/12, 4 KiB blocks, 10 bloom bits per key, a
// 64 MiB block cache (--cache_mb: every engine's), no compression. LevelDB
// has these values fixed or as options; they are LevelDB's defaults, chosen
// so the rival runs as shipped.
// LevelDB reports bytes written per level in whole MB: its WA is rounded.
// Debian's RocksDB is built with assertions on: label "Debian build,
// assertions on"; LevelDB is the honest rival.
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "strata/db.hpp"

#ifdef STRATA_HAVE_LEVELDB
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>
#endif
#ifdef STRATA_HAVE_ROCKSDB
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#endif

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::size_t value_bytes = 100;
constexpr std::size_t key_bytes = 16;
constexpr std::size_t write_buffer = std::size_t{4} << 20;
constexpr std::uint64_t level1_bytes = std::uint64_t{10} << 20;
constexpr std::uint64_t target_file = std::uint64_t{2} << 20;
std::size_t cache_bytes = std::size_t{64} << 20;  // --cache_mb
int scan_length = 100;                            // --scan_length: 0 measures making an iterator and seeking
constexpr std::size_t single_writer_puts = 20000;
unsigned writers = 16;
unsigned subcompactions = 1;  // --subcompactions: Strata's options.subcompactions
bool round_robin = false;     // --round_robin: Strata's options.compaction_round_robin
unsigned batch = 1;  // --batch: puts per write_batch during the fill (all engines)  // --writers: Strata's puts in
                     // flight during the fill

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

std::string make_key(std::uint64_t i) { return fmt::format("{:016}", i); }

struct workload {
  std::vector<std::uint64_t> fill, reads, seeks;  // indices into the key space [0, n)
  std::size_t distinct = 0;
  std::string value;
};

workload make_workload(std::size_t n, std::size_t reads, std::size_t scans) {
  workload w;
  std::mt19937_64 rng(20261121);
  std::uniform_int_distribution<std::uint64_t> pick(0, n - 1);
  std::vector<bool> seen(n);
  w.fill.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    w.fill.push_back(pick(rng));
    if (!seen[w.fill.back()]) {
      seen[w.fill.back()] = true;
      ++w.distinct;
    }
  }
  for (std::size_t i = 0; i < reads; ++i) w.reads.push_back(pick(rng));
  for (std::size_t i = 0; i < scans; ++i) w.seeks.push_back(pick(rng));
  w.value.resize(value_bytes);
  for (std::size_t i = 0; i < value_bytes; ++i) w.value[i] = static_cast<char>('a' + rng() % 26);
  return w;
}

struct row {
  double single_put_per_s = 0;  // Strata only: puts one at a time
  double fill_per_s = 0, settle_s = 0, write_amp = 0, space_amp = 0, reads_per_s = 0, scans_per_s = 0;
  std::size_t found = 0;      // reads that found their key (a cross-check between engines)
  std::uint64_t scanned = 0;  // entries the scans returned (likewise)
  std::string detail;         // a line about the engine's shape after settling
};

std::uint64_t directory_bytes(const std::string& dir) {
  std::uint64_t total = 0;
  // An engine may delete an obsolete file while we list: skip it.
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    const std::uintmax_t size = e.file_size(ec);
    if (!ec && e.is_regular_file(ec)) total += size;
  }
  return total;
}

double logical_bytes(const workload& w) { return static_cast<double>(w.distinct) * (key_bytes + value_bytes); }
double user_bytes(const workload& w) { return static_cast<double>(w.fill.size()) * (key_bytes + value_bytes); }

// ---- Strata ----

asio::awaitable<row> run_strata(const workload& w, std::string dir) {
  row r;
  strata::options o;
  o.memtable_bytes = write_buffer;
  o.block_size = 4096;
  o.bits_per_key = 10;
  o.compress_tables = false;
  o.block_cache_bytes = cache_bytes;
  o.level0_compaction_trigger = 4;
  o.level0_slowdown_writes_trigger = 8;
  o.level0_stop_writes_trigger = 12;
  o.max_bytes_for_level_base = level1_bytes;
  o.max_bytes_for_level_multiplier = 10;
  o.target_file_bytes = target_file;
  o.subcompactions = subcompactions;
  o.compaction_round_robin = round_robin;
  auto ex = co_await asio::this_coro::executor;
  auto db = co_await strata::db::open(ex, dir, o);

  // The first puts one at a time (the rivals' way: each acknowledged before
  // the next), the rest from `writers` coroutines at once (Strata's way: an
  // async server has many requests in flight, and they share WAL writes).
  const std::size_t alone = std::min<std::size_t>(single_writer_puts, w.fill.size());
  auto t = clock_type::now();
  for (std::size_t n = 0; n < alone; ++n) {
    const std::string k = make_key(w.fill[n]);
    co_await db->put(k, w.value);
  }
  r.single_put_per_s = static_cast<double>(alone) / seconds_since(t);
  t = clock_type::now();
  std::size_t next = alone;
  std::size_t running = writers;
  asio::steady_timer all_done(ex, clock_type::time_point::max());
  for (unsigned c = 0; c < writers; ++c) {
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          while (next < w.fill.size()) {
            if (batch <= 1) {
              const std::string k = make_key(w.fill[next++]);
              co_await db->put(k, w.value);
              continue;
            }
            strata::write_batch b;
            for (unsigned n = 0; n < batch && next < w.fill.size(); ++n) b.put(make_key(w.fill[next++]), w.value);
            co_await db->write(std::move(b));
          }
          if (--running == 0) all_done.cancel();
        },
        asio::detached);
  }
  boost::system::error_code ignored;
  co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  r.fill_per_s = static_cast<double>(w.fill.size() - alone) / seconds_since(t);

  t = clock_type::now();
  asio::steady_timer timer(ex);
  for (;;) {
    const strata::db_stats s = db->stats();
    if (s.immutable_memtables == 0 && s.compactions_running == 0 && s.max_compaction_score < 1) break;
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(asio::use_awaitable);
  }
  r.settle_s = seconds_since(t);
  {
    const strata::db_stats s = db->stats();
    r.write_amp = static_cast<double>(s.flush_bytes + s.compaction_bytes_written) / user_bytes(w);
    r.space_amp = static_cast<double>(directory_bytes(dir)) / logical_bytes(w);
    r.detail = fmt::format(
        "strata: {:.0f} puts/s one at a time (first {} puts), then {:.0f}/s with {} in flight; {} flushes, {} "
        "compactions ({} trivial moves, {} subcompaction parts), files per level",
        r.single_put_per_s, single_writer_puts, r.fill_per_s, writers, s.flushes, s.compactions, s.trivial_moves,
        s.subcompactions);
    for (const auto f : s.level_files) r.detail += fmt::format(" {}", f);
    r.detail += fmt::format("; MiB written: flush {:.0f}, into level", static_cast<double>(s.flush_bytes) / 1048576);
    for (std::size_t l = 1; l < s.level_compaction_written.size(); ++l)
      if (s.level_compaction_written[l] != 0)
        r.detail += fmt::format(" {}: {:.0f}", l, static_cast<double>(s.level_compaction_written[l]) / 1048576);
  }

  t = clock_type::now();
  for (const std::uint64_t i : w.reads) {
    const std::string k = make_key(i);
    const std::optional<std::string> v = co_await db->get(k);
    if (v) ++r.found;
  }
  r.reads_per_s = static_cast<double>(w.reads.size()) / seconds_since(t);

  t = clock_type::now();
  for (const std::uint64_t i : w.seeks) {
    auto it = db->scan();
    const std::string k = make_key(i);
    co_await it->seek(k);
    for (int n = 0; n < scan_length && it->valid(); ++n) {
      ++r.scanned;
      if (!it->try_next()) co_await it->next();  // a coroutine step only when a read is needed
    }
  }
  r.scans_per_s = static_cast<double>(w.seeks.size()) / seconds_since(t);
  co_await db->close();
  co_return r;
}

row bench_strata(const workload& w, const std::string& dir) {
  asio::io_context ctx;
  auto f = asio::co_spawn(ctx, run_strata(w, dir), asio::use_future);
  ctx.run();
  return f.get();
}

// ---- LevelDB ----

#ifdef STRATA_HAVE_LEVELDB
// LevelDB's own rule (VersionSet::Finalize): level 0 scores files / 4,
// level n >= 1 scores bytes / (10 MiB * 10^(n-1)); work is pending at a
// score of 1. The bytes come from "leveldb.sstables" (exact sizes).
bool leveldb_settled(leveldb::DB* db) {
  std::string tables;
  db->GetProperty("leveldb.sstables", &tables);
  std::istringstream in(tables);
  std::string line;
  int level = -1;
  std::vector<std::uint64_t> bytes(7), files(7);
  while (std::getline(in, line)) {
    if (line.starts_with("--- level ")) {
      level = std::stoi(line.substr(10));
    } else if (level >= 0 && line.find(':') != std::string::npos) {
      const auto colon = line.find(':');
      bytes[level] += std::stoull(line.substr(colon + 1));
      ++files[level];
    }
  }
  if (files[0] >= 4) return false;
  double limit = static_cast<double>(level1_bytes);
  for (int l = 1; l < 6; ++l, limit *= 10)
    if (static_cast<double>(bytes[l]) >= limit) return false;
  return true;
}

// Sum of the Write(MB) column of "leveldb.stats" (flushes count at the
// level they land in).
double leveldb_written_bytes(leveldb::DB* db, std::string& detail) {
  std::string stats;
  db->GetProperty("leveldb.stats", &stats);
  std::istringstream in(stats);
  std::string line;
  double mb = 0;
  detail = "leveldb: files per level";
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    int level;
    double files, size, secs, read, write;
    if (fields >> level >> files >> size >> secs >> read >> write) {
      mb += write;
      detail += fmt::format(" L{}: {} files, {} MiB written;", level, files, write);
    }
  }
  return mb * 1048576.0;
}

row bench_leveldb(const workload& w, const std::string& dir) {
  row r;
  leveldb::Options o;
  o.create_if_missing = true;
  o.write_buffer_size = write_buffer;
  o.max_file_size = target_file;
  o.block_size = 4096;
  o.compression = leveldb::kNoCompression;
  std::unique_ptr<const leveldb::FilterPolicy> policy(leveldb::NewBloomFilterPolicy(10));
  std::unique_ptr<leveldb::Cache> cache(leveldb::NewLRUCache(cache_bytes));
  o.filter_policy = policy.get();
  o.block_cache = cache.get();
  leveldb::DB* raw = nullptr;
  if (!leveldb::DB::Open(o, dir, &raw).ok()) throw std::runtime_error("leveldb open failed");
  std::unique_ptr<leveldb::DB> db(raw);

  auto t = clock_type::now();
  for (std::size_t n = 0; n < w.fill.size();) {
    leveldb::WriteBatch b;
    for (unsigned k = 0; k < batch && n < w.fill.size(); ++k) b.Put(make_key(w.fill[n++]), w.value);
    if (!db->Write(leveldb::WriteOptions(), &b).ok()) throw std::runtime_error("leveldb write failed");
  }
  r.fill_per_s = static_cast<double>(w.fill.size()) / seconds_since(t);
  t = clock_type::now();
  while (!leveldb_settled(db.get())) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  r.settle_s = seconds_since(t);
  r.write_amp = leveldb_written_bytes(db.get(), r.detail) / user_bytes(w);
  r.space_amp = static_cast<double>(directory_bytes(dir)) / logical_bytes(w);

  t = clock_type::now();
  std::string v;
  for (const std::uint64_t i : w.reads)
    if (db->Get(leveldb::ReadOptions(), make_key(i), &v).ok()) ++r.found;
  r.reads_per_s = static_cast<double>(w.reads.size()) / seconds_since(t);

  t = clock_type::now();
  for (const std::uint64_t i : w.seeks) {
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
    it->Seek(make_key(i));
    for (int n = 0; n < scan_length && it->Valid(); ++n, it->Next()) ++r.scanned;
  }
  r.scans_per_s = static_cast<double>(w.seeks.size()) / seconds_since(t);
  return r;
}
#endif

// ---- RocksDB ----

#ifdef STRATA_HAVE_ROCKSDB
std::uint64_t rocksdb_property(rocksdb::DB* db, const char* name) {
  std::uint64_t v = 0;
  db->GetIntProperty(name, &v);
  return v;
}

row bench_rocksdb(const workload& w, const std::string& dir) {
  row r;
  rocksdb::Options o;
  o.create_if_missing = true;
  o.write_buffer_size = write_buffer;
  o.max_write_buffer_number = 3;  // one active + 2 sealed, as Strata's default
  o.max_bytes_for_level_base = level1_bytes;
  o.max_bytes_for_level_multiplier = 10;
  o.target_file_size_base = target_file;
  o.level0_file_num_compaction_trigger = 4;
  o.level0_slowdown_writes_trigger = 8;
  o.level0_stop_writes_trigger = 12;
  o.compression = rocksdb::kNoCompression;
  o.statistics = rocksdb::CreateDBStatistics();
  rocksdb::BlockBasedTableOptions bo;
  bo.block_size = 4096;
  bo.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  bo.block_cache = rocksdb::NewLRUCache(cache_bytes);
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(bo));
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(o, dir, &raw).ok()) throw std::runtime_error("rocksdb open failed");
  std::unique_ptr<rocksdb::DB> db(raw);

  auto t = clock_type::now();
  for (std::size_t n = 0; n < w.fill.size();) {
    rocksdb::WriteBatch b;
    for (unsigned k = 0; k < batch && n < w.fill.size(); ++k) b.Put(make_key(w.fill[n++]), w.value);
    if (!db->Write(rocksdb::WriteOptions(), &b).ok()) throw std::runtime_error("rocksdb write failed");
  }
  r.fill_per_s = static_cast<double>(w.fill.size()) / seconds_since(t);
  t = clock_type::now();
  while (rocksdb_property(db.get(), "rocksdb.compaction-pending") != 0 ||
         rocksdb_property(db.get(), "rocksdb.num-running-compactions") != 0 ||
         rocksdb_property(db.get(), "rocksdb.num-running-flushes") != 0 ||
         rocksdb_property(db.get(), "rocksdb.mem-table-flush-pending") != 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  r.settle_s = seconds_since(t);
  const std::uint64_t written = o.statistics->getTickerCount(rocksdb::FLUSH_WRITE_BYTES) +
                                o.statistics->getTickerCount(rocksdb::COMPACT_WRITE_BYTES);
  r.write_amp = static_cast<double>(written) / user_bytes(w);
  r.space_amp = static_cast<double>(directory_bytes(dir)) / logical_bytes(w);
  r.detail = "rocksdb: files per level";
  for (int l = 0; l < 7; ++l) {
    std::string files;  // (a string property: GetIntProperty does not know it)
    db->GetProperty(fmt::format("rocksdb.num-files-at-level{}", l), &files);
    r.detail += " " + files;
  }
  // Per-level compaction writes (the "Write(GB)" column of rocksdb.stats).
  std::map<std::string, std::string> cf;
  if (db->GetMapProperty(rocksdb::DB::Properties::kCFStats, &cf)) {
    r.detail += "; MiB written into level";
    for (int l = 0; l < 7; ++l) {
      const auto it = cf.find(fmt::format("compaction.L{}.WriteGB", l));
      if (it != cf.end() && std::stod(it->second) > 0)
        r.detail += fmt::format(" {}: {:.0f}", l, std::stod(it->second) * 1024);
    }
  }

  t = clock_type::now();
  std::string v;
  for (const std::uint64_t i : w.reads)
    if (db->Get(rocksdb::ReadOptions(), make_key(i), &v).ok()) ++r.found;
  r.reads_per_s = static_cast<double>(w.reads.size()) / seconds_since(t);

  t = clock_type::now();
  for (const std::uint64_t i : w.seeks) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    it->Seek(make_key(i));
    for (int n = 0; n < scan_length && it->Valid(); ++n, it->Next()) ++r.scanned;
  }
  r.scans_per_s = static_cast<double>(w.seeks.size()) / seconds_since(t);
  return r;
}
#endif

void print(const char* name, const row& r, const row& ours) {
  auto ratio = [](double a, double b) { return b > 0 ? fmt::format("{:.2f}x", a / b) : std::string("-"); };
  fmt::print("{:<32} {:>9.0f} {:>8.1f} {:>6.2f} {:>6.2f} {:>11.0f} {:>9.0f}   found {} scanned {}\n", name,
             r.fill_per_s, r.settle_s, r.write_amp, r.space_amp, r.reads_per_s, r.scans_per_s, r.found, r.scanned);
  if (&r != &ours)
    fmt::print("{:<32} {:>9} {:>8} {:>6} {:>6} {:>11} {:>9}   (strata / this; WA, SA: this / strata)\n",
               "  strata vs this", ratio(ours.fill_per_s, r.fill_per_s), "", ratio(r.write_amp, ours.write_amp),
               ratio(r.space_amp, ours.space_amp), ratio(ours.reads_per_s, r.reads_per_s),
               ratio(ours.scans_per_s, r.scans_per_s));
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 2000000, reads = 0, scans = 0;
  std::string only;
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/strata-fill-bench";
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--quick")
      n = 200000;
    else if (a.starts_with("--num="))
      n = std::stoul(std::string(a.substr(6)));
    else if (a.starts_with("--reads="))
      reads = std::stoul(std::string(a.substr(8)));
    else if (a.starts_with("--scans="))
      scans = std::stoul(std::string(a.substr(8)));
    else if (a.starts_with("--only="))
      only = std::string(a.substr(7));
    else if (a.starts_with("--subcompactions="))
      subcompactions = std::max(1, std::stoi(std::string(a.substr(17))));
    else if (a.starts_with("--batch="))
      batch = std::max(1, std::stoi(std::string(a.substr(8))));
    else if (a.starts_with("--writers="))
      writers = std::max(1, std::stoi(std::string(a.substr(10))));
    else if (a.starts_with("--scan_length="))
      scan_length = std::max(0, std::stoi(std::string(a.substr(14))));
    else if (a.starts_with("--cache_mb="))
      cache_bytes = std::size_t{std::stoul(std::string(a.substr(11)))} << 20;
    else if (a == "--round_robin")
      round_robin = true;
    else if (a.starts_with("--dir="))
      dir = std::string(a.substr(6));
    else {
      fmt::print(stderr,
                 "usage: fill_bench [--num=N] [--quick] [--reads=R] [--scans=S] [--writers=W] [--batch=B] "
                 "[--subcompactions=N] [--round_robin] [--cache_mb=M] "
                 "[--scan_length=L] [--only=strata|leveldb|rocksdb] [--dir=PATH]\n");
      return 2;
    }
  }
  if (reads == 0) reads = n / 4;
  if (scans == 0) scans = n / 40;
  const workload w = make_workload(n, reads, scans);
  fmt::print(
      "fill_bench: {} random puts ({} distinct keys), 16 B keys, 100 B values, 4 MiB write buffer, L1 10 MiB x10, "
      "2 MiB files, 4 KiB blocks, 10 bloom bits, {} MiB block cache, no compression, {} put(s) per write; then {} gets "
      "and {} scans of {} keys\n\n",
      n, w.distinct, cache_bytes >> 20, batch, reads, scans, scan_length);
  fmt::print("{:<32} {:>9} {:>8} {:>6} {:>6} {:>11} {:>9}\n", "engine", "fill/s", "settle s", "WA", "SA", "readrand/s",
             "scan100/s");
  std::vector<std::string> details;
  auto fresh = [&](const char* name) {
    const std::string d = dir + "/" + name;
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d;
  };
  row ours;
  if (only.empty() || only == "strata") {
    ours = bench_strata(w, fresh("strata"));
    print("strata", ours, ours);
    details.push_back(ours.detail);
  }
#ifdef STRATA_HAVE_LEVELDB
  if (only.empty() || only == "leveldb") {
    const row r = bench_leveldb(w, fresh("leveldb"));
    print("leveldb 1.23", r, ours);
    details.push_back(r.detail);
  }
#endif
#ifdef STRATA_HAVE_ROCKSDB
  if (only.empty() || only == "rocksdb") {
    const row r = bench_rocksdb(w, fresh("rocksdb"));
    print("rocksdb (Debian, asserts on)", r, ours);
    details.push_back(r.detail);
  }
#endif
  fmt::print("\n");
  for (const auto& d : details) fmt::print("{}\n", d);
  std::filesystem::remove_all(dir);
  return 0;
}
