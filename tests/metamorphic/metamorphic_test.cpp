// Metamorphic tests (Pebble's idea): one random operation sequence per seed
// (puts, erases, batches, gets, get_many, snapshots, scans with bounds and
// prefixes in both directions, flushes, compactions, reopens) runs against
// a std::map model and against the db under several option sets (memtable
// and block sizes, compression, bloom filters, block cache, I/O engine,
// compaction picking, subcompactions, small levels); every transcript must
// equal the model's. A difference reports the seed, the option set and the
// first differing operation with both results. Each option set must also
// be seen doing what it was chosen for (background flushes, compactions
// reaching level 2, subcompactions, ...), or it would prove nothing.
// Smaller cases: the model against hand-worked results, the generator's
// reproducibility and coverage, and the reproducer of a scan bug the runs
// found (seek_for_prev with a prefix and an upper bound).
//
// Registered as meson test `metamorphic` (suite `unit`). Longer runs, or a
// replay of one failure, through the environment:
//   STRATA_METAMORPHIC_SEEDS=N        N seeds (default 5) from ..._FIRST_SEED (default 1)
//   STRATA_METAMORPHIC_SEED=S         only seed S
//   STRATA_METAMORPHIC_OPS=N          operations per seed (default 1500)
//   STRATA_METAMORPHIC_OPTIONS=name   only that option set
//   STRATA_METAMORPHIC_DUMP=dir       write the transcripts of failing runs there
#define BOOST_TEST_MODULE strata_metamorphic
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../unit/run_awaitable.hpp"
#include "../unit/temp_dir.hpp"
#include "db_runner.hpp"
#include "model_runner.hpp"
#include "operation.hpp"
#include "operation_generator.hpp"
#include "option_sets.hpp"
#include "transcript.hpp"

using namespace strata;
using namespace strata::metamorphic;

namespace {

constexpr std::size_t default_ops = 1500;
constexpr std::uint64_t default_seed_count = 5;

struct run_config {
  std::vector<std::uint64_t> seeds;
  std::size_t ops = default_ops;
  std::optional<std::string> only_option_set;
  std::optional<std::string> dump_dir;
};

std::optional<std::uint64_t> env_number(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::strtoull(v, nullptr, 10);
}
std::optional<std::string> env_string(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

run_config config_from_environment() {
  run_config c;
  if (auto seed = env_number("STRATA_METAMORPHIC_SEED")) {
    c.seeds.push_back(*seed);
  } else {
    const std::uint64_t first = env_number("STRATA_METAMORPHIC_FIRST_SEED").value_or(1);
    const std::uint64_t count = env_number("STRATA_METAMORPHIC_SEEDS").value_or(default_seed_count);
    for (std::uint64_t s = first; s < first + count; ++s) c.seeds.push_back(s);
  }
  c.ops = env_number("STRATA_METAMORPHIC_OPS").value_or(default_ops);
  c.only_option_set = env_string("STRATA_METAMORPHIC_OPTIONS");
  c.dump_dir = env_string("STRATA_METAMORPHIC_DUMP");
  return c;
}

// The keys an operation writes (to show a failing key's history).
std::vector<std::string> written_keys(const operation& op) {
  switch (op.kind) {
    case op_kind::put:
    case op_kind::erase:
      return {op.key};
    case op_kind::write_batch: {
      std::vector<std::string> keys;
      for (const auto& e : op.batch) keys.push_back(e.key);
      return keys;
    }
    default:
      return {};
  }
}

// The last few operations before `index` that wrote `key`, and every
// reopen, flush, compaction and snapshot between the first of them and
// `index`: what a reader of the report needs to replay that key by hand.
std::string history_of(const std::vector<operation>& ops, std::size_t index, const std::string& key) {
  constexpr std::size_t shown_writes = 6;
  std::vector<std::size_t> writes;
  for (std::size_t i = index; i-- > 0 && writes.size() < shown_writes;) {
    for (const auto& k : written_keys(ops[i])) {
      if (k == key) {
        writes.push_back(i);
        break;
      }
    }
  }
  if (writes.empty()) return "  (no earlier operation wrote " + show_key(key) + ")\n";
  std::string out = "  history of " + show_key(key) + " (its last writes and the structural operations since):\n";
  const std::set<std::size_t> write_set(writes.begin(), writes.end());
  for (std::size_t i = writes.back(); i < index; ++i) {
    const auto kind = ops[i].kind;
    const bool structural = kind == op_kind::flush || kind == op_kind::compact || kind == op_kind::compact_range ||
                            kind == op_kind::reopen || kind == op_kind::take_snapshot ||
                            kind == op_kind::release_snapshot;
    if (write_set.count(i) > 0 || structural) out += "    op #" + std::to_string(i) + ": " + describe(ops[i]) + "\n";
  }
  return out;
}

std::string mismatch_report(std::uint64_t seed, const option_set& set, const std::vector<operation>& ops,
                            const transcript& expected, const transcript& actual, std::size_t index) {
  std::string out = "seed " + std::to_string(seed) + ", option set \"" + set.name + "\" (" +
                    describe_options(set.opts) + "): first difference at operation #" + std::to_string(index) + " of " +
                    std::to_string(ops.size()) + "\n";
  if (index >= expected.size() || index >= actual.size()) {
    return out + "  transcript lengths differ: model " + std::to_string(expected.size()) + ", db " +
           std::to_string(actual.size()) + "\n";
  }
  const operation& op = ops[index];
  out += "  op #" + std::to_string(index) + ": " + describe(op) + "\n";
  out += explain_difference(expected[index], actual[index]);
  if (op.kind == op_kind::get) out += history_of(ops, index, op.key);
  out += "  replay: STRATA_METAMORPHIC_SEED=" + std::to_string(seed) +
         " STRATA_METAMORPHIC_OPS=" + std::to_string(ops.size()) + " STRATA_METAMORPHIC_OPTIONS=" + set.name + "\n";
  return out;
}

void dump_transcript(const std::string& file, const std::vector<operation>& ops, const transcript& t) {
  std::ofstream out(file);
  for (std::size_t i = 0; i < t.size() && i < ops.size(); ++i) {
    out << "#" << i << " " << describe(ops[i]) << "\n";
    for (const auto& item : split_items(t[i])) out << "    " << item << "\n";
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// What the tests check against the model: a hand-worked sequence, so that
// the reference itself is known to be right.
std::vector<operation> hand_written_sequence() {
  std::vector<operation> ops;
  const auto put = [&ops](std::string k, std::string v) {
    operation op;
    op.kind = op_kind::put;
    op.key = std::move(k);
    op.value = std::move(v);
    ops.push_back(op);
  };
  const auto simple = [&ops](op_kind kind, std::string k = "", int slot = -1) {
    operation op;
    op.kind = kind;
    op.key = std::move(k);
    op.snapshot_slot = slot;
    ops.push_back(op);
  };
  const auto scan = [&ops](scan_spec spec, int slot = -1) {
    operation op;
    op.kind = op_kind::scan;
    op.scan = std::move(spec);
    op.snapshot_slot = slot;
    ops.push_back(op);
  };
  put("a1", "x");
  put("a2", "y");
  put("b1", "z");
  simple(op_kind::take_snapshot, "", 0);
  simple(op_kind::erase, "a1");
  put("a2", "y2");
  simple(op_kind::get, "a1");     // #6
  simple(op_kind::get, "a1", 0);  // #7
  simple(op_kind::get, "a2", 0);  // #8
  scan_spec all;
  all.kind = scan_kind::forward_all;
  scan(all);  // #9
  scan_spec prefix_backward;
  prefix_backward.kind = scan_kind::backward_all;
  prefix_backward.prefix = "a";
  scan(prefix_backward, 0);  // #10
  scan_spec walk;
  walk.kind = scan_kind::walk;
  walk.target = "a15";
  walk.moves = "npnn";
  walk.upper_bound = "b1";
  scan(walk, 0);  // #11
  scan_spec seek_back;
  seek_back.kind = scan_kind::seek_for_prev_then_prev;
  seek_back.target = "b";
  seek_back.steps = 5;
  seek_back.lower_bound = "a2";
  scan(seek_back);  // #12
  simple(op_kind::reopen);
  operation batch;
  batch.kind = op_kind::write_batch;
  batch.batch = {{true, "c", "1"}, {false, "c", ""}, {true, "d", "2"}, {true, "d", "3"}};
  ops.push_back(batch);
  operation many;
  many.kind = op_kind::get_many;
  many.keys = {"c", "d", "a2", "a1"};
  ops.push_back(many);  // #15
  return ops;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metamorphic)

BOOST_AUTO_TEST_CASE(model_gives_hand_worked_results) {
  const auto t = run_model(hand_written_sequence());
  BOOST_TEST(t[6] == "not found");
  BOOST_TEST(t[7] == "\"x\"");
  BOOST_TEST(t[8] == "\"y\"");
  BOOST_TEST(t[9] == "\"a2\"=\"y2\"\n\"b1\"=\"z\"\n(end)");
  BOOST_TEST(t[10] == "\"a2\"=\"y\"\n\"a1\"=\"x\"\n(end)");
  BOOST_TEST(t[11] == "\"a2\"=\"y\"\n(end)");  // upper bound b1 hides b1
  BOOST_TEST(t[12] == "\"a2\"=\"y2\"\n(end)");
  BOOST_TEST(t[15] == "not found\n\"3\"\n\"y2\"\nnot found");

  // And the db agrees on it.
  testing::temp_dir dir;
  boost::asio::io_context ctx;
  db_runner runner(dir.path() + "/db", options{});
  const transcript actual = testing::run(ctx, runner.run(hand_written_sequence()));
  BOOST_TEST(actual == t, "the db differs from the model on the hand-worked sequence");
}

// Found by the metamorphic runs (under every option set; fixed in
// db_iterator::seek_for_prev): with a prefix and an upper bound beyond the
// prefix's keys, seek_for_prev at or past the upper bound must still land
// on the prefix's last key (as seek_to_last does).
BOOST_AUTO_TEST_CASE(seek_for_prev_past_upper_bound_lands_on_prefix) {
  std::vector<operation> ops;
  for (const auto& [k, v] : {std::pair{"a1", "x"}, std::pair{"a2", "y"}, std::pair{"b1", "z"}}) {
    operation put;
    put.kind = op_kind::put;
    put.key = k;
    put.value = v;
    ops.push_back(put);
  }
  operation scan;
  scan.kind = op_kind::scan;
  scan.scan.kind = scan_kind::seek_for_prev_then_prev;
  scan.scan.prefix = "a";
  scan.scan.upper_bound = "c";
  scan.scan.target = "d";
  scan.scan.steps = 3;
  ops.push_back(scan);  // #3: from the memtable
  operation flush;
  flush.kind = op_kind::flush;
  ops.push_back(flush);
  ops.push_back(scan);  // #5: from a table
  const auto expected = run_model(ops);
  BOOST_TEST(expected[3] == "\"a2\"=\"y\"\n\"a1\"=\"x\"\n(end)");

  testing::temp_dir dir;
  boost::asio::io_context ctx;
  db_runner runner(dir.path() + "/db", options{});
  const transcript actual = testing::run(ctx, runner.run(ops));
  for (const std::size_t i : {std::size_t{3}, std::size_t{5}}) {
    BOOST_TEST(actual[i] == expected[i], "op #" << i << ": " << describe(ops[i]) << "\n"
                                                << explain_difference(expected[i], actual[i]));
  }
}

BOOST_AUTO_TEST_CASE(generator_is_reproducible_and_covers_every_operation) {
  for (std::uint64_t seed = 1; seed <= default_seed_count; ++seed) {
    const auto ops = generate_operations(seed, default_ops);
    const auto again = generate_operations(seed, default_ops);
    const auto other = generate_operations(seed + 1000, default_ops);
    std::map<op_kind, std::size_t> kinds;
    std::set<scan_kind> scans;
    std::size_t snapshot_reads = 0, repeated_batch_keys = 0, empty_values = 0, large_values = 0, bounded_scans = 0,
                prefix_scans = 0, differing = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const auto& op = ops[i];
      if (describe(op) != describe(again[i])) ++differing;
      ++kinds[op.kind];
      if (op.kind == op_kind::scan) {
        scans.insert(op.scan.kind);
        if (op.scan.lower_bound || op.scan.upper_bound) ++bounded_scans;
        if (op.scan.prefix) ++prefix_scans;
      }
      if ((op.kind == op_kind::get || op.kind == op_kind::get_many || op.kind == op_kind::scan) &&
          op.snapshot_slot >= 0) {
        ++snapshot_reads;
      }
      if (op.kind == op_kind::put) {
        if (op.value.empty()) ++empty_values;
        if (op.value.size() >= 2048) ++large_values;
      }
      std::set<std::string> batch_keys;
      for (const auto& e : op.batch) {
        if (!batch_keys.insert(e.key).second) ++repeated_batch_keys;
      }
    }
    BOOST_TEST(differing == 0u, "seed " << seed << ": the same seed gave a different sequence");
    std::size_t same_as_other_seed = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) same_as_other_seed += describe(ops[i]) == describe(other[i]) ? 1 : 0;
    BOOST_TEST(same_as_other_seed < ops.size() / 2, "seed " << seed << ": another seed gave nearly the same sequence");
    BOOST_TEST(kinds.size() == static_cast<std::size_t>(op_kind_count), "seed " << seed << ": some kinds missing");
    BOOST_TEST(kinds[op_kind::reopen] >= 5u);
    BOOST_TEST(scans.size() == 5u);
    BOOST_TEST(snapshot_reads >= 20u);
    BOOST_TEST(repeated_batch_keys >= 5u);
    BOOST_TEST(empty_values >= 5u);
    BOOST_TEST(large_values >= 5u);
    BOOST_TEST(bounded_scans >= 20u);
    BOOST_TEST(prefix_scans >= 10u);
  }
}

BOOST_AUTO_TEST_CASE(db_matches_model_under_every_option_set) {
  const run_config config = config_from_environment();
  std::vector<option_set> sets;
  for (auto& s : all_option_sets()) {
    if (!config.only_option_set || *config.only_option_set == s.name) sets.push_back(std::move(s));
  }
  BOOST_REQUIRE_MESSAGE(!sets.empty(), "no option set is named " << config.only_option_set.value_or(""));

  std::vector<run_activity> activity(sets.size());
  std::vector<double> seconds(sets.size(), 0.0);
  std::size_t mismatches = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const std::uint64_t seed : config.seeds) {
    const auto ops = generate_operations(seed, config.ops);
    const transcript expected = run_model(ops);
    struct mismatch {
      std::size_t index;
      std::string actual;
      std::string report;
      std::vector<std::string> also_in;
    };
    std::vector<mismatch> seed_mismatches;
    for (std::size_t s = 0; s < sets.size(); ++s) {
      const auto& set = sets[s];
      const auto set_start = std::chrono::steady_clock::now();
      testing::temp_dir dir;
      boost::asio::io_context ctx;
      db_runner runner(dir.path() + "/db", set.opts);
      const transcript actual = testing::run(ctx, runner.run(ops));
      seconds[s] += seconds_since(set_start);
      activity[s].add(runner.activity());

      const auto difference = first_difference(expected, actual);
      if (!difference) continue;
      ++mismatches;
      const std::string& got = *difference < actual.size() ? actual[*difference] : end_item;
      bool same_as_earlier = false;
      for (auto& m : seed_mismatches) {
        if (m.index == *difference && m.actual == got) {
          m.also_in.push_back(set.name);
          same_as_earlier = true;
        }
      }
      if (!same_as_earlier) {
        seed_mismatches.push_back({.index = *difference,
                                   .actual = got,
                                   .report = mismatch_report(seed, set, ops, expected, actual, *difference),
                                   .also_in = {}});
      }
      if (config.dump_dir) {
        const std::string base = *config.dump_dir + "/seed" + std::to_string(seed);
        dump_transcript(base + "-model.txt", ops, expected);
        dump_transcript(base + "-" + set.name + ".txt", ops, actual);
      }
    }
    // One report per distinct difference: the same one under every option
    // set points at the read path or the model, not at the layout.
    for (const auto& m : seed_mismatches) {
      std::string also;
      for (const auto& name : m.also_in) also += (also.empty() ? "" : ", ") + name;
      BOOST_ERROR(m.report << (also.empty() ? "" : "  the same difference under: " + also + "\n"));
    }
  }

  std::cout << "metamorphic: " << config.seeds.size() << " seeds x " << config.ops << " ops x " << sets.size()
            << " option sets in " << seconds_since(start) << " s, " << mismatches << " mismatching runs\n";
  for (std::size_t s = 0; s < sets.size(); ++s) {
    std::cout << "  " << sets[s].name << " (" << seconds[s] << " s): " << activity[s].summary() << "\n";
  }

  // The options must have made things happen (summed over the seeds: one
  // seed may not fill a medium memtable). Runs smaller than the default
  // (fewer seeds or operations, e.g. a replay) skip this.
  if (config.ops < default_ops || config.seeds.size() < default_seed_count) return;
  for (std::size_t s = 0; s < sets.size(); ++s) {
    const auto& want = sets[s].expected;
    const auto& got = activity[s];
    const std::string& name = sets[s].name;
    if (want.automatic_flushes) BOOST_TEST(got.automatic_flushes > 0u, name << ": no background flush");
    if (want.automatic_compactions) BOOST_TEST(got.automatic_compactions > 0u, name << ": no background compaction");
    if (want.subcompactions) BOOST_TEST(got.subcompactions > 0u, name << ": no subcompaction");
    if (want.bloom_useful) BOOST_TEST(got.bloom_useful > 0u, name << ": the bloom filters never answered");
    if (want.block_cache_misses) BOOST_TEST(got.block_cache_misses > 0u, name << ": no block cache miss");
    BOOST_TEST(got.deepest_level >= want.min_deepest_level,
               name << ": data never reached level " << want.min_deepest_level);
    BOOST_TEST(got.reopens > 0u, name << ": never reopened");
    BOOST_TEST(got.flushes > 0u, name << ": never flushed");
    BOOST_TEST(got.compactions > 0u, name << ": never compacted");
  }
}

BOOST_AUTO_TEST_SUITE_END()
