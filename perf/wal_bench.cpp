// perf/wal_bench.cpp — WAL append throughput and latency, next to the
// machine's own floor measured in the same run.
//
//   wal_bench [--quick] [--dir=PATH] [--fallback] [--writers=1,8,64]
//
// Workloads (record = 116-byte payload, as a 16 B key + 100 B value batch):
//   sync off  1,000,000 appends (--quick: 200,000): bytes reach the page cache
//   sync on      20,000 appends (--quick: 4,000): bytes reach the disk
//   bandwidth   100,000 appends of 4 KiB, sync off: log bandwidth for big records
// each at 1, 8 and 64 concurrent writers. Writers are coroutines on one
// io_context thread; the WAL's group loop runs on a second (the store's
// background executor); io_uring completions on the engine's ring thread.
//
// Comparators, same sizes, same run, same directory:
//   pwrite loop            one thread: pwrite(record) per append
//   pwrite+fdatasync loop  one thread: pwrite(record); fdatasync() per append:
//                          what one synchronous writer pays per durable record
// "ratio" = our appends/s divided by the matching loop's appends/s.
// Latency percentiles are per append (submit to completion on the writer's
// executor). "group" = records per write submission.
#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "io/io_engine.hpp"
#include "util/histogram.hpp"
#include "wal/wal_writer.hpp"

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

struct config {
  bool quick = false;
  bool fallback = false;
  std::string dir;
  std::vector<int> writers{1, 8, 64};
};

struct result {
  double seconds = 0;
  std::uint64_t appends = 0;
  std::uint64_t log_bytes = 0;
  double group = 0;
  strata::histogram latency;
  double per_second() const { return static_cast<double>(appends) / seconds; }
  double mb_per_second() const { return static_cast<double>(log_bytes) / seconds / 1e6; }
};

std::string fresh_dir(const config& c, const std::string& name) {
  const std::string d = c.dir + "/" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

result run_wal(const config& c, strata::io::io_engine& engine, int writers, std::uint64_t total, bool sync,
               std::size_t record_size) {
  const std::string dir = fresh_dir(c, "wal");
  asio::io_context writer_ctx, wal_ctx;
  auto guard = asio::make_work_guard(wal_ctx);
  std::thread wal_thread([&] { wal_ctx.run(); });
  std::error_code ec;
  auto wal = strata::wal::wal_writer::create(engine, wal_ctx.get_executor(), dir, 1,
                                             {.max_file_bytes = std::uint64_t{4} << 30}, ec);
  if (ec) {
    fmt::print(stderr, "cannot create WAL in {}: {}\n", dir, ec.message());
    std::exit(1);
  }
  const std::string payload(record_size, 'r');
  const std::uint64_t per_writer = total / static_cast<std::uint64_t>(writers);
  std::vector<strata::histogram> latencies(static_cast<std::size_t>(writers));
  bool failed = false;
  for (int w = 0; w < writers; ++w) {
    asio::co_spawn(
        writer_ctx,
        [&, w]() -> asio::awaitable<void> {
          auto& lat = latencies[static_cast<std::size_t>(w)];
          for (std::uint64_t i = 0; i < per_writer; ++i) {
            const auto t0 = clock_type::now();
            auto [e] = co_await wal->async_append(payload, sync, asio::as_tuple(asio::use_awaitable));
            lat.record(static_cast<std::uint64_t>((clock_type::now() - t0).count()));
            failed = failed || static_cast<bool>(e);
          }
        },
        asio::detached);
  }
  const auto start = clock_type::now();
  writer_ctx.run();
  result r;
  r.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  const auto stats = wal->stats();
  r.appends = stats.records;
  r.log_bytes = stats.bytes;
  r.group = stats.mean_group_size();
  for (const auto& h : latencies) r.latency.merge(h);
  wal.reset();
  guard.reset();
  wal_thread.join();
  std::filesystem::remove_all(dir);
  if (failed || r.appends != per_writer * static_cast<std::uint64_t>(writers)) {
    fmt::print(stderr, "WAL appends failed\n");
    std::exit(1);
  }
  return r;
}

// One thread, one record per pwrite (and per fdatasync when sync).
result run_loop(const config& c, std::uint64_t total, bool sync, std::size_t record_size) {
  const std::string dir = fresh_dir(c, "loop");
  const std::string path = dir + "/loop.dat";
  const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror("open");
    std::exit(1);
  }
  const std::string record(record_size, 'r');
  result r;
  const auto start = clock_type::now();
  for (std::uint64_t i = 0; i < total; ++i) {
    const auto t0 = clock_type::now();
    if (::pwrite(fd, record.data(), record.size(), static_cast<off_t>(i * record_size)) !=
            static_cast<ssize_t>(record.size()) ||
        (sync && ::fdatasync(fd) != 0)) {
      std::perror("pwrite/fdatasync");
      std::exit(1);
    }
    r.latency.record(static_cast<std::uint64_t>((clock_type::now() - t0).count()));
  }
  r.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  r.appends = total;
  r.log_bytes = total * record_size;
  r.group = 1;
  ::close(fd);
  std::filesystem::remove_all(dir);
  return r;
}

void print_header() {
  fmt::print("{:<10} {:<22} {:>7} {:>9} {:>12} {:>9} {:>7} {:>9} {:>9} {:>8}\n", "mode", "engine", "writers", "appends",
             "appends/s", "MB/s", "group", "p50 us", "p99 us", "ratio");
}

void print_row(std::string_view mode, std::string_view engine, int writers, const result& r, double baseline) {
  fmt::print("{:<10} {:<22} {:>7} {:>9} {:>12.0f} {:>9.1f} {:>7.1f} {:>9.1f} {:>9.1f} {:>7.2f}x\n", mode, engine,
             writers, r.appends, r.per_second(), r.mb_per_second(), r.group, r.latency.percentile(50) / 1000.0,
             r.latency.percentile(99) / 1000.0, r.per_second() / baseline);
}

config parse(int argc, char** argv) {
  config c;
  const char* tmp = std::getenv("TMPDIR");
  c.dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/strata-wal-bench";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      c.quick = true;
    } else if (arg == "--fallback") {
      c.fallback = true;
    } else if (arg.starts_with("--dir=")) {
      c.dir = std::string(arg.substr(6));
    } else if (arg.starts_with("--writers=")) {
      c.writers.clear();
      std::string list(arg.substr(10));
      for (std::size_t p = 0; p < list.size();) {
        const auto comma = list.find(',', p);
        c.writers.push_back(std::stoi(list.substr(p, comma - p)));
        p = comma == std::string::npos ? list.size() : comma + 1;
      }
    } else {
      fmt::print(stderr, "usage: wal_bench [--quick] [--dir=PATH] [--fallback] [--writers=1,8,64]\n");
      std::exit(2);
    }
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const config c = parse(argc, argv);
  std::filesystem::create_directories(c.dir);
  auto engine = strata::io::make_io_engine({.force_fallback = c.fallback});
  const std::uint64_t unsynced = c.quick ? 200'000 : 1'000'000;
  const std::uint64_t synced = c.quick ? 4'000 : 20'000;
  const std::uint64_t big = c.quick ? 20'000 : 100'000;
  constexpr std::size_t record = 116, big_record = 4096;
  fmt::print("wal_bench: {}-byte records; engine {}; dir {}{}\n\n", record, engine->name(), c.dir,
             c.quick ? " (--quick)" : "");
  print_header();

  const result loop_plain = run_loop(c, unsynced, false, record);
  print_row("sync off", "pwrite loop", 1, loop_plain, loop_plain.per_second());
  for (int w : c.writers)
    print_row("sync off", "strata WAL", w, run_wal(c, *engine, w, unsynced, false, record), loop_plain.per_second());

  const result loop_sync = run_loop(c, synced, true, record);
  print_row("sync on", "pwrite+fdatasync loop", 1, loop_sync, loop_sync.per_second());
  for (int w : c.writers)
    print_row("sync on", "strata WAL", w, run_wal(c, *engine, w, synced, true, record), loop_sync.per_second());

  const result loop_big = run_loop(c, big, false, big_record);
  print_row("4 KiB", "pwrite loop", 1, loop_big, loop_big.per_second());
  for (int w : c.writers)
    print_row("4 KiB", "strata WAL", w, run_wal(c, *engine, w, big, false, big_record), loop_big.per_second());
  const auto s = engine->stats();
  fmt::print("\nengine: {} operations in {} submissions; ratio = appends/s over the loop of the same block\n",
             s.operations, s.submissions);
  std::filesystem::remove_all(c.dir);
  return 0;
}
