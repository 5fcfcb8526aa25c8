// perf/bench/flags.cpp — parsing strata_bench's flags.
#include "bench/flags.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <string_view>

#include <fmt/format.h>

namespace strata::bench {

namespace {

template <typename T>
bool parse_number(std::string_view s, T& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool parse_bool(std::string_view s, bool& out) {
  if (s == "" || s == "1" || s == "true") {
    out = true;
  } else if (s == "0" || s == "false") {
    out = false;
  } else {
    return false;
  }
  return true;
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> parts;
  while (!s.empty()) {
    const auto comma = s.find(',');
    const auto part = s.substr(0, comma);
    if (!part.empty()) parts.emplace_back(part);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return parts;
}

}  // namespace

const std::vector<std::string>& known_benchmarks() {
  static const std::vector<std::string> names{
      "fillseq",  "fillrandom", "overwrite", "readrandom", "readseq", "seekrandom", "deleterandom", "readwhilewriting",
      "fillsync", "ycsb_load",  "ycsb_a",    "ycsb_b",     "ycsb_c",  "ycsb_d",     "ycsb_e",       "ycsb_f"};
  return names;
}

std::string usage() {
  return "usage: strata_bench [--flag=value ...]\n"
         "  --benchmarks=LIST      comma list, run in order: fillseq,fillrandom,overwrite,readrandom,readseq,\n"
         "                         seekrandom,deleterandom,readwhilewriting,fillsync,ycsb_load,ycsb_a..ycsb_f\n"
         "  --num=N                keys in the key space (1000000)\n"
         "  --reads=N              read operations (num)\n"
         "  --writes=N             write operations (num; fillsync num/1000)\n"
         "  --key_size=B           (16)       --value_size=B (100; YCSB 1000 unless given)\n"
         "  --threads=N            OS threads (1)\n"
         "  --coroutines=M         concurrent coroutines per thread, Strata only (1)\n"
         "  --rival_threads=N      LevelDB/RocksDB threads (threads * coroutines)\n"
         "  --sync --disable_wal --use_existing_db --histogram   (booleans; =0/=1 also accepted)\n"
         "  --db=DIR               db directory; one subdirectory per engine ($TMPDIR/strata_bench, removed at exit)\n"
         "  --write_buffer_size=B  (4194304)  --cache_size=B (8388608)  --bloom_bits=N (10; 0 none)\n"
         "  --compression_type=none|lz4      (none)\n"
         "  --engine=strata|leveldb|rocksdb  (strata)\n"
         "  --compare              every available engine, interleaved per benchmark, then a ratio table\n"
         "  --json=FILE            results as JSON (scripts/plot-bench.py draws them)\n"
         "  --ycsb_records=N       YCSB recordcount (num)   --ycsb_operations=N  YCSB operationcount (reads)\n"
         "  --seed=N               (301)      --progress=0|1 (on when stderr is a terminal)\n";
}

std::optional<std::string> parse_flags(int argc, const char* const* argv, bench_flags& out) {
  using setter = std::function<bool(std::string_view)>;
  auto number = [](auto& field) -> setter { return [&field](std::string_view v) { return parse_number(v, field); }; };
  auto boolean = [](bool& field) -> setter { return [&field](std::string_view v) { return parse_bool(v, field); }; };
  auto positive = [](unsigned& field) -> setter {
    return [&field](std::string_view v) { return parse_number(v, field) && field > 0; };
  };
  const std::map<std::string_view, setter> flags{
      {"benchmarks",
       [&](std::string_view v) {
         out.benchmarks = split_commas(v);
         const auto& known = known_benchmarks();
         return std::all_of(out.benchmarks.begin(), out.benchmarks.end(), [&](const std::string& b) {
           return std::find(known.begin(), known.end(), b) != known.end();
         });
       }},
      {"num", number(out.num)},
      {"reads", number(out.reads)},
      {"writes", number(out.writes)},
      {"key_size", [&](std::string_view v) { return parse_number(v, out.key_size) && out.key_size >= 8; }},
      {"value_size",
       [&](std::string_view v) {
         out.value_size_given = true;
         return parse_number(v, out.value_size);
       }},
      {"threads", positive(out.threads)},
      {"coroutines", positive(out.coroutines)},
      {"rival_threads", number(out.rival_threads)},
      {"sync", boolean(out.sync)},
      {"disable_wal", boolean(out.disable_wal)},
      {"use_existing_db", boolean(out.use_existing_db)},
      {"histogram", boolean(out.histogram)},
      {"compare", boolean(out.compare)},
      {"db",
       [&](std::string_view v) {
         out.db = v;
         return !v.empty();
       }},
      {"write_buffer_size", number(out.write_buffer_size)},
      {"cache_size", number(out.cache_size)},
      {"bloom_bits", [&](std::string_view v) { return parse_number(v, out.bloom_bits) && out.bloom_bits >= 0; }},
      {"compression_type",
       [&](std::string_view v) {
         out.compression_type = v;
         return v == "none" || v == "lz4";
       }},
      {"engine",
       [&](std::string_view v) {
         out.engine = v;
         return v == "strata" || v == "leveldb" || v == "rocksdb";
       }},
      {"json",
       [&](std::string_view v) {
         out.json = v;
         return !v.empty();
       }},
      {"ycsb_records", number(out.ycsb_records)},
      {"ycsb_operations", number(out.ycsb_operations)},
      {"seed", number(out.seed)},
      {"progress",
       [&](std::string_view v) {
         bool on = false;
         if (!parse_bool(v, on)) return false;
         out.progress = on ? 1 : 0;
         return true;
       }},
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return usage();
    if (!arg.starts_with("--")) return fmt::format("strata_bench: unexpected argument '{}'\n{}", arg, usage());
    const auto eq = arg.find('=');
    const auto name = arg.substr(2, eq == std::string_view::npos ? std::string_view::npos : eq - 2);
    const auto value = eq == std::string_view::npos ? std::string_view() : arg.substr(eq + 1);
    const auto it = flags.find(name);
    if (it == flags.end()) return fmt::format("strata_bench: unknown flag --{}\n{}", name, usage());
    if (!it->second(value)) return fmt::format("strata_bench: bad value for --{}: '{}'", name, value);
  }
  if (out.benchmarks.empty()) return std::string("strata_bench: --benchmarks is empty");
  if (out.num == 0) return std::string("strata_bench: --num must be positive");
  return std::nullopt;
}

}  // namespace strata::bench
