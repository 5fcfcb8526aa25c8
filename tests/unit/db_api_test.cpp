// strata::db: the awaitable API, every completion token, executor
// affinity, bad input, the LOCK, and recovery of acknowledged writes.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "db_test_support.hpp"
#include "fault_injection.hpp"
#include "strata/db.hpp"
#include "temp_dir.hpp"
#include "thread_checks.hpp"

namespace asio = boost::asio;
using namespace strata;

namespace {

using testing::close_db;
using testing::open_db;
using testing::run;

std::error_code std_ec(const boost::system::error_code& ec) { return ec; }

std::error_code open_error(asio::io_context& ctx, const std::string& path, options o = {}) {
  return run(ctx, [&]() -> asio::awaitable<std::error_code> {
    auto [ec, d] = co_await db::open(ctx.get_executor(), path, o, asio::as_tuple(asio::use_awaitable));
    if (d) co_await d->close();
    co_return std_ec(ec);
  }());
}

std::string fmt_key(int i) {
  std::string k = "key" + std::to_string(i);
  return std::string(8 - k.size(), '0') + k;  // fixed width: sorted like the numbers
}

}  // namespace

BOOST_AUTO_TEST_SUITE(db_api)

BOOST_AUTO_TEST_CASE(put_get_erase_batch_close_reopen) {
  testing::temp_dir dir;
  asio::io_context ctx;
  auto d = open_db(ctx, dir.file("db"));
  run(ctx, [&]() -> asio::awaitable<void> {
    co_await d->put("a", "1");
    co_await d->put("b", "2", {.sync = true});
    co_await d->erase("a");
    write_batch batch;
    batch.put("c", "3");
    batch.put("d", std::string(100000, 'x'));
    batch.erase("b");
    co_await d->write(batch);
    co_await d->put("", "empty key");
  }());
  const auto read = [&](std::shared_ptr<db> handle, std::string key) {
    return run(ctx, [&]() -> asio::awaitable<std::optional<std::string>> { co_return co_await handle->get(key); }());
  };
  BOOST_TEST(!read(d, "a").has_value());
  BOOST_TEST(!read(d, "b").has_value());
  BOOST_TEST(read(d, "c").value() == "3");
  BOOST_TEST(read(d, "d")->size() == 100000u);
  BOOST_TEST(read(d, "").value() == "empty key");
  const auto s = d->stats();
  BOOST_TEST(s.puts == 5u);
  BOOST_TEST(s.erases == 2u);
  BOOST_TEST(s.batches == 5u);
  BOOST_TEST(s.last_sequence == 7u);
  BOOST_TEST(s.gets == 5u);
  BOOST_TEST(s.get_hits == 3u);
  close_db(ctx, d);
  // A closed db answers `closed` (and does not crash).
  const auto after = run(ctx, [&]() -> asio::awaitable<std::pair<std::error_code, std::error_code>> {
    auto [pe] = co_await d->put("x", "y", {}, asio::as_tuple(asio::use_awaitable));
    auto [ge, v] = co_await d->get("c", {}, asio::as_tuple(asio::use_awaitable));
    co_return std::pair{std_ec(pe), std_ec(ge)};
  }());
  BOOST_TEST((after.first == errc::closed));
  BOOST_TEST((after.second == errc::closed));
  d.reset();
  auto again = open_db(ctx, dir.file("db"));
  BOOST_TEST(again->stats().recovered_records == 5u);
  BOOST_TEST(again->stats().last_sequence == 7u);
  BOOST_TEST(read(again, "c").value() == "3");
  BOOST_TEST(!read(again, "b").has_value());
  BOOST_TEST(read(again, "").value() == "empty key");
  run(ctx, [&]() -> asio::awaitable<void> { co_await again->put("e", "5"); }());
  close_db(ctx, again);
  again.reset();
  auto third = open_db(ctx, dir.file("db"));  // sequence numbers kept counting
  BOOST_TEST(third->stats().last_sequence == 8u);
  BOOST_TEST(read(third, "e").value() == "5");
  close_db(ctx, third);
}

// DBSIZE's source: memtable entries, then (after a full compaction) the
// table's entries exactly; tombstones count against it.
BOOST_AUTO_TEST_CASE(estimated_keys_counts_memtables_and_tables) {
  testing::temp_dir dir;
  asio::io_context ctx;
  auto d = open_db(ctx, dir.file("db"));
  BOOST_TEST(d->stats().estimated_keys == 0u);
  run(ctx, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 100; ++i) co_await d->put("k" + std::to_string(i), "v");
  }());
  BOOST_TEST(d->stats().estimated_keys == 100u);
  run(ctx, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 10; ++i) co_await d->erase("k" + std::to_string(i));
    co_await d->compact();  // the tombstones and what they hide are dropped
  }());
  const auto s = d->stats();
  BOOST_TEST(s.table_files >= 1u);
  BOOST_TEST(s.estimated_keys == 90u);
  close_db(ctx, d);
}

BOOST_AUTO_TEST_CASE(try_get_answers_from_memory_only) {
  // With an injector installed (none of its faults armed) the tables skip
  // their non-blocking page-cache reads, so a block that is not in the block
  // cache needs a read whatever the OS has cached.
  testing::faults_installed no_page_cache;
  testing::temp_dir dir;
  asio::io_context ctx;
  auto d = open_db(ctx, dir.file("db"));
  const auto answered = [&](const std::string& key) {
    const auto r = d->try_get(key);
    BOOST_REQUIRE(r.has_value());
    BOOST_REQUIRE(!r->error);
    return r->value;
  };
  BOOST_TEST(!answered("a").has_value());  // an empty db: absent, from memory
  run(ctx, [&]() -> asio::awaitable<void> {
    co_await d->put("a", "1");
    co_await d->put("b", "2");
    co_await d->erase("b");
  }());
  BOOST_TEST((answered("a") == std::string("1")));
  BOOST_TEST(!answered("b").has_value());  // the tombstone answers
  BOOST_TEST(d->stats().gets == 3u);
  BOOST_TEST(d->stats().get_hits == 1u);

  // In a table whose block is not cached: a read is needed, and nothing is counted.
  run(ctx, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 200; ++i) co_await d->put(fmt_key(i), "v" + std::to_string(i));
    co_await d->flush();
  }());
  d->clear_cache();
  BOOST_TEST(!d->try_get(fmt_key(7)).has_value());
  BOOST_TEST(d->stats().gets == 3u);
  // Past every key of the table (the index rules it out): answered.
  BOOST_TEST(!answered("zzz").has_value());
  // Once get() has read the block, the same lookup is answered from the cache.
  const auto read =
      run(ctx, [&]() -> asio::awaitable<std::optional<std::string>> { co_return co_await d->get(fmt_key(7)); }());
  BOOST_TEST((read == std::string("v7")));
  BOOST_TEST((answered(fmt_key(7)) == std::string("v7")));
  BOOST_TEST(d->stats().gets == 6u);  // 3 + "zzz" + get() + this one

  close_db(ctx, d);
  const auto closed = d->try_get("a");
  BOOST_REQUIRE(closed.has_value());
  BOOST_TEST(std_ec(closed->error) == make_error_code(errc::closed));
}

// Gets are timed one in eight per thread (docs/db.md): sixteen gets on
// this thread give the histogram at least two samples, and the percentiles
// come from them; none before any get.
BOOST_AUTO_TEST_CASE(get_latency_is_sampled_but_never_empty) {
  testing::temp_dir dir;
  asio::io_context ctx;
  auto d = open_db(ctx, dir.file("db"));
  run(ctx, [&]() -> asio::awaitable<void> { co_await d->put("a", "1"); }());
  BOOST_TEST(d->stats().get_p50_us == 0.0);
  run(ctx, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 8; ++i) co_await d->get("a");
  }());
  for (int i = 0; i < 8; ++i) BOOST_TEST(d->try_get("a").has_value());
  const auto s = d->stats();
  BOOST_TEST(s.gets == 16u);
  BOOST_TEST(s.get_p50_us > 0.0);
  BOOST_TEST(s.get_p999_us >= s.get_p50_us);
  close_db(ctx, d);
}

// The architecture's rule: `co_await db->get(k)` on a memtable hit completes
// without suspending. A handler posted just before the get runs only after
// the coroutine's own next step if the get never went through the
// scheduler; one that had to wait for a read (a table block not cached,
// page cache reads disabled) lets it run first. Errors still throw.
BOOST_AUTO_TEST_CASE(awaited_memory_hits_do_not_suspend) {
  testing::faults_installed no_page_cache;
  testing::temp_dir dir;
  asio::io_context ctx;
  auto d = open_db(ctx, dir.file("db"));
  run(ctx, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 100; ++i) co_await d->put(fmt_key(i), "v" + std::to_string(i));
    co_await d->flush();  // into a table
    co_await d->put("mem", "hit");
  }());
  d->clear_cache();
  bool posted_ran = false;
  const auto order = run(ctx, [&]() -> asio::awaitable<std::pair<bool, bool>> {
    posted_ran = false;
    asio::post(ctx, [&] { posted_ran = true; });
    const auto hit = co_await d->get("mem");
    const bool ran_during_hit = posted_ran;
    BOOST_TEST((hit == std::string("hit")));
    posted_ran = false;
    asio::post(ctx, [&] { posted_ran = true; });
    const auto read = co_await d->get(fmt_key(5));  // its block must be read
    BOOST_TEST((read == std::string("v5")));
    co_return std::pair{ran_during_hit, posted_ran};
  }());
  BOOST_TEST(!order.first);  // the hit did not suspend
  BOOST_TEST(order.second);  // the read did
  BOOST_TEST(d->stats().gets == 2u);
  close_db(ctx, d);
  bool threw = false;
  run(ctx, [&]() -> asio::awaitable<void> {
    try {
      co_await d->get("mem");
    } catch (const boost::system::system_error& e) {
      threw = std_ec(e.code()) == make_error_code(errc::closed);
    }
  }());
  BOOST_TEST(threw);
}

BOOST_AUTO_TEST_CASE(every_completion_token_works) {
  testing::temp_dir dir;
  asio::io_context ctx;
  auto d = open_db(ctx, dir.file("db"));
  std::thread runner;
  auto guard = asio::make_work_guard(ctx);
  ctx.restart();
  runner = std::thread([&] { ctx.run(); });
  // use_future (from a thread that is not running the context)
  d->put("k", "future", {}, asio::use_future).get();
  BOOST_TEST(d->get("k", {}, asio::use_future).get().value() == "future");
  // A plain callback, bound to the io_context: runs there.
  std::promise<bool> called;
  d->put("k", "callback", {}, asio::bind_executor(ctx, [&](boost::system::error_code ec) {
           called.set_value(!ec && ctx.get_executor().running_in_this_thread());
         }));
  BOOST_TEST(called.get_future().get());
  // A callback with no executor: still completes (on the db's pool), never inline.
  std::promise<std::optional<std::string>> got;
  d->get("k", {}, [&](boost::system::error_code, std::optional<std::string> v) { got.set_value(std::move(v)); });
  BOOST_TEST(got.get_future().get().value() == "callback");
  // deferred: an operation object, started by invoking it with a token.
  auto op = d->put("k", "deferred", {}, asio::deferred);
  std::move(op)(asio::use_future).get();
  BOOST_TEST(d->get("k", {}, asio::use_future).get().value() == "deferred");
  // as_tuple(use_awaitable) and the default token, in a coroutine.
  auto tuple_ok = asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<bool> {
        auto [ec] =
            co_await d->put(std::string(db::max_key_bytes + 1, 'k'), "v", {}, asio::as_tuple(asio::use_awaitable));
        co_await d->put("k", "default");
        co_return std_ec(ec) == errc::invalid_argument;
      },
      asio::use_future);
  BOOST_TEST(tuple_ok.get());
  // use_awaitable throws system_error with our code.
  auto thrown = asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<bool> {
        try {
          co_await d->put("k", std::string(db::max_value_bytes + 1, 'v'));
        } catch (const boost::system::system_error& e) {
          co_return std_ec(e.code()) == errc::invalid_argument;
        }
        co_return false;
      },
      asio::use_future);
  BOOST_TEST(thrown.get());
  BOOST_TEST(d->get("k", {}, asio::use_future).get().value() == "default");
  d->close(asio::use_future).get();
  guard.reset();
  runner.join();
}

BOOST_AUTO_TEST_CASE(completions_resume_on_the_callers_executor) {
  testing::temp_dir dir;
  asio::io_context ctx;
  auto d = open_db(ctx, dir.file("db"), {.background_threads = 1});
  const bool ok = run(ctx, [&]() -> asio::awaitable<bool> {
    bool all = true;
    for (int i = 0; i < 50; ++i) {
      co_await d->put("k" + std::to_string(i), "v", {.sync = i % 10 == 0});
      all = all && ctx.get_executor().running_in_this_thread();
      auto v = co_await d->get("k" + std::to_string(i));
      all = all && ctx.get_executor().running_in_this_thread() && v.has_value();
    }
    co_return all;
  }());
  BOOST_TEST(ok);
  close_db(ctx, d);
}

BOOST_AUTO_TEST_CASE(bad_input_writes_nothing) {
  testing::temp_dir dir;
  asio::io_context ctx;
  auto d = open_db(ctx, dir.file("db"));
  const auto result = run(ctx, [&]() -> asio::awaitable<std::error_code> {
    write_batch b;
    b.put("fine", "v");
    b.put(std::string(db::max_key_bytes + 1, 'k'), "v");  // one bad op spoils the batch
    auto [ec] = co_await d->write(b, {}, asio::as_tuple(asio::use_awaitable));
    co_return std_ec(ec);
  }());
  BOOST_TEST((result == errc::invalid_argument));
  BOOST_TEST(!d->last_error().empty());
  const auto v =
      run(ctx, [&]() -> asio::awaitable<std::optional<std::string>> { co_return co_await d->get("fine"); }());
  BOOST_TEST(!v.has_value());
  BOOST_TEST(d->stats().last_sequence == 0u);
  close_db(ctx, d);
}

BOOST_AUTO_TEST_CASE(one_owner_per_directory) {
  testing::temp_dir dir;
  asio::io_context ctx;
  auto d = open_db(ctx, dir.file("db"));
  BOOST_TEST((open_error(ctx, dir.file("db")) == errc::busy));
  BOOST_TEST(last_open_error().find("LOCK") != std::string::npos, last_open_error());
  close_db(ctx, d);
  BOOST_TEST(!open_error(ctx, dir.file("db")));  // released by close
}

BOOST_AUTO_TEST_CASE(open_refuses_what_it_should) {
  testing::temp_dir dir;
  asio::io_context ctx;
  BOOST_TEST((open_error(ctx, dir.file("missing"), {.create_if_missing = false}) == errc::invalid_argument));
  BOOST_TEST(!std::filesystem::exists(dir.file("missing")));
  BOOST_TEST(!open_error(ctx, dir.file("db")));
  BOOST_TEST((open_error(ctx, dir.file("db"), {.error_if_exists = true}) == errc::invalid_argument));
  // An existing directory with db-looking files but no CURRENT: damaged, not "new".
  std::filesystem::create_directories(dir.file("stray"));
  std::ofstream(dir.file("stray/000005.sst")) << "x";
  BOOST_TEST((open_error(ctx, dir.file("stray")) == errc::corruption));
  BOOST_TEST(last_open_error().find("no CURRENT") != std::string::npos, last_open_error());
  // A garbage CURRENT.
  std::ofstream(dir.file("db/CURRENT"), std::ios::trunc) << "nonsense\n";
  BOOST_TEST((open_error(ctx, dir.file("db")) == errc::corruption));
  BOOST_TEST(last_open_error().find("CURRENT") != std::string::npos, last_open_error());
  // A directory of unrelated files is a fine place for a new db.
  std::filesystem::create_directories(dir.file("other"));
  std::ofstream(dir.file("other/notes.txt")) << "hello";
  BOOST_TEST(!open_error(ctx, dir.file("other")));
}

BOOST_AUTO_TEST_CASE(a_dropped_db_loses_nothing_acknowledged) {
  // Dropping the db without close() is a process crash for what the page
  // cache holds: every acknowledged write is in the log.
  testing::temp_dir dir;
  asio::io_context ctx;
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(3);
  for (int round = 0; round < 4; ++round) {
    auto d = open_db(ctx, dir.file("db"));
    run(ctx, [&]() -> asio::awaitable<void> {
      for (int i = 0; i < 300; ++i) {
        const std::string k = "key" + std::to_string(rng() % 200);
        if (rng() % 5 == 0) {
          co_await d->erase(k);
          model.erase(k);
        } else if (rng() % 7 == 0) {
          write_batch b;
          const std::string k2 = "key" + std::to_string(rng() % 200);
          b.put(k, "batch" + std::to_string(i));
          b.erase(k2);
          co_await d->write(b, {.sync = i % 50 == 0});
          model[k] = "batch" + std::to_string(i);
          model.erase(k2);
        } else {
          const std::string value = "v" + std::to_string(i) + "." + std::string(rng() % 300, 'x');
          co_await d->put(k, value);
          model[k] = value;
        }
      }
    }());
    const bool same = run(ctx, [&]() -> asio::awaitable<bool> {
      for (int i = 0; i < 200; ++i) {
        const std::string k = "key" + std::to_string(i);
        auto v = co_await d->get(k);
        auto it = model.find(k);
        if (v.has_value() != (it != model.end())) co_return false;
        if (v && *v != it->second) co_return false;
      }
      co_return true;
    }());
    BOOST_TEST(same, "round " << round);
    if (round % 2 == 0) close_db(ctx, d);
    d.reset();  // odd rounds: dropped without close
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(db_concurrency)

BOOST_AUTO_TEST_CASE(batches_are_atomic_to_concurrent_readers) {
  // Writers on two threads (many coroutines each) write batches of 64 new
  // keys, /0 first. A reader on a third thread reads /0, then /63: if /0
  // was visible, /63 must be too (a batch becomes visible all at once, and
  // visibility only grows). A db that showed half a batch fails this.
  testing::temp_dir dir;
  asio::io_context setup;
  auto d = open_db(setup, dir.file("db"));
  asio::thread_pool writers(2);
  asio::io_context readers;
  testing::thread_checks checks;
  std::atomic<int> done{0};
  constexpr int coroutines = 16, batches = 60;
  for (int c = 0; c < coroutines; ++c) {
    asio::co_spawn(
        writers,
        [&, c]() -> asio::awaitable<void> {
          for (int i = 0; i < batches; ++i) {
            write_batch b;
            const std::string id = std::to_string(c) + ":" + std::to_string(i);
            for (int k = 0; k < 64; ++k) b.put(id + "/" + std::to_string(k), id);
            co_await d->write(b, {.sync = i % 20 == 0});
            // Read your own write: once acknowledged, it is visible.
            auto mine = co_await d->get(id + "/63");
            if (!THREAD_CHECK(checks, mine == id)) co_return;
          }
          done.fetch_add(1);
        },
        asio::detached);
  }
  std::atomic<int> observed{0};
  asio::co_spawn(
      readers,
      [&]() -> asio::awaitable<void> {
        std::mt19937 rng(1);
        while (done.load() < coroutines) {
          const std::string id = std::to_string(rng() % coroutines) + ":" + std::to_string(rng() % batches);
          auto x = co_await d->get(id + "/0");
          auto y = co_await d->get(id + "/63");
          if (!THREAD_CHECK(checks, !x || (y && *y == *x))) co_return;
          observed.fetch_add(x.has_value());
        }
      },
      asio::detached);
  std::thread reader_thread([&] { readers.run(); });
  writers.join();
  reader_thread.join();
  BOOST_TEST(checks.ok(), checks.report());
  const auto s = d->stats();
  BOOST_TEST(s.batches == static_cast<std::uint64_t>(coroutines * batches));
  BOOST_TEST(s.last_sequence == static_cast<std::uint64_t>(coroutines * batches * 64));
  BOOST_TEST(s.wal_groups < s.batches);  // group commit shared writes
  BOOST_TEST_MESSAGE(observed.load() << " reads saw a whole batch");
  close_db(setup, d);
}

BOOST_AUTO_TEST_SUITE_END()
