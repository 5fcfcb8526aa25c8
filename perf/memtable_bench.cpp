// perf/memtable_bench.cpp — throughput and memory of strata::memtable next to
// two ordered concurrent maps, on the same keys, in the same process.
//
//   memtable_bench [--num=N] [--threads=1,2,4] [--repeat=R] [--seed=S] [--quick]
//   --quick means --num=100000 --repeat=3 (what `meson test --benchmark` runs).
//   --repeat=R runs everything R times and shows each cell's best round:
//   on a shared machine the best round is the least disturbed one.
//
// Data: --num entries (default 1,000,000), 16-byte keys, 100-byte values,
// generated before any timing from std::mt19937_64 with a fixed seed. A key
// is a big-endian 8-byte number (bytewise order = numeric order) plus 8
// bytes of padding. Present key i encodes 2i and absent key i encodes 2i+1,
// so every absent key sorts strictly between two present ones: the min/max
// key filter cannot answer a miss, every miss walks the structure.
//
// Throughput table: each workload at every --threads count (default 1,2,4;
// 4 oversubscribes a 2-core machine on purpose). Threads are released
// together by a latch; the time runs from the release until the last thread
// is joined (std::chrono::steady_clock).
//   rand insert  all keys, in a shuffled order cut into one contiguous chunk
//                per thread, into an empty table
//   seq insert   ascending keys, striped: thread t inserts keys t, t+T, ...,
//                so all threads append near the tail together
//   get hit      every key once, shuffled, split across threads
//   get miss     as many lookups of absent keys
//   scan         the table cut into T key ranges, one per thread: seek to the
//                range start, step through it (ops = entries visited)
//   erase        every key once, shuffled, split across threads. LSM
//                semantics: strata writes a tombstone version (the table
//                grows to 2N entries); std::map overwrites the value with a
//                tombstone marker under the write lock; tbb::concurrent_map
//                has neither a concurrent erase nor a race-free overwrite,
//                so its erase is not measured (n/a).
// Gets, scan and erase run on the table the rand insert just loaded. Before
// each table is created, malloc_trim(0) returns the previous table's memory,
// so no engine pays for freeing another's.
//
// Engines:
//   strata      strata::memtable, standalone mode (put, erase, get_live, cursor)
//   map+rwlock  std::map<std::string, std::string> under one std::shared_mutex:
//               unique lock for writes, shared lock for reads and whole scans
//   tbb         tbb::concurrent_map<std::string, std::string> (built only when
//               TBB is found, -Dcomparators; default tbb_allocator = tbbmalloc)
//
// Reading the ratios: "strata/X" is strata's ops/s divided by engine X's on
// the same row. 2.00x means strata did twice the work per second, 0.50x half.
// Read down a workload's rows to see how each engine scales with threads; on
// a 2-core machine the 4-thread rows can only show the cost of contention
// and preemption (a preempted lock holder, a preempted lock-free writer).
//
// Memory table: bytes per entry beyond the 116 payload bytes, right after
// rand insert: from strata's counters (memory_usage = node bytes handed out,
// memory_reserved = arena blocks held), and from glibc's heap in use before
// and after loading (mallinfo2) for engines that allocate through malloc.
//
// scc-style table (the shape of the Rust scc crate's benchmark): wall-clock
// seconds per phase, one column per thread count. Thread t owns the keys
// [t*N/T, (t+1)*N/T): it inserts them in ascending order (Insert), reads them
// (Read), scans the whole table once (Scan: T times the work at T threads),
// and removes them (Remove, same semantics as erase above).
//
// Every run checks its results (all hits found, no miss found, every entry
// scanned, erased keys gone) and the program exits 1 if any check failed.
#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <latch>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#ifdef STRATA_HAVE_TBB
#include <oneapi/tbb/concurrent_map.h>
#endif

#include "strata/memtable.hpp"

namespace {

using bench_clock = std::chrono::steady_clock;

constexpr std::size_t key_bytes = 16;
constexpr std::size_t value_bytes = 100;
constexpr std::size_t payload_bytes = key_bytes + value_bytes;
constexpr std::size_t default_num = 1'000'000;
constexpr std::size_t quick_num = 100'000;

// Reads add a byte of what they read here, so the optimiser keeps them.
std::atomic<std::uint64_t> g_sink{0};
// Set by a failed result check (main thread only); main() then returns 1.
bool g_failed = false;

void check(bool ok, std::string_view what) {
  if (ok) return;
  fmt::print(stderr, "CHECK FAILED: {}\n", what);
  g_failed = true;
}

// ---------------------------------------------------------------- options

struct config {
  std::size_t num = default_num;
  std::vector<unsigned> threads{1, 2, 4};
  std::uint64_t seed = 42;
  unsigned repeat = 1;  // rounds; each cell reports its best round
  bool quick = false;
};

[[noreturn]] void usage(int exit_code) {
  fmt::print(exit_code == 0 ? stdout : stderr,
             "usage: memtable_bench [--num=N] [--threads=1,2,4] [--repeat=R] [--seed=S] [--quick]\n"
             "  --num      entries per table (default {}, --quick: {})\n"
             "  --threads  comma-separated thread counts (default 1,2,4)\n"
             "  --repeat   rounds of everything; every cell shows its best round\n"
             "             (default 1, --quick: 3)\n"
             "  --seed     seed of the key shuffles and values (default 42)\n",
             default_num, quick_num);
  std::exit(exit_code);
}

std::optional<std::uint64_t> parse_number(std::string_view s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::vector<unsigned>> parse_thread_list(std::string_view s) {
  std::vector<unsigned> out;
  for (;;) {
    const std::size_t comma = s.find(',');
    const auto n = parse_number(s.substr(0, comma));
    if (!n || *n == 0 || *n > 256) return std::nullopt;
    out.push_back(static_cast<unsigned>(*n));
    if (comma == std::string_view::npos) return out;
    s.remove_prefix(comma + 1);
  }
}

config parse_args(int argc, char** argv) {
  config cfg;
  std::optional<std::size_t> num;
  std::optional<unsigned> repeat;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value_of = [&](std::string_view flag) -> std::optional<std::string_view> {
      if (arg.size() > flag.size() && arg.starts_with(flag) && arg[flag.size()] == '=') {
        return arg.substr(flag.size() + 1);
      }
      return std::nullopt;
    };
    if (arg == "--quick") {
      cfg.quick = true;
    } else if (arg == "--help" || arg == "-h") {
      usage(0);
    } else if (const auto v = value_of("--num")) {
      const auto n = parse_number(*v);
      if (!n || *n < 16 || *n > (std::uint64_t{1} << 31)) usage(2);
      num = static_cast<std::size_t>(*n);
    } else if (const auto t = value_of("--threads")) {
      auto list = parse_thread_list(*t);
      if (!list) usage(2);
      cfg.threads = std::move(*list);
    } else if (const auto r = value_of("--repeat")) {
      const auto rounds = parse_number(*r);
      if (!rounds || *rounds == 0 || *rounds > 100) usage(2);
      repeat = static_cast<unsigned>(*rounds);
    } else if (const auto s = value_of("--seed")) {
      const auto seed = parse_number(*s);
      if (!seed) usage(2);
      cfg.seed = *seed;
    } else {
      fmt::print(stderr, "unknown argument: {}\n", arg);
      usage(2);
    }
  }
  cfg.num = num.value_or(cfg.quick ? quick_num : default_num);
  cfg.repeat = repeat.value_or(cfg.quick ? 3 : 1);
  return cfg;
}

// ---------------------------------------------------------------- data set

// Big-endian number, then fixed padding: bytewise order is numeric order.
void encode_key(std::uint64_t number, char* out) noexcept {
  for (int b = 7; b >= 0; --b) {
    out[b] = static_cast<char>(number & 0xff);
    number >>= 8;
  }
  std::memcpy(out + 8, "~strata~", 8);
}

std::vector<std::uint32_t> shuffled_indices(std::size_t n, std::mt19937_64& rng) {
  std::vector<std::uint32_t> v(n);
  std::iota(v.begin(), v.end(), std::uint32_t{0});
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}

// All keys, values and orders, built once before any timing.
class dataset {
 public:
  dataset(std::size_t n, std::uint64_t seed)
      : n_(n), present_(n * key_bytes, '\0'), absent_((n - 1) * key_bytes, '\0') {
    for (std::size_t i = 0; i < n; ++i) encode_key(2 * i, present_.data() + i * key_bytes);
    for (std::size_t i = 0; i + 1 < n; ++i) encode_key(2 * i + 1, absent_.data() + i * key_bytes);
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> printable(' ', '~');
    values_.resize(value_pool * value_bytes);
    for (char& c : values_) c = static_cast<char>(printable(rng));
    insert_order_ = shuffled_indices(n, rng);
    get_order_ = shuffled_indices(n, rng);
    erase_order_ = shuffled_indices(n, rng);
  }

  std::size_t size() const noexcept { return n_; }
  // Present key i (i < size()); ascending in i.
  std::string_view present(std::size_t i) const noexcept { return {present_.data() + i * key_bytes, key_bytes}; }
  // Absent key i: sorts between present(i) and present(i + 1). Any i, wrapped
  // onto the size() - 1 absent keys.
  std::string_view absent(std::size_t i) const noexcept {
    i %= n_ - 1;
    return {absent_.data() + i * key_bytes, key_bytes};
  }
  std::string_view value(std::size_t i) const noexcept {
    i %= value_pool;
    return {values_.data() + i * value_bytes, value_bytes};
  }
  // Independent shuffles of [0, size()).
  std::span<const std::uint32_t> insert_order() const noexcept { return insert_order_; }
  std::span<const std::uint32_t> get_order() const noexcept { return get_order_; }
  std::span<const std::uint32_t> erase_order() const noexcept { return erase_order_; }

 private:
  static constexpr std::size_t value_pool = 1024;  // distinct values, reused round-robin
  std::size_t n_;
  std::string present_;
  std::string absent_;
  std::string values_;
  std::vector<std::uint32_t> insert_order_;
  std::vector<std::uint32_t> get_order_;
  std::vector<std::uint32_t> erase_order_;
};

// ---------------------------------------------------------------- engines
//
// Every engine adapter has the same interface, used by the templated
// workloads below:
//   bool put(key, value)           insert (every workload inserts distinct keys)
//   bool get(key, sink)            point read of the live value; true if found
//   bool erase(key)                LSM-style delete (see each engine)
//   size_t scan(from, limit, sink) visit up to `limit` live entries from the
//                                  first key >= from ("" = the first key)
//   optional<arena_stats> arena()  engine-reported memory, if it has any
//   name, supports_erase, heap_visible (allocates through glibc malloc)

struct arena_stats {
  std::size_t entries = 0;
  std::size_t usage = 0;
  std::size_t reserved = 0;
};

std::uint64_t first_byte(std::string_view s) noexcept { return static_cast<unsigned char>(s.front()); }

class strata_engine {
 public:
  static constexpr std::string_view name = "strata";
  static constexpr bool supports_erase = true;
  static constexpr bool heap_visible = true;  // arena blocks come from malloc

  bool put(std::string_view key, std::string_view value) { return table_->put(key, value); }

  bool get(std::string_view key, std::uint64_t& sink) const {
    const auto value = table_->get_live(key);
    if (!value) return false;
    sink += first_byte(*value);
    return true;
  }

  // Writes a tombstone version; the table grows by one entry.
  bool erase(std::string_view key) { return table_->erase(key); }

  std::size_t scan(std::string_view from, std::size_t limit, std::uint64_t& sink) const {
    auto c = table_->new_cursor();
    if (from.empty()) {
      c.seek_to_first();
    } else {
      c.seek(from);
    }
    std::size_t visited = 0;
    for (; visited < limit && c.valid(); c.next(), ++visited) sink += c.key().size() + first_byte(c.value());
    return visited;
  }

  std::optional<arena_stats> arena() const {
    return arena_stats{table_->size(), table_->memory_usage(), table_->memory_reserved()};
  }

 private:
  std::shared_ptr<strata::memtable> table_ = strata::memtable::create();
};

class locked_map_engine {
 public:
  static constexpr std::string_view name = "map+rwlock";
  static constexpr bool supports_erase = true;
  static constexpr bool heap_visible = true;

  bool put(std::string_view key, std::string_view value) {
    std::string k(key);  // copies made outside the lock
    std::string v(value);
    std::unique_lock lock(mutex_);
    map_.insert_or_assign(std::move(k), std::move(v));
    return true;
  }

  bool get(std::string_view key, std::uint64_t& sink) const {
    std::shared_lock lock(mutex_);
    const auto it = map_.find(key);
    if (it == map_.end() || it->second == tombstone) return false;
    sink += first_byte(it->second);
    return true;
  }

  // Overwrites the value with a tombstone marker (an LSM delete), in place.
  bool erase(std::string_view key) {
    std::unique_lock lock(mutex_);
    const auto it = map_.find(key);
    if (it != map_.end()) {
      it->second.assign(tombstone);
    } else {
      map_.emplace(std::string(key), std::string(tombstone));
    }
    return true;
  }

  // Holds the shared lock for the whole range.
  std::size_t scan(std::string_view from, std::size_t limit, std::uint64_t& sink) const {
    std::shared_lock lock(mutex_);
    std::size_t visited = 0;
    for (auto it = map_.lower_bound(from); visited < limit && it != map_.end(); ++it) {
      if (it->second == tombstone) continue;
      sink += it->first.size() + first_byte(it->second);
      ++visited;
    }
    return visited;
  }

  std::optional<arena_stats> arena() const { return std::nullopt; }

 private:
  static constexpr std::string_view tombstone = "<tombstone>";  // never a 100-byte value
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::string, std::less<>> map_;
};

#ifdef STRATA_HAVE_TBB
class tbb_map_engine {
 public:
  static constexpr std::string_view name = "tbb";
  static constexpr bool supports_erase = false;
  static constexpr bool heap_visible = false;  // tbb_allocator goes to tbbmalloc, which mallinfo2 does not see

  // emplace never overwrites an existing key; every workload inserts distinct keys.
  bool put(std::string_view key, std::string_view value) {
    return map_.emplace(std::string(key), std::string(value)).second;
  }

  bool get(std::string_view key, std::uint64_t& sink) const {
    const auto it = map_.find(key);
    if (it == map_.end()) return false;
    sink += first_byte(it->second);
    return true;
  }

  // Not measurable: tbb::concurrent_map only has unsafe_erase, and assigning
  // a mapped value in place would race with readers. Never called
  // (supports_erase is false); here so every engine has the same interface.
  bool erase(std::string_view) { return false; }

  std::size_t scan(std::string_view from, std::size_t limit, std::uint64_t& sink) const {
    std::size_t visited = 0;
    for (auto it = map_.lower_bound(from); visited < limit && it != map_.end(); ++it, ++visited) {
      sink += it->first.size() + first_byte(it->second);
    }
    return visited;
  }

  std::optional<arena_stats> arena() const { return std::nullopt; }

 private:
  tbb::concurrent_map<std::string, std::string, std::less<>> map_;
};
#endif

// Calls f(std::type_identity<Engine>{}) for every engine built in.
template <typename F>
void for_each_engine(F&& f) {
  f(std::type_identity<strata_engine>{});
  f(std::type_identity<locked_map_engine>{});
#ifdef STRATA_HAVE_TBB
  f(std::type_identity<tbb_map_engine>{});
#endif
}

std::vector<std::string_view> engine_names() {
  std::vector<std::string_view> names;
  for_each_engine([&](auto tag) { names.push_back(decltype(tag)::type::name); });
  return names;
}

// ---------------------------------------------------------------- threads

struct slice {
  std::size_t begin;
  std::size_t end;
};

// Thread t's share of n items among `threads`: contiguous, sizes differ by <= 1.
slice share(std::size_t n, unsigned t, unsigned threads) noexcept { return {n * t / threads, n * (t + 1) / threads}; }

struct run_result {
  double seconds = 0;
  std::uint64_t count = 0;  // sum of what the thread bodies returned
};

// Runs body(t) -> uint64 on `threads` threads that start together: each
// thread checks in, then the clock starts and all are released at once; the
// clock stops when the last one is joined.
template <typename Body>
run_result run_threads(unsigned threads, const Body& body) {
  std::atomic<std::uint64_t> total{0};
  std::latch ready(static_cast<std::ptrdiff_t>(threads));
  std::latch go(1);
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.count_down();
      go.wait();
      total.fetch_add(body(t), std::memory_order_relaxed);
    });
  }
  ready.wait();
  const auto start = bench_clock::now();
  go.count_down();
  for (auto& thread : pool) thread.join();
  const std::chrono::duration<double> elapsed = bench_clock::now() - start;
  return {elapsed.count(), total.load(std::memory_order_relaxed)};
}

// ---------------------------------------------------------------- workloads
// Each returns the wall time and a count to check (keys stored, hits,
// entries visited, ...).

template <typename Engine>
run_result insert_random(Engine& engine, const dataset& d, unsigned threads) {
  const auto order = d.insert_order();
  return run_threads(threads, [&](unsigned t) {
    const auto [begin, end] = share(d.size(), t, threads);
    std::uint64_t stored = 0;
    for (std::size_t i = begin; i < end; ++i) stored += engine.put(d.present(order[i]), d.value(order[i]));
    return stored;
  });
}

template <typename Engine>
run_result insert_sequential_striped(Engine& engine, const dataset& d, unsigned threads) {
  return run_threads(threads, [&](unsigned t) {
    std::uint64_t stored = 0;
    for (std::size_t i = t; i < d.size(); i += threads) stored += engine.put(d.present(i), d.value(i));
    return stored;
  });
}

// Looks up key_of(order[i]) for this thread's share of i; returns the hits.
template <typename Engine, typename KeyOf>
run_result get_keys(const Engine& engine, const dataset& d, unsigned threads, const KeyOf& key_of) {
  const auto order = d.get_order();
  return run_threads(threads, [&](unsigned t) {
    const auto [begin, end] = share(d.size(), t, threads);
    std::uint64_t found = 0;
    std::uint64_t sink = 0;
    for (std::size_t i = begin; i < end; ++i) found += engine.get(key_of(order[i]), sink);
    g_sink.fetch_add(sink, std::memory_order_relaxed);
    return found;
  });
}

template <typename Engine>
run_result scan_ranges(const Engine& engine, const dataset& d, unsigned threads) {
  return run_threads(threads, [&](unsigned t) {
    const auto [begin, end] = share(d.size(), t, threads);
    std::uint64_t sink = 0;
    const std::size_t visited = engine.scan(d.present(begin), end - begin, sink);
    g_sink.fetch_add(sink, std::memory_order_relaxed);
    return visited;
  });
}

template <typename Engine>
run_result erase_random(Engine& engine, const dataset& d, unsigned threads) {
  const auto order = d.erase_order();
  return run_threads(threads, [&](unsigned t) {
    const auto [begin, end] = share(d.size(), t, threads);
    std::uint64_t erased = 0;
    for (std::size_t i = begin; i < end; ++i) erased += engine.erase(d.present(order[i]));
    return erased;
  });
}

// ---------------------------------------------------------------- results

enum class workload { rand_insert, seq_insert, get_hit, get_miss, scan, erase };
constexpr std::array all_workloads{workload::rand_insert, workload::seq_insert, workload::get_hit,
                                   workload::get_miss,    workload::scan,       workload::erase};

std::string_view name_of(workload w) {
  switch (w) {
    case workload::rand_insert:
      return "rand insert";
    case workload::seq_insert:
      return "seq insert";
    case workload::get_hit:
      return "get hit";
    case workload::get_miss:
      return "get miss";
    case workload::scan:
      return "scan";
    case workload::erase:
      return "erase";
  }
  return "?";
}

enum class phase { insert, read, scan, remove };
constexpr std::array all_phases{phase::insert, phase::read, phase::scan, phase::remove};

std::string_view name_of(phase p) {
  switch (p) {
    case phase::insert:
      return "Insert";
    case phase::read:
      return "Read";
    case phase::scan:
      return "Scan";
    case phase::remove:
      return "Remove";
  }
  return "?";
}

struct memory_row {
  std::string_view engine;
  unsigned threads = 0;
  std::size_t entries = 0;
  std::optional<std::size_t> heap_bytes;  // heap in use after loading minus before
  std::optional<arena_stats> arena;
};

// Over several rounds each cell keeps its best: the highest ops/s, the
// lowest seconds, the last memory reading.
struct results {
  std::map<std::tuple<workload, unsigned, std::string_view>, double> ops_per_second;
  std::map<std::tuple<std::string_view, phase, unsigned>, double> phase_seconds;
  std::vector<memory_row> memory;

  void add(const memory_row& row) {
    const auto same = [&](const memory_row& m) { return m.engine == row.engine && m.threads == row.threads; };
    if (const auto it = std::find_if(memory.begin(), memory.end(), same); it != memory.end()) {
      *it = row;
    } else {
      memory.push_back(row);
    }
  }

  template <typename Key, typename Value>
  static std::optional<Value> find(const std::map<Key, Value>& m, const Key& key) {
    const auto it = m.find(key);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
};

// Records ops / seconds after checking the run's count against `expected`.
void record(results& r, std::string_view engine, workload w, unsigned threads, const run_result& run, std::uint64_t ops,
            std::uint64_t expected) {
  check(run.count == expected,
        fmt::format("{} {} x{}: count {} != expected {}", engine, name_of(w), threads, run.count, expected));
  const double rate = static_cast<double>(ops) / run.seconds;
  const auto [it, fresh] = r.ops_per_second.try_emplace({w, threads, engine}, rate);
  if (!fresh) it->second = std::max(it->second, rate);
}

void record(results& r, std::string_view engine, phase p, unsigned threads, const run_result& run,
            std::uint64_t expected) {
  check(run.count == expected,
        fmt::format("{} {} x{}: count {} != expected {}", engine, name_of(p), threads, run.count, expected));
  const auto [it, fresh] = r.phase_seconds.try_emplace({engine, p, threads}, run.seconds);
  if (!fresh) it->second = std::min(it->second, run.seconds);
}

// Bytes glibc's malloc has handed out and not had back (all arenas plus
// mmapped chunks); nullopt where mallinfo2 does not exist.
std::optional<std::size_t> heap_in_use() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
#else
  return std::nullopt;
#endif
}

// Hands back what the previous engine left in glibc's caches before the next
// measurement: consolidating a million freed small chunks takes a good part
// of a second, which would otherwise land in the next engine's first timed
// allocation. Every engine then starts from an equally clean heap.
void settle_heap() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

template <typename Engine>
memory_row measure_memory(const Engine& engine, unsigned threads, std::size_t entries,
                          std::optional<std::size_t> heap_before) {
  memory_row row{Engine::name, threads, entries, std::nullopt, engine.arena()};
  const auto heap_after = heap_in_use();
  if (Engine::heap_visible && heap_before && heap_after && *heap_after >= *heap_before) {
    row.heap_bytes = *heap_after - *heap_before;
  }
  if (row.arena) check(row.arena->entries == entries, fmt::format("{} size() after load", Engine::name));
  return row;
}

// Erased keys must be gone (a sample is enough).
template <typename Engine>
void check_erased(const Engine& engine, const dataset& d, std::string_view what) {
  std::uint64_t sink = 0;
  bool any_found = false;
  for (std::size_t i = 0; i < d.size(); i += 97) any_found = any_found || engine.get(d.present(i), sink);
  check(!any_found, fmt::format("{} {}: an erased key is still found", Engine::name, what));
}

// ---------------------------------------------------------------- drivers

// All throughput workloads for one engine at one thread count.
template <typename Engine>
void bench_throughput(const dataset& d, unsigned threads, results& r) {
  const std::size_t n = d.size();
  const auto name = Engine::name;
  {
    settle_heap();
    const auto heap_before = heap_in_use();
    auto engine = std::make_unique<Engine>();
    record(r, name, workload::rand_insert, threads, insert_random(*engine, d, threads), n, n);
    r.add(measure_memory(*engine, threads, n, heap_before));
    const auto hit = [&](std::size_t i) { return d.present(i); };
    const auto miss = [&](std::size_t i) { return d.absent(i); };
    record(r, name, workload::get_hit, threads, get_keys(*engine, d, threads, hit), n, n);
    record(r, name, workload::get_miss, threads, get_keys(*engine, d, threads, miss), n, 0);
    record(r, name, workload::scan, threads, scan_ranges(*engine, d, threads), n, n);
    if constexpr (Engine::supports_erase) {
      record(r, name, workload::erase, threads, erase_random(*engine, d, threads), n, n);
      check_erased(*engine, d, "erase");
    }
  }
  settle_heap();
  auto engine = std::make_unique<Engine>();
  record(r, name, workload::seq_insert, threads, insert_sequential_striped(*engine, d, threads), n, n);
}

// The scc-style phases for one engine at one thread count.
template <typename Engine>
void bench_phases(const dataset& d, unsigned threads, results& r) {
  const std::size_t n = d.size();
  const auto name = Engine::name;
  settle_heap();
  auto engine = std::make_unique<Engine>();
  const auto own_keys = [&](auto op) {
    return run_threads(threads, [&](unsigned t) {
      const auto [begin, end] = share(n, t, threads);
      std::uint64_t sink = 0;
      std::uint64_t done = 0;
      for (std::size_t i = begin; i < end; ++i) done += op(i, sink);
      g_sink.fetch_add(sink, std::memory_order_relaxed);
      return done;
    });
  };
  record(r, name, phase::insert, threads,
         own_keys([&](std::size_t i, std::uint64_t&) { return engine->put(d.present(i), d.value(i)); }), n);
  record(r, name, phase::read, threads,
         own_keys([&](std::size_t i, std::uint64_t& sink) { return engine->get(d.present(i), sink); }), n);
  const auto scan_all = run_threads(threads, [&](unsigned) {
    std::uint64_t sink = 0;
    const std::size_t visited = engine->scan({}, std::numeric_limits<std::size_t>::max(), sink);
    g_sink.fetch_add(sink, std::memory_order_relaxed);
    return visited;
  });
  record(r, name, phase::scan, threads, scan_all, static_cast<std::uint64_t>(n) * threads);
  if constexpr (Engine::supports_erase) {
    record(r, name, phase::remove, threads,
           own_keys([&](std::size_t i, std::uint64_t&) { return engine->erase(d.present(i)); }), n);
    check_erased(*engine, d, "Remove");
  }
}

// ---------------------------------------------------------------- output

std::string format_rate(std::optional<double> ops_per_second) {
  if (!ops_per_second) return "n/a";
  return fmt::format("{:.3f}M", *ops_per_second / 1e6);
}

std::string format_ratio(std::optional<double> ours, std::optional<double> theirs) {
  if (!ours || !theirs || *theirs <= 0) return "n/a";
  return fmt::format("{:.2f}x", *ours / *theirs);
}

std::string format_per_entry(std::optional<std::size_t> bytes, std::size_t entries) {
  if (!bytes || entries == 0) return "n/a";
  return fmt::format("{:.1f}", static_cast<double>(*bytes) / static_cast<double>(entries) - payload_bytes);
}

void print_header(const config& cfg) {
  std::string threads;
  for (unsigned t : cfg.threads) threads += fmt::format("{}{}", threads.empty() ? "" : ",", t);
  std::string engines;
  for (auto name : engine_names()) engines += fmt::format("{}{}", engines.empty() ? "" : ", ", name);
  fmt::print("memtable_bench: {} entries, {}-byte keys, {}-byte values, threads {}, best of {} round(s), seed {}{}\n",
             cfg.num, key_bytes, value_bytes, threads, cfg.repeat, cfg.seed, cfg.quick ? " (--quick)" : "");
  fmt::print("hardware threads: {}; engines: {}\n", std::thread::hardware_concurrency(), engines);
}

void print_throughput(const config& cfg, const results& r) {
  const auto names = engine_names();
  fmt::print("\n== throughput, ops/s (M = million; scan counts entries visited) ==\n");
  std::vector<std::string> columns;  // one per engine, then one ratio per rival
  for (auto name : names) columns.emplace_back(name);
  for (std::size_t e = 1; e < names.size(); ++e) columns.push_back(fmt::format("strata/{}", names[e]));
  std::vector<std::size_t> widths;
  for (const auto& c : columns) widths.push_back(std::max<std::size_t>(c.size(), 10));

  std::string header = fmt::format("{:<12} {:>3}", "workload", "thr");
  for (std::size_t c = 0; c < columns.size(); ++c) header += fmt::format("  {:>{}}", columns[c], widths[c]);
  fmt::print("{}\n", header);
  for (workload w : all_workloads) {
    for (unsigned threads : cfg.threads) {
      std::vector<std::optional<double>> rates;
      for (auto name : names) rates.push_back(results::find(r.ops_per_second, {w, threads, name}));
      std::vector<std::string> cells;
      for (const auto& rate : rates) cells.push_back(format_rate(rate));
      for (std::size_t e = 1; e < rates.size(); ++e) cells.push_back(format_ratio(rates[0], rates[e]));
      std::string line = fmt::format("{:<12} {:>3}", name_of(w), threads);
      for (std::size_t c = 0; c < cells.size(); ++c) line += fmt::format("  {:>{}}", cells[c], widths[c]);
      fmt::print("{}\n", line);
    }
  }
  fmt::print(
      "erase: strata = tombstone version appended; map+rwlock = value overwritten with a tombstone "
      "marker under the write lock; tbb = n/a (no concurrent erase or overwrite)\n");
}

void print_memory(const results& r) {
  fmt::print("\n== memory after rand insert: bytes per entry beyond the {} B of key+value ==\n", payload_bytes);
  fmt::print("{:<12} {:>3} {:>9} {:>12} {:>13} {:>16} {:>12}\n", "engine", "thr", "entries", "heap delta",
             "memory_usage", "memory_reserved", "utilization");
  for (const auto& row : r.memory) {
    std::string usage = "-";
    std::string reserved = "-";
    std::string utilization = "-";
    if (row.arena) {
      usage = format_per_entry(row.arena->usage, row.entries);
      reserved = format_per_entry(row.arena->reserved, row.entries);
      if (row.arena->reserved != 0) {
        utilization = fmt::format(
            "{:.1f}%", 100.0 * static_cast<double>(row.arena->usage) / static_cast<double>(row.arena->reserved));
      }
    }
    fmt::print("{:<12} {:>3} {:>9} {:>12} {:>13} {:>16} {:>12}\n", row.engine, row.threads, row.entries,
               format_per_entry(row.heap_bytes, row.entries), usage, reserved, utilization);
  }
  fmt::print("heap delta = glibc heap in use (mallinfo2) after loading minus before; n/a for tbb (tbbmalloc)\n");
}

void print_phases(const config& cfg, const results& r) {
  fmt::print(
      "\n== scc-style phases, wall-clock seconds (thread t owns keys [t*N/T, (t+1)*N/T); "
      "Scan = every thread scans the whole table) ==\n");
  std::string header = fmt::format("{:<12} {:<7}", "engine", "phase");
  for (unsigned threads : cfg.threads) header += fmt::format(" {:>9}", fmt::format("{} thr", threads));
  fmt::print("{}\n", header);
  for (auto name : engine_names()) {
    for (phase p : all_phases) {
      std::string line = fmt::format("{:<12} {:<7}", name, name_of(p));
      for (unsigned threads : cfg.threads) {
        const auto seconds = results::find(r.phase_seconds, {name, p, threads});
        line += fmt::format(" {:>9}", seconds ? fmt::format("{:.3f}", *seconds) : "n/a");
      }
      fmt::print("{}\n", line);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const config cfg = parse_args(argc, argv);
  print_header(cfg);

  const auto generate_start = bench_clock::now();
  const dataset data(cfg.num, cfg.seed);
  const std::chrono::duration<double> generate_time = bench_clock::now() - generate_start;
  fmt::print("data set generated in {:.2f} s (not timed below)\n", generate_time.count());

  results r;
  for (unsigned round = 1; round <= cfg.repeat; ++round) {
    for (unsigned threads : cfg.threads) {
      for_each_engine([&](auto tag) {
        using engine = typename decltype(tag)::type;
        fmt::print(stderr, "round {}/{}: throughput, {} x{}\n", round, cfg.repeat, engine::name, threads);
        bench_throughput<engine>(data, threads, r);
      });
    }
    for (unsigned threads : cfg.threads) {
      for_each_engine([&](auto tag) {
        using engine = typename decltype(tag)::type;
        fmt::print(stderr, "round {}/{}: phases, {} x{}\n", round, cfg.repeat, engine::name, threads);
        bench_phases<engine>(data, threads, r);
      });
    }
  }

  print_throughput(cfg, r);
  print_memory(r);
  print_phases(cfg, r);
  if (g_failed) fmt::print("SOME RESULT CHECKS FAILED (see stderr)\n");
  return g_failed ? 1 : 0;
}
