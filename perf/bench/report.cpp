// perf/bench/report.cpp — result lines, tables and JSON.
#include "bench/report.hpp"

#include <algorithm>
#include <map>
#include <thread>

#include <fmt/format.h>

namespace strata::bench {

namespace {

double micros(std::uint64_t nanos) { return static_cast<double>(nanos) / 1000.0; }

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

const bench_result* find(const std::vector<bench_result>& results, const std::string& benchmark,
                         const std::string& engine) {
  // The last run of that benchmark on that engine (a name may repeat in the list).
  const bench_result* found = nullptr;
  for (const auto& r : results)
    if (r.benchmark == benchmark && r.engine_id == engine && !r.skipped) found = &r;
  return found;
}

std::string short_label(const std::string& id) {
  if (id == "leveldb") return "leveldb 1.23";
  if (id == "rocksdb") return "rocksdb (*)";
  return id;
}

}  // namespace

std::string result_line(const bench_result& r) {
  if (r.skipped) return fmt::format("{:<12} : {}  [{}]", r.benchmark, r.message, r.engine_label);
  std::string rate =
      r.bytes > 0 ? fmt::format(" {:6.1f} MB/s", static_cast<double>(r.bytes) / 1048576.0 / r.seconds) : std::string();
  return fmt::format("{:<12} : {:11.3f} micros/op {} ops/sec;{}{}{}  [{}; {} thread{} x {} coroutine{}]", r.benchmark,
                     r.micros_per_op(), static_cast<long>(r.ops_per_second()), rate, r.message.empty() ? "" : " ",
                     r.message, r.engine_label, r.threads, r.threads == 1 ? "" : "s", r.coroutines,
                     r.coroutines == 1 ? "" : "s");
}

std::string latency_lines(const bench_result& r) {
  std::string out;
  for (const auto& l : r.latencies) {
    const auto& h = l.latency;
    out += fmt::format("  {:>7}: count {:>9}  p50 {:9.1f}  p99 {:9.1f}  p999 {:9.1f}  max {:9.1f} us\n",
                       op_name(l.type), h.count(), micros(h.percentile(50)), micros(h.percentile(99)),
                       micros(h.percentile(99.9)), micros(h.max()));
  }
  return out;
}

std::string compare_table(const std::vector<bench_result>& results, const std::vector<std::string>& engines) {
  std::vector<std::string> benchmarks;
  for (const auto& r : results)
    if (std::find(benchmarks.begin(), benchmarks.end(), r.benchmark) == benchmarks.end())
      benchmarks.push_back(r.benchmark);

  std::string out = fmt::format("{:<18}", "benchmark");
  for (const auto& e : engines) out += fmt::format(" {:>14} {:>10}", short_label(e) + " ops/s", "p99 us");
  for (const auto& e : engines)
    if (e != "strata") out += fmt::format(" {:>18}", "strata/" + short_label(e));
  out += "\n";
  for (const auto& b : benchmarks) {
    out += fmt::format("{:<18}", b);
    const bench_result* ours = find(results, b, "strata");
    for (const auto& e : engines) {
      const bench_result* r = find(results, b, e);
      if (r == nullptr) {
        out += fmt::format(" {:>14} {:>10}", "-", "-");
        continue;
      }
      const histogram all = r->all_latency();
      out += fmt::format(" {:>14.0f} {:>10}", r->ops_per_second(),
                         all.count() > 0 ? fmt::format("{:.1f}", micros(all.percentile(99))) : std::string("-"));
    }
    for (const auto& e : engines) {
      if (e == "strata") continue;
      const bench_result* r = find(results, b, e);
      if (ours == nullptr || r == nullptr || r->ops_per_second() <= 0) {
        out += fmt::format(" {:>18}", "-");
        continue;
      }
      out += fmt::format(" {:>17.2f}x", ours->ops_per_second() / r->ops_per_second());
    }
    out += "\n";
  }
  if (std::find(engines.begin(), engines.end(), "rocksdb") != engines.end())
    out += "(*) Debian's librocksdb 7.8.3 is built with assertions on: its figures are lower than a release build's.\n";
  return out;
}

std::string to_json(const std::vector<bench_result>& results, const bench_flags& flags) {
  static constexpr double cdf_points[] = {1,  5,  10, 20, 30,   40,   50,    60,    70, 80,
                                          90, 95, 97, 99, 99.5, 99.9, 99.95, 99.99, 100};
  std::string out = "{\n";
  out += fmt::format(
      "  \"settings\": {{\"num\": {}, \"key_size\": {}, \"value_size\": {}, \"ycsb_value_size\": {}, "
      "\"write_buffer_size\": {}, \"cache_size\": {}, \"bloom_bits\": {}, \"compression\": {}, \"sync\": {}, "
      "\"disable_wal\": {}, \"hardware_threads\": {}}},\n",
      flags.num, flags.key_size, flags.value_size, flags.ycsb_value_size(), flags.write_buffer_size, flags.cache_size,
      flags.bloom_bits, json_string(flags.compression_type), flags.sync, flags.disable_wal,
      std::thread::hardware_concurrency());
  out += "  \"results\": [\n";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    out += fmt::format(
        "    {{\"benchmark\": {}, \"engine\": {}, \"label\": {}, \"skipped\": {}, \"threads\": {}, "
        "\"coroutines\": {}, \"ops\": {}, \"seconds\": {:.6f}, \"ops_per_sec\": {:.1f}, \"micros_per_op\": {:.3f}, "
        "\"bytes\": {}, \"reads\": {}, \"found\": {}, \"background_ops\": {}, \"latency_us\": {{",
        json_string(r.benchmark), json_string(r.engine_id), json_string(r.engine_label), r.skipped, r.threads,
        r.coroutines, r.ops, r.seconds, r.ops_per_second(), r.micros_per_op(), r.bytes, r.reads, r.found,
        r.background_ops);
    for (std::size_t j = 0; j < r.latencies.size(); ++j) {
      const auto& h = r.latencies[j].latency;
      out += fmt::format(
          "{}{}: {{\"count\": {}, \"mean\": {:.3f}, \"p50\": {:.3f}, \"p99\": {:.3f}, \"p999\": {:.3f}, "
          "\"max\": {:.3f}, \"cdf\": [",
          j == 0 ? "" : ", ", json_string(op_name(r.latencies[j].type)), h.count(), h.mean() / 1000.0,
          micros(h.percentile(50)), micros(h.percentile(99)), micros(h.percentile(99.9)), micros(h.max()));
      bool first = true;
      for (const double p : cdf_points) {
        out += fmt::format("{}[{}, {:.3f}]", first ? "" : ", ", p, micros(h.percentile(p)));
        first = false;
      }
      out += "]}";
    }
    out += fmt::format("}}}}{}\n", i + 1 == results.size() ? "" : ",");
  }
  out += "  ]\n}\n";
  return out;
}

}  // namespace strata::bench
