// perf/bench/engine_strata.cpp — Strata behind the benchmark's engine
// interface: the db's own awaitable calls, completing on the caller's
// executor (each benchmark thread runs its own io_context).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "bench/engine.hpp"
#include "strata/db.hpp"

namespace strata::bench {

namespace asio = boost::asio;

namespace {

// Runs one awaitable to completion on a private io_context (open and close
// happen with no benchmark thread running).
template <typename T>
T run_alone(asio::awaitable<T> a) {
  asio::io_context ctx;
  auto f = asio::co_spawn(ctx, std::move(a), asio::use_future);
  ctx.run();
  return f.get();
}

class strata_engine final : public engine {
 public:
  explicit strata_engine(const bench_flags& f) : flags_(f) {}
  ~strata_engine() override { close(); }

  std::string_view id() const override { return "strata"; }
  std::string label() const override { return "strata"; }
  bool asynchronous() const override { return true; }

  void open(const std::string& dir, bool fresh) override {
    close();
    if (fresh) std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    options o;
    o.memtable_bytes = flags_.write_buffer_size;
    o.wal = !flags_.disable_wal;
    o.block_size = 4096;
    o.bits_per_key = flags_.bloom_bits;
    o.compress_tables = flags_.compression_type == "lz4";
    o.block_cache_bytes = flags_.cache_size;
    o.level0_compaction_trigger = 4;
    o.level0_slowdown_writes_trigger = 8;
    o.level0_stop_writes_trigger = 12;
    o.max_bytes_for_level_base = std::uint64_t{10} << 20;
    o.max_bytes_for_level_multiplier = 10;
    o.target_file_bytes = std::uint64_t{2} << 20;
    try {
      db_ = run_alone([&]() -> asio::awaitable<std::shared_ptr<db>> {
        auto ex = co_await asio::this_coro::executor;
        co_return co_await db::open(ex, dir, o);
      }());
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("strata: open {}: {} ({})", dir, e.what(), last_open_error()));
    }
  }

  void close() override {
    if (!db_) return;
    auto d = std::move(db_);
    run_alone([&]() -> asio::awaitable<void> { co_await d->close(); }());
  }

  asio::awaitable<void> put(std::string_view key, std::string_view value, bool sync) override {
    // A named options object: GCC 12 mishandles braced temporaries in a
    // co_await's arguments.
    write_options wo;
    wo.sync = sync;
    co_await db_->put(key, value, wo);
  }
  asio::awaitable<void> erase(std::string_view key, bool sync) override {
    write_options wo;
    wo.sync = sync;
    co_await db_->erase(key, wo);
  }
  asio::awaitable<bool> get(std::string_view key, std::string& value) override {
    std::optional<std::string> v = co_await db_->get(key);
    if (!v) co_return false;
    value = std::move(*v);
    co_return true;
  }
  asio::awaitable<scan_result> scan(std::string_view start, std::size_t count) override {
    scan_result r;
    auto it = db_->scan();
    if (start.empty()) {
      co_await it->seek_to_first();
    } else {
      co_await it->seek(start);
    }
    r.exact = it->valid() && it->key() == start;
    while (r.entries < count && it->valid()) {
      ++r.entries;
      r.bytes += it->key().size() + it->value().size();
      if (r.entries == count) break;
      if (!it->try_next()) co_await it->next();  // a coroutine step only when a read is needed
    }
    if (it->error()) throw std::runtime_error("strata: scan: " + it->message());
    co_return r;
  }

  std::string state_line() override {
    if (!db_) return {};
    const db_stats s = db_->stats();
    std::string line = fmt::format("strata: files per level");
    for (const auto n : s.level_files) line += fmt::format(" {}", n);
    line += fmt::format("; WAL groups {} (mean {:.1f} writes), syncs {}; stalls {}, slowdowns {}", s.wal_groups,
                        s.wal_mean_group_size, s.wal_syncs, s.stalls, s.slowdowns);
    return line;
  }

 private:
  bench_flags flags_;
  std::shared_ptr<db> db_;
};

}  // namespace

std::unique_ptr<engine> make_strata_engine(const bench_flags& f) { return std::make_unique<strata_engine>(f); }

}  // namespace strata::bench
