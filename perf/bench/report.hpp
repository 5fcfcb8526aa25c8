// perf/bench/report.hpp — how strata_bench prints and saves results:
// db_bench's result line (so a RocksDB db_bench run pastes next to ours),
// per-operation latency percentiles, the --compare table of ops/s, p99 and
// our ratio to each rival, and the --json document that
// scripts/plot-bench.py draws.
#pragma once

#include <string>
#include <vector>

#include "bench/flags.hpp"
#include "bench/workloads.hpp"

namespace strata::bench {

// "fillrandom   :       1.234 micros/op 810372 ops/sec;   89.6 MB/s (…)"
// followed by "  [engine; T threads x C coroutines]".
std::string result_line(const bench_result& r);
// One line per operation type: count, p50, p99, p999, max in microseconds.
std::string latency_lines(const bench_result& r);
// Benchmarks down, engines across, in the order they ran. `engines` are
// ids; strata's ratio to each rival on the right.
std::string compare_table(const std::vector<bench_result>& results, const std::vector<std::string>& engines);
std::string to_json(const std::vector<bench_result>& results, const bench_flags& flags);

}  // namespace strata::bench
