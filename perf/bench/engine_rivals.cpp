// perf/bench/engine_rivals.cpp — LevelDB and RocksDB behind the benchmark's
// engine interface (compiled in with the `comparators` option). Their calls
// block, so the awaitables never suspend: concurrency is OS threads.
// Settings mirror strata_engine's (see engine.hpp); LevelDB has no way to
// turn its log off, so --disable_wal leaves LevelDB's WAL on (said in the
// output), and its compression choice is snappy where we say lz4.
#include <filesystem>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "bench/engine.hpp"

#ifdef STRATA_HAVE_LEVELDB
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/options.h>
#endif
#ifdef STRATA_HAVE_ROCKSDB
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#endif

namespace strata::bench {

namespace asio = boost::asio;

std::unique_ptr<engine> make_strata_engine(const bench_flags& f);

namespace {

template <typename Status>
void check(const Status& s, std::string_view engine, std::string_view what) {
  if (!s.ok()) throw std::runtime_error(fmt::format("{}: {}: {}", engine, what, s.ToString()));
}

// The two rivals' iterators and properties have the same shape: one scan
// and one state line serve both. Slice is the engine's own slice type.
template <typename Slice, typename Iterator>
scan_result scan_iterator(Iterator& it, std::string_view start, std::size_t count, std::string_view engine) {
  scan_result r;
  if (start.empty()) {
    it.SeekToFirst();
  } else {
    it.Seek(Slice(start.data(), start.size()));
  }
  r.exact = it.Valid() && it.key() == Slice(start.data(), start.size());
  for (; r.entries < count && it.Valid(); it.Next()) {
    ++r.entries;
    r.bytes += it.key().size() + it.value().size();
    if (r.entries == count) break;
  }
  check(it.status(), engine, "scan");
  return r;
}

// "<engine>: files per level n0 n1 ...", from "<engine>.num-files-at-level<N>".
template <typename Db>
std::string files_per_level(Db& db, std::string_view engine) {
  std::string files = fmt::format("{}: files per level", engine);
  for (int l = 0; l < 7; ++l) {
    std::string n;
    db.GetProperty(fmt::format("{}.num-files-at-level{}", engine, l), &n);
    files += " " + n;
  }
  return files;
}

#ifdef STRATA_HAVE_LEVELDB
class leveldb_engine final : public engine {
 public:
  explicit leveldb_engine(const bench_flags& f)
      : flags_(f),
        policy_(f.bloom_bits > 0 ? leveldb::NewBloomFilterPolicy(f.bloom_bits) : nullptr),
        cache_(leveldb::NewLRUCache(f.cache_size)) {}
  ~leveldb_engine() override { close(); }

  std::string_view id() const override { return "leveldb"; }
  std::string label() const override { return "leveldb 1.23"; }
  bool asynchronous() const override { return false; }

  void open(const std::string& dir, bool fresh) override {
    close();
    if (fresh) std::filesystem::remove_all(dir);
    // The engine creates only the last directory of the path; alone (no
    // --compare, so Strata did not open first) its parent may not exist.
    std::filesystem::create_directories(dir);
    leveldb::Options o;
    o.create_if_missing = true;
    o.write_buffer_size = flags_.write_buffer_size;
    o.max_file_size = std::size_t{2} << 20;
    o.block_size = 4096;
    o.compression = flags_.compression_type == "none" ? leveldb::kNoCompression : leveldb::kSnappyCompression;
    o.filter_policy = policy_.get();
    o.block_cache = cache_.get();
    leveldb::DB* raw = nullptr;
    check(leveldb::DB::Open(o, dir, &raw), "leveldb", "open " + dir);
    db_.reset(raw);
  }
  void close() override { db_.reset(); }

  asio::awaitable<void> put(std::string_view key, std::string_view value, bool sync) override {
    leveldb::WriteOptions wo;
    wo.sync = sync;
    check(db_->Put(wo, slice(key), slice(value)), "leveldb", "put");
    co_return;
  }
  asio::awaitable<void> erase(std::string_view key, bool sync) override {
    leveldb::WriteOptions wo;
    wo.sync = sync;
    check(db_->Delete(wo, slice(key)), "leveldb", "delete");
    co_return;
  }
  asio::awaitable<bool> get(std::string_view key, std::string& value) override {
    const auto s = db_->Get(leveldb::ReadOptions(), slice(key), &value);
    if (s.IsNotFound()) co_return false;
    check(s, "leveldb", "get");
    co_return true;
  }
  asio::awaitable<scan_result> scan(std::string_view start, std::size_t count) override {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    co_return scan_iterator<leveldb::Slice>(*it, start, count, "leveldb");
  }
  std::string state_line() override { return files_per_level(*db_, "leveldb"); }

 private:
  static leveldb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }
  bench_flags flags_;
  std::unique_ptr<const leveldb::FilterPolicy> policy_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<leveldb::DB> db_;
};
#endif

#ifdef STRATA_HAVE_ROCKSDB
class rocksdb_engine final : public engine {
 public:
  explicit rocksdb_engine(const bench_flags& f) : flags_(f) {}
  ~rocksdb_engine() override { close(); }

  std::string_view id() const override { return "rocksdb"; }
  std::string label() const override { return "rocksdb 7.8 (Debian build, assertions on)"; }
  bool asynchronous() const override { return false; }

  void open(const std::string& dir, bool fresh) override {
    close();
    if (fresh) std::filesystem::remove_all(dir);
    // The engine creates only the last directory of the path; alone (no
    // --compare, so Strata did not open first) its parent may not exist.
    std::filesystem::create_directories(dir);
    rocksdb::Options o;
    o.create_if_missing = true;
    o.write_buffer_size = flags_.write_buffer_size;
    o.max_write_buffer_number = 3;  // one active + 2 sealed, as Strata's default
    o.max_bytes_for_level_base = std::uint64_t{10} << 20;
    o.max_bytes_for_level_multiplier = 10;
    o.target_file_size_base = std::uint64_t{2} << 20;
    o.level0_file_num_compaction_trigger = 4;
    o.level0_slowdown_writes_trigger = 8;
    o.level0_stop_writes_trigger = 12;
    o.compression = flags_.compression_type == "none" ? rocksdb::kNoCompression : rocksdb::kLZ4Compression;
    rocksdb::BlockBasedTableOptions bo;
    bo.block_size = 4096;
    if (flags_.bloom_bits > 0) bo.filter_policy.reset(rocksdb::NewBloomFilterPolicy(flags_.bloom_bits));
    bo.block_cache = rocksdb::NewLRUCache(flags_.cache_size);
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(bo));
    rocksdb::DB* raw = nullptr;
    check(rocksdb::DB::Open(o, dir, &raw), "rocksdb", "open " + dir);
    db_.reset(raw);
  }
  void close() override { db_.reset(); }

  asio::awaitable<void> put(std::string_view key, std::string_view value, bool sync) override {
    check(db_->Put(options(sync), slice(key), slice(value)), "rocksdb", "put");
    co_return;
  }
  asio::awaitable<void> erase(std::string_view key, bool sync) override {
    check(db_->Delete(options(sync), slice(key)), "rocksdb", "delete");
    co_return;
  }
  asio::awaitable<bool> get(std::string_view key, std::string& value) override {
    const auto s = db_->Get(rocksdb::ReadOptions(), slice(key), &value);
    if (s.IsNotFound()) co_return false;
    check(s, "rocksdb", "get");
    co_return true;
  }
  asio::awaitable<scan_result> scan(std::string_view start, std::size_t count) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    co_return scan_iterator<rocksdb::Slice>(*it, start, count, "rocksdb");
  }
  std::string state_line() override { return files_per_level(*db_, "rocksdb"); }

 private:
  static rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }
  rocksdb::WriteOptions options(bool sync) const {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    wo.disableWAL = flags_.disable_wal;
    return wo;
  }
  bench_flags flags_;
  std::unique_ptr<rocksdb::DB> db_;
};
#endif

}  // namespace

std::vector<std::string> available_engines() {
  std::vector<std::string> ids{"strata"};
#ifdef STRATA_HAVE_LEVELDB
  ids.emplace_back("leveldb");
#endif
#ifdef STRATA_HAVE_ROCKSDB
  ids.emplace_back("rocksdb");
#endif
  return ids;
}

std::unique_ptr<engine> make_engine(std::string_view id, const bench_flags& flags) {
  if (id == "strata") return make_strata_engine(flags);
#ifdef STRATA_HAVE_LEVELDB
  if (id == "leveldb") return std::make_unique<leveldb_engine>(flags);
#endif
#ifdef STRATA_HAVE_ROCKSDB
  if (id == "rocksdb") return std::make_unique<rocksdb_engine>(flags);
#endif
  return nullptr;
}

}  // namespace strata::bench
