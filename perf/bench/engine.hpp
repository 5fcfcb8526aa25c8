// perf/bench/engine.hpp — one storage engine behind the benchmark's
// workload code. Strata, LevelDB and RocksDB each implement it, so every
// engine runs exactly the same workload: same keys, values, seeds and op
// mix. The operations are awaitable; the rivals' blocking calls run inline
// and never suspend, so for them one coroutine per OS thread is the whole
// story (their concurrency is threads), while Strata can also run many
// coroutines on one thread.
//
// Settings are made equivalent from the same flags (docs/benchmarks.md):
// write buffer, block size 4 KiB, bloom bits, block cache, compression,
// WAL, and LevelDB's level shape (L1 10 MiB x10, 2 MiB files, level-0
// triggers 4/8/12) for every engine.
//
// Thread safety: open/close with no operation running; operations from
// any number of threads and coroutines at once. Errors throw
// std::runtime_error naming the engine and the operation.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/flags.hpp"

namespace strata::bench {

struct scan_result {
  std::size_t entries = 0;  // entries read after the seek
  bool exact = false;       // the seek landed on `start` itself
  std::uint64_t bytes = 0;  // key + value bytes read
};

class engine {
 public:
  virtual ~engine() = default;
  virtual std::string_view id() const = 0;  // strata | leveldb | rocksdb
  virtual std::string label() const = 0;    // for tables; says "assertions on" where true
  // true: many coroutines on one thread overlap its operations.
  virtual bool asynchronous() const = 0;

  // fresh: remove whatever is in dir first.
  virtual void open(const std::string& dir, bool fresh) = 0;
  virtual void close() = 0;

  virtual boost::asio::awaitable<void> put(std::string_view key, std::string_view value, bool sync) = 0;
  virtual boost::asio::awaitable<void> erase(std::string_view key, bool sync) = 0;
  // true and the value when present.
  virtual boost::asio::awaitable<bool> get(std::string_view key, std::string& value) = 0;
  // A fresh iterator, positioned at the first key >= start (the first key
  // when start is empty); then up to `count` entries are read forward,
  // starting with the one the seek landed on (count 0: seek only).
  virtual boost::asio::awaitable<scan_result> scan(std::string_view start, std::size_t count) = 0;
  // One line about the engine's state after a benchmark (files per level, ...).
  virtual std::string state_line() { return {}; }
};

// Engines compiled in, in display order ("strata" first).
std::vector<std::string> available_engines();
// Null when `id` is not compiled in. `sync` for writes comes from flags.
std::unique_ptr<engine> make_engine(std::string_view id, const bench_flags& flags);

}  // namespace strata::bench
