// Whole tables: build through table_file_writer into a file, open with
// table_reader, and compare every point read at random snapshots with a
// model; damaged and truncated files are reported, never misread.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "fault_injection.hpp"
#include "io/io_engine.hpp"
#include "run_awaitable.hpp"
#include "sst/internal_key.hpp"
#include "sst/table_reader.hpp"
#include "sst/table_writer.hpp"
#include "sst_model.hpp"
#include "strata/error.hpp"
#include "temp_dir.hpp"

namespace asio = boost::asio;
using namespace strata;
using namespace strata::sst;

namespace {

using model = strata::testing::sst_model;

using testing::run;

struct table_fixture {
  testing::temp_dir dir;
  std::unique_ptr<io::io_engine> engine = io::make_io_engine({});
  asio::io_context ctx;

  std::string write(const model& m, const table_options& options, const std::string& name = "t.sst") {
    std::error_code ec;
    auto f = io::file::open(*engine, dir.file(name), {.create = true, .truncate = true}, ec);
    BOOST_REQUIRE(!ec);
    const auto err = run(ctx, [&]() -> asio::awaitable<std::error_code> {
      table_file_writer w(*f, options);
      for (const auto& [k, v] : m) {
        if (auto e = co_await w.add(k, v)) co_return e;
      }
      co_return co_await w.finish();
    }());
    BOOST_REQUIRE(!err);
    return dir.file(name);
  }

  table_reader::open_result open(io::file& f, block_cache* cache = nullptr) {
    std::uint64_t size = 0;
    BOOST_REQUIRE(!f.size(size));
    return run(ctx, table_reader::open(f, size, cache));
  }

  table_lookup get(const table_reader& t, std::string_view key, sequence_number snap) {
    return run(ctx, t.get(key, snap));
  }
};

// What the newest version <= snap of `user` says in the model.
table_lookup expected(const model& m, const std::string& user, sequence_number snap) {
  std::string target(user);
  coding::put_fixed64(target, lookup_tag(snap));
  table_lookup out;
  auto it = m.lower_bound(target);
  if (it == m.end()) return out;
  parsed_internal_key p;
  BOOST_REQUIRE(parse_internal_key(it->first, p));
  if (p.user_key != user) return out;
  out.sequence = p.sequence;
  out.status = p.type == value_type::deletion ? table_lookup::state::deleted : table_lookup::state::found;
  if (p.type == value_type::value) out.value = it->second;
  return out;
}

model random_table(std::mt19937_64& rng, std::size_t n, std::vector<std::string>& users) {
  model m;
  while (m.size() < n) {
    std::string user = "user:" + std::to_string(rng() % (n * 2 + 1));
    if (rng() % 10 == 0) user.push_back('\0');
    if (rng() % 50 == 0) user = std::string(1 + rng() % 3, '\xff');
    const auto type = rng() % 6 == 0 ? value_type::deletion : value_type::value;
    std::string value(rng() % 200 == 0 ? 100000 + rng() % 50000 : rng() % 120, 'v');
    for (auto& c : value) c = static_cast<char>('a' + rng() % 3);  // compressible
    if (m.emplace(make_internal_key(user, 1 + rng() % 1000, type), type == value_type::value ? value : "").second) {
      users.push_back(user);
    }
  }
  return m;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(table)

BOOST_AUTO_TEST_CASE(index_separators_are_short_and_between) {
  const auto a = make_internal_key("abcdef", 5, value_type::value);
  const auto b = make_internal_key("abzzzz", 9, value_type::value);
  const auto s = index_separator(a, b);
  BOOST_TEST(compare_internal_keys(a, s) <= 0);
  BOOST_TEST(compare_internal_keys(s, b) < 0);
  BOOST_TEST(user_key_of(s) == "abd");
  const auto same_user =
      index_separator(make_internal_key("k", 9, value_type::value), make_internal_key("k", 3, value_type::value));
  BOOST_TEST(user_key_of(same_user) == "k");
  BOOST_TEST(user_key_of(index_separator(make_internal_key("k\xff", 1, value_type::value), {})) == "l");
}

BOOST_AUTO_TEST_CASE(round_trip_every_compression_against_a_model) {
  for (const auto c : {compression::none, compression::lz4, compression::zstd}) {
    BOOST_TEST_CONTEXT(compression_name(c)) {
      table_fixture fx;
      std::mt19937_64 rng(static_cast<std::uint64_t>(c) + 1);
      std::vector<std::string> users;
      const auto m = random_table(rng, 20000, users);
      const auto path = fx.write(m, {.block_size = 4096, .data_compression = c});
      std::error_code ec;
      auto f = io::file::open(*fx.engine, path, {.read_only = true}, ec);
      BOOST_REQUIRE(!ec);
      auto opened = fx.open(*f);
      BOOST_REQUIRE_MESSAGE(!opened.error, opened.message);
      const auto& t = *opened.table;
      BOOST_TEST(t.properties().entries == m.size());
      BOOST_TEST(t.properties().data_blocks > 50u);
      BOOST_TEST((t.properties().data_compression == c));
      for (int i = 0; i < 4000; ++i) {
        const auto& user = users[rng() % users.size()];
        const sequence_number snap = rng() % 3 == 0 ? max_sequence_number : rng() % 1100;
        const auto got = fx.get(t, user, snap);
        const auto want = expected(m, user, snap);
        BOOST_REQUIRE_MESSAGE(!got.error, got.message);
        BOOST_REQUIRE((got.status == want.status));
        BOOST_REQUIRE_EQUAL(got.sequence, want.sequence);
        BOOST_REQUIRE(got.value == want.value);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_million_absent_keys_are_absent_and_mostly_filtered) {
  table_fixture fx;
  std::mt19937_64 rng(5);
  std::vector<std::string> users;
  const auto m = random_table(rng, 50000, users);
  const auto path = fx.write(m, {});
  std::error_code ec;
  auto f = io::file::open(*fx.engine, path, {.read_only = true}, ec);
  auto opened = fx.open(*f);
  BOOST_REQUIRE(!opened.error);
  std::size_t filtered = 0;
  const int absent = 1000000;
  fx.ctx.restart();
  auto fut = asio::co_spawn(
      fx.ctx,
      [&]() -> asio::awaitable<bool> {
        for (int i = 0; i < absent; ++i) {
          const auto r = co_await opened.table->get("absent:" + std::to_string(i), max_sequence_number);
          if (r.error || r.status != table_lookup::state::absent) co_return false;
          filtered += r.filtered;
        }
        co_return true;
      },
      asio::use_future);
  fx.ctx.run();
  BOOST_TEST(fut.get());
  BOOST_TEST(filtered > absent * 97 / 100, filtered << " of " << absent << " answered by the filter");
}

BOOST_AUTO_TEST_CASE(empty_single_and_huge_value_tables) {
  table_fixture fx;
  for (const auto& m : {model{}, model{{make_internal_key("", 1, value_type::value), "empty key"}},
                        model{{make_internal_key("big", 7, value_type::value), std::string(3 << 20, 'x')}}}) {
    const auto path = fx.write(m, {.data_compression = compression::lz4});
    std::error_code ec;
    auto f = io::file::open(*fx.engine, path, {.read_only = true}, ec);
    auto opened = fx.open(*f);
    BOOST_REQUIRE_MESSAGE(!opened.error, opened.message);
    for (const auto& [k, v] : m) {
      const auto r = fx.get(*opened.table, user_key_of(k), max_sequence_number);
      BOOST_TEST((r.status == table_lookup::state::found));
      BOOST_TEST(r.value == v);
    }
    BOOST_TEST((fx.get(*opened.table, "nothing", 100).status == table_lookup::state::absent));
  }
}

BOOST_AUTO_TEST_CASE(iterator_matches_the_model_in_both_directions) {
  table_fixture fx;
  std::mt19937_64 rng(8);
  std::vector<std::string> users;
  const auto m = random_table(rng, 5000, users);
  const auto path = fx.write(m, {.block_size = 512, .data_compression = compression::zstd});
  std::error_code ec;
  auto f = io::file::open(*fx.engine, path, {.read_only = true}, ec);
  auto opened = fx.open(*f);
  BOOST_REQUIRE(!opened.error);
  const std::vector<std::pair<std::string, std::string>> want(m.begin(), m.end());
  const bool ok = run(fx.ctx, [&]() -> asio::awaitable<bool> {
    // (No co_await inside for-headers or comma expressions: GCC 12
    // miscompiles some of those.)
    auto it = opened.table->new_iterator();
    std::size_t i = 0;
    co_await it.seek_to_first();
    while (it.valid()) {
      if (i >= want.size() || it.key() != want[i].first || it.value() != want[i].second) co_return false;
      ++i;
      co_await it.next();
    }
    if (i != want.size() || it.error()) co_return false;
    co_await it.seek_to_last();
    while (it.valid()) {
      if (i == 0 || it.key() != want[--i].first) co_return false;
      co_await it.prev();
    }
    if (i != 0) co_return false;
    for (int s = 0; s < 2000; ++s) {
      const std::string target =
          s % 2 ? want[rng() % want.size()].first
                : make_internal_key("user:" + std::to_string(rng() % 20000), rng() % 1000, value_type::value);
      co_await it.seek(target);
      auto pos = m.lower_bound(target);
      if (pos == m.end()) {
        if (it.valid()) co_return false;
        continue;
      }
      if (!it.valid() || it.key() != pos->first) co_return false;
      co_await it.prev();  // crossing block boundaries backwards too
      if (pos == m.begin()) {
        if (it.valid()) co_return false;
      } else if (!it.valid() || it.key() != std::prev(pos)->first) {
        co_return false;
      }
    }
    co_return true;
  }());
  BOOST_TEST(ok);
}

BOOST_AUTO_TEST_CASE(block_cache_serves_repeated_reads) {
  table_fixture fx;
  std::mt19937_64 rng(12);
  std::vector<std::string> users;
  const auto m = random_table(rng, 3000, users);
  const auto path = fx.write(m, {.block_size = 1024});
  std::error_code ec;
  auto f = io::file::open(*fx.engine, path, {.read_only = true}, ec);
  block_cache cache(8 << 20, 4);
  auto opened = fx.open(*f, &cache);
  BOOST_REQUIRE(!opened.error);
  const auto& user = users.front();
  const auto first = fx.get(*opened.table, user, max_sequence_number);
  const auto second = fx.get(*opened.table, user, max_sequence_number);
  BOOST_TEST(!first.cache_hit);
  BOOST_TEST(second.cache_hit);
  BOOST_TEST(first.value == second.value);
  const auto s = cache.get_stats();
  BOOST_TEST(s.misses == 1u);
  BOOST_TEST(s.hits == 1u);
  BOOST_TEST(s.inserts == 1u);
  // A full scan warms every block; reads afterwards are all hits, still right.
  const bool scanned = run(fx.ctx, [&]() -> asio::awaitable<bool> {
    auto it = opened.table->new_iterator();
    std::size_t n = 0;
    co_await it.seek_to_first();
    while (it.valid()) {
      ++n;
      co_await it.next();
    }
    co_return n == m.size();
  }());
  BOOST_TEST(scanned);
  const auto blocks = opened.table->properties().data_blocks;
  BOOST_TEST(cache.get_stats().entries == blocks);
  for (int i = 0; i < 200; ++i) {
    const auto& u = users[rng() % users.size()];
    const auto got = fx.get(*opened.table, u, max_sequence_number);
    const auto want = expected(m, u, max_sequence_number);
    BOOST_REQUIRE((got.status == want.status));
    BOOST_REQUIRE(got.value == want.value);
    BOOST_REQUIRE(got.filtered || got.cache_hit);
    // Everything is cached: the synchronous path answers, and the same.
    const sequence_number snap = rng() % 2 ? max_sequence_number : rng() % 1100;
    table_lookup fast;
    BOOST_REQUIRE(opened.table->try_get(u, snap, fast));
    const auto slow = expected(m, u, snap);
    BOOST_REQUIRE((fast.status == slow.status));
    BOOST_REQUIRE_EQUAL(fast.sequence, slow.sequence);
    BOOST_REQUIRE(fast.value == slow.value);
  }
  cache.clear();
  // The file was just written, so its blocks are in the OS page cache: the
  // synchronous path reads them from there and caches them again.
  table_lookup from_page_cache;
  BOOST_TEST(opened.table->try_get(user, max_sequence_number, from_page_cache));
  BOOST_TEST(!from_page_cache.cache_hit);
  BOOST_TEST(fx.get(*opened.table, user, max_sequence_number).cache_hit);
  // With a fault injector on the engine (none armed), every read must go
  // through the engine: the synchronous path refuses, and get() reads.
  cache.clear();
  testing::test_faults faults;
  fx.engine->set_fault_injector(&faults);
  table_lookup cold;
  BOOST_TEST(!opened.table->try_get(user, max_sequence_number, cold));  // needs a read now
  BOOST_TEST(!fx.get(*opened.table, user, max_sequence_number).cache_hit);
  fx.engine->set_fault_injector(nullptr);
}

BOOST_AUTO_TEST_CASE(readahead_reads_many_blocks_at_once) {
  // A forward scan with readahead returns exactly the table, and reads it
  // in a few large reads: through the engine (a fault injector, none armed,
  // keeps the page-cache shortcut out) about data bytes / readahead reads,
  // not one per block; and from the page cache without any engine read.
  table_fixture fx;
  model m;  // small entries, so that every window holds many blocks
  for (int i = 0; i < 6000; ++i)
    m.emplace(make_internal_key(fmt::format("key{:06}", i), 7, value_type::value), std::string(100, 'a' + i % 26));
  const auto path = fx.write(m, {.block_size = 1024});
  std::error_code ec;
  auto f = io::file::open(*fx.engine, path, {.read_only = true}, ec);
  auto opened = fx.open(*f);
  BOOST_REQUIRE(!opened.error);
  const auto blocks = opened.table->properties().data_blocks;
  const auto data_bytes = opened.table->properties().data_bytes;
  BOOST_REQUIRE(blocks > 100u);
  const std::vector<std::pair<std::string, std::string>> want(m.begin(), m.end());
  constexpr std::size_t readahead = 32 << 10;
  auto scan = [&](bool use_try_next) {
    return run(fx.ctx, [&]() -> asio::awaitable<bool> {
      auto it = opened.table->new_iterator(/*fill_cache=*/false, readahead);
      std::size_t i = 0;
      for (co_await it.seek_to_first(); it.valid(); ++i) {
        if (i >= want.size() || it.key() != want[i].first || it.value() != want[i].second) co_return false;
        if (!use_try_next || !it.try_next()) co_await it.next();
      }
      co_return i == want.size() && !it.error();
    }());
  };
  testing::test_faults faults;
  fx.engine->set_fault_injector(&faults);
  for (const bool use_try_next : {false, true}) {
    const auto before = fx.engine->stats().operations;
    BOOST_TEST(scan(use_try_next));
    const auto reads = fx.engine->stats().operations - before;
    BOOST_TEST(reads >= data_bytes / readahead);
    // (a window ends before the first block that does not fit whole)
    BOOST_TEST(reads <= data_bytes / (readahead - 2048) + 2);
    BOOST_TEST(reads < blocks / 10);
  }
  fx.engine->set_fault_injector(nullptr);
  const auto before = fx.engine->stats().operations;
  BOOST_TEST(scan(true));
  BOOST_TEST(fx.engine->stats().operations == before);  // all from the page cache
}

BOOST_AUTO_TEST_CASE(synchronous_steps_match_awaited_steps) {
  // try_next/try_prev either step within the block or refuse without moving;
  // a scan mixing them with next()/prev() still visits exactly the model.
  table_fixture fx;
  std::mt19937_64 rng(21);
  std::vector<std::string> users;
  const auto m = random_table(rng, 4000, users);
  const auto path = fx.write(m, {.block_size = 700});
  std::error_code ec;
  auto f = io::file::open(*fx.engine, path, {.read_only = true}, ec);
  auto opened = fx.open(*f);
  BOOST_REQUIRE(!opened.error);
  BOOST_REQUIRE(opened.table->properties().data_blocks > 20u);
  const std::vector<std::pair<std::string, std::string>> want(m.begin(), m.end());
  // A fault injector (none armed) sends every read through the engine, as
  // if nothing were in the page cache: then block boundaries need reads.
  testing::test_faults faults;
  fx.engine->set_fault_injector(&faults);
  std::size_t refused = 0;
  const bool ok = run(fx.ctx, [&]() -> asio::awaitable<bool> {
    auto it = opened.table->new_iterator();
    std::size_t i = 0;
    co_await it.seek_to_first();
    while (it.valid()) {
      if (i >= want.size() || it.key() != want[i].first || it.value() != want[i].second) co_return false;
      ++i;
      const std::string before(it.key());
      if (!it.try_next()) {
        ++refused;
        if (!it.valid() || it.key() != before) co_return false;  // refused means not moved
        co_await it.next();
      }
    }
    if (i != want.size() || it.error()) co_return false;
    co_await it.seek_to_last();
    while (it.valid()) {
      if (i == 0 || it.key() != want[--i].first) co_return false;
      if (!it.try_prev()) co_await it.prev();
    }
    co_return i == 0 && !it.error();
  }());
  BOOST_TEST(ok);
  // Without a cache, one refusal per block boundary crossed forwards (the
  // end needs no read).
  BOOST_TEST(refused == opened.table->properties().data_blocks - 1);

  // With every block cached, a forward scan never refuses, and each block
  // was looked up once per pass.
  block_cache cache(64 << 20);
  auto cached = fx.open(*f, &cache);
  BOOST_REQUIRE(!cached.error);
  auto scan = [&](std::size_t& refusals) {
    return run(fx.ctx, [&]() -> asio::awaitable<std::size_t> {
      auto it = cached.table->new_iterator();
      std::size_t n = 0;
      co_await it.seek_to_first();
      while (it.valid()) {
        if (it.key() != want[n].first) co_return 0;
        ++n;
        if (!it.try_next()) {
          ++refusals;
          co_await it.next();
        }
      }
      co_return n;
    }());
  };
  std::size_t cold_refusals = 0, warm_refusals = 0;
  BOOST_TEST(scan(cold_refusals) == want.size());
  BOOST_TEST(cold_refusals == cached.table->properties().data_blocks - 1);
  const auto after_cold = cache.get_stats();
  BOOST_TEST(after_cold.misses == cached.table->properties().data_blocks);  // each miss counted once
  BOOST_TEST(scan(warm_refusals) == want.size());
  BOOST_TEST(warm_refusals == 0u);
  BOOST_TEST(cache.get_stats().hits - after_cold.hits == cached.table->properties().data_blocks);

  // Without the injector, blocks not in the block cache come from the page
  // cache without suspending: a cold scan never refuses either, and still
  // counts each miss once.
  fx.engine->set_fault_injector(nullptr);
  cache.clear();
  const auto before_page_scan = cache.get_stats();
  std::size_t page_refusals = 0;
  BOOST_TEST(scan(page_refusals) == want.size());
  BOOST_TEST(page_refusals == 0u);
  BOOST_TEST(cache.get_stats().misses - before_page_scan.misses == cached.table->properties().data_blocks);
}

BOOST_AUTO_TEST_CASE(try_seek_lands_where_seek_does_or_refuses) {
  // try_seek() positions exactly as seek() (present, absent, past-the-end
  // and before-the-start targets, and targets past a block's last entry),
  // or refuses when the block needs a disk read; after a seek() has read
  // the block into the cache, a try_seek() to the same place succeeds. With
  // the page cache allowed, it never refuses.
  table_fixture fx;
  std::mt19937_64 rng(33);
  std::vector<std::string> users;
  const auto m = random_table(rng, 4000, users);
  const auto path = fx.write(m, {.block_size = 700});
  std::error_code ec;
  auto f = io::file::open(*fx.engine, path, {.read_only = true}, ec);
  block_cache cache(64 << 20);
  auto opened = fx.open(*f, &cache);
  BOOST_REQUIRE(!opened.error);
  const std::vector<std::pair<std::string, std::string>> want(m.begin(), m.end());
  auto target_for = [&](int s) {
    switch (s % 4) {
      case 0:
        return want[rng() % want.size()].first;
      case 1:
        return make_internal_key("user:" + std::to_string(rng() % 9000), rng() % 1000, value_type::value);
      case 2:
        return make_internal_key(std::string(4, '\xff'), 0, value_type::deletion);  // past every key
      default:
        return make_internal_key("", max_sequence_number, value_type::value);  // before every key
    }
  };
  auto lands_on_model = [&](const table_iterator& it, const std::string& target) {
    const auto pos = m.lower_bound(target);
    if (pos == m.end()) return !it.valid() && !it.error();
    return it.valid() && it.key() == pos->first && it.value() == pos->second;
  };
  testing::test_faults faults;
  fx.engine->set_fault_injector(&faults);  // every read through the engine
  std::size_t refused = 0, accepted = 0;
  const bool engine_ok = run(fx.ctx, [&]() -> asio::awaitable<bool> {
    auto it = opened.table->new_iterator();
    for (int s = 0; s < 3000; ++s) {
      const std::string target = target_for(s);
      if (it.try_seek(target)) {
        ++accepted;
        if (!lands_on_model(it, target)) co_return false;
        continue;
      }
      ++refused;
      co_await it.seek(target);
      if (!lands_on_model(it, target)) co_return false;
      if (!it.try_seek(target) || !lands_on_model(it, target)) co_return false;  // cached now
    }
    co_return true;
  }());
  BOOST_TEST(engine_ok);
  BOOST_TEST(refused > 0u);
  BOOST_TEST(accepted > 0u);
  fx.engine->set_fault_injector(nullptr);
  cache.clear();
  const bool page_ok = run(fx.ctx, [&]() -> asio::awaitable<bool> {
    auto it = opened.table->new_iterator();
    for (int s = 0; s < 3000; ++s) {
      const std::string target = target_for(s);
      if (!it.try_seek(target) || !lands_on_model(it, target)) co_return false;
    }
    co_return true;
  }());
  BOOST_TEST(page_ok);
}

BOOST_AUTO_TEST_CASE(out_of_order_keys_are_refused) {
  table_builder b({});
  BOOST_TEST(b.add(make_internal_key("b", 1, value_type::value), "1"));
  BOOST_TEST(!b.add(make_internal_key("a", 1, value_type::value), "2"));
  BOOST_TEST(!b.add(make_internal_key("b", 1, value_type::value), "3"));
  BOOST_TEST(!b.add("short", "not an internal key"));
  BOOST_TEST(b.entries() == 1u);
}

BOOST_AUTO_TEST_CASE(damage_anywhere_is_reported_never_misread) {
  table_fixture fx;
  std::mt19937_64 rng(3);
  std::vector<std::string> users;
  const auto m = random_table(rng, 3000, users);
  const auto path = fx.write(m, {.block_size = 1024});
  std::string good;
  {
    std::ifstream in(path, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  int reported = 0;
  for (int trial = 0; trial < 150; ++trial) {
    std::string bad = good;
    const std::size_t pos = trial < 64 ? bad.size() - 1 - static_cast<std::size_t>(trial)  // footer bytes
                                       : rng() % bad.size();
    bad[pos] = static_cast<char>(bad[pos] ^ (1 << (rng() % 8)));
    const auto bad_path = fx.dir.file("bad.sst");
    std::ofstream(bad_path, std::ios::binary | std::ios::trunc) << bad;
    std::error_code ec;
    auto f = io::file::open(*fx.engine, bad_path, {.read_only = true}, ec);
    auto opened = fx.open(*f);
    if (opened.error) {
      BOOST_REQUIRE((opened.error == errc::corruption || opened.error == errc::not_supported));
      BOOST_REQUIRE(opened.message.find("bad.sst") != std::string::npos);
      ++reported;
      continue;
    }
    // Opened (the flip is in a data block): every read is right or an error.
    for (const auto& user : users) {
      const auto got = fx.get(*opened.table, user, max_sequence_number);
      if (got.error) {
        BOOST_REQUIRE((got.error == errc::corruption));
        BOOST_REQUIRE(got.message.find("bad.sst") != std::string::npos);
        ++reported;
        break;
      }
      const auto want = expected(m, user, max_sequence_number);
      BOOST_REQUIRE((got.status == want.status));
      BOOST_REQUIRE(got.value == want.value);
    }
  }
  BOOST_TEST(reported > 100);
}

BOOST_AUTO_TEST_CASE(truncated_files_are_rejected_at_open) {
  table_fixture fx;
  std::mt19937_64 rng(4);
  std::vector<std::string> users;
  const auto path = fx.write(random_table(rng, 500, users), {});
  const auto full = std::filesystem::file_size(path);
  for (std::uint64_t cut : {std::uint64_t{0}, std::uint64_t{10}, full / 2, full - footer_size, full - 1}) {
    std::filesystem::copy_file(path, fx.dir.file("cut.sst"), std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(fx.dir.file("cut.sst"), cut);
    std::error_code ec;
    auto f = io::file::open(*fx.engine, fx.dir.file("cut.sst"), {.read_only = true}, ec);
    auto opened = fx.open(*f);
    BOOST_TEST((opened.error == errc::corruption), "cut at " << cut);
    BOOST_TEST(!opened.table);
  }
}

BOOST_AUTO_TEST_SUITE_END()
