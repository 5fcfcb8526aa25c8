// Randomized model test: a memtable driven by random puts, erases, batches,
// snapshots, point reads and cursor moves must agree with a std::map of
// (user key, sequence) -> (type, value) at every step.
#include <boost/test/unit_test.hpp>

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "strata/memtable.hpp"

namespace {

using strata::memtable;
using strata::sequence_number;
using strata::value_type;

struct version {
  value_type type;
  std::string value;
};
// Ordered like the memtable: key ascending, sequence descending.
struct internal_less {
  bool operator()(const std::pair<std::string, sequence_number>& a,
                  const std::pair<std::string, sequence_number>& b) const {
    if (a.first != b.first) return a.first < b.first;
    return a.second > b.second;
  }
};
using model_map = std::map<std::pair<std::string, sequence_number>, version, internal_less>;

struct expected_entry {
  std::string key;
  std::string value;
  sequence_number seq;
  value_type type;
};

// What a cursor with these options must show, in order.
std::vector<expected_entry> expected_view(const model_map& model, sequence_number snap, bool all_versions,
                                          bool include_deletions) {
  std::vector<expected_entry> out;
  const std::string* last_key = nullptr;
  for (const auto& [k, v] : model) {
    if (k.second > snap) continue;
    if (all_versions) {
      out.push_back({k.first, v.type == value_type::value ? v.value : "", k.second, v.type});
      continue;
    }
    if (last_key != nullptr && *last_key == k.first) continue;  // older version of a key already decided
    last_key = &k.first;
    if (v.type == value_type::deletion && !include_deletions) continue;
    out.push_back({k.first, v.type == value_type::value ? v.value : "", k.second, v.type});
  }
  return out;
}

std::string random_key(std::mt19937_64& rng) {
  static const std::vector<std::string> pool = {
      "",     std::string("\0", 1), std::string("\0\0", 2), "a",  "aa", "ab", "b", "ba", "user:1001", "user:1002",
      "\xff", "\xff\xff",           std::string("a\0b", 3), "zz", "m",  "mm", "n"};
  if (rng() % 4 == 0) {  // fresh random binary key
    std::string k(rng() % 6, '\0');
    for (auto& c : k) c = static_cast<char>(rng() % 4 == 0 ? 0xff : rng() % 3);
    return k;
  }
  return pool[rng() % pool.size()];
}

void check_entry(const memtable::cursor& c, const expected_entry& e) {
  BOOST_REQUIRE(c.valid());
  BOOST_REQUIRE(c.key() == e.key);
  BOOST_REQUIRE(c.sequence() == e.seq);
  BOOST_REQUIRE(c.type() == e.type);
  BOOST_REQUIRE_MESSAGE(c.value() == e.value, "value of " << e.key.size() << "-byte key seq " << e.seq << ": "
                                                          << c.value().size() << " vs " << e.value.size() << " bytes");
}

void check_cursor(const memtable& table, const model_map& model, sequence_number snap, bool all_versions,
                  bool include_deletions, std::mt19937_64& rng) {
  const auto want = expected_view(model, snap, all_versions, include_deletions);
  memtable::cursor_options opts;
  opts.snapshot = snap;
  opts.all_versions = all_versions;
  opts.include_deletions = include_deletions;
  auto c = table.new_cursor(opts);

  c.seek_to_first();  // full forward walk
  for (const auto& e : want) {
    check_entry(c, e);
    c.next();
  }
  BOOST_REQUIRE(!c.valid());

  c.seek_to_last();  // full backward walk
  for (auto it = want.rbegin(); it != want.rend(); ++it) {
    check_entry(c, *it);
    c.prev();
  }
  BOOST_REQUIRE(!c.valid());

  for (int i = 0; i < 8; ++i) {  // random seeks, then a few steps either way
    const std::string target = random_key(rng);
    std::size_t pos = 0;
    if (rng() % 2 == 0) {
      c.seek(target);
      while (pos < want.size() && want[pos].key < target) ++pos;
      if (pos == want.size()) {
        BOOST_REQUIRE(!c.valid());
        continue;
      }
    } else {
      c.seek_for_prev(target);
      // last entry whose key <= target (in all_versions mode: its last = oldest visible version)
      std::size_t n = 0;
      while (n < want.size() && want[n].key <= target) ++n;
      if (n == 0) {
        BOOST_REQUIRE(!c.valid());
        continue;
      }
      pos = n - 1;
    }
    check_entry(c, want[pos]);
    for (int step = 0; step < 4 && c.valid(); ++step) {
      if (rng() % 2 == 0) {
        c.next();
        ++pos;
      } else {
        c.prev();
        if (pos == 0) {
          BOOST_REQUIRE(!c.valid());
          break;
        }
        --pos;
      }
      if (pos == want.size()) {
        BOOST_REQUIRE(!c.valid());
        break;
      }
      check_entry(c, want[pos]);
    }
  }
}

void check_get(const memtable& table, const model_map& model, const std::string& key, sequence_number snap) {
  const auto r = table.get(key, snap);
  auto it = model.lower_bound({key, snap});
  if (it == model.end() || it->first.first != key) {
    BOOST_REQUIRE(r.absent());
    BOOST_REQUIRE(!table.get_live(key, snap));
    return;
  }
  BOOST_REQUIRE(r.sequence == it->first.second);
  if (it->second.type == value_type::deletion) {
    BOOST_REQUIRE(r.deleted());
    BOOST_REQUIRE(!table.contains(key, snap));
  } else {
    BOOST_REQUIRE(r.found());
    BOOST_REQUIRE(r.value == it->second.value);
    BOOST_REQUIRE(*table.get_live(key, snap) == it->second.value);
  }
}

void run_model(std::uint64_t seed, int steps, const memtable::options& opts) {
  std::mt19937_64 rng(seed);
  auto table = memtable::create(opts);
  model_map model;
  sequence_number next_seq = opts.first_sequence;
  std::vector<sequence_number> snapshots{table->snapshot()};

  auto random_value = [&] {
    std::string v(rng() % 3 == 0 ? rng() % 3000 : rng() % 20, '\0');
    for (auto& c : v) c = static_cast<char>(rng());
    return v;
  };

  for (int step = 0; step < steps; ++step) {
    const auto op = rng() % 100;
    if (op < 35) {
      const auto key = random_key(rng), value = random_value();
      BOOST_REQUIRE(table->put(key, value));
      model[{key, next_seq++}] = {value_type::value, value};
    } else if (op < 50) {
      const auto key = random_key(rng);
      BOOST_REQUIRE(table->erase(key));
      model[{key, next_seq++}] = {value_type::deletion, ""};
    } else if (op < 55) {
      std::vector<std::string> keys, values;
      std::vector<memtable::batch_op> ops;
      const auto n = 1 + rng() % 20;  // crosses the 16-op inline plan capacity sometimes
      for (std::size_t i = 0; i < n; ++i) {
        keys.push_back(random_key(rng));
        values.push_back(random_value());
      }
      for (std::size_t i = 0; i < n; ++i) {
        const bool del = rng() % 4 == 0;
        ops.push_back({del ? value_type::deletion : value_type::value, keys[i],
                       del ? std::string_view{} : std::string_view(values[i])});
      }
      BOOST_REQUIRE(!table->put_batch(ops));
      for (const auto& o : ops) model[{std::string(o.key), next_seq++}] = {o.type, std::string(o.value)};
    } else if (op < 58) {
      snapshots.push_back(table->snapshot());
    } else if (op < 63) {
      const auto key = random_key(rng), value = random_value();
      const auto r = table->get_or_insert(key, value);
      BOOST_REQUIRE(!r.error);
      auto it = model.lower_bound({key, strata::max_sequence_number});
      const bool live = it != model.end() && it->first.first == key && it->second.type == value_type::value;
      BOOST_REQUIRE(r.inserted == !live);
      if (live) {
        BOOST_REQUIRE(r.value == it->second.value);
      } else {
        BOOST_REQUIRE(r.value == value);
        model[{key, next_seq++}] = {value_type::value, value};
      }
    } else if (op < 90) {
      const auto snap = rng() % 2 ? table->snapshot() : snapshots[rng() % snapshots.size()];
      check_get(*table, model, random_key(rng), snap);
    } else {
      const auto snap = rng() % 2 ? table->snapshot() : snapshots[rng() % snapshots.size()];
      check_cursor(*table, model, snap, rng() % 2 == 0, rng() % 2 == 0, rng);
    }
    BOOST_REQUIRE(table->snapshot() == next_seq - 1);
  }
  BOOST_TEST(table->size() == model.size());
  std::size_t dels = 0;
  for (const auto& [k, v] : model) dels += v.type == value_type::deletion;
  BOOST_TEST(table->deletions() == dels);
  for (auto snap : snapshots) check_cursor(*table, model, snap, true, true, rng);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(memtable_model)

BOOST_AUTO_TEST_CASE(agrees_with_std_map_over_many_seeds) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    BOOST_TEST_CONTEXT("seed " << seed) { run_model(seed, 1500, memtable::options{}); }
  }
}

BOOST_AUTO_TEST_CASE(agrees_with_tiny_blocks_and_one_shard) {
  memtable::options opts;
  opts.arena_block_bytes = 4096;  // big values go to dedicated blocks, small ones span many blocks
  opts.shards = 1;
  opts.first_sequence = 1000;
  for (std::uint64_t seed = 100; seed < 110; ++seed) {
    BOOST_TEST_CONTEXT("seed " << seed) { run_model(seed, 1500, opts); }
  }
}

BOOST_AUTO_TEST_SUITE_END()
