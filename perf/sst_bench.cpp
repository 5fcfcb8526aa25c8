// perf/sst_bench.cpp — one SSTable of N entries: build, point gets (cold and
// warm block cache), negative gets, full scan; Strata next to LevelDB's
// public Table API (and RocksDB's SstFileWriter/SstFileReader) in one run.
//
//   sst_bench [--num=N] [--quick] [--repeat=R] [--only=strata|leveldb|rocksdb] [--skip=warm,negative,scan]
//             [--fallback] [--dir=PATH]
//
// Each read pass runs R times (default 3) and the best rate counts, for
// every engine alike: this VM's noise only ever slows a pass down.
// --only=NAME runs one engine and --skip=PASSES leaves read passes out (both
// for profiling one pass; the build and the cold pass always run).
//
// Same entries for everyone: 16-byte user keys in ascending order plus the
// same 8-byte tag (so bytewise order = internal-key order), 100-byte values,
// 4 KiB blocks, 10 bloom bits per key, no compression, a block cache large
// enough for the table. Single thread.
//
// Caveat on the rivals' public APIs: leveldb::Table and rocksdb::SstFileReader
// offer no point Get, only iterators, so their gets here are Seek() on one
// reused iterator and do not consult the bloom filter (LevelDB's DB::Get
// would, through the private Table::InternalGet). Their negative gets are
// therefore slower than inside a DB: that ratio flatters us and is labelled.
// A found key's value is copied out on every engine, as a Get returns it.
// Debian's RocksDB is built with assertions on: label "Debian build,
// assertions on".
#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "io/io_engine.hpp"
#include "sst/internal_key.hpp"
#include "sst/table_reader.hpp"
#include "sst/table_writer.hpp"
#include "util/coding.hpp"

#ifdef STRATA_HAVE_LEVELDB
#include <leveldb/cache.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/table.h>
#include <leveldb/table_builder.h>
#endif
#ifdef STRATA_HAVE_ROCKSDB
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#endif

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

bool fallback_engine = false;  // --fallback: the thread-pool io engine (e.g. under valgrind)
std::string skipped_passes;    // --skip=: comma-separated pass names

bool runs(std::string_view pass) { return skipped_passes.find(pass) == std::string::npos; }

struct dataset {
  std::vector<std::string> keys;   // sorted internal keys (user key + tag)
  std::vector<std::size_t> order;  // random permutation for gets
  std::string value = std::string(100, 'v');

  // The internal key of the get_number-th get, made in place the way
  // db_bench makes its keys, rather than read from `keys`: a random element
  // of a 1M-string vector costs two cache misses and two page walks per get
  // (the string, then its bytes), the same for every engine, and that
  // harness cost would dilute the engines' own differences. Absent keys sort
  // between present ones (odd numbers where present keys are even).
  std::string_view lookup_key(std::size_t get_number, bool absent, std::array<char, 24>& buf) const {
    const std::uint64_t v = 2 * order[get_number % order.size()] + (absent ? 1 : 0);
    std::memcpy(buf.data(), keys.front().data(), buf.size());  // the padding and the tag
    for (int b = 0; b < 8; ++b) buf[static_cast<std::size_t>(b)] = static_cast<char>(v >> (56 - 8 * b));
    return {buf.data(), buf.size()};
  }
};

dataset make_dataset(std::size_t n) {
  dataset d;
  auto key = [](std::uint64_t v) {
    std::string k(16, '.');
    for (int b = 0; b < 8; ++b) k[static_cast<std::size_t>(b)] = static_cast<char>(v >> (56 - 8 * b));
    return strata::sst::make_internal_key(k, 1, strata::value_type::value);
  };
  for (std::size_t i = 0; i < n; ++i) d.keys.push_back(key(2 * i));
  d.order.resize(n);
  for (std::size_t i = 0; i < n; ++i) d.order[i] = i;
  std::shuffle(d.order.begin(), d.order.end(), std::mt19937_64(42));
  return d;
}

struct row {
  double build_mb_s = 0, cold_get = 0, warm_get = 0, negative_get = 0, scan = 0;
  std::uint64_t file_bytes = 0;
};

double per_second(std::size_t ops, clock_type::time_point start) {
  return static_cast<double>(ops) / std::chrono::duration<double>(clock_type::now() - start).count();
}

template <typename Pass>
double best_of(int repeat, Pass&& pass) {
  double best = 0;
  for (int i = 0; i < repeat; ++i) best = std::max(best, pass());
  return best;
}

template <typename T>
T run(asio::io_context& ctx, asio::awaitable<T> aw) {
  auto fut = asio::co_spawn(ctx, std::move(aw), asio::use_future);
  ctx.restart();
  ctx.run();
  return fut.get();
}

row bench_strata(const dataset& d, const std::string& dir, std::size_t gets, int repeat) {
  using namespace strata;
  row r;
  auto engine = io::make_io_engine({.force_fallback = fallback_engine});
  asio::io_context ctx;
  const std::string path = dir + "/strata.sst";
  std::error_code ec;
  auto f = io::file::open(*engine, path, {.create = true, .truncate = true}, ec);
  if (ec) std::exit(1);
  auto start = clock_type::now();
  const auto err = run(ctx, [&]() -> asio::awaitable<std::error_code> {
    sst::table_file_writer w(*f, {.block_size = 4096, .bits_per_key = 10});
    for (const auto& k : d.keys) {
      if (auto e = w.append(k, d.value)) co_return e;
      if (w.should_write()) {
        if (auto e = co_await w.write_pending()) co_return e;
      }
    }
    co_return co_await w.finish();
  }());
  if (err) std::exit(1);
  f->size(r.file_bytes);
  r.build_mb_s =
      static_cast<double>(r.file_bytes) / 1e6 / std::chrono::duration<double>(clock_type::now() - start).count();

  sst::block_cache cache(std::size_t{1} << 30);
  auto opened = run(ctx, sst::table_reader::open(*f, r.file_bytes, &cache));
  if (opened.error) {
    fmt::print(stderr, "{}\n", opened.message);
    std::exit(1);
  }
  const auto& t = *opened.table;
  auto gets_pass = [&](bool absent, std::size_t count, bool expect) {
    return run(ctx, [&]() -> asio::awaitable<double> {
      const auto s = clock_type::now();
      std::size_t found = 0;
      sst::table_lookup res;
      std::array<char, 24> buf;
      for (std::size_t i = 0; i < count; ++i) {
        const std::string_view k = d.lookup_key(i, absent, buf);
        const auto user_key = sst::user_key_of(k);
        // The db's read path: answer from memory when possible, read otherwise.
        if (!t.try_get(user_key, max_sequence_number, res)) res = co_await t.get(user_key, max_sequence_number);
        found += res.status == sst::table_lookup::state::found;
      }
      if ((found == count) != expect) std::exit(3);
      co_return per_second(count, s);
    }());
  };
  if (runs("cold")) r.cold_get = gets_pass(false, std::min(gets, d.keys.size()) / 4, true);  // cache empty at first
  if (runs("warm")) r.warm_get = best_of(repeat, [&] { return gets_pass(false, gets, true); });
  if (runs("negative")) r.negative_get = best_of(repeat, [&] { return gets_pass(true, gets, false); });
  if (runs("scan"))
    r.scan = best_of(repeat, [&] {
      return run(ctx, [&]() -> asio::awaitable<double> {
        const auto s = clock_type::now();
        auto it = t.new_iterator();
        std::size_t n = 0;
        co_await it.seek_to_first();
        while (it.valid()) {
          ++n;
          if (!it.try_next()) co_await it.next();
        }
        if (n != d.keys.size()) std::exit(3);
        co_return per_second(n, s);
      }());
    });
  return r;
}

#if defined(STRATA_HAVE_LEVELDB) || defined(STRATA_HAVE_ROCKSDB)
// The rivals' public table APIs have no point Get: gets are Seek() on one
// reused iterator (leveldb::Iterator and rocksdb::Iterator share this shape).
template <typename Iterator>
void read_with_seeks(Iterator& it, const dataset& d, std::size_t gets, int repeat, row& r) {
  auto gets_pass = [&](bool absent, std::size_t count, bool expect) {
    const auto s = clock_type::now();
    std::size_t found = 0;
    std::string value;  // a Get hands back the value, as ours does: copy it
    std::array<char, 24> buf;
    for (std::size_t i = 0; i < count; ++i) {
      const std::string_view k = d.lookup_key(i, absent, buf);
      it.Seek({k.data(), k.size()});
      if (it.Valid() && std::string_view(it.key().data(), it.key().size()) == k) {
        value.assign(it.value().data(), it.value().size());
        ++found;
      }
    }
    if ((found == count) != expect) std::exit(3);
    return per_second(count, s);
  };
  r.cold_get = gets_pass(false, std::min(gets, d.keys.size()) / 4, true);
  if (runs("warm")) r.warm_get = best_of(repeat, [&] { return gets_pass(false, gets, true); });
  if (runs("negative")) r.negative_get = best_of(repeat, [&] { return gets_pass(true, gets, false); });
  if (runs("scan"))
    r.scan = best_of(repeat, [&] {
      const auto s = clock_type::now();
      std::size_t n = 0;
      for (it.SeekToFirst(); it.Valid(); it.Next()) ++n;
      if (n != d.keys.size()) std::exit(3);
      return per_second(n, s);
    });
}
#endif

#ifdef STRATA_HAVE_LEVELDB
row bench_leveldb(const dataset& d, const std::string& dir, std::size_t gets, int repeat) {
  row r;
  leveldb::Env* env = leveldb::Env::Default();
  const std::string path = dir + "/leveldb.ldb";
  const leveldb::FilterPolicy* policy = leveldb::NewBloomFilterPolicy(10);
  leveldb::Cache* cache = leveldb::NewLRUCache(std::size_t{1} << 30);
  leveldb::Options o;
  o.block_size = 4096;
  o.filter_policy = policy;
  o.compression = leveldb::kNoCompression;
  o.block_cache = cache;
  leveldb::WritableFile* wf = nullptr;
  if (!env->NewWritableFile(path, &wf).ok()) std::exit(1);
  auto start = clock_type::now();
  {
    leveldb::TableBuilder b(o, wf);
    for (const auto& k : d.keys) b.Add(k, d.value);
    if (!b.Finish().ok() || !wf->Sync().ok() || !wf->Close().ok()) std::exit(1);
    r.file_bytes = b.FileSize();
  }
  r.build_mb_s =
      static_cast<double>(r.file_bytes) / 1e6 / std::chrono::duration<double>(clock_type::now() - start).count();
  delete wf;
  leveldb::RandomAccessFile* rf = nullptr;
  leveldb::Table* table = nullptr;
  if (!env->NewRandomAccessFile(path, &rf).ok() || !leveldb::Table::Open(o, rf, r.file_bytes, &table).ok())
    std::exit(1);
  leveldb::Iterator* it = table->NewIterator(leveldb::ReadOptions());
  read_with_seeks(*it, d, gets, repeat, r);
  delete it;
  delete table;
  delete rf;
  delete cache;
  delete policy;
  return r;
}
#endif

#ifdef STRATA_HAVE_ROCKSDB
row bench_rocksdb(const dataset& d, const std::string& dir, std::size_t gets, int repeat) {
  row r;
  rocksdb::Options o;
  rocksdb::BlockBasedTableOptions bo;
  bo.block_size = 4096;
  bo.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  bo.block_cache = rocksdb::NewLRUCache(std::size_t{1} << 30);
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(bo));
  o.compression = rocksdb::kNoCompression;
  const std::string path = dir + "/rocksdb.sst";
  auto start = clock_type::now();
  {
    rocksdb::SstFileWriter w(rocksdb::EnvOptions(), o);
    if (!w.Open(path).ok()) std::exit(1);
    for (const auto& k : d.keys) {
      if (!w.Put(k, d.value).ok()) std::exit(1);
    }
    rocksdb::ExternalSstFileInfo info;
    if (!w.Finish(&info).ok()) std::exit(1);
    r.file_bytes = info.file_size;
  }
  r.build_mb_s =
      static_cast<double>(r.file_bytes) / 1e6 / std::chrono::duration<double>(clock_type::now() - start).count();
  rocksdb::SstFileReader reader(o);
  if (!reader.Open(path).ok()) std::exit(1);
  std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
  read_with_seeks(*it, d, gets, repeat, r);
  return r;
}
#endif

void print(const char* name, const row& r, const row& ours) {
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  fmt::print("{:<34} {:>9.1f} {:>10.0f} {:>10.0f} {:>10.0f} {:>11.0f} {:>9.1f}", name, r.build_mb_s, r.cold_get,
             r.warm_get, r.negative_get, r.scan, static_cast<double>(r.file_bytes) / 1e6);
  if (&r != &ours) {
    fmt::print("   strata/this: build {:.2f}x warm {:.2f}x negative {:.2f}x scan {:.2f}x",
               ratio(ours.build_mb_s, r.build_mb_s), ratio(ours.warm_get, r.warm_get),
               ratio(ours.negative_get, r.negative_get), ratio(ours.scan, r.scan));
  }
  fmt::print("\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 1000000;
  int repeat = 3;
  std::string only;  // empty: everyone
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/strata-sst-bench";
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--quick")
      n = 100000;
    else if (a.starts_with("--num="))
      n = std::stoul(std::string(a.substr(6)));
    else if (a.starts_with("--repeat="))
      repeat = std::max(1, std::stoi(std::string(a.substr(9))));
    else if (a == "--fallback")
      fallback_engine = true;
    else if (a.starts_with("--only="))
      only = std::string(a.substr(7));
    else if (a.starts_with("--skip="))
      skipped_passes = std::string(a.substr(7));
    else if (a.starts_with("--dir="))
      dir = std::string(a.substr(6));
    else {
      fmt::print(stderr,
                 "usage: sst_bench [--num=N] [--quick] [--repeat=R] [--only=strata|leveldb|rocksdb] "
                 "[--skip=warm,negative,scan] [--fallback] [--dir=PATH]\n");
      return 2;
    }
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const dataset d = make_dataset(n);
  const std::size_t gets = n;
  fmt::print(
      "sst_bench: {} entries, 16 B user keys (+8 B tag), 100 B values, 4 KiB blocks, 10 bloom bits/key, no "
      "compression, 1 thread\n\n",
      n);
  fmt::print("{:<34} {:>9} {:>10} {:>10} {:>10} {:>11} {:>9}\n", "engine", "build MB/s", "cold get/s", "warm get/s",
             "neg get/s", "scan ent/s", "file MB");
  const row ours = only.empty() || only == "strata" ? bench_strata(d, dir, gets, repeat) : row{};
  if (only.empty() || only == "strata") print("strata", ours, ours);
#ifdef STRATA_HAVE_LEVELDB
  if (only.empty() || only == "leveldb")
    print("leveldb 1.23 (Table API, *)", bench_leveldb(d, dir, gets, repeat), ours);
#endif
#ifdef STRATA_HAVE_ROCKSDB
  if (only.empty() || only == "rocksdb")
    print("rocksdb (Debian build, asserts on, *)", bench_rocksdb(d, dir, gets, repeat), ours);
#endif
  fmt::print(
      "\n(*) public Table/SstFileReader APIs: gets are iterator seeks without the bloom filter; their "
      "negative-get ratio flatters us.\n");
  std::filesystem::remove_all(dir);
  return 0;
}
