// tests/linearizability/linearizability_test.cpp — the linearizability
// checker on hand-made, generated and exhaustively cross-checked histories
// (suite linearizability_checker), and strata::db checked for
// linearizability (suite linearizability_db): put, erase, two-key batches,
// get, get at a fresh snapshot, get_many and scan from dozens of coroutines
// on two threads, with flushes and compactions running; plus a deliberately
// broken read path (stale snapshots) that the checker must reject.
//
// Rejections asserted here are certain, not probabilistic: each rests on a
// "stale read witness" found by a simple independent scan (a get that saw a
// uniquely written value although another write ran entirely between that
// value's put and the get), which no linearization can explain.
#define BOOST_TEST_MODULE strata_linearizability
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../unit/db_test_support.hpp"
#include "../unit/temp_dir.hpp"
#include "history.hpp"
#include "linearizability_checker.hpp"
#include "strata/db.hpp"

namespace asio = boost::asio;
namespace lin = strata::testing::linearizability;
using lin::op_kind;
using lin::operation;

namespace {

operation put_op(std::string key, std::string value, std::uint64_t invoke, std::uint64_t response) {
  return {std::move(key), op_kind::put, std::move(value), invoke, response};
}
operation erase_op(std::string key, std::uint64_t invoke, std::uint64_t response) {
  return {std::move(key), op_kind::erase, std::nullopt, invoke, response};
}
operation get_op(std::string key, std::optional<std::string> result, std::uint64_t invoke, std::uint64_t response) {
  return {std::move(key), op_kind::get, std::move(result), invoke, response};
}

bool writes(const operation& op) { return op.kind != op_kind::get; }

// The independent witness of a certain violation (see the file comment):
// get G returned v, written by exactly one put W, and some write P on the
// same key that leaves another value (an erase, or a put of another value)
// ran entirely after W and entirely before G. Any linearization puts W
// before P before G, so G cannot see W's value.
std::optional<std::string> find_stale_read(const std::vector<operation>& history) {
  std::map<std::string, std::vector<const operation*>> by_key;
  for (const operation& op : history) by_key[op.key].push_back(&op);
  for (const auto& [key, ops] : by_key) {
    std::map<std::string, std::vector<const operation*>> writers;
    for (const operation* op : ops) {
      if (op->kind == op_kind::put) writers[*op->value].push_back(op);
    }
    for (const operation* g : ops) {
      if (g->kind != op_kind::get || !g->value || g->response == lin::never_returned) continue;
      auto w = writers.find(*g->value);
      if (w == writers.end() || w->second.size() != 1 || w->second[0]->response == lin::never_returned) continue;
      const operation* put = w->second[0];
      for (const operation* p : ops) {
        if (p != put && writes(*p) && p->value != g->value && p->invoke > put->response && p->response < g->invoke) {
          return lin::describe(*g) + " although " + lin::describe(*p) + " ran entirely between " + lin::describe(*put) +
                 " and it";
        }
      }
    }
  }
  return std::nullopt;
}

// A history that is linearizable by construction: a sequential execution
// of random ops on `keys` keys (unique values), op i taking effect at time
// 100 * i, each stretched to a random interval around that point (mostly a
// few slots wide, sometimes 40) so that many overlap.
std::vector<operation> random_linearizable_history(std::uint32_t seed, int keys, int ops) {
  std::mt19937 rng(seed);
  std::map<std::string, std::optional<std::string>> state;
  std::vector<operation> history;
  constexpr std::uint64_t slot = 100, origin = 100 * slot;
  for (int i = 0; i < ops; ++i) {
    const std::string key = "k" + std::to_string(rng() % static_cast<unsigned>(keys));
    const std::uint64_t at = origin + slot * static_cast<std::uint64_t>(i);
    const std::uint64_t reach = rng() % 50 == 0 ? 40 * slot : 4 * slot;
    const std::uint64_t invoke = at - rng() % reach, response = at + rng() % reach;
    const unsigned dice = rng() % 100;
    if (dice < 35) {
      state[key] = "v" + std::to_string(i);
      history.push_back(put_op(key, *state[key], invoke, response));
    } else if (dice < 45) {
      state[key].reset();
      history.push_back(erase_op(key, invoke, response));
    } else {
      history.push_back(get_op(key, state[key], invoke, response));
    }
  }
  std::shuffle(history.begin(), history.end(), rng);  // the checker must not rely on recording order
  return history;
}

// Makes one get in the second half of a generated history return a value
// that is certainly stale (a stale read witness); returns its index.
std::optional<std::size_t> plant_stale_read(std::vector<operation>& history) {
  std::vector<std::size_t> order(history.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return history[a].invoke < history[b].invoke; });
  for (std::size_t n = order.size() / 2; n < order.size(); ++n) {
    operation& g = history[order[n]];
    if (g.kind != op_kind::get) continue;
    for (const operation& p : history) {
      if (p.key != g.key || !writes(p) || p.response >= g.invoke) continue;
      for (const operation& w : history) {
        if (w.key == g.key && w.kind == op_kind::put && w.response < p.invoke && w.value != g.value) {
          g.value = w.value;
          return order[n];
        }
      }
    }
  }
  return std::nullopt;
}

// Exhaustive search (every order that respects real time), independent of
// the checker, for cross-checking it on tiny single-key histories.
bool brute_force_linearizable(const std::vector<operation>& ops, std::vector<bool>& placed,
                              const std::optional<std::string>& state) {
  bool all_placed = true;
  for (std::size_t i = 0; i < ops.size(); ++i) all_placed &= placed[i] || ops[i].response == lin::never_returned;
  if (all_placed) return true;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (placed[i]) continue;
    bool must_wait = false;  // for an unplaced op that responded before this one was invoked
    for (std::size_t j = 0; j < ops.size(); ++j) must_wait |= !placed[j] && ops[j].response < ops[i].invoke;
    if (must_wait) continue;
    if (ops[i].kind == op_kind::get && ops[i].value != state) continue;
    placed[i] = true;
    const auto next = ops[i].kind == op_kind::get ? state : ops[i].value;
    if (brute_force_linearizable(ops, placed, next)) return true;
    placed[i] = false;
  }
  return false;
}

bool brute_force_linearizable(const std::vector<operation>& ops) {
  std::vector<bool> placed(ops.size(), false);
  return brute_force_linearizable(ops, placed, std::nullopt);
}

// A tiny random single-key history, linearizable or not: short time span
// (much overlap), some ops that never returned, and either few distinct
// values (repeated writes) or, like the db tests, a unique value per put.
std::vector<operation> random_tiny_history(std::mt19937& rng, bool unique_values) {
  const int n = 1 + static_cast<int>(rng() % 9);
  const auto value = [&]() -> std::optional<std::string> {
    const unsigned v = rng() % (unique_values ? static_cast<unsigned>(n) + 1 : 4u);
    if (v == 0) return std::nullopt;
    return std::string(1, static_cast<char>('a' + v));
  };
  std::vector<operation> h;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t invoke = rng() % 16;
    const std::uint64_t response = rng() % 12 == 0 ? lin::never_returned : invoke + rng() % 6;
    const unsigned dice = rng() % 10;
    if (dice < 4) {
      auto v = unique_values ? std::optional(std::string(1, static_cast<char>('b' + i))) : value();
      h.push_back(put_op("k", v ? *v : "a", invoke, response));
    } else if (dice < 5) {
      h.push_back(erase_op("k", invoke, response));
    } else {
      h.push_back(get_op("k", value(), invoke, response));
    }
  }
  return h;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(linearizability_checker)

BOOST_AUTO_TEST_CASE(sequential_history_is_accepted) {
  const std::vector<operation> h = {
      get_op("a", std::nullopt, 1, 2), put_op("a", "1", 3, 4),   get_op("a", "1", 5, 6),
      put_op("b", "x", 7, 8),          erase_op("a", 9, 10),     get_op("a", std::nullopt, 11, 12),
      put_op("a", "2", 13, 14),        get_op("a", "2", 15, 16), get_op("b", "x", 17, 18),
  };
  const auto r = lin::check(h);
  BOOST_TEST(r.linearizable(), r.explanation);
  BOOST_TEST(r.operations == h.size());
  BOOST_TEST(r.keys == 2u);
}

BOOST_AUTO_TEST_CASE(a_read_overlapping_two_writes_may_see_either) {
  for (const char* seen : {"x", "y"}) {
    const std::vector<operation> h = {put_op("k", "x", 1, 10), put_op("k", "y", 2, 11), get_op("k", seen, 3, 12),
                                      get_op("k", seen, 13, 14)};
    const auto r = lin::check(h);
    BOOST_TEST(r.linearizable(), seen << ": " << r.explanation);
  }
  // Once both writes are done, the first read fixes their order for good.
  const std::vector<operation> h = {put_op("k", "x", 1, 10), put_op("k", "y", 2, 11), get_op("k", "y", 12, 13),
                                    get_op("k", "x", 14, 15)};
  BOOST_TEST(lin::check(h).outcome == lin::verdict::not_linearizable);
}

BOOST_AUTO_TEST_CASE(a_stale_read_is_rejected) {
  const std::vector<operation> h = {put_op("k", "old", 1, 2), put_op("k", "new", 3, 4), get_op("k", "old", 5, 6)};
  const auto r = lin::check(h);
  BOOST_TEST(r.outcome == lin::verdict::not_linearizable);
  BOOST_TEST_MESSAGE(r.explanation);
  BOOST_TEST(r.explanation.find("get(\"k\") -> \"old\" @[5,6]") != std::string::npos, r.explanation);
  // After put(old) the get of "old" must come before any write: put(new),
  // which responds before that get starts, cannot go.
  BOOST_TEST(r.explanation.find("linearized at most 1 of 3 ops") != std::string::npos, r.explanation);
  BOOST_TEST(r.explanation.find("put(\"k\", \"new\") @[3,4] must take effect") != std::string::npos, r.explanation);
  BOOST_TEST(find_stale_read(h).has_value());
}

BOOST_AUTO_TEST_CASE(a_read_of_a_never_written_value_is_rejected) {
  const std::vector<operation> h = {put_op("k", "1", 1, 2), get_op("k", "2", 3, 4)};
  const auto r = lin::check(h);
  BOOST_TEST(r.outcome == lin::verdict::not_linearizable);
  BOOST_TEST(r.explanation.find("no put on this key wrote") != std::string::npos, r.explanation);
  // A value from another key does not count either.
  const std::vector<operation> other = {put_op("j", "2", 1, 2), get_op("k", "2", 3, 4)};
  BOOST_TEST(!lin::check(other).linearizable());
}

BOOST_AUTO_TEST_CASE(a_read_from_the_future_is_rejected) {
  const std::vector<operation> h = {get_op("k", "1", 1, 2), put_op("k", "1", 3, 4)};
  const auto r = lin::check(h);
  BOOST_TEST(r.outcome == lin::verdict::not_linearizable);
  BOOST_TEST(r.explanation.find("invoked after the get had returned") != std::string::npos, r.explanation);
}

BOOST_AUTO_TEST_CASE(absent_after_a_completed_put_is_rejected) {
  const std::vector<operation> h = {put_op("k", "1", 1, 2), get_op("k", std::nullopt, 3, 4)};
  BOOST_TEST(lin::check(h).outcome == lin::verdict::not_linearizable);
  // ... but fine while the put is still running, and after an erase.
  BOOST_TEST(lin::check({put_op("k", "1", 1, 4), get_op("k", std::nullopt, 2, 3)}).linearizable());
  BOOST_TEST(lin::check({put_op("k", "1", 1, 2), erase_op("k", 3, 4), get_op("k", std::nullopt, 5, 6)}).linearizable());
}

BOOST_AUTO_TEST_CASE(reads_in_an_inconsistent_order_are_rejected) {
  // Both reads overlap the write of "new"; the first sees it, the second,
  // which starts after the first returned, sees the value it replaced.
  const std::vector<operation> h = {put_op("k", "old", 1, 2), put_op("k", "new", 3, 20), get_op("k", "new", 4, 5),
                                    get_op("k", "old", 6, 7)};
  const auto r = lin::check(h);
  BOOST_TEST(r.outcome == lin::verdict::not_linearizable);
  BOOST_TEST_MESSAGE(r.explanation);
  // The same reads in the other order are fine.
  const std::vector<operation> ok = {put_op("k", "old", 1, 2), put_op("k", "new", 3, 20), get_op("k", "old", 4, 5),
                                     get_op("k", "new", 6, 7)};
  BOOST_TEST(lin::check(ok).linearizable());
  // The search has no shortcut for this one: no write ran entirely between.
  BOOST_TEST(!find_stale_read(h).has_value());
}

BOOST_AUTO_TEST_CASE(a_write_that_never_returned_may_or_may_not_have_taken_effect) {
  const auto with = [](std::vector<operation> reads) {
    std::vector<operation> h = {put_op("k", "1", 1, 2), put_op("k", "2", 3, lin::never_returned)};
    h.insert(h.end(), reads.begin(), reads.end());
    h.push_back(get_op("k", "3", 30, lin::never_returned));  // an unfinished get constrains nothing
    return lin::check(h);
  };
  BOOST_TEST(with({get_op("k", "1", 5, 6), get_op("k", "1", 7, 8)}).linearizable());
  BOOST_TEST(with({get_op("k", "1", 5, 6), get_op("k", "2", 7, 8)}).linearizable());
  // Once seen, it has taken effect for good.
  BOOST_TEST(!with({get_op("k", "2", 5, 6), get_op("k", "1", 7, 8)}).linearizable());
}

BOOST_AUTO_TEST_CASE(a_generated_history_is_accepted_and_its_mutation_rejected) {
  struct shape {
    int keys, ops;
  };
  for (const shape s : {shape{1, 4000}, shape{6, 6000}}) {
    auto h = random_linearizable_history(static_cast<std::uint32_t>(s.ops + s.keys), s.keys, s.ops);
    auto start = std::chrono::steady_clock::now();
    const auto ok = lin::check(h);
    BOOST_TEST_MESSAGE(s.keys << " keys, " << ok.operations << " ops: " << ok.states_explored << " states, "
                              << seconds_since(start) << " s");
    BOOST_TEST(ok.linearizable(), ok.explanation);
    BOOST_TEST(ok.operations == h.size());
    BOOST_TEST(!find_stale_read(h).has_value());

    const auto planted = plant_stale_read(h);
    BOOST_REQUIRE(planted.has_value());
    BOOST_REQUIRE(find_stale_read(h).has_value());
    start = std::chrono::steady_clock::now();
    const auto bad = lin::check(h);
    BOOST_TEST_MESSAGE("mutated: " << bad.states_explored << " states, " << seconds_since(start) << " s\n"
                                   << bad.explanation);
    BOOST_TEST(bad.outcome == lin::verdict::not_linearizable);
    BOOST_TEST(bad.explanation.find("key \"" + h[*planted].key + "\"") == 0u, bad.explanation);
  }
}

BOOST_AUTO_TEST_CASE(agrees_with_exhaustive_search_on_tiny_histories) {
  // The search's pruning (memoization, unobserved values, forced moves,
  // symmetry) must never change a verdict. (Each, broken on purpose, fails
  // this.)
  std::mt19937 rng(2024);
  int accepted = 0, rejected = 0, disagreements = 0;
  std::string first_disagreement;
  for (int i = 0; i < 50000; ++i) {
    const auto h = random_tiny_history(rng, i % 2 == 0);
    const bool expected = brute_force_linearizable(h);
    const auto r = lin::check(h);
    (expected ? accepted : rejected)++;
    if (r.linearizable() != expected && disagreements++ == 0) {
      for (const auto& op : h) first_disagreement += lin::describe(op) + "\n";
    }
  }
  BOOST_TEST_MESSAGE(accepted << " accepted, " << rejected << " rejected");
  BOOST_TEST(disagreements == 0, disagreements << " disagreements; the first:\n" << first_disagreement);
  // Both verdicts were exercised often.
  BOOST_TEST(accepted > 5000);
  BOOST_TEST(rejected > 5000);
}

BOOST_AUTO_TEST_CASE(a_state_budget_gives_unknown_rather_than_a_wrong_verdict) {
  const auto h = random_linearizable_history(7, 1, 2000);
  lin::check_options tight;
  tight.max_states_per_key = 10;
  const auto r = lin::check(h, tight);
  BOOST_TEST(r.outcome == lin::verdict::unknown);
  BOOST_TEST(r.explanation.find("gave up") != std::string::npos, r.explanation);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// Under ThreadSanitizer everything runs ~5-10x slower: fewer ops.
#if defined(__SANITIZE_THREAD__)
constexpr bool thread_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool thread_sanitizer = true;
#else
constexpr bool thread_sanitizer = false;
#endif
#else
constexpr bool thread_sanitizer = false;
#endif

// Operations per client; STRATA_LINEARIZABILITY_OPS overrides.
int ops_per_client() {
  if (const char* env = std::getenv("STRATA_LINEARIZABILITY_OPS"); env != nullptr && std::atoi(env) > 0) {
    return std::atoi(env);
  }
  return thread_sanitizer ? 150 : 500;
}

constexpr int stale_snapshot_refresh_every = 40;  // reads per refresh in the broken variant

// What the clients of one run share. All of it is thread-safe: the
// io_context runs on two threads.
struct shared_run {
  std::shared_ptr<strata::db> db;
  std::vector<std::string> keys;
  bool stale_reads = false;
  lin::history_recorder recorder;

  std::mutex mutex;  // guards the rest
  std::shared_ptr<const strata::snapshot> stale_snapshot;
  int reads_since_refresh = 0;
  std::vector<std::string> errors;
  bool probe_witnessed = false;

  void fail(const std::string& what) {
    std::lock_guard lock(mutex);
    errors.push_back(what);
  }

  // The broken variant reads at a shared snapshot refreshed only every few
  // reads; the real one at the newest state.
  strata::read_options read_view() {
    strata::read_options ro;
    if (!stale_reads) return ro;
    std::lock_guard lock(mutex);
    if (!stale_snapshot || ++reads_since_refresh >= stale_snapshot_refresh_every) {
      stale_snapshot = db->snapshot();
      reads_since_refresh = 0;
    }
    ro.snapshot = stale_snapshot;
    return ro;
  }
};

// Unique across the run (client and counter), padded so that the small
// memtable fills and flushes often.
std::string unique_value(int client, int counter, const std::string& tag) {
  return "c" + std::to_string(client) + "." + std::to_string(counter) + tag + "." + std::string(80, 'v');
}

// A write recorded with its interval; one that failed is recorded as never
// returned (it may have taken effect).
asio::awaitable<void> timed_write(shared_run& run, strata::write_batch batch, std::vector<operation> effects,
                                  bool sync = false) {
  strata::write_options wo;
  wo.sync = sync;
  const std::uint64_t invoke = run.recorder.now();
  std::uint64_t response = lin::never_returned;
  try {
    co_await run.db->write(std::move(batch), wo);
    response = run.recorder.now();
  } catch (...) {
    for (operation& op : effects) run.recorder.record({op.key, op.kind, op.value, invoke, lin::never_returned});
    throw;
  }
  for (operation& op : effects) {
    op.invoke = invoke;
    op.response = response;
    run.recorder.record(std::move(op));
  }
}

asio::awaitable<std::optional<std::string>> timed_get(shared_run& run, const std::string& key,
                                                      strata::read_options ro) {
  const std::uint64_t invoke = run.recorder.now();
  auto result = co_await run.db->get(key, ro);
  const std::uint64_t response = run.recorder.now();
  run.recorder.record(get_op(key, result, invoke, response));
  co_return result;
}

asio::awaitable<void> timed_put(shared_run& run, const std::string& key, const std::string& value, bool sync = false) {
  strata::write_batch b;
  b.put(key, value);
  std::vector<operation> effects{put_op(key, value, 0, 0)};
  co_await timed_write(run, std::move(b), std::move(effects), sync);
}

// The broken variant's certain violation, built inside the random workload:
// put(a) completes, a snapshot is taken, put(b) completes, then a get at
// that snapshot starts. It returns a (unless another client's write landed
// between put(a) and the snapshot: then try again), which no linearization
// allows, whatever else runs meanwhile.
asio::awaitable<void> stale_read_probe(shared_run& run, int client) {
  const std::string& key = run.keys[0];
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string before = unique_value(client, attempt, "probe-a");
    co_await timed_put(run, key, before);
    strata::read_options at_snapshot;
    at_snapshot.snapshot = run.db->snapshot();
    co_await timed_put(run, key, unique_value(client, attempt, "probe-b"));
    auto seen = co_await timed_get(run, key, at_snapshot);
    if (seen == before) {
      std::lock_guard lock(run.mutex);
      run.probe_witnessed = true;
      co_return;
    }
  }
}

// get_many reads all its keys at one snapshot: each result is a get taking
// effect at one point within the call.
asio::awaitable<void> timed_get_many(shared_run& run, std::vector<std::string> keys) {
  strata::read_options ro = run.read_view();
  const std::uint64_t invoke = run.recorder.now();
  auto results = co_await run.db->get_many(keys, ro);
  const std::uint64_t response = run.recorder.now();
  for (std::size_t k = 0; k < keys.size(); ++k) run.recorder.record(get_op(keys[k], results[k], invoke, response));
}

// A scan is a view of the whole db at one point (when it was made, within
// the call): a get of every key, present or not.
asio::awaitable<void> timed_scan(shared_run& run) {
  strata::read_options ro = run.read_view();
  const std::uint64_t invoke = run.recorder.now();
  auto it = run.db->scan(ro);
  std::map<std::string, std::string> seen;
  co_await it->seek_to_first();
  while (it->valid()) {
    seen.emplace(std::string(it->key()), std::string(it->value()));
    co_await it->next();
  }
  if (it->error()) throw std::runtime_error("scan: " + it->message());
  const std::uint64_t response = run.recorder.now();
  it.reset();
  for (const std::string& key : run.keys) {
    auto found = seen.find(key);
    run.recorder.record(
        get_op(key, found == seen.end() ? std::nullopt : std::optional(found->second), invoke, response));
  }
}

// A get at a snapshot taken within the call: as linearizable as a plain
// get if snapshot() pins every acknowledged write. (The broken variant
// reads at its stale snapshot instead.)
asio::awaitable<void> timed_get_at_new_snapshot(shared_run& run, const std::string& key) {
  strata::read_options ro = run.read_view();
  const std::uint64_t invoke = run.recorder.now();
  if (!ro.snapshot) ro.snapshot = run.db->snapshot();
  auto result = co_await run.db->get(key, ro);
  const std::uint64_t response = run.recorder.now();
  run.recorder.record(get_op(key, result, invoke, response));
}

// A batch on two keys: each key's part takes effect within the call.
asio::awaitable<void> timed_two_key_batch(shared_run& run, const std::string& key, const std::string& other,
                                          bool erase_other, const std::string& value) {
  strata::write_batch b;
  std::vector<operation> effects;
  b.put(key, value + "batch");
  effects.push_back(put_op(key, value + "batch", 0, 0));
  if (erase_other) {
    b.erase(other);
    effects.push_back(erase_op(other, 0, 0));
  } else {
    b.put(other, value + "batch2");
    effects.push_back(put_op(other, value + "batch2", 0, 0));
  }
  co_await timed_write(run, std::move(b), std::move(effects));
}

asio::awaitable<void> client(shared_run& run, int id, std::uint32_t seed, int ops) {
  std::mt19937 rng(seed);
  const auto pick_key = [&]() -> const std::string& { return run.keys[rng() % run.keys.size()]; };
  try {
    for (int i = 0; i < ops; ++i) {
      if (run.stale_reads && id == 0 && i == ops / 2) co_await stale_read_probe(run, id);
      const std::string& key = pick_key();
      const std::string value = unique_value(id, i, "");
      const unsigned dice = rng() % 100;
      if (dice < 28) {
        const bool sync = rng() % 32 == 0;  // a commit group that waits for fdatasync
        co_await timed_put(run, key, value, sync);
      } else if (dice < 36) {
        strata::write_batch b;
        b.erase(key);
        std::vector<operation> effects{erase_op(key, 0, 0)};
        co_await timed_write(run, std::move(b), std::move(effects));
      } else if (dice < 41) {
        const std::string& other = pick_key();
        const bool erase_other = rng() % 2 == 0;
        if (other != key) co_await timed_two_key_batch(run, key, other, erase_other, value);
      } else if (dice < 50) {
        std::vector<std::string> keys = run.keys;
        std::shuffle(keys.begin(), keys.end(), rng);
        keys.resize(2 + rng() % (keys.size() - 1));
        co_await timed_get_many(run, std::move(keys));
      } else if (dice < 53) {
        co_await timed_scan(run);
      } else if (dice < 61) {
        co_await timed_get_at_new_snapshot(run, key);
      } else {
        strata::read_options ro = run.read_view();
        co_await timed_get(run, key, ro);
      }
    }
  } catch (const std::exception& e) {
    run.fail("client " + std::to_string(id) + ": " + e.what());
  }
}

// One run: the db's configuration and the load on it.
struct workload {
  std::uint32_t seed;
  int clients;
  int keys;
  bool compress_tables = false;
  bool stale_reads = false;  // the broken variant
};

struct workload_result {
  std::vector<operation> history;
  std::vector<std::string> errors;
  bool probe_witnessed = false;
  strata::db_stats stats;
  double seconds = 0;
};

workload_result run_workload(const workload& load) {
  strata::testing::temp_dir dir;
  asio::io_context ctx;
  strata::options o;
  o.memtable_bytes = 16 << 10;  // many flushes (and so compactions) during the run
  o.level0_compaction_trigger = 2;
  o.max_bytes_for_level_base = 64 << 10;
  o.target_file_bytes = 16 << 10;
  o.compress_tables = load.compress_tables;
  o.block_cache_bytes = 256 << 10;
  o.max_concurrent_compactions = 2;
  shared_run run;
  run.db = strata::testing::open_db(ctx, dir.file("db"), o);
  for (int k = 0; k < load.keys; ++k) run.keys.push_back("key" + std::to_string(k));
  run.stale_reads = load.stale_reads;
  const auto start = std::chrono::steady_clock::now();
  for (int c = 0; c < load.clients; ++c) {
    asio::co_spawn(ctx, client(run, c, load.seed * 1000 + static_cast<std::uint32_t>(c), ops_per_client()),
                   asio::detached);
  }
  ctx.restart();
  std::thread second_thread([&] { ctx.run(); });
  ctx.run();
  second_thread.join();
  workload_result result;
  result.seconds = seconds_since(start);
  result.stats = run.db->stats();
  run.stale_snapshot.reset();
  strata::testing::close_db(ctx, run.db);
  result.history = run.recorder.history();
  result.errors = run.errors;
  result.probe_witnessed = run.probe_witnessed;
  return result;
}

std::string first_error(const workload_result& w) {
  return w.errors.empty() ? "" : std::to_string(w.errors.size()) + " clients failed; first: " + w.errors.front();
}

lin::check_options db_check_options() {
  lin::check_options o;
  o.max_states_per_key = 2'000'000;  // a verdict of unknown fails the tests instead of exhausting memory
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(linearizability_db)

BOOST_AUTO_TEST_CASE(concurrent_reads_and_writes_are_linearizable) {
  // Six keys or, for more contention per key, three; tables plain or lz4.
  const std::vector<workload> loads = {
      {.seed = 1, .clients = 48, .keys = 6},
      {.seed = 2, .clients = 64, .keys = 3},
      {.seed = 3, .clients = 48, .keys = 6, .compress_tables = true},
      {.seed = 4, .clients = 64, .keys = 3, .compress_tables = true},
  };
  for (const workload& load : loads) {
    const auto seed = load.seed;
    const auto w = run_workload(load);
    BOOST_TEST(w.errors.empty(), first_error(w));
    // The memtable is far smaller than what is written.
    BOOST_TEST(w.stats.flushes > 0u);
    const auto start = std::chrono::steady_clock::now();
    const auto r = lin::check(w.history, db_check_options());
    BOOST_TEST_MESSAGE("seed " << seed << ": " << r.operations << " ops on " << r.keys << " keys (at most "
                               << r.max_key_operations << " per key) in " << w.seconds << " s; checked in "
                               << seconds_since(start) << " s, " << r.states_explored << " states; " << w.stats.flushes
                               << " flushes, " << w.stats.compactions << " compactions");
    BOOST_TEST(r.linearizable(), "seed " << seed << ": " << r.explanation);
    BOOST_TEST(r.operations == w.history.size());
  }
}

BOOST_AUTO_TEST_CASE(reads_from_a_stale_snapshot_are_rejected) {
  const auto w = run_workload({.seed = 5, .clients = 48, .keys = 6, .stale_reads = true});
  BOOST_TEST(w.errors.empty(), first_error(w));
  // The probe built its certain violation into the history.
  BOOST_REQUIRE(w.probe_witnessed);
  const auto witness = find_stale_read(w.history);
  BOOST_REQUIRE(witness.has_value());
  BOOST_TEST_MESSAGE("witness: " << *witness);
  const auto start = std::chrono::steady_clock::now();
  const auto r = lin::check(w.history, db_check_options());
  BOOST_TEST_MESSAGE("stale variant: " << w.history.size() << " ops, checked in " << seconds_since(start) << " s, "
                                       << r.states_explored << " states\n"
                                       << r.explanation);
  BOOST_TEST(r.outcome == lin::verdict::not_linearizable);
}

BOOST_AUTO_TEST_SUITE_END()
