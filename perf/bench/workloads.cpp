// perf/bench/workloads.cpp — each benchmark as a worker body.
#include "bench/workloads.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>
#include <unistd.h>

namespace strata::bench {

namespace asio = boost::asio;
using clock_type = worker::clock;

void engine_state::acknowledge(std::uint64_t record) {
  std::lock_guard lock(mu_);
  std::uint64_t mark = records.load(std::memory_order_relaxed);
  if (record != mark) {
    acknowledged_ahead_.insert(record);
    return;
  }
  ++mark;
  while (!acknowledged_ahead_.empty() && *acknowledged_ahead_.begin() == mark) {
    acknowledged_ahead_.erase(acknowledged_ahead_.begin());
    ++mark;
  }
  // release: pairs with readers' acquire loads, though the record's data
  // reaches them through the engine, which synchronises on its own.
  records.store(mark, std::memory_order_release);
}

histogram bench_result::all_latency() const {
  histogram all;
  for (const auto& l : latencies) all.merge(l.latency);
  return all;
}

bool is_ycsb(const std::string& benchmark) { return benchmark.starts_with("ycsb_"); }

namespace {

struct context {
  engine& e;
  engine_state& state;
  const bench_flags& flags;
  const value_source& values;
  double latest_zeta = 0;  // ycsb_d: zeta(records) at the start, summed once for all workers
};

// The YCSB core workloads' operation mix (workloads/workloada..f in YCSB).
struct ycsb_mix {
  double read = 0, update = 0, insert = 0, scan = 0, read_modify_write = 0;
  bool latest = false;  // request distribution: skewed latest (D) instead of zipfian
};

ycsb_mix mix_of(const std::string& name) {
  if (name == "ycsb_a") return {.read = 0.5, .update = 0.5};
  if (name == "ycsb_b") return {.read = 0.95, .update = 0.05};
  if (name == "ycsb_c") return {.read = 1.0};
  if (name == "ycsb_d") return {.read = 0.95, .insert = 0.05, .latest = true};
  if (name == "ycsb_e") return {.insert = 0.05, .scan = 0.95};
  if (name == "ycsb_f") return {.read = 0.5, .read_modify_write = 0.5};
  throw std::invalid_argument("no YCSB workload " + name);
}

enum class key_order { sequential, random };

worker_body put_body(const context& c, key_order order, bool sync) {
  return [&c, order, sync](worker& w) -> asio::awaitable<void> {
    std::uint64_t i = 0;
    while (w.work.claim(i)) {
      const std::uint64_t k = order == key_order::sequential ? i : w.random.next(c.flags.num);
      const std::string key = numbered_key(k, c.flags.key_size);
      const std::string_view value = c.values.next(c.flags.value_size, w.value_position);
      const auto start = clock_type::now();
      co_await c.e.put(key, value, sync);
      w.finished(op_type::write, start);
      w.bytes += key.size() + value.size();
    }
  };
}

worker_body read_body(const context& c) {
  return [&c](worker& w) -> asio::awaitable<void> {
    std::uint64_t i = 0;
    std::string value;
    while (w.work.claim(i)) {
      const std::string key = numbered_key(w.random.next(c.flags.num), c.flags.key_size);
      const auto start = clock_type::now();
      const bool found = co_await c.e.get(key, value);
      w.finished(op_type::read, start);
      w.read_done(found, key.size() + value.size());
    }
  };
}

worker_body seek_body(const context& c) {
  return [&c](worker& w) -> asio::awaitable<void> {
    std::uint64_t i = 0;
    while (w.work.claim(i)) {
      const std::string key = numbered_key(w.random.next(c.flags.num), c.flags.key_size);
      const auto start = clock_type::now();
      const scan_result r = co_await c.e.scan(key, 0);
      w.finished(op_type::seek, start);
      ++w.reads;
      w.found += r.exact;
    }
  };
}

worker_body erase_body(const context& c) {
  return [&c](worker& w) -> asio::awaitable<void> {
    std::uint64_t i = 0;
    while (w.work.claim(i)) {
      const std::string key = numbered_key(w.random.next(c.flags.num), c.flags.key_size);
      const auto start = clock_type::now();
      co_await c.e.erase(key, c.flags.sync);
      w.finished(op_type::erase, start);
      w.bytes += key.size();
    }
  };
}

// readseq: each worker claims one whole pass from the first key.
worker_body read_sequential_body(const context& c) {
  return [&c](worker& w) -> asio::awaitable<void> {
    std::uint64_t i = 0;
    if (!w.work.claim(i)) co_return;
    const scan_result r = co_await c.e.scan({}, c.flags.read_count());
    w.reads += r.entries;
    w.found += r.entries;
    w.bytes += r.bytes;
  };
}

// readwhilewriting's writers: random puts until the readers are done.
worker_body background_put_body(const context& c) {
  return [&c](worker& w) -> asio::awaitable<void> {
    while (!w.work.stop.load(std::memory_order_relaxed)) {
      const std::string key = numbered_key(w.random.next(c.flags.num), c.flags.key_size);
      const std::string_view value = c.values.next(c.flags.value_size, w.value_position);
      co_await c.e.put(key, value, c.flags.sync);
      ++w.background_ops;
    }
  };
}

worker_body ycsb_load_body(const context& c) {
  return [&c](worker& w) -> asio::awaitable<void> {
    std::uint64_t i = 0;
    while (w.work.claim(i)) {
      const std::string key = ycsb_key(i);
      const std::string_view value = c.values.next(c.flags.ycsb_value_size(), w.value_position);
      const auto start = clock_type::now();
      co_await c.e.put(key, value, c.flags.sync);
      w.finished(op_type::insert, start);
      w.bytes += key.size() + value.size();
    }
  };
}

worker_body ycsb_body(const context& c, ycsb_mix mix) {
  return [&c, mix](worker& w) -> asio::awaitable<void> {
    scrambled_zipfian_generator zipfian(c.flags.seed * 7919 + w.index);
    std::optional<skewed_latest_generator> latest;
    if (mix.latest)
      latest.emplace(std::max<std::uint64_t>(1, c.state.records.load(std::memory_order_acquire)), c.latest_zeta,
                     c.flags.seed * 104729 + w.index);
    const std::size_t value_size = c.flags.ycsb_value_size();
    std::string value;
    std::uint64_t i = 0;
    while (w.work.claim(i)) {
      const std::uint64_t records = std::max<std::uint64_t>(1, c.state.records.load(std::memory_order_acquire));
      const std::uint64_t chosen = latest ? latest->next(records) : zipfian.next(records);
      const double u = w.random.next_double();
      const auto start = clock_type::now();
      if (u < mix.read) {
        const std::string key = ycsb_key(chosen);
        const bool found = co_await c.e.get(key, value);
        w.finished(op_type::read, start);
        w.read_done(found, key.size() + value.size());
      } else if (u < mix.read + mix.update) {
        const std::string key = ycsb_key(chosen);
        const std::string_view v = c.values.next(value_size, w.value_position);
        co_await c.e.put(key, v, c.flags.sync);
        w.finished(op_type::update, start);
        w.bytes += key.size() + v.size();
      } else if (u < mix.read + mix.update + mix.insert) {
        const std::uint64_t record = c.state.next_record.fetch_add(1, std::memory_order_relaxed);
        const std::string key = ycsb_key(record);
        const std::string_view v = c.values.next(value_size, w.value_position);
        co_await c.e.put(key, v, c.flags.sync);
        w.finished(op_type::insert, start);
        c.state.acknowledge(record);
        w.bytes += key.size() + v.size();
      } else if (u < mix.read + mix.update + mix.insert + mix.scan) {
        const std::string key = ycsb_key(chosen);
        const std::size_t length = 1 + w.random.next(100);  // YCSB: uniform, at most 100
        const scan_result r = co_await c.e.scan(key, length);
        w.finished(op_type::scan, start);
        w.bytes += r.bytes;
      } else {
        const std::string key = ycsb_key(chosen);
        const bool found = co_await c.e.get(key, value);
        w.read_done(found, 0);  // the record's bytes count once, with the write below
        const std::string_view v = c.values.next(value_size, w.value_position);
        co_await c.e.put(key, v, c.flags.sync);
        w.finished(op_type::read_modify_write, start);
        w.bytes += key.size() + v.size();
      }
    }
  };
}

bool starts_fresh(const std::string& name) {
  return name == "fillseq" || name == "fillrandom" || name == "fillsync" || name == "ycsb_load";
}

}  // namespace

bench_result run_benchmark(const std::string& name, engine& e, engine_state& state, const bench_flags& flags) {
  bench_result r;
  r.benchmark = name;
  r.engine_id = std::string(e.id());
  r.engine_label = e.label();
  // The rivals block a thread per operation: their concurrency is threads.
  if (e.asynchronous()) {
    r.threads = flags.threads;
    r.coroutines = flags.coroutines;
  } else {
    r.threads = flags.rival_threads > 0 ? flags.rival_threads : flags.threads * flags.coroutines;
    r.coroutines = 1;
  }
  if (starts_fresh(name)) {
    if (flags.use_existing_db) {
      r.skipped = true;
      r.message = "skipped: --use_existing_db";
      return r;
    }
    e.open(state.dir, true);
    state.ycsb_loaded = false;
  }

  const value_source values(flags.seed);
  context c{e, state, flags, values};
  run_shape shape;
  shape.threads = r.threads;
  shape.coroutines = r.coroutines;
  shape.seed = flags.seed * 1000003 + std::hash<std::string>{}(name);
  shape.progress = flags.progress == 1 || (flags.progress < 0 && ::isatty(STDERR_FILENO));
  shape.progress_label = fmt::format("{} {}", name, r.engine_id);
  shared_work work;
  worker_body body, background;
  if (name == "fillseq" || name == "fillrandom" || name == "overwrite") {
    work.total = flags.write_count();
    body = put_body(c, name == "fillseq" ? key_order::sequential : key_order::random, flags.sync);
  } else if (name == "fillsync") {
    work.total = flags.writes >= 0 ? flags.write_count() : std::max<std::uint64_t>(1, flags.num / 1000);
    body = put_body(c, key_order::random, true);
  } else if (name == "readrandom") {
    work.total = flags.read_count();
    body = read_body(c);
  } else if (name == "readwhilewriting") {
    work.total = flags.read_count();
    body = read_body(c);
    background = background_put_body(c);
    shape.background_coroutines = r.coroutines;
  } else if (name == "seekrandom") {
    work.total = flags.read_count();
    body = seek_body(c);
  } else if (name == "deleterandom") {
    work.total = flags.write_count();
    body = erase_body(c);
  } else if (name == "readseq") {
    work.total = r.threads * r.coroutines;  // one pass each
    body = read_sequential_body(c);
  } else if (name == "ycsb_load") {
    work.total = flags.record_count();
    body = ycsb_load_body(c);
  } else if (is_ycsb(name)) {
    if (!state.ycsb_loaded) throw std::logic_error(name + " before ycsb_load");
    work.total = flags.operation_count();
    const ycsb_mix mix = mix_of(name);
    if (mix.latest) {
      const std::uint64_t records = std::max<std::uint64_t>(1, state.records.load(std::memory_order_acquire));
      c.latest_zeta = zipfian_generator::zeta(0, records, zipfian_generator::ycsb_theta, 0.0);
    }
    body = ycsb_body(c, mix);
  } else {
    throw std::invalid_argument("unknown benchmark " + name);
  }

  const run_outcome o = run_workers(shape, work, body, background);
  r.seconds = o.seconds;
  r.ops = name == "readseq" ? o.reads : o.ops;
  r.bytes = o.bytes;
  r.reads = o.reads;
  r.found = o.found;
  r.background_ops = o.background_ops;
  for (int t = 0; t < static_cast<int>(op_type::count); ++t)
    if (o.latency[t].count() > 0) r.latencies.push_back({static_cast<op_type>(t), o.latency[t]});

  if (name == "ycsb_load") {
    state.next_record.store(flags.record_count(), std::memory_order_relaxed);
    state.records.store(flags.record_count(), std::memory_order_release);
    state.ycsb_loaded = true;
  }
  if (r.reads > 0 && name != "readseq") r.message = fmt::format("({} of {} found)", r.found, r.reads);
  if (name == "readwhilewriting") r.message += fmt::format(" ({} writes alongside)", r.background_ops);
  return r;
}

}  // namespace strata::bench
