// db compaction: level 0 compacted into level 1 at its trigger, levels
// cascading by size, db::compact() moving everything to one level, tombstones
// reclaimed at the bottom unless a snapshot needs what they hide, the
// slowdown trigger, a model test with compactions forced often (with
// reopens and snapshots), and readers racing compactions.
// Registered as meson test `db_compaction` (suites `unit` and `stress`).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "db_test_support.hpp"
#include "strata/db.hpp"
#include "temp_dir.hpp"
#include "thread_checks.hpp"

namespace asio = boost::asio;
using namespace strata;

namespace {

using testing::close_db;
using testing::open_db;
using testing::run;

// Tiny everything, so that a few thousand writes make several levels.
options tiny() {
  options o;
  o.memtable_bytes = 32 << 10;
  o.block_cache_bytes = 1 << 20;
  o.level0_compaction_trigger = 2;
  o.level0_slowdown_writes_trigger = 0;  // off unless a test wants it
  o.level0_stop_writes_trigger = 6;
  o.max_bytes_for_level_base = 64 << 10;
  o.max_bytes_for_level_multiplier = 4;
  o.target_file_bytes = 24 << 10;
  return o;
}

std::string value_for(std::uint64_t key, std::uint64_t version) {
  return "v" + std::to_string(key) + "." + std::to_string(version) + std::string(60, 'x');
}

std::string key_for(std::uint64_t i) {
  std::string k = std::to_string(i);
  return "key" + std::string(6 - std::min<std::size_t>(6, k.size()), '0') + k;
}

// Waits (polling, no timing asserted) until no compaction runs or is wanted.
asio::awaitable<void> settle(db& d) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    const auto s = d.stats();
    if (s.compactions_running == 0 && s.max_compaction_score < 1) co_return;
    timer.expires_after(std::chrono::milliseconds(2));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

int non_empty_levels(const db_stats& s) {
  int n = 0;
  for (const auto f : s.level_files) n += f > 0;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(db_compaction)

BOOST_AUTO_TEST_CASE(level0_trigger_and_levels_cascade) {
  testing::temp_dir dir;
  asio::io_context ctx;
  auto d = open_db(ctx, dir.file("db"), tiny());
  std::mt19937_64 rng(5);
  std::map<std::string, std::string> model;
  run(ctx, [&]() -> asio::awaitable<void> {
    for (std::uint64_t i = 0; i < 8000; ++i) {
      const std::uint64_t k = rng() % 3000;
      model[key_for(k)] = value_for(k, i);
      co_await d->put(key_for(k), model[key_for(k)]);
    }
    co_await d->flush();
    co_await settle(*d);
  }());
  const auto s = d->stats();
  BOOST_TEST(s.compactions > 0u);
  BOOST_TEST(s.level_files[0] < 2u);  // below the trigger once settled
  BOOST_TEST(s.level_files[1] > 0u);
  BOOST_TEST(s.level_files[2] + s.level_files[3] > 0u, "levels cascade by size: " << to_string(s));
  BOOST_TEST(s.compaction_bytes_written > 0u);
  std::uint64_t by_level = 0;
  for (const auto w : s.level_compaction_written) by_level += w;
  BOOST_TEST(by_level == s.compaction_bytes_written);
  BOOST_TEST(s.level_compaction_written[0] == 0u);  // nothing compacts into level 0
  BOOST_TEST(s.level_compaction_read[1] > 0u);
  BOOST_TEST(s.write_amplification > 1.0);
  const bool all = run(ctx, [&]() -> asio::awaitable<bool> {
    for (const auto& [k, v] : model) {
      if (co_await d->get(k) != v) co_return false;
    }
    co_return !(co_await d->get("key-absent")).has_value();
  }());
  BOOST_TEST(all);
  // What is on disk is what the MANIFEST lists: compaction inputs are gone.
  std::size_t tables = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.file("db"))) tables += e.path().extension() == ".sst";
  BOOST_TEST(tables == s.table_files);
  close_db(ctx, d);
}

BOOST_AUTO_TEST_CASE(keys_written_in_order_move_down_without_rewrites) {
  // Each flush of an ascending fill holds keys above every table before it,
  // so level 0's tables are disjoint and overlap nothing below: they move
  // down whole, and every level below moves its files on as they are.
  testing::temp_dir dir;
  asio::io_context ctx;
  auto d = open_db(ctx, dir.file("db"), tiny());
  constexpr std::uint64_t keys = 6000;
  run(ctx, [&]() -> asio::awaitable<void> {
    for (std::uint64_t i = 0; i < keys; ++i) co_await d->put(key_for(i), value_for(i, 0));
    co_await d->flush();
    co_await settle(*d);
  }());
  const auto s = d->stats();
  BOOST_TEST(s.compactions == 0u, to_string(s));
  BOOST_TEST(s.compaction_bytes_written == 0u);
  BOOST_TEST(s.trivial_moves > s.flushes, "level-0 tables moved, then moved again: " << to_string(s));
  BOOST_TEST(s.level_files[0] < 2u);
  BOOST_TEST(s.level_files[2] + s.level_files[3] > 0u, to_string(s));
  const auto all_found = [&] {
    return run(ctx, [&]() -> asio::awaitable<bool> {
      for (std::uint64_t i = 0; i < keys; ++i) {
        if (co_await d->get(key_for(i)) != value_for(i, 0)) co_return false;
      }
      co_return true;
    }());
  };
  BOOST_TEST(all_found());
  // The moves are in the MANIFEST: a reopened db finds the same tables.
  close_db(ctx, d);
  d = open_db(ctx, dir.file("db"), tiny());
  BOOST_TEST(d->stats().table_files == s.table_files);
  BOOST_TEST(all_found());
  close_db(ctx, d);
}

BOOST_AUTO_TEST_CASE(compact_moves_everything_to_one_level_and_reclaims_tombstones) {
  testing::temp_dir dir;
  asio::io_context ctx;
  auto d = open_db(ctx, dir.file("db"), tiny());
  run(ctx, [&]() -> asio::awaitable<void> {
    for (std::uint64_t i = 0; i < 3000; ++i) co_await d->put(key_for(i), value_for(i, 1));
    co_await d->compact();
  }());
  auto s = d->stats();
  BOOST_TEST(s.level_files[0] == 0u);
  BOOST_TEST(non_empty_levels(s) == 1, to_string(s));
  const std::uint64_t full_bytes = s.table_bytes;
  BOOST_TEST(full_bytes > 3000u * 60);

  // A snapshot from before the erases keeps what they hide.
  auto before = d->snapshot();
  run(ctx, [&]() -> asio::awaitable<void> {
    for (std::uint64_t i = 0; i < 3000; ++i) co_await d->erase(key_for(i));
    co_await d->compact();
  }());
  s = d->stats();
  BOOST_TEST(s.table_bytes >= full_bytes, "the snapshot pins the old values: " << to_string(s));
  const bool through_snapshot = run(ctx, [&]() -> asio::awaitable<bool> {
    // (A named read_options: GCC 12 destroys a braced temporary inside a
    // co_await expression twice, which would drop the snapshot early.)
    const read_options at_before{.snapshot = before};
    for (std::uint64_t i = 0; i < 3000; i += 7) {
      if (co_await d->get(key_for(i)) != std::nullopt) co_return false;
      if (co_await d->get(key_for(i), at_before) != value_for(i, 1)) co_return false;
    }
    co_return true;
  }());
  BOOST_TEST(through_snapshot);

  // Without it, the bottom level drops the tombstones and what they hid.
  run(ctx, [&]() -> asio::awaitable<void> { co_await d->compact(); }());
  BOOST_TEST(d->stats().table_bytes >= full_bytes,
             full_bytes << " " << to_string(d->stats()));  // still pinned: `before` is alive
  before.reset();
  run(ctx, [&]() -> asio::awaitable<void> { co_await d->compact(); }());
  s = d->stats();
  BOOST_TEST(s.table_bytes == 0u, to_string(s));
  BOOST_TEST(s.table_files == 0u);
  const bool gone = run(ctx, [&]() -> asio::awaitable<bool> {
    for (std::uint64_t i = 0; i < 3000; i += 7) {
      if (co_await d->get(key_for(i)) != std::nullopt) co_return false;
    }
    co_return true;
  }());
  BOOST_TEST(gone);
  close_db(ctx, d);
}

BOOST_AUTO_TEST_CASE(compact_range_keeps_level0_order) {
  // Three level-0 tables: [0, 999] at version 1, [500, 1499] at version 2,
  // [0, 99] at version 3. compact_range over [1400, 1450] touches only the
  // second, but the first overlaps it and holds older versions of 500..999,
  // and the third overlaps the first: all must go down together, or old
  // versions left in level 0 would shadow the new ones moved below.
  testing::temp_dir dir;
  asio::io_context ctx;
  options o = tiny();
  o.memtable_bytes = 4 << 20;  // flushes only when asked
  o.level0_compaction_trigger = 100;
  o.level0_stop_writes_trigger = 0;
  auto d = open_db(ctx, dir.file("db"), o);
  std::map<std::string, std::string> model;
  const bool ok = run(ctx, [&]() -> asio::awaitable<bool> {
    auto fill = [&](std::uint64_t from, std::uint64_t to, std::uint64_t version) -> asio::awaitable<void> {
      for (std::uint64_t k = from; k <= to; ++k) {
        model[key_for(k)] = value_for(k, version);
        co_await d->put(key_for(k), model[key_for(k)]);
      }
      co_await d->flush();
    };
    co_await fill(0, 999, 1);
    co_await fill(500, 1499, 2);
    co_await fill(0, 99, 3);
    if (d->stats().level_files[0] != 3u) co_return false;
    co_await d->compact_range(key_for(1400), key_for(1450));
    for (const auto& [k, v] : model) {
      if (co_await d->get(k) != v) co_return false;
    }
    co_return true;
  }());
  BOOST_TEST(ok);
  const auto s = d->stats();
  BOOST_TEST(s.compactions > 0u);
  // [0, 99] overlaps [0, 999], which overlaps the range: all three went.
  BOOST_TEST(s.level_files[0] == 0u, to_string(s));
  close_db(ctx, d);
}

BOOST_AUTO_TEST_CASE(slowdown_trigger_delays_writes) {
  testing::temp_dir dir;
  asio::io_context ctx;
  options o = tiny();
  o.level0_compaction_trigger = 3;
  o.level0_slowdown_writes_trigger = 2;
  o.level0_stop_writes_trigger = 4;
  auto d = open_db(ctx, dir.file("db"), o);
  run(ctx, [&]() -> asio::awaitable<void> {
    for (std::uint64_t i = 0; i < 6000; ++i) co_await d->put(key_for(i % 2500), value_for(i, i));
    co_await d->flush();
    co_await settle(*d);
  }());
  const auto s = d->stats();
  BOOST_TEST(s.slowdowns > 0u, to_string(s));
  BOOST_TEST(s.level_files[0] < 3u);
  const bool all = run(ctx, [&]() -> asio::awaitable<bool> {
    for (std::uint64_t i = 6000 - 2500; i < 6000; ++i) {
      if (co_await d->get(key_for(i % 2500)) != value_for(i, i)) co_return false;
    }
    co_return true;
  }());
  BOOST_TEST(all);
  close_db(ctx, d);
}

BOOST_AUTO_TEST_CASE(model_with_compactions_reopens_and_snapshots) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    testing::temp_dir dir;
    asio::io_context ctx;
    const std::string path = dir.file("db");
    std::mt19937_64 rng(seed);
    std::map<std::string, std::string> model;
    struct pinned {
      std::shared_ptr<const strata::snapshot> snap;
      std::map<std::string, std::string> model;
    };
    std::vector<pinned> snapshots;
    std::uint64_t compactions = 0, subcompactions = 0;  // over every open
    // Seeds 2 and 3 split jobs into up to 3 key ranges run in parallel.
    options o = tiny();
    o.subcompactions = seed == 1 ? 1 : 3;
    auto d = open_db(ctx, path, o);
    bool ok = true;
    for (int round = 0; round < 6 && ok; ++round) {
      ok = run(ctx, [&]() -> asio::awaitable<bool> {
        for (int op = 0; op < 1500; ++op) {
          const std::uint64_t k = rng() % 800;
          const auto r = rng() % 100;
          if (r < 60) {
            const std::string v = value_for(k, rng() % 1000);
            co_await d->put(key_for(k), v);
            model[key_for(k)] = v;
          } else if (r < 75) {
            co_await d->erase(key_for(k));
            model.erase(key_for(k));
          } else if (r < 82) {
            write_batch b;
            for (int j = 0; j < 5; ++j) {
              const std::uint64_t bk = rng() % 800;
              if (j % 2 == 0) {
                b.put(key_for(bk), value_for(bk, 7000 + op));
                model[key_for(bk)] = value_for(bk, 7000 + op);
              } else {
                b.erase(key_for(bk));
                model.erase(key_for(bk));
              }
            }
            co_await d->write(b);
          } else if (r < 97) {
            const auto got = co_await d->get(key_for(k));
            const auto it = model.find(key_for(k));
            const std::optional<std::string> want =
                it == model.end() ? std::nullopt : std::optional<std::string>(it->second);
            if (got != want) co_return false;
          } else if (r < 98 && snapshots.size() < 3) {
            snapshots.push_back({d->snapshot(), model});
          } else if (r < 99) {
            co_await d->compact();
          } else if (!snapshots.empty()) {
            // Read a pinned snapshot back in full, then let it go.
            const auto& p = snapshots.front();
            const read_options at_snapshot{.snapshot = p.snap};  // named: see through_snapshot above
            for (std::uint64_t c = 0; c < 800; c += 3) {
              const auto got = co_await d->get(key_for(c), at_snapshot);
              const auto it = p.model.find(key_for(c));
              if (got != (it == p.model.end() ? std::nullopt : std::optional<std::string>(it->second))) co_return false;
            }
            snapshots.erase(snapshots.begin());
          }
        }
        co_return true;
      }());
      BOOST_TEST_REQUIRE(ok, "seed " << seed << " round " << round);
      if (round % 2 == 1) {  // reopen (snapshots do not survive it)
        snapshots.clear();
        close_db(ctx, d);
        compactions += d->stats().compactions;
        subcompactions += d->stats().subcompactions;
        d.reset();
        d = open_db(ctx, path, o);
      }
    }
    const bool all = run(ctx, [&]() -> asio::awaitable<bool> {
      co_await settle(*d);
      for (std::uint64_t k = 0; k < 800; ++k) {
        const auto got = co_await d->get(key_for(k));
        const auto it = model.find(key_for(k));
        if (got != (it == model.end() ? std::nullopt : std::optional<std::string>(it->second))) co_return false;
      }
      co_return true;
    }());
    BOOST_TEST(all, "seed " << seed);
    BOOST_TEST(compactions + d->stats().compactions > 0u);
    subcompactions += d->stats().subcompactions;
    if (seed == 1)
      BOOST_TEST(subcompactions == 0u);
    else
      BOOST_TEST(subcompactions > 0u);
    snapshots.clear();
    close_db(ctx, d);
  }
}

BOOST_AUTO_TEST_CASE(readers_race_compactions) {
  // Two writer threads, each bumping the versions of its own keys in order;
  // a reader thread checks that a key's version never goes backwards while
  // flushes and compactions (automatic, and a full one midway) move the
  // data between levels. TSan runs this in CI.
  testing::temp_dir dir;
#if defined(__SANITIZE_THREAD__)
  constexpr std::uint64_t rounds = 8;
#else
  constexpr std::uint64_t rounds = 25;
#endif
  constexpr std::uint64_t keys_per_writer = 300;
  asio::thread_pool pool(3);
  options o = tiny();
  o.subcompactions = 2;  // parts on both pool threads, under TSan in CI
  auto d = asio::co_spawn(pool, db::open(pool.get_executor(), dir.file("db"), o), asio::use_future).get();
  std::atomic<bool> done{false};
  testing::thread_checks checks;
  auto writer = [&](std::uint64_t id) -> asio::awaitable<void> {
    for (std::uint64_t v = 1; v <= rounds; ++v) {
      for (std::uint64_t k = 0; k < keys_per_writer; ++k) {
        co_await d->put(key_for(id * 100000 + k), value_for(id * 100000 + k, v));
      }
      if (id == 0 && v == rounds / 2) co_await d->compact();
    }
  };
  auto reader = [&]() -> asio::awaitable<void> {
    std::map<std::uint64_t, std::uint64_t> seen;
    std::mt19937_64 rng(11);
    while (!done.load()) {
      const std::uint64_t k = (rng() % 2) * 100000 + rng() % keys_per_writer;
      const auto got = co_await d->get(key_for(k));
      if (!got) continue;
      const auto dot = got->find('.');
      const std::uint64_t v = std::stoull(got->substr(dot + 1, got->find('x') - dot - 1));
      if (!THREAD_CHECK(checks, v >= seen[k])) co_return;
      seen[k] = v;
    }
  };
  auto w0 = asio::co_spawn(pool, writer(0), asio::use_future);
  auto w1 = asio::co_spawn(pool, writer(1), asio::use_future);
  auto r = asio::co_spawn(pool, reader(), asio::use_future);
  w0.get();
  w1.get();
  done = true;
  r.get();
  BOOST_TEST(checks.ok(), checks.report());
  asio::co_spawn(pool, d->close(), asio::use_future).get();
  const auto s = d->stats();
  BOOST_TEST(s.compactions > 0u);
  pool.join();
}

BOOST_AUTO_TEST_SUITE_END()
