// perf/bench/flags.hpp — strata_bench's command line: RocksDB db_bench's
// flag names and meanings for the common cases, plus YCSB's counts and the
// engine choice. `--name=value`; a boolean may be given bare (`--sync`).
// docs/benchmarks.md lists every flag and its default.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace strata::bench {

struct bench_flags {
  std::vector<std::string> benchmarks{"fillseq", "fillrandom", "readrandom"};
  std::uint64_t num = 1000000;  // keys in the key space (db_bench --num)
  std::int64_t reads = -1;      // read operations; -1: num
  std::int64_t writes = -1;     // write operations; -1: num (fillsync: num / 1000, as db_bench)
  std::size_t key_size = 16;
  std::size_t value_size = 100;  // db_bench workloads; YCSB uses 1000 unless this flag is given
  bool value_size_given = false;
  unsigned threads = 1;        // OS threads
  unsigned coroutines = 1;     // concurrent coroutines per thread (Strata only)
  unsigned rival_threads = 0;  // LevelDB/RocksDB threads; 0: threads * coroutines
  bool sync = false;
  bool disable_wal = false;
  bool use_existing_db = false;
  std::string db;  // empty: $TMPDIR/strata_bench, removed at exit
  std::size_t write_buffer_size = std::size_t{4} << 20;
  std::size_t cache_size = std::size_t{8} << 20;
  int bloom_bits = 10;
  std::string compression_type = "none";  // none | lz4
  bool histogram = false;
  std::string engine = "strata";      // strata | leveldb | rocksdb
  bool compare = false;               // every available engine, interleaved per benchmark
  std::string json;                   // write results here
  std::uint64_t ycsb_records = 0;     // YCSB recordcount; 0: num
  std::uint64_t ycsb_operations = 0;  // YCSB operationcount; 0: reads (or num)
  std::uint64_t seed = 301;           // db_bench's default seed
  int progress = -1;                  // -1: on a terminal only; 0 off; 1 on

  std::uint64_t read_count() const { return reads < 0 ? num : static_cast<std::uint64_t>(reads); }
  std::uint64_t write_count() const { return writes < 0 ? num : static_cast<std::uint64_t>(writes); }
  std::uint64_t record_count() const { return ycsb_records == 0 ? num : ycsb_records; }
  std::uint64_t operation_count() const { return ycsb_operations == 0 ? read_count() : ycsb_operations; }
  std::size_t ycsb_value_size() const { return value_size_given ? value_size : 1000; }
};

// Parses argv[1..argc). Returns an error message for an unknown flag or a
// bad value; `out` keeps defaults for flags not given. "--help" returns
// the usage text as the error (the caller prints it and exits 0).
std::optional<std::string> parse_flags(int argc, const char* const* argv, bench_flags& out);
std::string usage();

// Every benchmark name strata_bench knows, in a sensible order.
const std::vector<std::string>& known_benchmarks();

}  // namespace strata::bench
