// The db under injected faults (tests/unit/fault_injection.hpp):
// - db_power_loss: the disk freezes at a random instant (flushes,
//   compactions and MANIFEST writes cut where they stand), every byte and
//   name not made durable is dropped, and the reopened db must hold every
//   synced write and a prefix of all the writes (no holes).
// - db_faults: EIO and ENOSPC on random writes, syncs, reads and name
//   operations, and torn (short) writes: the operation that hit the fault
//   fails with a clear code, nothing acknowledged is lost, and the db
//   reopens and works once the fault is gone.
// - db_small_disk: a real 4 MiB tmpfs fills up (root only; skipped
//   elsewhere): no_space, nothing acknowledged lost, and the db works
//   again once there is room.

#include <sys/mount.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "db_test_support.hpp"
#include "fault_injection.hpp"
#include "strata/db.hpp"
#include "temp_dir.hpp"

namespace asio = boost::asio;
using namespace strata;

namespace {

using testing::close_db;
using testing::faults_installed;
using testing::open_db;
using testing::run;

// Small everything, so that flushes, compactions and MANIFEST edits happen
// all the time and a cut lands in the middle of them.
options busy_options(std::uint64_t seed) {
  options o;
  o.memtable_bytes = 16 << 10;
  o.block_size = 1024;
  o.block_cache_bytes = 256 << 10;
  o.level0_compaction_trigger = 2;
  o.max_bytes_for_level_base = 64 << 10;
  o.max_bytes_for_level_multiplier = 4;
  o.target_file_bytes = 16 << 10;
  o.force_io_fallback = seed % 2 == 1;
  o.compress_tables = seed % 3 == 0;
  o.subcompactions = seed % 4 == 0 ? 2 : 1;
  return o;
}

// One acknowledged (or attempted) write: a put, an erase or a batch of them.
struct write_record {
  std::vector<std::pair<std::string, std::optional<std::string>>> ops;  // nullopt: erase
  bool sync = false;
};

using state = std::map<std::string, std::string>;

void apply_write(state& s, const write_record& w) {
  for (const auto& [k, v] : w.ops) {
    if (v) {
      s[k] = *v;
    } else {
      s.erase(k);
    }
  }
}

write_record random_write(std::mt19937_64& rng, int i, int keys) {
  write_record w;
  const int n = rng() % 8 == 0 ? 2 + static_cast<int>(rng() % 5) : 1;
  for (int j = 0; j < n; ++j) {
    std::string key = "k" + std::to_string(rng() % static_cast<unsigned>(keys));
    if (rng() % 6 == 0) {
      w.ops.emplace_back(std::move(key), std::nullopt);
    } else {
      w.ops.emplace_back(std::move(key),
                         "v" + std::to_string(i) + "." + std::to_string(j) + std::string(rng() % 200, 'x'));
    }
  }
  w.sync = rng() % 10 == 0;
  return w;
}

// Runs one write; returns its error (empty when acknowledged).
asio::awaitable<boost::system::error_code> perform(db& d, const write_record& w) {
  write_options wo;
  wo.sync = w.sync;
  if (w.ops.size() == 1) {
    const auto& [k, v] = w.ops.front();
    if (v) {
      auto [ec] = co_await d.put(k, *v, wo, asio::as_tuple(asio::use_awaitable));
      co_return ec;
    }
    auto [ec] = co_await d.erase(k, wo, asio::as_tuple(asio::use_awaitable));
    co_return ec;
  }
  write_batch b;
  for (const auto& [k, v] : w.ops) {
    if (v) {
      b.put(k, *v);
    } else {
      b.erase(k);
    }
  }
  auto [ec] = co_await d.write(std::move(b), wo, asio::as_tuple(asio::use_awaitable));
  co_return ec;
}

// Every key of the db, by a full scan (which also checks it is sorted).
state read_all(asio::io_context& ctx, db& d) {
  return run(ctx, [&]() -> asio::awaitable<state> {
    state s;
    auto it = d.scan();
    co_await it->seek_to_first();
    std::string previous;
    while (it->valid()) {
      if (!s.empty() && std::string(it->key()) <= previous) throw std::runtime_error("scan out of order");
      previous = std::string(it->key());
      s.emplace(previous, std::string(it->value()));
      co_await it->next();
    }
    if (it->error()) throw std::runtime_error("scan failed: " + it->message());
    co_return s;
  }());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(db_power_loss)

BOOST_AUTO_TEST_CASE(a_cut_at_any_instant_keeps_synced_writes_and_a_prefix_of_the_rest) {
  int cuts_mid_background = 0;
  for (std::uint64_t seed = 1; seed <= 24; ++seed) {
    BOOST_TEST_CONTEXT("seed " << seed) {
      testing::temp_dir dir;
      asio::io_context ctx;
      const std::string path = dir.file("db");
      std::mt19937_64 rng(seed);
      std::vector<write_record> acked;
      std::size_t last_synced = 0;  // acked[0, last_synced) must survive
      const int cut_at = 300 + static_cast<int>(rng() % 2500);
      {
        faults_installed hook;
        auto d = open_db(ctx, path, busy_options(seed));
        run(ctx, [&]() -> asio::awaitable<void> {
          for (int i = 0; i < cut_at; ++i) {
            auto w = random_write(rng, i, 300);
            auto ec = co_await perform(*d, w);
            if (ec) throw std::runtime_error("write failed before the cut: " + ec.message());
            acked.push_back(std::move(w));
            if (acked.back().sync) last_synced = acked.size();
          }
        }());
        const auto s = d->stats();
        if (s.compactions_running > 0 || s.immutable_memtables > 0) ++cuts_mid_background;
        hook.faults.freeze();  // the power fails now
        d.reset();             // what was in flight fails against the dead disk
        ctx.restart();
        ctx.run();
        hook.faults.simulate_power_loss();
      }
      auto d = open_db(ctx, path, busy_options(seed));
      const state found = read_all(ctx, *d);
      // Which prefix of the writes is this? One must match, at or after the last synced write.
      state model;
      std::optional<std::size_t> matched;
      for (std::size_t n = 0; n <= acked.size(); ++n) {
        if (n > 0) apply_write(model, acked[n - 1]);
        if (n >= last_synced && model == found) matched = n;
      }
      BOOST_TEST(matched.has_value(), "the recovered state is no prefix at or after write " << last_synced);
      if (matched) BOOST_TEST_MESSAGE("recovered " << *matched << " of " << acked.size() << ", synced " << last_synced);
      // And the db goes on: write, reopen, read back.
      run(ctx, [&]() -> asio::awaitable<void> { co_await d->put("after", "the cut", {.sync = true}); }());
      close_db(ctx, d);
      d = open_db(ctx, path, busy_options(seed));
      const auto after =
          run(ctx, [&]() -> asio::awaitable<std::optional<std::string>> { co_return co_await d->get("after"); }());
      BOOST_TEST((after == std::optional<std::string>("the cut")));
      close_db(ctx, d);
    }
  }
  BOOST_TEST_MESSAGE(cuts_mid_background << " of 24 cuts landed while a flush or compaction was pending");
}

BOOST_AUTO_TEST_CASE(a_synced_write_in_a_fresh_log_survives_a_cut) {
  // Each memtable has a WAL created for it (at open, and as the spare for
  // the next memtable). Its name must be durable before a synced write in
  // it is acknowledged, or the cut takes the whole file with it.
  for (const bool rotate : {false, true}) {
    BOOST_TEST_CONTEXT("after a rotation: " << rotate) {
      testing::temp_dir dir;
      asio::io_context ctx;
      const std::string path = dir.file("db");
      options o = busy_options(2);
      o.memtable_bytes = 64 << 10;
      {
        faults_installed hook;
        auto d = open_db(ctx, path, o);
        run(ctx, [&]() -> asio::awaitable<void> {
          if (rotate) {
            co_await d->put("first", "unsynced");
            co_await d->flush();  // the next memtable writes to the spare WAL
          }
          co_await d->put("key", "synced", {.sync = true});
        }());
        hook.faults.freeze();
        d.reset();
        ctx.restart();
        ctx.run();
        hook.faults.simulate_power_loss();
      }
      auto d = open_db(ctx, path, o);
      const auto v =
          run(ctx, [&]() -> asio::awaitable<std::optional<std::string>> { co_return co_await d->get("key"); }());
      BOOST_TEST((v == std::optional<std::string>("synced")));
      close_db(ctx, d);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(db_faults)

namespace {

struct fault_case {
  const char* name;
  testing::test_faults::kind kind;
  int error;
  bool torn = false;
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_fault_fails_its_operation_and_loses_nothing_acknowledged) {
  using K = testing::test_faults::kind;
  const fault_case cases[] = {
      {"write EIO", K::write, EIO},        {"write ENOSPC", K::write, ENOSPC},
      {"sync EIO", K::sync, EIO},          {"torn write ENOSPC", K::write, ENOSPC, true},
      {"name/MANIFEST EIO", K::meta, EIO}, {"name/MANIFEST ENOSPC", K::meta, ENOSPC},
      {"read EIO", K::read, EIO},
  };
  for (const auto& c : cases) {
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
      BOOST_TEST_CONTEXT(c.name << ", seed " << seed) {
        testing::temp_dir dir;
        asio::io_context ctx;
        const std::string path = dir.file("db");
        std::mt19937_64 rng(seed * 7919);
        // Per key: the values it may hold after recovery. The last
        // acknowledged one, or any write to it that failed after that (a
        // failed write may or may not have reached the log).
        std::map<std::string, std::vector<std::optional<std::string>>> allowed;
        std::uint64_t failures = 0, wrong_codes = 0, acked_writes = 0, read_errors = 0, wrong_reads = 0;
        state acked_model;                // what the db must return on reads (acknowledged writes only)
        std::set<std::string> uncertain;  // keys with a failed write since their last ack
        {
          faults_installed hook;
          auto d = open_db(ctx, path, busy_options(seed));
          if (c.torn) {
            hook.faults.tear_writes(c.error, 1, 50 + static_cast<int>(rng() % 400));
          } else {
            hook.faults.fail_at_random(c.kind, c.error,
                                       c.kind == K::read   ? 0.05
                                       : c.kind == K::meta ? 0.15
                                                           : 0.01,
                                       seed);
          }
          run(ctx, [&]() -> asio::awaitable<void> {
            for (int i = 0; i < 1500; ++i) {
              if (rng() % 3 == 0) {  // a read: the acknowledged value, or an error; never anything else
                const std::string key = "k" + std::to_string(rng() % 300);
                auto [ec, v] = co_await d->get(key, {}, asio::as_tuple(asio::use_awaitable));
                if (ec) {
                  ++read_errors;
                  if (ec != errc::io_error) ++wrong_codes;
                } else if (uncertain.count(key) == 0) {
                  const auto it = acked_model.find(key);
                  const std::optional<std::string> want =
                      it == acked_model.end() ? std::nullopt : std::optional<std::string>(it->second);
                  if (v != want) ++wrong_reads;
                }
                continue;
              }
              auto w = random_write(rng, i, 300);
              auto ec = co_await perform(*d, w);
              if (ec) {
                ++failures;
                if (ec != errc::io_error && ec != errc::no_space) ++wrong_codes;
                for (const auto& [k, v] : w.ops) {
                  auto& values = allowed[k];
                  if (values.empty()) values.push_back(std::nullopt);  // never written: absent, as at the start
                  values.push_back(v);
                  uncertain.insert(k);
                }
                continue;
              }
              ++acked_writes;
              apply_write(acked_model, w);
              for (const auto& [k, v] : w.ops) {
                allowed[k] = {v};
                uncertain.erase(k);
              }
            }
          }());
          BOOST_TEST(hook.faults.injected(c.kind) > 0u, "no fault was injected: the case proves nothing");
          hook.faults.heal();
          d.reset();  // a crash: no close (it may fail against a db in its error state)
          ctx.restart();
          ctx.run();
        }
        BOOST_TEST(wrong_codes == 0u, "errors other than io_error/no_space");
        BOOST_TEST(wrong_reads == 0u, "reads returned a value that was not the acknowledged one");
        BOOST_TEST_MESSAGE(c.name << " seed " << seed << ": " << acked_writes << " writes acknowledged, " << failures
                                  << " failed, " << read_errors << " reads failed");
        // The fault is gone: the db reopens, holds what was acknowledged, and works.
        auto d = open_db(ctx, path, busy_options(seed));
        const state found = read_all(ctx, *d);
        std::size_t lost = 0;
        for (const auto& [key, values] : allowed) {
          const auto it = found.find(key);
          const std::optional<std::string> have =
              it == found.end() ? std::nullopt : std::optional<std::string>(it->second);
          if (std::find(values.begin(), values.end(), have) == values.end()) {
            if (++lost <= 3) BOOST_TEST_MESSAGE("key " << key << " holds " << (have ? *have : "(none)"));
          }
        }
        for (const auto& [key, value] : found) {
          if (allowed.count(key) == 0) ++lost;  // a key never written
        }
        BOOST_TEST(lost == 0u, lost << " keys hold a value that no acknowledged history allows");
        run(ctx, [&]() -> asio::awaitable<void> { co_await d->put("healed", "yes", {.sync = true}); }());
        close_db(ctx, d);
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(db_small_disk)

BOOST_AUTO_TEST_CASE(a_full_disk_is_no_space_and_loses_nothing_acknowledged) {
  testing::temp_dir dir;
  const std::string mount_point = dir.file("disk");
  std::filesystem::create_directory(mount_point);
  if (::geteuid() != 0 || ::mount("strata-test", mount_point.c_str(), "tmpfs", 0, "size=4m") != 0) {
    BOOST_TEST_MESSAGE("skipped: mounting a small tmpfs needs root (" << std::strerror(errno) << ")");
    return;
  }
  struct unmount_at_exit {
    std::string at;
    ~unmount_at_exit() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{mount_point};
  asio::io_context ctx;
  const std::string path = mount_point + "/db";
  options o = busy_options(2);
  o.memtable_bytes = 256 << 10;
  state acked;
  std::map<std::string, std::string> failed;  // key -> value of the write that hit the full disk
  boost::system::error_code first_error;
  std::string message;
  {
    auto d = open_db(ctx, path, o);
    run(ctx, [&]() -> asio::awaitable<void> {
      for (int i = 0; i < 100000; ++i) {
        const std::string key = "k" + std::to_string(i % 5000);
        const std::string value = "v" + std::to_string(i) + std::string(1000, 'f');
        auto [ec] = co_await d->put(key, value, {.sync = i % 50 == 0}, asio::as_tuple(asio::use_awaitable));
        if (ec) {
          first_error = ec;
          failed[key] = value;
          message = d->last_error();
          co_return;
        }
        acked[key] = value;
      }
    }());
    d.reset();
    ctx.restart();
    ctx.run();
  }
  BOOST_TEST(first_error == errc::no_space, "the full disk gave " << first_error.message());
  BOOST_TEST(message.find("No space left on device") != std::string::npos, "message: " << message);
  BOOST_TEST_MESSAGE(acked.size() << " keys acknowledged before the disk filled; error: " << message);
  // Room again: the db reopens with everything acknowledged and takes writes.
  BOOST_TEST_REQUIRE(::mount("strata-test", mount_point.c_str(), "tmpfs", MS_REMOUNT, "size=64m") == 0);
  auto d = open_db(ctx, path, o);
  const state found = read_all(ctx, *d);
  std::size_t lost = 0;
  for (const auto& [key, value] : acked) {
    const auto it = found.find(key);
    const bool ok = (it != found.end() && it->second == value) ||
                    (it != found.end() && failed.count(key) != 0 && failed[key] == it->second);
    lost += !ok;
  }
  BOOST_TEST(lost == 0u, lost << " acknowledged keys lost or changed");
  run(ctx, [&]() -> asio::awaitable<void> { co_await d->put("room", "again", {.sync = true}); }());
  close_db(ctx, d);
}

BOOST_AUTO_TEST_SUITE_END()
