// perf/bench/workloads.hpp — the benchmarks themselves: db_bench's
// fillseq, fillrandom, overwrite, readrandom, readseq, seekrandom,
// deleterandom, readwhilewriting and fillsync, and YCSB's load and core
// workloads A-F. One definition per benchmark, whatever the engine.
//
// Operation counts are totals shared by all workers (db_bench gives each
// thread its own count; here T threads x C coroutines split one count, so
// a run does the same work however it is spread). docs/benchmarks.md
// describes each workload and its YCSB mix.
//
// Thread safety: run_benchmark is called from one thread, with no other
// benchmark running on the engine.
#pragma once

#include <array>
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "bench/engine.hpp"
#include "bench/flags.hpp"
#include "bench/runner.hpp"

namespace strata::bench {

// What a benchmark leaves behind in an engine's db, for the next one.
struct engine_state {
  std::string dir;
  bool ycsb_loaded = false;
  // YCSB's record numbers: next_record hands out the number of the next
  // insert; records is the acknowledged watermark, every record below it
  // written and acknowledged (YCSB's AcknowledgedCounterGenerator), so
  // reads only ask for records that exist.
  std::atomic<std::uint64_t> next_record{0};
  std::atomic<std::uint64_t> records{0};
  void acknowledge(std::uint64_t record);

 private:
  std::mutex mu_;
  std::set<std::uint64_t> acknowledged_ahead_;  // acknowledged, above the watermark
};

struct op_summary {
  op_type type;
  histogram latency;  // nanoseconds
};

struct bench_result {
  std::string benchmark, engine_id, engine_label;
  unsigned threads = 0, coroutines = 0;
  std::uint64_t ops = 0, bytes = 0;
  std::uint64_t reads = 0, found = 0;  // point reads done and found (cross-check between engines)
  std::uint64_t background_ops = 0;    // readwhilewriting's writes
  double seconds = 0;
  bool skipped = false;
  std::string message;                // db_bench's parenthesised note
  std::vector<op_summary> latencies;  // op types that ran, in op_type order

  double ops_per_second() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
  // db_bench's micros/op: time per operation per worker.
  double micros_per_op() const {
    return ops > 0 ? seconds * 1e6 * static_cast<double>(threads * coroutines) / static_cast<double>(ops) : 0;
  }
  histogram all_latency() const;
};

bool is_ycsb(const std::string& benchmark);

// Runs one benchmark by name. Fill benchmarks (and ycsb_load) start from an
// empty db unless flags.use_existing_db, which skips them instead (as
// db_bench does). Throws std::runtime_error on an engine error.
bench_result run_benchmark(const std::string& name, engine& e, engine_state& state, const bench_flags& flags);

}  // namespace strata::bench
