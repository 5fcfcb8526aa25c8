// tests/crash/verifier.cpp — the parent's check after each kill (see
// verifier.hpp). The db is read first (get, get_many, both scan
// directions) and closed; the oracle is compared afterwards, so a failure
// message can name every disagreeing key with what was expected and found.
#include "verifier.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../unit/run_awaitable.hpp"
#include "value_format.hpp"

namespace strata::crash {

namespace asio = boost::asio;

namespace {

constexpr std::size_t max_listed_failures = 12;

using entries = std::vector<std::pair<std::string, std::string>>;

void fail(verify_outcome& out, std::string what) {
  if (out.failures.size() < max_listed_failures) out.failures.push_back(std::move(what));
}

std::string describe_state(std::uint32_t version, bool erased) {
  if (version == 0) return "never written";
  return "version " + std::to_string(version) + (erased ? " (erased)" : "");
}

std::string describe_expected(const key_state& s) {
  std::string d = describe_state(s.committed, s.committed_erased);
  if (s.pending) d += " or, in flight at the kill, " + describe_state(s.issued, s.pending_erased);
  return d;
}

// Everything the db answers, read with the db open.
struct db_contents {
  std::vector<std::optional<std::string>> by_get;
  entries forward, backward;
};

asio::awaitable<void> read_everything(const std::string& dir, const options& opts, std::uint32_t num_keys,
                                      db_contents& c, verify_outcome& out) {
  const auto ex = co_await asio::this_coro::executor;
  auto opened = co_await db::open(ex, dir, opts, asio::as_tuple(asio::use_awaitable));
  auto& [ec, d] = opened;
  if (ec) {
    fail(out, "db::open after the kill failed: " + ec.message() + ": " + last_open_error());
    co_return;
  }
  out.recovered_records = d->stats().recovered_records;

  std::vector<std::string> names;
  for (std::uint32_t k = 0; k < num_keys; ++k) {
    names.push_back(key_name(k));
    auto v = co_await d->get(names.back());
    c.by_get.push_back(std::move(v));
  }
  const auto many = co_await d->get_many(names);
  for (std::uint32_t k = 0; k < num_keys; ++k) {
    if (k >= many.size() || many[k] != c.by_get[k]) {
      fail(out, "get_many and get disagree on " + names[k] + ": get found " + describe_value(c.by_get[k]) +
                    ", get_many " + (k < many.size() ? describe_value(many[k]) : std::string("nothing")));
    }
  }

  {
    auto it = d->scan();
    co_await it->seek_to_first();
    while (it->valid()) {
      c.forward.emplace_back(std::string(it->key()), std::string(it->value()));
      co_await it->next();
    }
    if (it->error()) fail(out, "forward scan failed: " + it->message());
  }
  {
    auto it = d->scan();
    co_await it->seek_to_last();
    while (it->valid()) {
      c.backward.emplace_back(std::string(it->key()), std::string(it->value()));
      co_await it->prev();
    }
    if (it->error()) fail(out, "backward scan failed: " + it->message());
  }
  co_await d->close();
}

// Scans agree with the point reads: same keys, same values, in order.
void check_scans(const db_contents& c, verify_outcome& out) {
  std::vector<std::optional<std::string>> by_scan(c.by_get.size());
  std::optional<std::string> previous;
  for (const auto& [key, value] : c.forward) {
    if (previous && !(*previous < key)) fail(out, "forward scan not strictly ascending: " + *previous + ", " + key);
    previous = key;
    const auto k = parse_key(key);
    if (!k || *k >= c.by_get.size()) {
      fail(out, "forward scan returned a key never written: \"" + key + "\"");
      continue;
    }
    by_scan[*k] = value;
  }
  for (std::size_t k = 0; k < c.by_get.size(); ++k) {
    if (by_scan[k] != c.by_get[k]) {
      fail(out, "forward scan and get disagree on " + key_name(static_cast<std::uint32_t>(k)) + ": get found " +
                    describe_value(c.by_get[k]) + ", the scan " + describe_value(by_scan[k]));
    }
  }
  entries reversed(c.backward.rbegin(), c.backward.rend());
  if (reversed != c.forward) {
    std::size_t i = 0;
    while (i < reversed.size() && i < c.forward.size() && reversed[i] == c.forward[i]) ++i;
    fail(out, "backward scan (" + std::to_string(c.backward.size()) + " entries) differs from the forward scan (" +
                  std::to_string(c.forward.size()) + " entries) at entry " + std::to_string(i) +
                  (i < reversed.size() ? " backward key " + reversed[i].first : std::string()) +
                  (i < c.forward.size() ? " forward key " + c.forward[i].first : std::string()));
  }
}

// Every key holds its committed version or its in-flight one.
void check_keys(const expected_state& state, const db_contents& c, verify_outcome& out) {
  for (std::uint32_t k = 0; k < c.by_get.size(); ++k) {
    const key_state s = state.get(k);
    ++out.keys_checked;
    if (c.by_get[k]) ++out.live_keys;
    const bool at_committed = holds_state(c.by_get[k], k, s.committed, s.committed_erased);
    const bool at_pending = s.pending && holds_state(c.by_get[k], k, s.issued, s.pending_erased);
    if (!at_committed && !at_pending) {
      fail(out, key_name(k) + ": expected " + describe_expected(s) + ", found " + describe_value(c.by_get[k]));
    }
  }
}

// A batch in flight at the kill: all of its writes or none.
void check_batches(const expected_state& state, const db_contents& c, verify_outcome& out) {
  state_header& h = state.header();
  for (std::uint32_t w = 0; w < state.workers(); ++w) {
    batch_record& b = h.batches[w];
    if (load(b.active) == 0) continue;
    ++out.batches_in_flight;
    const auto count = load(b.count);
    std::string landed, missing;
    for (std::size_t i = 0; i < count && i < max_batch_ops; ++i) {
      const auto k = static_cast<std::uint32_t>(load(b.ops[i].key));
      const auto version = static_cast<std::uint32_t>(load(b.ops[i].version));
      const bool erased = load(b.ops[i].erased) != 0;
      if (k >= c.by_get.size()) {
        fail(out, "batch record of worker " + std::to_string(w) + " names key index " + std::to_string(k));
        continue;
      }
      const key_state s = state.get(k);
      if (s.issued != version) {
        fail(out, "batch record of worker " + std::to_string(w) + " disagrees with the slot of " + key_name(k));
        continue;
      }
      const bool is_new = holds_state(c.by_get[k], k, version, erased);
      // Not yet committed: the old state is the committed one. Committed
      // already: the per-key check has made sure the db holds the new one.
      const bool is_old = s.pending && holds_state(c.by_get[k], k, s.committed, s.committed_erased);
      if (is_new && !is_old) landed += " " + key_name(k);
      if (is_old && !is_new) missing += " " + key_name(k);
    }
    if (!landed.empty() && !missing.empty()) {
      fail(out, "batch of worker " + std::to_string(w) + " torn by the kill: landed" + landed + "; missing" + missing);
    }
  }
}

// The next round starts exact: in-flight writes become what was found.
void resolve(const expected_state& state, const db_contents& c, verify_outcome& out) {
  for (std::uint32_t k = 0; k < c.by_get.size(); ++k) {
    key_state s = state.get(k);
    if (!s.pending) continue;
    if (!holds_state(c.by_get[k], k, s.committed, s.committed_erased)) {
      s.committed = s.issued;
      s.committed_erased = s.pending_erased;
      ++out.pending_found_new;
    } else {
      ++out.pending_found_old;  // (or both: an erase of an absent key; either reads the same)
    }
    s.pending = false;
    state.set(k, s);
  }
  for (std::uint32_t w = 0; w < state.workers(); ++w) store(state.header().batches[w].active, 0);
}

}  // namespace

verify_outcome verify_and_resolve(const expected_state& state, const std::string& dir, const options& opts) {
  verify_outcome out;
  db_contents contents;
  asio::io_context ctx;
  try {
    testing::run(ctx, read_everything(dir, opts, state.num_keys(), contents, out));
  } catch (const std::exception& e) {
    fail(out, std::string("reading the db after the kill failed: ") + e.what());
  }
  if (!out.ok()) return out;
  check_scans(contents, out);
  check_keys(state, contents, out);
  check_batches(state, contents, out);
  if (out.ok()) resolve(state, contents, out);
  return out;
}

}  // namespace strata::crash
