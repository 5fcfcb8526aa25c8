// perf/bench/runner.hpp — runs one benchmark's workers: T OS threads, each
// with its own io_context and C coroutines on it, all drawing operation
// numbers from one shared counter until the benchmark's total is reached;
// optionally one more thread of background writers that run until the
// workers are done (readwhilewriting). Each worker keeps its own latency
// histograms (no shared state on the hot path but the counter); they are
// merged at the end. A progress line goes to stderr every 2 s when asked.
//
// Thread safety: run() is called from one thread; the workers' bodies run
// concurrently and must touch only their own `worker` and thread-safe
// shared state (the engine, atomics).
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/key_generators.hpp"
#include "util/histogram.hpp"

namespace strata::bench {

enum class op_type : int { read, write, erase, seek, scan, update, insert, read_modify_write, count };
const char* op_name(op_type t);

// Values as db_bench makes them: slices of a 1 MiB buffer in which every
// 100-byte piece is half random and half repeat, so a compressor halves it.
class value_source {
 public:
  explicit value_source(std::uint64_t seed);
  std::string_view next(std::size_t size, std::size_t& position) const;

 private:
  std::string data_;
};

struct shared_work {
  std::uint64_t total = 0;
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> done{0};  // finished operations (progress only: relaxed)
  std::atomic<bool> stop{false};       // a worker failed, or the workers finished (background)
  // Claims the next operation number; false once the total is reached.
  bool claim(std::uint64_t& i) {
    if (stop.load(std::memory_order_relaxed)) return false;
    // relaxed: the counter hands out distinct numbers; nothing else is
    // published through it.
    i = next.fetch_add(1, std::memory_order_relaxed);
    return i < total;
  }
};

struct worker {
  using clock = std::chrono::steady_clock;
  worker(unsigned index, std::uint64_t seed, shared_work& work) : index(index), random(seed), work(work) {}

  // Records an operation's latency and counts it done.
  void finished(op_type t, clock::time_point start) {
    latency[static_cast<int>(t)].record(
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start).count()));
    work.done.fetch_add(1, std::memory_order_relaxed);
  }
  // Counts a point read; `found_bytes` (key + value) count only if it found.
  void read_done(bool was_found, std::size_t found_bytes) {
    ++reads;
    if (was_found) {
      ++found;
      bytes += found_bytes;
    }
  }

  unsigned index;
  uniform_generator random;
  shared_work& work;
  std::size_t value_position = 0;
  std::uint64_t bytes = 0, found = 0, reads = 0, background_ops = 0;
  std::array<histogram, static_cast<int>(op_type::count)> latency;
};

using worker_body = std::function<boost::asio::awaitable<void>(worker&)>;

struct run_outcome {
  double seconds = 0;
  std::uint64_t ops = 0;  // operations the workers finished (not background ones)
  std::uint64_t bytes = 0, found = 0, reads = 0, background_ops = 0;
  std::array<histogram, static_cast<int>(op_type::count)> latency;
};

struct run_shape {
  unsigned threads = 1, coroutines = 1;
  unsigned background_coroutines = 0;  // 0: no background thread
  std::uint64_t seed = 0;
  bool progress = false;
  std::string progress_label;
};

// Runs `body` in every worker until work.total operations are claimed and
// finished, and `background` (if any) alongside until then. Rethrows the
// first exception a worker threw, after every thread has stopped.
run_outcome run_workers(const run_shape& shape, shared_work& work, const worker_body& body,
                        const worker_body& background = {});

}  // namespace strata::bench
