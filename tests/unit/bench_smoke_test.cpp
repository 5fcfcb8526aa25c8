// tests/unit/bench_smoke_test.cpp — every strata_bench workload runs on
// Strata at a tiny size, on 2 threads x 3 coroutines, and does exactly the
// operations it should: the counts of each operation type, the reads that
// must find their key (YCSB never reads a record that is not acknowledged),
// and the YCSB watermark after inserts. It times nothing.
#include <boost/test/unit_test.hpp>
#include <map>

#include "bench/engine.hpp"
#include "bench/report.hpp"
#include "bench/workloads.hpp"
#include "temp_dir.hpp"

namespace bench = strata::bench;

namespace {

std::uint64_t count_of(const bench::bench_result& r, bench::op_type t) {
  for (const auto& l : r.latencies)
    if (l.type == t) return l.latency.count();
  return 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bench_smoke)

BOOST_AUTO_TEST_CASE(every_workload_does_its_operations_on_strata) {
  strata::testing::temp_dir dir;
  bench::bench_flags f;
  f.num = 400;
  f.reads = 250;
  f.ycsb_records = 300;
  f.ycsb_operations = 400;
  f.threads = 2;
  f.coroutines = 3;
  f.write_buffer_size = 16 << 10;  // several flushes even at this size
  f.cache_size = 1 << 20;
  f.progress = 0;
  f.db = dir.path();
  auto e = bench::make_engine("strata", f);
  BOOST_REQUIRE(e);
  bench::engine_state state;
  state.dir = dir.file("strata");
  e->open(state.dir, true);

  std::vector<bench::bench_result> results;
  for (const auto& name : bench::known_benchmarks()) {
    BOOST_TEST_CONTEXT("benchmark " << name) {
      const bench::bench_result r = bench::run_benchmark(name, *e, state, f);
      results.push_back(r);
      BOOST_TEST(!r.skipped);
      BOOST_TEST(r.threads == 2u);
      BOOST_TEST(r.coroutines == 3u);
      BOOST_TEST(r.seconds > 0);
      using op = bench::op_type;
      if (name == "fillseq" || name == "fillrandom" || name == "overwrite") {
        BOOST_TEST(r.ops == 400u);
        BOOST_TEST(count_of(r, op::write) == 400u);
        BOOST_TEST(r.bytes == 400u * (16 + 100));
      } else if (name == "fillsync") {
        BOOST_TEST(r.ops == 1u);  // num / 1000, at least 1
      } else if (name == "readrandom" || name == "readwhilewriting") {
        BOOST_TEST(r.ops == 250u);
        BOOST_TEST(r.reads == 250u);
        BOOST_TEST(r.found > 0u);
        BOOST_TEST(r.found <= r.reads);
      } else if (name == "seekrandom") {
        BOOST_TEST(count_of(r, op::seek) == 250u);
        BOOST_TEST(r.found > 0u);
      } else if (name == "readseq") {
        // Six workers, one whole pass each, over the same keys.
        BOOST_TEST(r.ops > 0u);
        BOOST_TEST(r.ops % 6 == 0u);
        BOOST_TEST(r.ops / 6 <= 400u);
      } else if (name == "deleterandom") {
        BOOST_TEST(count_of(r, op::erase) == 400u);
      } else if (name == "ycsb_load") {
        BOOST_TEST(count_of(r, op::insert) == 300u);
        BOOST_TEST(state.records.load() == 300u);
        BOOST_TEST(state.ycsb_loaded);
      } else {
        BOOST_TEST(r.ops == 400u);
        BOOST_TEST(r.found == r.reads);  // acknowledged records only, none deleted
        const auto reads = count_of(r, op::read), updates = count_of(r, op::update), inserts = count_of(r, op::insert),
                   scans = count_of(r, op::scan), rmws = count_of(r, op::read_modify_write);
        BOOST_TEST(reads + updates + inserts + scans + rmws == 400u);
        if (name == "ycsb_a" || name == "ycsb_b") {
          BOOST_TEST(reads > 0u);
          BOOST_TEST(updates > 0u);
          BOOST_TEST(reads + updates == 400u);
          BOOST_TEST((name == "ycsb_a" ? updates > 120u : updates < 60u));
        } else if (name == "ycsb_c") {
          BOOST_TEST(reads == 400u);
        } else if (name == "ycsb_d") {
          BOOST_TEST(reads + inserts == 400u);
          BOOST_TEST(inserts > 0u);
          BOOST_TEST(state.records.load() == 300u + inserts);
        } else if (name == "ycsb_e") {
          BOOST_TEST(scans + inserts == 400u);
          BOOST_TEST(scans > 300u);
          BOOST_TEST(r.bytes > 0u);
        } else if (name == "ycsb_f") {
          BOOST_TEST(reads + rmws == 400u);
          BOOST_TEST(rmws > 120u);
          BOOST_TEST(r.reads == 400u);  // an rmw reads too
        }
      }
    }
  }
  e->close();

  // The report names every benchmark that ran.
  const std::string table = bench::compare_table(results, {"strata"});
  const std::string json = bench::to_json(results, f);
  for (const auto& name : bench::known_benchmarks()) {
    BOOST_TEST(table.find(name) != std::string::npos);
    BOOST_TEST(json.find("\"" + name + "\"") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(use_existing_db_skips_the_fills) {
  strata::testing::temp_dir dir;
  bench::bench_flags f;
  f.num = 50;
  f.progress = 0;
  f.use_existing_db = true;
  auto e = bench::make_engine("strata", f);
  bench::engine_state state;
  state.dir = dir.file("strata");
  e->open(state.dir, false);
  const auto r = bench::run_benchmark("fillrandom", *e, state, f);
  BOOST_TEST(r.skipped);
  BOOST_TEST(r.ops == 0u);
  const auto reads = bench::run_benchmark("readrandom", *e, state, f);
  BOOST_TEST(reads.ops == 50u);
  BOOST_TEST(reads.found == 0u);  // an empty db
  e->close();
}

BOOST_AUTO_TEST_SUITE_END()
