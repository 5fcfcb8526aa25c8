// db scans (db::scan / db_iterator): full scans, seeks, upper bounds and prefixes
// against a std::map model across flushes and compactions; backward scans,
// seek_for_prev and random walks that turn around, with bounds, prefixes and
// snapshots; scans at a snapshot; an iterator that keeps its view while the
// db is compacted under it; scans racing writers and compactions on other
// threads.
// Registered as meson test `db_scan` (suites `unit` and `stress`).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "db/db_impl.hpp"
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
using model_map = std::map<std::string, std::string>;
using pairs = std::vector<std::pair<std::string, std::string>>;

options tiny() {
  options o;
  o.memtable_bytes = 16 << 10;
  o.block_cache_bytes = 1 << 20;
  o.level0_compaction_trigger = 2;
  o.level0_slowdown_writes_trigger = 0;
  o.max_bytes_for_level_base = 32 << 10;
  o.max_bytes_for_level_multiplier = 4;
  o.target_file_bytes = 16 << 10;
  return o;
}

std::string key_for(std::uint64_t i) {
  std::string k = std::to_string(i);
  return "k" + std::string(5 - std::min<std::size_t>(5, k.size()), '0') + k;
}

// Everything from `it`'s current position on (at most `limit` entries).
asio::awaitable<pairs> drain(db_iterator& it, std::size_t limit = SIZE_MAX) {
  pairs out;
  while (it.valid() && out.size() < limit) {
    out.emplace_back(std::string(it.key()), std::string(it.value()));
    co_await it.next();
  }
  co_return out;
}

pairs from_model(model_map::const_iterator begin, model_map::const_iterator end, std::size_t limit = SIZE_MAX) {
  pairs out;
  for (auto it = begin; it != end && out.size() < limit; ++it) out.emplace_back(it->first, it->second);
  return out;
}

// Everything from `it`'s current position back (at most `limit` entries).
asio::awaitable<pairs> drain_backward(db_iterator& it, std::size_t limit = SIZE_MAX) {
  pairs out;
  while (it.valid() && out.size() < limit) {
    out.emplace_back(std::string(it.key()), std::string(it.value()));
    co_await it.prev();
  }
  co_return out;
}

// A random walk of `steps` moves (next, prev, and now and then a seek,
// seek_for_prev, seek_to_first or seek_to_last), each compared with the
// same move over `want` (the entries the iterator's bounds let through, in
// order). Returns the first disagreement, or "" if none.
asio::awaitable<std::string> walk(db_iterator& it, const pairs& want, std::mt19937_64& rng, int steps) {
  // Position in `want`: -1 before the first entry, want.size() past the last;
  // either way the iterator must be invalid.
  std::ptrdiff_t at = -1;
  const auto n = static_cast<std::ptrdiff_t>(want.size());
  auto lower = [&](const std::string& t) {  // index of the first entry >= t
    return std::lower_bound(want.begin(), want.end(), t,
                            [](const auto& e, const std::string& k) { return e.first < k; }) -
           want.begin();
  };
  for (int i = 0; i < steps; ++i) {
    const bool positioned = at >= 0 && at < n;
    const int move = positioned ? static_cast<int>(rng() % 10) : 6 + static_cast<int>(rng() % 4);
    std::string what;
    const std::string target = key_for(rng() % 1300) + (rng() % 3 == 0 ? "~" : "");
    if (move < 3) {
      co_await it.next();
      ++at;
      what = "next";
    } else if (move < 6) {
      co_await it.prev();
      --at;
      what = "prev";
    } else if (move == 6) {
      co_await it.seek(target);
      at = lower(target);
      what = "seek " + target;
    } else if (move == 7) {
      co_await it.seek_for_prev(target);
      at = lower(target + '\0') - 1;  // the last entry <= target
      what = "seek_for_prev " + target;
    } else if (move == 8) {
      co_await it.seek_to_first();
      at = 0;
      what = "seek_to_first";
    } else {
      co_await it.seek_to_last();
      at = n - 1;
      what = "seek_to_last";
    }
    if (it.error()) co_return "error after " + what + ": " + it.message();
    const bool expect_valid = at >= 0 && at < n;
    if (it.valid() != expect_valid) co_return "validity after " + what;
    if (expect_valid) {
      const auto& e = want[static_cast<std::size_t>(at)];
      if (it.key() != e.first || it.value() != e.second)
        co_return "after " + what + ": got " + std::string(it.key()) + ", want " + e.first;
    }
  }
  co_return "";
}

// Random writes into the db and the model.
asio::awaitable<void> churn(db& d, model_map& model, std::mt19937_64& rng, int ops, std::uint64_t keys) {
  for (int i = 0; i < ops; ++i) {
    const std::uint64_t k = rng() % keys;
    if (rng() % 4 == 0) {
      co_await d.erase(key_for(k));
      model.erase(key_for(k));
    } else {
      const std::string v = "v" + std::to_string(rng() % 100000) + std::string(40, 'x');
      co_await d.put(key_for(k), v);
      model[key_for(k)] = v;
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(db_scan)

BOOST_AUTO_TEST_CASE(scans_seeks_and_bounds_match_the_model) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    testing::temp_dir dir;
    asio::io_context ctx;
    auto d = open_db(ctx, dir.file("db"), tiny());
    std::mt19937_64 rng(seed);
    model_map model;
    bool ok = true;
    for (int round = 0; round < 4 && ok; ++round) {
      ok = run(ctx, [&]() -> asio::awaitable<bool> {
        co_await churn(*d, model, rng, 1500, 1200);
        if (round == 2) co_await d->compact();
        // A full scan.
        auto it = d->scan();
        co_await it->seek_to_first();
        if (co_await drain(*it) != from_model(model.begin(), model.end())) co_return false;
        if (it->error()) co_return false;
        // Seeks, present and absent keys, 20 entries each.
        for (int s = 0; s < 30; ++s) {
          const std::string target = key_for(rng() % 1300) + (s % 3 == 0 ? "~" : "");
          co_await it->seek(target);
          if (co_await drain(*it, 20) != from_model(model.lower_bound(target), model.end(), 20)) co_return false;
        }
        // An upper bound.
        const std::string low = key_for(300), high = key_for(700);
        read_options bounded;
        bounded.upper_bound = high;
        auto b = d->scan(bounded);
        co_await b->seek(low);
        if (co_await drain(*b) != from_model(model.lower_bound(low), model.lower_bound(high))) co_return false;
        // A prefix: k003xx only, from its start, from a key inside it, and
        // from below it; a seek past it finds nothing.
        read_options prefixed;
        prefixed.prefix = "k003";
        const auto in_prefix_end = model.lower_bound("k004");
        auto p = d->scan(prefixed);
        co_await p->seek_to_first();
        if (co_await drain(*p) != from_model(model.lower_bound("k003"), in_prefix_end)) co_return false;
        co_await p->seek("k00350");
        if (co_await drain(*p) != from_model(model.lower_bound("k00350"), in_prefix_end)) co_return false;
        co_await p->seek("a");
        if (co_await drain(*p) != from_model(model.lower_bound("k003"), in_prefix_end)) co_return false;
        co_await p->seek("k004");
        if (p->valid()) co_return false;
        co_return true;
      }());
      BOOST_TEST_REQUIRE(ok, "seed " << seed << " round " << round);
    }
    BOOST_TEST(d->stats().flushes > 0u);
    close_db(ctx, d);
  }
}

BOOST_AUTO_TEST_CASE(try_next_steps_match_the_model) {
  // Scans stepping with try_next() (next() only when it refuses) return
  // exactly the model: with the tables' blocks in the page cache (no
  // refusal needed), and after a reopen with a fault injector (none armed)
  // on the engine, which sends every read through it: the fresh block cache
  // is empty, so refusals happen at block boundaries and next() finishes them.
  testing::temp_dir dir;
  asio::io_context ctx;
  auto d = open_db(ctx, dir.file("db"), tiny());
  std::mt19937_64 rng(5);
  model_map model;
  auto scan_all = [&](std::size_t& refusals) {
    return run(ctx, [&]() -> asio::awaitable<pairs> {
      pairs out;
      auto it = d->scan();
      co_await it->seek_to_first();
      while (it->valid()) {
        out.emplace_back(std::string(it->key()), std::string(it->value()));
        if (!it->try_next()) {
          ++refusals;
          co_await it->next();
        }
      }
      co_return out;
    }());
  };
  run(ctx, [&]() -> asio::awaitable<void> {
    co_await churn(*d, model, rng, 3000, 1500);
    co_await d->compact();
    co_await churn(*d, model, rng, 500, 1500);  // some in memtables and level 0 too
  }());
  const pairs want = from_model(model.begin(), model.end());
  std::size_t cached_refusals = 0;
  BOOST_TEST((scan_all(cached_refusals) == want));
  BOOST_TEST(cached_refusals == 0u);
  close_db(ctx, d);
  d.reset();
  // Reopened with the injector on its engine: every read goes to the engine.
  testing::test_faults faults;
  io::set_process_fault_injector(&faults);
  d = open_db(ctx, dir.file("db"), tiny());
  io::set_process_fault_injector(nullptr);
  BOOST_TEST(d->stats().table_files > 0u);
  std::size_t engine_refusals = 0;
  BOOST_TEST((scan_all(engine_refusals) == want));
  BOOST_TEST(engine_refusals > 0u);
  close_db(ctx, d);
}

BOOST_AUTO_TEST_CASE(backward_scans_and_turns_match_the_model) {
  // Full backward scans, seek_for_prev, and random walks that change
  // direction, against the model: with no bounds, with lower and upper
  // bounds, with a prefix, and at a snapshot taken before more writes. The
  // db holds data in the memtables, level 0 and deeper levels at once.
  // Run twice: with the tables' blocks in the page cache, and after a
  // reopen with a fault injector (none armed) on the engine, so that steps
  // across blocks go through awaited reads.
  testing::temp_dir dir;
  asio::io_context ctx;
  auto d = open_db(ctx, dir.file("db"), tiny());
  std::mt19937_64 rng(11);
  model_map model;
  model_map then;
  std::shared_ptr<const snapshot> snap;
  run(ctx, [&]() -> asio::awaitable<void> {
    co_await churn(*d, model, rng, 3000, 1200);
    co_await d->compact();
    co_await churn(*d, model, rng, 1500, 1200);
    then = model;
    snap = d->snapshot();
    co_await churn(*d, model, rng, 400, 1200);  // newer versions and tombstones the snapshot must not see
  }());
  BOOST_TEST(d->stats().l0_files + d->stats().memtable_entries > 0u);
  auto restricted = [](const model_map& m, const read_options& ro) {
    pairs out;
    for (const auto& [k, v] : m) {
      if (ro.lower_bound && k < *ro.lower_bound) continue;
      if (ro.upper_bound && k >= *ro.upper_bound) continue;
      if (ro.prefix && !k.starts_with(*ro.prefix)) continue;
      out.emplace_back(k, v);
    }
    return out;
  };
  auto check_all = [&](const char* when) {
    read_options plain;
    read_options bounded;
    bounded.lower_bound = key_for(250);
    bounded.upper_bound = key_for(640) + "~";
    read_options prefixed;
    prefixed.prefix = "k004";
    read_options at_snap;
    at_snap.snapshot = snap;
    read_options prefixed_at_snap = prefixed;
    prefixed_at_snap.snapshot = snap;
    const std::vector<std::pair<read_options, const model_map*>> views{
        {plain, &model}, {bounded, &model}, {prefixed, &model}, {at_snap, &then}, {prefixed_at_snap, &then}};
    for (std::size_t v = 0; v < views.size(); ++v) {
      const auto& [ro, m] = views[v];
      const pairs want = restricted(*m, ro);
      const std::string failure = run(ctx, [&]() -> asio::awaitable<std::string> {
        auto it = d->scan(ro);
        co_await it->seek_to_last();
        const pairs back = co_await drain_backward(*it);
        if (back != pairs(want.rbegin(), want.rend())) co_return "full backward scan";
        for (int s = 0; s < 20; ++s) {  // seek_for_prev, then 15 entries back
          const std::string target = key_for(rng() % 1300) + (s % 3 == 0 ? "~" : "");
          co_await it->seek_for_prev(target);
          const auto end = std::upper_bound(want.begin(), want.end(), target,
                                            [](const std::string& k, const auto& e) { return k < e.first; });
          pairs expect;
          for (auto e = end; e != want.begin() && expect.size() < 15;) expect.push_back(*--e);
          if (co_await drain_backward(*it, 15) != expect) co_return "seek_for_prev " + target;
        }
        co_return co_await walk(*it, want, rng, 600);
      }());
      BOOST_TEST(failure.empty(), when << ", view " << v << ": " << failure);
    }
  };
  check_all("page cache");
  close_db(ctx, d);
  d.reset();
  testing::test_faults faults;
  io::set_process_fault_injector(&faults);
  d = open_db(ctx, dir.file("db"), tiny());
  io::set_process_fault_injector(nullptr);
  run(ctx, [&]() -> asio::awaitable<void> { co_await churn(*d, model, rng, 300, 1200); }());  // memtable data again
  snap = d->snapshot();
  then = model;
  run(ctx, [&]() -> asio::awaitable<void> { co_await churn(*d, model, rng, 300, 1200); }());
  check_all("engine reads");
  snap.reset();
  close_db(ctx, d);
}

BOOST_AUTO_TEST_CASE(scan_at_a_snapshot_and_an_iterator_keeps_its_view) {
  testing::temp_dir dir;
  asio::io_context ctx;
  auto d = open_db(ctx, dir.file("db"), tiny());
  std::mt19937_64 rng(42);
  model_map model;
  run(ctx, [&]() -> asio::awaitable<void> { co_await churn(*d, model, rng, 3000, 1000); }());
  const model_map then = model;
  auto snap = d->snapshot();
  read_options at_snap;
  at_snap.snapshot = snap;
  // An iterator made now (no snapshot handle): it keeps its own view too.
  auto early = d->scan();
  const bool ok = run(ctx, [&]() -> asio::awaitable<bool> {
    co_await early->seek_to_first();
    const auto first_half = co_await drain(*early, then.size() / 2);
    // Overwrite and erase much of it, flush and compact under the iterator.
    co_await churn(*d, model, rng, 3000, 1000);
    co_await d->compact();
    auto rest = co_await drain(*early);
    pairs whole = first_half;
    whole.insert(whole.end(), rest.begin(), rest.end());
    if (whole != from_model(then.begin(), then.end())) co_return false;
    // A scan made after all that, at the old snapshot.
    auto at = d->scan(at_snap);
    co_await at->seek_to_first();
    if (co_await drain(*at) != from_model(then.begin(), then.end())) co_return false;
    // And one at the newest state.
    auto now = d->scan();
    co_await now->seek_to_first();
    co_return co_await drain(*now) == from_model(model.begin(), model.end());
  }());
  BOOST_TEST(ok);
  early.reset();
  snap.reset();
  close_db(ctx, d);
}

BOOST_AUTO_TEST_CASE(scans_race_writers_and_compactions) {
  // Writers on two threads; a scanner on a third checks that every scan is
  // strictly ascending (or descending, every other scan going backward) and
  // that each key's version never goes backwards between scans. TSan runs
  // this in CI.
  testing::temp_dir dir;
#if defined(__SANITIZE_THREAD__)
  constexpr std::uint64_t rounds = 6;
#else
  constexpr std::uint64_t rounds = 20;
#endif
  constexpr std::uint64_t keys = 400;
  asio::thread_pool pool(3);
  auto d = asio::co_spawn(pool, db::open(pool.get_executor(), dir.file("db"), tiny()), asio::use_future).get();
  std::atomic<bool> done{false};
  testing::thread_checks checks;
  auto writer = [&](std::uint64_t id) -> asio::awaitable<void> {
    for (std::uint64_t v = 1; v <= rounds; ++v) {
      for (std::uint64_t k = id; k < keys; k += 2) co_await d->put(key_for(k), std::to_string(v));
      if (id == 0 && v == rounds / 2) co_await d->compact();
    }
  };
  auto scanner = [&]() -> asio::awaitable<void> {
    std::map<std::string, std::uint64_t> seen;
    bool backward = false;  // scans alternate direction
    while (!done.load()) {
      backward = !backward;
      auto it = d->scan();
      if (backward) {
        co_await it->seek_to_last();
      } else {
        co_await it->seek_to_first();
      }
      std::string previous;
      while (it->valid()) {
        const std::string k(it->key());
        if (!THREAD_CHECK(checks, previous.empty() || (backward ? k < previous : previous < k))) co_return;
        const std::uint64_t v = std::stoull(std::string(it->value()));
        if (!THREAD_CHECK(checks, v >= seen[k])) co_return;
        seen[k] = v;
        previous = k;
        if (backward) {
          co_await it->prev();
        } else {
          co_await it->next();
        }
      }
      if (!THREAD_CHECK(checks, !it->error())) co_return;
    }
  };
  auto w0 = asio::co_spawn(pool, writer(0), asio::use_future);
  auto w1 = asio::co_spawn(pool, writer(1), asio::use_future);
  auto s = asio::co_spawn(pool, scanner(), asio::use_future);
  w0.get();
  w1.get();
  done = true;
  s.get();
  BOOST_TEST(checks.ok(), checks.report());
  asio::co_spawn(pool, d->close(), asio::use_future).get();
  pool.join();
}

BOOST_AUTO_TEST_SUITE_END()
