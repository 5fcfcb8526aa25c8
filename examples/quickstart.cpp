// examples/quickstart.cpp — open a db, write and read with co_await, reopen
// it, compact it, print its stats. Run: bash scripts/run.sh (or build/examples/quickstart).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "strata/db.hpp"

namespace asio = boost::asio;

asio::awaitable<void> writer(std::shared_ptr<strata::db> db, int w) {
  for (int i = 0; i < 2000; ++i) co_await db->put(fmt::format("key:{}:{}", w, i), "value");
}

// Runs n writers concurrently and waits for all of them (the timer is just
// an event to wait on: the last writer to finish cancels it).
asio::awaitable<void> run_writers(std::shared_ptr<strata::db> db, int n) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer all_done(executor, asio::steady_timer::time_point::max());
  int running = n;
  for (int w = 0; w < n; ++w) {
    asio::co_spawn(executor, writer(db, w), [&](std::exception_ptr) {
      if (--running == 0) all_done.cancel();
    });
  }
  co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> demo(std::string path) {
  auto executor = co_await asio::this_coro::executor;

  // A small memtable, so that this little demo flushes tables and compacts them.
  const strata::options opts{.memtable_bytes = 256 << 10};
  auto db = co_await strata::db::open(executor, path, opts);
  co_await db->put("hello", "world");
  co_await db->put("answer", "42", {.sync = true});  // on disk before this returns

  strata::write_batch batch;  // all or nothing, visible at once
  batch.put("user:1", "ada");
  batch.put("user:2", "grace");
  batch.erase("hello");
  co_await db->write(batch);

  // 16 concurrent writers: their WAL appends share group commits.
  co_await run_writers(db, 16);

  auto hello = co_await db->get("hello");
  auto ada = co_await db->get("user:1");
  fmt::print("hello -> {}, user:1 -> {}\n", hello ? *hello : "(erased)", ada.value_or("?"));
  const strata::db_stats s = db->stats();
  fmt::print("{} puts in {} WAL writes ({:.1f} per group commit)\n", s.puts, s.wal_groups, s.wal_mean_group_size);
  co_await db->close();

  // Reopen: everything acknowledged comes back from the write-ahead log.
  auto again = co_await strata::db::open(executor, path, opts);
  auto answer = co_await again->get("answer");
  fmt::print("reopened: {} WAL records replayed, answer -> {}\n", again->stats().recovered_records,
             answer.value_or("?"));

  // Full compaction: every table merged into one level.
  co_await again->compact();
  const strata::db_stats c = again->stats();
  fmt::print("compacted: {} tables, {} bytes, level 0 has {}\n\nstats before reopening:\n{}", c.table_files,
             c.table_bytes, c.level_files[0], to_string(s));
  co_await again->close();
}

int main() {
  const char* tmp = std::getenv("TMPDIR");
  const std::string path = std::string(tmp != nullptr ? tmp : "/tmp") + "/strata-quickstart";
  std::filesystem::remove_all(path);
  asio::io_context ctx;
  auto done = asio::co_spawn(ctx, demo(path), asio::use_future);
  ctx.run();
  done.get();  // rethrows if the demo failed
  std::filesystem::remove_all(path);
  return 0;
}
