// compaction::merging_iterator over every kind of source (memtables, single
// tables, a run of tables as one level child) against a sorted model of
// internal keys: random walks that mix next/prev/seek/seek_for_prev and
// turn around at any entry, so the turn logic (re-seeking the other
// children next to the current key), level runs crossing tables backward,
// and table iterators crossing blocks backward are all exercised.
// Registered as meson test `compaction_merging_iterator` (suite `unit`).
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "compaction/internal_iterator.hpp"
#include "compaction/level_iterator.hpp"
#include "compaction/merging_iterator.hpp"
#include "io/file.hpp"
#include "io/io_engine.hpp"
#include "run_awaitable.hpp"
#include "sst/internal_key.hpp"
#include "sst/table_reader.hpp"
#include "sst/table_writer.hpp"
#include "temp_dir.hpp"

namespace asio = boost::asio;
using namespace strata;
using strata::testing::run;

namespace {

using entries = std::vector<std::pair<std::string, std::string>>;  // internal key, value

bool internal_less(const std::pair<std::string, std::string>& a, const std::pair<std::string, std::string>& b) {
  return sst::compare_internal_keys(a.first, b.first) < 0;
}

std::string user_key_for(std::uint64_t i) {
  std::string k = std::to_string(i);
  return "u" + std::string(4 - std::min<std::size_t>(4, k.size()), '0') + k;
}

// Tables written to temp files and opened, kept alive for the children.
struct table_store {
  std::unique_ptr<io::io_engine> engine = io::make_io_engine({});
  sst::block_cache cache{std::size_t{1} << 20};
  std::vector<std::unique_ptr<io::file>> files;
  std::vector<std::unique_ptr<sst::table_reader>> tables;
  std::deque<std::string> largest;  // each table's last internal key (a deque: level children view them)

  const sst::table_reader* write(asio::io_context& ctx, const std::string& path, const entries& sorted) {
    std::error_code ec;
    auto f = io::file::open(*engine, path, {.create = true, .truncate = true}, ec);
    BOOST_TEST_REQUIRE(!ec);
    const auto err = run(ctx, [&]() -> asio::awaitable<std::error_code> {
      // Small blocks: backward steps cross many block boundaries.
      sst::table_file_writer w(*f, {.block_size = 256, .bits_per_key = 10});
      for (const auto& [k, v] : sorted) {
        if (auto e = w.append(k, v)) co_return e;
        if (w.should_write()) {
          if (auto e = co_await w.write_pending()) co_return e;
        }
      }
      co_return co_await w.finish();
    }());
    BOOST_TEST_REQUIRE(!err);
    std::uint64_t size = 0;
    f->size(size);
    auto opened = run(ctx, sst::table_reader::open(*f, size, &cache));
    BOOST_TEST_REQUIRE(!opened.error, opened.message);
    files.push_back(std::move(f));
    tables.push_back(std::move(opened.table));
    largest.push_back(sorted.back().first);
    return tables.back().get();
  }
};

// Position in `want` after each move, compared with the iterator; returns
// the first disagreement or "".
asio::awaitable<std::string> walk(compaction::merging_iterator& it, const entries& want, std::mt19937_64& rng,
                                  std::uint64_t user_keys, int steps) {
  std::ptrdiff_t at = -1;  // -1 or want.size(): the iterator must be invalid
  const auto n = static_cast<std::ptrdiff_t>(want.size());
  for (int i = 0; i < steps; ++i) {
    const bool positioned = at >= 0 && at < n;
    const int move = positioned ? static_cast<int>(rng() % 10) : 6 + static_cast<int>(rng() % 4);
    // A target between versions: any sequence, so it may fall inside a key's versions.
    const std::string target =
        sst::make_internal_key(user_key_for(rng() % (user_keys + 10)), rng() % 5000, value_type::value);
    const std::pair<std::string, std::string> probe{target, ""};
    std::string what;
    if (move < 3) {
      if (!it.try_next()) co_await it.finish_next();
      ++at;
      what = "next";
    } else if (move < 6) {
      co_await it.prev();
      --at;
      what = "prev";
    } else if (move == 6) {
      co_await it.seek(target);
      at = std::lower_bound(want.begin(), want.end(), probe, internal_less) - want.begin();
      what = "seek";
    } else if (move == 7) {
      co_await it.seek_for_prev(target);
      at = std::upper_bound(want.begin(), want.end(), probe, internal_less) - want.begin() - 1;
      what = "seek_for_prev";
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
    if (it.valid() != expect_valid) co_return "validity after " + what + " (step " + std::to_string(i) + ")";
    if (expect_valid && (it.key() != want[static_cast<std::size_t>(at)].first ||
                         it.value() != want[static_cast<std::size_t>(at)].second))
      co_return "wrong entry after " + what + " (step " + std::to_string(i) + ")";
  }
  co_return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(merging_iterator)

BOOST_AUTO_TEST_CASE(walks_in_both_directions_match_the_model) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    strata::testing::temp_dir dir;
    asio::io_context ctx;
    std::mt19937_64 rng(seed);
    constexpr std::uint64_t user_keys = 400;
    // Six sources: two memtables, two single tables, a run of three tables
    // (disjoint ranges, one level child) and an empty memtable. Every entry
    // has its own sequence, so internal keys are unique across sources.
    std::vector<entries> parts(5);
    entries all;
    for (std::uint64_t seq = 1; seq <= 3000; ++seq) {
      const value_type type = rng() % 5 == 0 ? value_type::deletion : value_type::value;
      const std::string k = sst::make_internal_key(user_key_for(rng() % user_keys), seq, type);
      const std::string v = type == value_type::deletion ? "" : "v" + std::to_string(seq);  // (tombstones carry none)
      parts[rng() % parts.size()].emplace_back(k, v);
      all.emplace_back(k, v);
    }
    for (auto& p : parts) std::sort(p.begin(), p.end(), internal_less);
    std::sort(all.begin(), all.end(), internal_less);

    std::vector<std::unique_ptr<compaction::internal_iterator>> children;
    for (int m = 0; m < 2; ++m) {
      auto mem = memtable::create();
      for (const auto& [k, v] : parts[m]) {
        sst::parsed_internal_key pk;
        BOOST_TEST_REQUIRE(sst::parse_internal_key(k, pk));
        BOOST_TEST_REQUIRE(!mem->insert(pk.sequence, pk.type, pk.user_key, v));
      }
      mem->publish(3000);
      children.push_back(compaction::memtable_child(mem, max_sequence_number));
    }
    table_store store;
    for (int t = 2; t < 4; ++t)
      children.push_back(
          compaction::table_child(store.write(ctx, dir.file("t" + std::to_string(t)), parts[t])->new_iterator()));
    std::vector<compaction::run_table> run_tables;
    const entries& level = parts[4];
    for (std::size_t piece = 0; piece < 3; ++piece) {
      const entries chunk(level.begin() + static_cast<std::ptrdiff_t>(level.size() * piece / 3),
                          level.begin() + static_cast<std::ptrdiff_t>(level.size() * (piece + 1) / 3));
      const auto* reader = store.write(ctx, dir.file("l" + std::to_string(piece)), chunk);
      run_tables.push_back({.largest = store.largest.back(), .reader = reader});
    }
    children.push_back(compaction::level_child(run_tables));
    children.push_back(compaction::memtable_child(memtable::create(), max_sequence_number));

    compaction::merging_iterator it(std::move(children));
    const std::string failure = run(ctx, [&]() -> asio::awaitable<std::string> {
      // Whole passes first, then the walk.
      co_await it.seek_to_last();
      entries back;
      while (it.valid()) {
        back.emplace_back(std::string(it.key()), std::string(it.value()));
        co_await it.prev();
      }
      if (back != entries(all.rbegin(), all.rend())) {
        const entries rev(all.rbegin(), all.rend());
        std::size_t i = 0;
        while (i < back.size() && i < rev.size() && back[i] == rev[i]) ++i;
        co_return "backward pass: " + std::to_string(back.size()) + " of " + std::to_string(rev.size()) +
            " entries, first difference at " + std::to_string(i) + (i < back.size() ? " got " + back[i].second : "") +
            (i < rev.size() ? " want " + rev[i].second : "");
      }
      co_await it.seek_to_first();
      entries forward;
      while (it.valid()) {
        forward.emplace_back(std::string(it.key()), std::string(it.value()));
        co_await it.next();
      }
      if (forward != all) co_return "forward pass";
      co_return co_await walk(it, all, rng, user_keys, 3000);
    }());
    BOOST_TEST(failure.empty(), "seed " << seed << ": " << failure);
  }
}

BOOST_AUTO_TEST_SUITE_END()
