// perf/strata_bench.cpp — db_bench-compatible and YCSB benchmarks for
// Strata, with LevelDB and RocksDB running the same workload code in the
// same run (--compare). docs/benchmarks.md has the flags, the workloads,
// the settings that make the engines comparable, and a full run.
//
//   strata_bench --benchmarks=fillrandom,readrandom --num=1000000 --coroutines=16 --compare
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "bench/engine.hpp"
#include "bench/flags.hpp"
#include "bench/report.hpp"
#include "bench/workloads.hpp"

namespace bench = strata::bench;

namespace {

struct engine_slot {
  std::unique_ptr<bench::engine> engine;
  std::unique_ptr<bench::engine_state> state;
};

void print_result(const bench::bench_result& r, const bench::bench_flags& flags, bench::engine& e) {
  fmt::print("{}\n", bench::result_line(r));
  if (!r.skipped && (flags.histogram || bench::is_ycsb(r.benchmark))) fmt::print("{}", bench::latency_lines(r));
  if (!r.skipped && flags.histogram) {
    const std::string state = e.state_line();
    if (!state.empty()) fmt::print("  {}\n", state);
  }
  std::fflush(stdout);
}

int run(const bench::bench_flags& flags) {
  std::vector<std::string> ids;
  if (flags.compare) {
    ids = bench::available_engines();
  } else {
    ids.push_back(flags.engine);
  }
  const char* tmp = std::getenv("TMPDIR");
  const bool temporary = flags.db.empty();
  const std::string base = temporary ? std::string(tmp != nullptr ? tmp : "/tmp") + "/strata_bench" : flags.db;

  fmt::print(
      "strata_bench: {} keys of {} B, values of {} B (YCSB records of {} B), write buffer {} B, block cache {} B, "
      "bloom bits {}, compression {}, WAL {}, sync {}\n",
      flags.num, flags.key_size, flags.value_size, flags.ycsb_value_size(), flags.write_buffer_size, flags.cache_size,
      flags.bloom_bits, flags.compression_type, flags.disable_wal ? "off" : "on", flags.sync ? "on" : "off");
  fmt::print("machine: {} hardware threads; engines: ", std::thread::hardware_concurrency());
  std::vector<engine_slot> engines;
  for (const auto& id : ids) {
    engine_slot slot{bench::make_engine(id, flags), std::make_unique<bench::engine_state>()};
    if (!slot.engine) {
      fmt::print(stderr, "\nstrata_bench: engine {} is not compiled in (meson option comparators)\n", id);
      return 2;
    }
    fmt::print("{}{}", engines.empty() ? "" : ", ", slot.engine->label());
    slot.state->dir = base + "/" + id;
    slot.engine->open(slot.state->dir, !flags.use_existing_db);
    engines.push_back(std::move(slot));
  }
  fmt::print("\n");
  if (flags.disable_wal && flags.compare)
    fmt::print("note: LevelDB cannot turn its WAL off; its figures keep the WAL\n");
  fmt::print("\n");

  std::vector<bench::bench_result> results;
  for (const auto& name : flags.benchmarks) {
    for (auto& slot : engines) {  // interleaved: each benchmark on every engine before the next
      if (bench::is_ycsb(name) && name != "ycsb_load" && !slot.state->ycsb_loaded && !flags.use_existing_db) {
        results.push_back(bench::run_benchmark("ycsb_load", *slot.engine, *slot.state, flags));
        print_result(results.back(), flags, *slot.engine);
      }
      if (bench::is_ycsb(name) && name != "ycsb_load" && !slot.state->ycsb_loaded) {
        // --use_existing_db: trust that the db holds the YCSB records.
        slot.state->ycsb_loaded = true;
        slot.state->records.store(flags.record_count());
        slot.state->next_record.store(flags.record_count());
      }
      results.push_back(bench::run_benchmark(name, *slot.engine, *slot.state, flags));
      print_result(results.back(), flags, *slot.engine);
    }
  }
  if (engines.size() > 1) fmt::print("\n{}", bench::compare_table(results, ids));
  if (!flags.json.empty()) {
    std::ofstream out(flags.json);
    out << bench::to_json(results, flags);
    if (!out) {
      fmt::print(stderr, "strata_bench: cannot write {}\n", flags.json);
      return 1;
    }
  }
  for (auto& slot : engines) slot.engine->close();
  if (temporary) std::filesystem::remove_all(base);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bench::bench_flags flags;
  if (auto message = bench::parse_flags(argc, argv, flags)) {
    const bool help = message->starts_with("usage:");
    std::fputs(message->c_str(), help ? stdout : stderr);
    if (!message->ends_with("\n")) std::fputs("\n", help ? stdout : stderr);
    return help ? 0 : 2;
  }
  try {
    return run(flags);
  } catch (const std::exception& e) {
    fmt::print(stderr, "strata_bench: {}\n", e.what());
    return 1;
  }
}
