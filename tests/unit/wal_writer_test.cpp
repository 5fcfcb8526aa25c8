// The WAL writer and recovery together: round trips across file rotation,
// group commit under many concurrent writers, failure propagation, and
// crash recovery with the fault injector.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fault_injection.hpp"
#include "io/io_engine.hpp"
#include "strata/error.hpp"
#include "temp_dir.hpp"
#include "thread_checks.hpp"
#include "wal/wal_recovery.hpp"
#include "wal/wal_writer.hpp"

namespace asio = boost::asio;
using namespace strata;

namespace {

const bool engine_kinds[] = {false, true};

std::vector<std::string> recover(const std::string& dir, wal::replay_result& result, std::error_code& ec,
                                 wal::replay_options options = {}) {
  std::vector<std::string> out;
  const auto numbers = wal::list_logs(dir, ec);
  if (ec) return out;
  ec = wal::replay_logs(
      dir, numbers, options,
      [&](std::string_view rec, std::uint64_t) {
        out.emplace_back(rec);
        return std::error_code{};
      },
      result);
  return out;
}

// An engine (with the test fault injector installed), a temp dir, an
// io_context for the writer's loop, and a writer on <dir>/<number>.log.
// Members are declared so the writer goes first and the injector last.
struct wal_setup {
  explicit wal_setup(bool fallback = false, std::uint64_t number = 1, wal::writer_options options = {})
      : engine(io::make_io_engine({.force_fallback = fallback})) {
    engine->set_fault_injector(&faults);
    std::error_code ec;
    w = wal::wal_writer::create(*engine, ctx.get_executor(), dir.path(), number, options, ec);
    BOOST_REQUIRE(!ec);
  }
  // Appends and runs the context until it completes; returns the result.
  std::error_code append_now(std::string_view payload, bool sync) {
    std::error_code result = errc::closed;
    w->async_append(payload, sync, asio::bind_executor(ctx, [&](std::error_code e) { result = e; }));
    ctx.run();
    ctx.restart();
    return result;
  }

  testing::test_faults faults;
  testing::temp_dir dir;
  std::unique_ptr<io::io_engine> engine;
  asio::io_context ctx;
  std::shared_ptr<wal::wal_writer> w;
};

std::string record_for(int writer, int i, std::size_t size) {
  std::string r = std::to_string(writer) + ":" + std::to_string(i) + ":";
  r.resize(std::max(size, r.size()), static_cast<char>('a' + (i % 26)));
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(wal_writer)

BOOST_DATA_TEST_CASE(round_trip_across_rotation, boost::unit_test::data::make(engine_kinds), fallback) {
  auto engine = io::make_io_engine({.force_fallback = fallback});
  testing::temp_dir dir;
  asio::io_context ctx;
  std::error_code ec;
  auto w = wal::wal_writer::create(*engine, ctx.get_executor(), dir.path(), 1, {.max_file_bytes = 64 * 1024}, ec);
  BOOST_REQUIRE(!ec);
  std::mt19937_64 rng(1);
  std::vector<std::string> written;
  for (int i = 0; i < 300; ++i) {
    std::size_t size = rng() % 4 == 0 ? rng() % 100000 : rng() % 300;
    if (i % 50 == 0) size = 0;
    written.push_back(record_for(0, i, size));
  }
  bool all_ok = true;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        for (std::size_t i = 0; i < written.size(); ++i) {
          auto [e] = co_await w->async_append(written[i], i % 7 == 0, asio::as_tuple(asio::use_awaitable));
          all_ok = all_ok && !e;
        }
      },
      asio::detached);
  ctx.run();
  BOOST_TEST(all_ok);
  const auto stats = w->stats();
  BOOST_TEST(stats.files > 3u);
  BOOST_TEST(stats.records == written.size());
  w.reset();
  wal::replay_result result;
  const auto back = recover(dir.path(), result, ec);
  BOOST_TEST(!ec, result.error);
  BOOST_TEST(!result.torn_tail);
  BOOST_TEST((back == written));
}

BOOST_DATA_TEST_CASE(group_commit_many_writers_two_threads, boost::unit_test::data::make(engine_kinds), fallback) {
  auto engine = io::make_io_engine({.force_fallback = fallback});
  testing::temp_dir dir;
  asio::io_context ctx_a, ctx_b;
  // The group loop's executor must keep running while anyone appends (the
  // db's is its background pool): one of its own here, as in the db, since
  // either io_context may run out of work before the other's writers do.
  asio::thread_pool wal_pool(1);
  std::error_code ec;
  auto w = wal::wal_writer::create(*engine, wal_pool.get_executor(), dir.path(), 1, {}, ec);
  BOOST_REQUIRE(!ec);
  constexpr int coroutines_a = 64, coroutines_b = 8, per_writer = 30;
  testing::thread_checks checks;
  std::vector<std::string> payloads;
  for (int c = 0; c < coroutines_a + coroutines_b; ++c) {
    for (int i = 0; i < per_writer; ++i) payloads.push_back(record_for(c, i, 116));
  }
  auto writer = [&](asio::io_context& ctx, int c) -> asio::awaitable<void> {
    for (int i = 0; i < per_writer; ++i) {
      auto [e] = co_await w->async_append(payloads[static_cast<std::size_t>(c * per_writer + i)], true,
                                          asio::as_tuple(asio::use_awaitable));
      THREAD_CHECK(checks, !e);
      THREAD_CHECK(checks, ctx.get_executor().running_in_this_thread());  // resumed on our own executor
    }
  };
  for (int c = 0; c < coroutines_a; ++c) asio::co_spawn(ctx_a, writer(ctx_a, c), asio::detached);
  for (int c = coroutines_a; c < coroutines_a + coroutines_b; ++c) {
    asio::co_spawn(ctx_b, writer(ctx_b, c), asio::detached);
  }
  std::thread second([&] { ctx_b.run(); });
  ctx_a.run();
  second.join();
  BOOST_TEST(checks.ok(), checks.report());
  const auto stats = w->stats();
  BOOST_TEST(stats.records == payloads.size());
  // Group commit: far fewer write submissions than records (a count, not a time).
  BOOST_TEST(stats.groups * 8 < stats.records, stats.groups << " groups for " << stats.records << " records");
  BOOST_TEST(engine->stats().operations <= stats.groups + stats.syncs + 1);
  w.reset();
  wal::replay_result result;
  auto back = recover(dir.path(), result, ec);
  BOOST_REQUIRE(!ec);
  std::multiset<std::string> got(back.begin(), back.end()), want(payloads.begin(), payloads.end());
  BOOST_TEST((got == want));  // every record exactly once
  // Each writer's records are in its own order.
  std::map<std::string, int> last_seen;
  for (const auto& r : back) {
    const auto writer_id = r.substr(0, r.find(':'));
    const int i = std::stoi(r.substr(r.find(':') + 1));
    BOOST_REQUIRE(last_seen.count(writer_id) == 0 || last_seen[writer_id] < i);
    last_seen[writer_id] = i;
  }
}

BOOST_AUTO_TEST_CASE(synced_writers_on_another_thread_regroup_into_one_group) {
  // 16 synced writers on this thread, the group loop on its own (as in the
  // db). Writer c appends again 50c microseconds after its sync completed,
  // so they come back spread over 0.75 ms. The loop waits for all of them,
  // up to 1000 times its own sync time: every group holds all 16. Without
  // that wait each group would take whoever had come back, 16 ragged ones
  // per round. (Counts, not times: the delays only spread the arrivals.)
  auto engine = io::make_io_engine({});
  testing::temp_dir dir;
  asio::io_context ctx;
  asio::thread_pool wal_pool(1);
  std::error_code ec;
  auto w = wal::wal_writer::create(*engine, wal_pool.get_executor(), dir.path(), 1, {.regroup_wait_factor = 1000}, ec);
  BOOST_REQUIRE(!ec);
  constexpr int writers = 16, per_writer = 20;
  std::vector<std::string> payloads;
  for (int c = 0; c < writers; ++c) {
    for (int i = 0; i < per_writer; ++i) payloads.push_back(record_for(c, i, 100));
  }
  int failures = 0;
  for (int c = 0; c < writers; ++c) {
    asio::co_spawn(
        ctx,
        [&, c]() -> asio::awaitable<void> {
          asio::steady_timer think(ctx);
          for (int i = 0; i < per_writer; ++i) {
            auto [e] = co_await w->async_append(payloads[static_cast<std::size_t>(c * per_writer + i)], true,
                                                asio::as_tuple(asio::use_awaitable));
            if (e) ++failures;
            think.expires_after(std::chrono::microseconds(50 * c));
            co_await think.async_wait(asio::as_tuple(asio::use_awaitable));
          }
        },
        asio::detached);
  }
  ctx.run();
  BOOST_TEST(failures == 0);
  const auto stats = w->stats();
  BOOST_TEST(stats.records == payloads.size());
  // 20 groups when every writer waits for the rest; a straggler or two may
  // split one (the first round's writers need not arrive together).
  BOOST_TEST(stats.groups <= 2u * per_writer, stats.groups << " groups for " << stats.records << " records");
  w.reset();
  wal_pool.join();
}

BOOST_AUTO_TEST_CASE(failed_group_fails_every_member_and_stays_failed) {
  wal_setup t;
  BOOST_TEST(!t.append_now("ok", true));
  t.faults.fail_syncs(EIO);
  std::vector<std::error_code> results(10);
  const std::string payload = "doomed";
  for (int i = 0; i < 10; ++i) {
    t.w->async_append(payload, i % 2 == 0, asio::bind_executor(t.ctx, [&results, i](std::error_code e) {
                        results[static_cast<std::size_t>(i)] = e;
                      }));
  }
  t.ctx.run();
  t.ctx.restart();
  for (const auto& e : results) BOOST_TEST((e == errc::io_error));  // synced or not: the group failed
  BOOST_TEST(t.w->last_error().find(".log") != std::string::npos, t.w->last_error());
  t.faults.heal();
  BOOST_TEST((t.append_now(payload, false) == errc::io_error));  // sticky: the log may hold a partial group
}

BOOST_AUTO_TEST_CASE(no_space_is_reported_as_no_space) {
  wal_setup t;
  t.faults.fail_writes(ENOSPC);
  BOOST_TEST((t.append_now("full", false) == errc::no_space));
}

BOOST_AUTO_TEST_CASE(crash_keeps_every_synced_write_and_a_prefix_of_the_rest) {
  for (int round = 0; round < 8; ++round) {
    wal_setup t(false, 1, {.max_file_bytes = 16 * 1024});
    std::mt19937_64 rng(static_cast<std::uint64_t>(round));
    std::vector<std::string> payloads;
    for (int i = 0; i < 400; ++i) payloads.push_back(record_for(0, i, rng() % 600));
    std::vector<bool> synced(payloads.size());
    std::size_t acked = 0;
    const std::size_t crash_after = 100 + rng() % 250;
    asio::co_spawn(
        t.ctx,
        [&]() -> asio::awaitable<void> {
          for (std::size_t i = 0; i < crash_after; ++i) {
            synced[i] = rng() % 5 == 0;
            auto [e] = co_await t.w->async_append(payloads[i], synced[i], asio::as_tuple(asio::use_awaitable));
            if (e) co_return;
            acked = i + 1;
          }
        },
        asio::detached);
    t.ctx.run();
    BOOST_REQUIRE_EQUAL(acked, crash_after);
    t.faults.simulate_power_loss();  // power cut: unsynced bytes are gone
    t.w.reset();
    wal::replay_result result;
    std::error_code ec;
    const auto back = recover(t.dir.path(), result, ec);
    BOOST_REQUIRE_MESSAGE(!ec, result.error);
    // A prefix of what was written, and it reaches the last synced record.
    BOOST_REQUIRE(back.size() <= acked);
    for (std::size_t i = 0; i < back.size(); ++i) BOOST_REQUIRE(back[i] == payloads[i]);
    std::size_t last_synced = 0;
    for (std::size_t i = 0; i < acked; ++i) {
      if (synced[i]) last_synced = i + 1;
    }
    BOOST_REQUIRE_GE(back.size(), last_synced);
  }
}

BOOST_AUTO_TEST_CASE(synced_groups_zero_fill_ahead_and_recovery_reads_to_the_data_end) {
  for (const bool fallback : {false, true}) {
    wal_setup t(fallback, 1, {.prezero_bytes = 64 * 1024});
    const auto path = wal::log_file_name(t.dir.path(), 1);
    std::vector<std::string> payloads;
    for (int i = 0; i < 20; ++i) payloads.push_back(record_for(0, i, 300));
    for (int i = 0; i < 5; ++i) BOOST_REQUIRE(!t.append_now(payloads[static_cast<std::size_t>(i)], false));
    const auto unsynced_size = std::filesystem::file_size(path);
    BOOST_TEST(unsynced_size == t.w->stats().bytes);  // no sync asked yet: plain appends
    BOOST_REQUIRE(!t.append_now(payloads[5], true));
    const auto data_end = t.w->stats().bytes;
    BOOST_TEST(std::filesystem::file_size(path) == data_end + 64 * 1024);  // zeros after the records
    for (std::size_t i = 6; i < payloads.size(); ++i) BOOST_REQUIRE(!t.append_now(payloads[i], i % 2 == 0));
    BOOST_TEST(std::filesystem::file_size(path) == data_end + 64 * 1024);  // later groups overwrite them
    t.w.reset();
    wal::replay_result result;
    std::error_code ec;
    const auto back = recover(t.dir.path(), result, ec);
    BOOST_REQUIRE_MESSAGE(!ec, result.error);
    BOOST_TEST(!result.torn_tail);
    BOOST_TEST((back == payloads));
  }
}

BOOST_AUTO_TEST_CASE(recovery_truncates_a_torn_tail) {
  wal_setup t(false, 5);
  const std::vector<std::string> records{"alpha", std::string(40000, 'b'), "gamma"};
  for (const auto& r : records) BOOST_TEST(!t.append_now(r, false));
  t.w.reset();
  const auto path = wal::log_file_name(t.dir.path(), 5);
  const auto full = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, full - 3);  // tear the last record
  wal::replay_result result;
  std::error_code ec;
  auto back = recover(t.dir.path(), result, ec);
  BOOST_TEST(!ec);
  BOOST_TEST(result.torn_tail);
  BOOST_TEST(back.size() == 2u);
  BOOST_TEST(std::filesystem::file_size(path) == result.torn_tail_offset);
  wal::replay_result again;
  back = recover(t.dir.path(), again, ec);  // the second recovery sees a clean log
  BOOST_TEST(!again.torn_tail);
  BOOST_TEST(back.size() == 2u);
}

BOOST_AUTO_TEST_CASE(corruption_in_an_older_log_names_file_and_offset) {
  wal_setup t(false, 1, {.max_file_bytes = 8 * 1024});
  std::vector<std::string> records;
  for (int i = 0; i < 100; ++i) records.push_back(record_for(0, i, 500));
  for (const auto& r : records) BOOST_REQUIRE(!t.append_now(r, false));
  t.w.reset();
  std::error_code ec;
  const auto& dir = t.dir;
  const auto path = wal::log_file_name(dir.path(), 2);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.put('\x5a');
  }
  wal::replay_result result;
  auto back = recover(dir.path(), result, ec);
  BOOST_TEST((ec == errc::corruption));
  BOOST_TEST(result.error.find(path) != std::string::npos, result.error);
  BOOST_TEST(result.error.find("offset") != std::string::npos, result.error);
  wal::replay_result skipped;
  back = recover(dir.path(), skipped, ec, {.skip_corruption = true});
  BOOST_TEST(!ec);
  BOOST_TEST(skipped.dropped_bytes > 0u);
  BOOST_TEST(back.size() < records.size());
  BOOST_TEST(back.size() >= records.size() - 2);
}

BOOST_AUTO_TEST_SUITE_END()
