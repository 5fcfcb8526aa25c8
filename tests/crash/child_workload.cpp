// tests/crash/child_workload.cpp — the child's random workload (see
// child_workload.hpp). Worker w owns the keys with index % workers == w and
// is their only writer, one write at a time, so each key has at most one
// write in flight and the expected state stays exact. Reads may touch any
// key: an own key must read exactly as committed (nobody else writes it),
// another worker's key must read as a well-formed value of that key, no
// older than its committed version before the read and not newer than the
// versions issued by the end of the read.
#include "child_workload.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "expected_state.hpp"
#include "round_options.hpp"
#include "strata/db.hpp"
#include "strata/write_batch.hpp"
#include "value_format.hpp"

namespace strata::crash {

namespace asio = boost::asio;

namespace {

std::string known_error;  // (child_args::known_error; set once, before any thread starts)

[[noreturn]] void child_failure(const std::string& what, int status = child_check_failed) {
  if (!known_error.empty() && what.find(known_error) != std::string::npos) {
    std::fprintf(stderr, "crash_test child (pid %d): known error: %s\n", static_cast<int>(::getpid()), what.c_str());
    status = child_known_error;
  } else {
    std::fprintf(stderr, "crash_test child (pid %d): FAILURE: %s\n", static_cast<int>(::getpid()), what.c_str());
  }
  std::fflush(stderr);
  std::_Exit(status);
}

void fail_on_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    child_failure(std::string("db call failed: ") + x.what());
  }
}

std::string describe_state(std::uint32_t version, bool erased) {
  if (version == 0) return "never written";
  return "version " + std::to_string(version) + (erased ? " (erased)" : "");
}

class worker {
 public:
  worker(std::shared_ptr<db> d, const expected_state& state, std::uint32_t id, std::uint64_t seed)
      : db_(std::move(d)), state_(state), id_(id), workers_(state.workers()), keys_(state.num_keys()), rng_(seed) {
    for (std::uint32_t k = id; k < keys_; k += workers_) own_.push_back(k);
  }

  asio::awaitable<void> run() {
    for (;;) {
      try {
        co_await one_operation();
      } catch (const std::exception& e) {
        child_failure("worker " + std::to_string(id_) + ": " + doing_ + " failed: " + e.what() +
                      "; db last_error: " + db_->last_error());
      }
    }
  }

 private:
  asio::awaitable<void> one_operation() {
    const auto r = rng_() % 1000;
    if (r < 280) {
      doing_ = "put";
      auto key = pick_own(1);
      co_await write_own(std::move(key), false);
    } else if (r < 380) {
      doing_ = "erase";
      auto key = pick_own(1);
      co_await write_own(std::move(key), true);
    } else if (r < 530) {
      doing_ = "write(batch)";
      co_await write_batch_of_own();
    } else if (r < 700) {
      doing_ = "get";
      co_await get_any();
    } else if (r < 780) {
      doing_ = "get_many";
      co_await get_many_any();
    } else if (r < 880) {
      doing_ = "scan";
      co_await short_scan();
    } else if (r < 990) {
      doing_ = "snapshot reads (with a put/erase and maybe a flush)";
      co_await snapshot_reads();
    } else if (r < 996) {
      doing_ = "flush";
      co_await db_->flush();
    } else if (r < 999) {
      doing_ = "compact_range";
      co_await compact_some_range();
    } else if (rng_() % 8 == 0) {
      doing_ = "compact";
      co_await db_->compact();
    }
  }

  bool owns(std::uint32_t k) const { return k % workers_ == id_; }

  // `n` distinct keys of this worker.
  std::vector<std::uint32_t> pick_own(std::size_t n) {
    std::vector<std::uint32_t> picked;
    while (picked.size() < n && picked.size() < own_.size()) {
      const std::uint32_t k = own_[rng_() % own_.size()];
      if (std::find(picked.begin(), picked.end(), k) == picked.end()) picked.push_back(k);
    }
    return picked;
  }

  write_options random_write_options() {
    write_options wo;
    wo.sync = rng_() % 5 == 0;
    return wo;
  }

  asio::awaitable<void> write_own(std::vector<std::uint32_t> keys, bool erase) {
    std::vector<bool> erases(keys.size(), erase);
    co_await write_keys(std::move(keys), std::move(erases));
  }

  asio::awaitable<void> write_batch_of_own() {
    auto keys = pick_own(2 + rng_() % (max_batch_ops - 1));
    std::vector<bool> erases;
    for (std::size_t i = 0; i < keys.size(); ++i) erases.push_back(rng_() % 4 == 0);
    co_await write_keys(std::move(keys), std::move(erases));
  }

  // The one place writes happen: pending before the call, committed after
  // the acknowledgement, batch membership recorded while it is in flight.
  asio::awaitable<void> write_keys(std::vector<std::uint32_t> keys, std::vector<bool> erases) {
    std::vector<std::uint32_t> versions;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      key_state s = state_.get(keys[i]);
      if (s.pending) child_failure("own key " + key_name(keys[i]) + " is pending before a write");
      if (s.issued >= key_state::max_version) child_failure("version space of " + key_name(keys[i]) + " exhausted");
      s.issued += 1;
      s.pending = true;
      s.pending_erased = erases[i];
      state_.set(keys[i], s);
      versions.push_back(s.issued);
    }
    batch_record& record = state_.header().batches[id_];
    const bool is_batch = keys.size() > 1;
    if (is_batch) {
      for (std::size_t i = 0; i < keys.size(); ++i) {
        store(record.ops[i].key, keys[i]);
        store(record.ops[i].version, versions[i]);
        store(record.ops[i].erased, erases[i] ? 1 : 0);
      }
      store(record.count, keys.size());
      store(record.active, 1);
    }
    const write_options wo = random_write_options();
    if (is_batch) {
      write_batch b;
      for (std::size_t i = 0; i < keys.size(); ++i) {
        if (erases[i]) {
          b.erase(key_name(keys[i]));
        } else {
          b.put(key_name(keys[i]), make_value(keys[i], versions[i]));
        }
      }
      co_await db_->write(std::move(b), wo);
    } else if (erases[0]) {
      const std::string key = key_name(keys[0]);
      co_await db_->erase(key, wo);
    } else {
      const std::string key = key_name(keys[0]);
      const std::string value = make_value(keys[0], versions[0]);
      co_await db_->put(key, value, wo);
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
      key_state s = state_.get(keys[i]);
      s.committed = versions[i];
      s.committed_erased = erases[i];
      s.pending = false;
      state_.set(keys[i], s);
    }
    if (is_batch) store(record.active, 0);
    add(state_.header().acked_writes, 1);
  }

  // A value read for key k, given its slot before the read started and after it ended.
  void check_read(std::uint32_t k, const std::optional<std::string>& value, const key_state& before,
                  const key_state& after, const char* how) {
    add(state_.header().reads_checked, 1);
    const std::string where = std::string(how) + " of " + key_name(k) + " (worker " + std::to_string(id_) + ")";
    if (owns(k)) {
      if (!holds_state(value, k, before.committed, before.committed_erased)) {
        child_failure(where + ": expected " + describe_state(before.committed, before.committed_erased) + ", found " +
                      describe_value(value));
      }
      return;
    }
    if (!value) return;  // another worker may have erased it meanwhile
    const auto p = parse_value(*value);
    if (!p || p->index != k) child_failure(where + ": found " + describe_value(value));
    // Acknowledged before the read began: nothing older may show.
    if (p->version < before.committed || (p->version == before.committed && before.committed_erased)) {
      child_failure(where + ": found version " + std::to_string(p->version) + ", older than the acknowledged " +
                    describe_state(before.committed, before.committed_erased));
    }
    if (p->version > after.issued) {
      child_failure(where + ": found version " + std::to_string(p->version) + ", never written (issued " +
                    std::to_string(after.issued) + ")");
    }
  }

  asio::awaitable<void> get_any() {
    const std::uint32_t k = static_cast<std::uint32_t>(rng_() % keys_);
    const key_state before = state_.get(k);
    const std::string key = key_name(k);
    const auto value = co_await db_->get(key);
    check_read(k, value, before, state_.get(k), "get");
  }

  asio::awaitable<void> get_many_any() {
    std::vector<std::uint32_t> ks;
    std::vector<std::string> names;
    const std::size_t n = 2 + rng_() % 15;
    for (std::size_t i = 0; i < n; ++i) {
      ks.push_back(static_cast<std::uint32_t>(rng_() % keys_));
      names.push_back(key_name(ks.back()));
    }
    std::vector<key_state> before;
    for (const auto k : ks) before.push_back(state_.get(k));
    const auto values = co_await db_->get_many(std::move(names));
    if (values.size() != ks.size()) child_failure("get_many returned " + std::to_string(values.size()) + " values");
    for (std::size_t i = 0; i < ks.size(); ++i) check_read(ks[i], values[i], before[i], state_.get(ks[i]), "get_many");
  }

  // A seek and a few steps forward, sometimes a turn back over the same
  // entries (an iterator is a fixed view: the way back must repeat them).
  asio::awaitable<void> short_scan() {
    const std::uint32_t window = 48;
    const std::uint32_t start = static_cast<std::uint32_t>(rng_() % keys_);
    const std::uint32_t window_end = std::min(keys_, start + window);  // exclusive
    std::vector<key_state> before;
    for (std::uint32_t k = start; k < window_end; ++k) before.push_back(state_.get(k));
    read_options ro;
    std::uint32_t bound = keys_;  // exclusive
    if (rng_() % 4 == 0) {
      bound = start + 1 + static_cast<std::uint32_t>(rng_() % window);
      ro.upper_bound = key_name(bound);
    }
    auto it = db_->scan(ro);
    const std::string start_key = key_name(start);
    co_await it->seek(start_key);
    const std::size_t steps = 1 + rng_() % 24;
    std::vector<std::pair<std::string, std::string>> seen;
    while (it->valid() && seen.size() < steps) {
      seen.emplace_back(std::string(it->key()), std::string(it->value()));
      if (!it->try_next()) co_await it->next();
    }
    if (it->error()) child_failure("scan from " + start_key + " failed: " + it->message());
    const bool reached_end = !it->valid();

    std::uint32_t expect_from = start;  // own keys in [expect_from, k) were skipped: they must be absent
    for (const auto& [key, value] : seen) {
      const auto k = parse_key(key);
      if (!k || *k < expect_from || *k >= bound) {
        child_failure("scan from " + start_key + " returned key \"" + key + "\" out of order or out of range");
      }
      for (std::uint32_t skipped = expect_from; skipped < *k && skipped < window_end; ++skipped) {
        check_skipped(skipped, before[skipped - start], start_key);
      }
      const std::optional<std::string> v(value);
      // Beyond the window: an own key cannot have changed since the scan began; of other keys nothing is known.
      const key_state at_start = *k < window_end ? before[*k - start] : owns(*k) ? state_.get(*k) : key_state{};
      check_read(*k, v, at_start, state_.get(*k), "scan");
      expect_from = *k + 1;
    }
    if (reached_end) {
      for (std::uint32_t skipped = expect_from; skipped < std::min(window_end, bound); ++skipped) {
        check_skipped(skipped, before[skipped - start], start_key);
      }
    }

    if (!reached_end && !seen.empty() && rng_() % 3 == 0) {
      for (std::size_t back = seen.size(); back-- > 0;) {
        co_await it->prev();
        if (!it->valid() || it->key() != seen[back].first || it->value() != seen[back].second) {
          child_failure("scan from " + start_key + ": stepping back did not return " + seen[back].first +
                        " as read forward" + (it->error() ? ": " + it->message() : std::string()));
        }
      }
    }
  }

  // An own key that a scan skipped must have no value (for other keys a
  // concurrent erase may explain it).
  void check_skipped(std::uint32_t k, const key_state& before, const std::string& start_key) {
    if (owns(k) && !before.committed_absent()) {
      child_failure("scan from " + start_key + " skipped own key " + key_name(k) + " holding " +
                    describe_state(before.committed, before.committed_erased));
    }
  }

  // A snapshot keeps showing what it saw while this worker overwrites the
  // keys and flushes push the old versions into tables.
  asio::awaitable<void> snapshot_reads() {
    const auto keys = pick_own(1 + rng_() % 4);
    std::vector<key_state> at_snapshot;
    for (const auto k : keys) at_snapshot.push_back(state_.get(k));
    read_options ro;
    ro.snapshot = db_->snapshot();
    co_await check_at_snapshot(keys, at_snapshot, ro, "before overwriting");
    std::vector<std::uint32_t> overwritten{keys[0]};
    co_await write_own(std::move(overwritten), rng_() % 3 == 0);
    if (rng_() % 4 == 0) co_await db_->flush();
    co_await check_at_snapshot(keys, at_snapshot, ro, "after overwriting");
    std::vector<std::string> names;
    for (const auto k : keys) names.push_back(key_name(k));
    const auto values = co_await db_->get_many(std::move(names), ro);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!holds_state(values[i], keys[i], at_snapshot[i].committed, at_snapshot[i].committed_erased)) {
        child_failure("get_many at a snapshot of " + key_name(keys[i]) + ": expected " +
                      describe_state(at_snapshot[i].committed, at_snapshot[i].committed_erased) + ", found " +
                      describe_value(values[i]));
      }
    }
  }

  asio::awaitable<void> check_at_snapshot(const std::vector<std::uint32_t>& keys,
                                          const std::vector<key_state>& expected, const read_options& ro,
                                          const char* when) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const std::string key = key_name(keys[i]);
      const auto value = co_await db_->get(key, ro);
      if (!holds_state(value, keys[i], expected[i].committed, expected[i].committed_erased)) {
        child_failure(std::string("get at a snapshot ") + when + " of " + key + ": expected " +
                      describe_state(expected[i].committed, expected[i].committed_erased) + ", found " +
                      describe_value(value));
      }
    }
  }

  asio::awaitable<void> compact_some_range() {
    const auto a = static_cast<std::uint32_t>(rng_() % keys_);
    const auto b = std::min(keys_ - 1, a + static_cast<std::uint32_t>(rng_() % 400));
    std::optional<std::string> begin = key_name(a);
    std::optional<std::string> end = key_name(b);
    if (rng_() % 5 == 0) begin.reset();
    co_await db_->compact_range(std::move(begin), std::move(end));
  }

  std::shared_ptr<db> db_;
  const expected_state& state_;
  const std::uint32_t id_, workers_, keys_;
  std::mt19937_64 rng_;
  std::vector<std::uint32_t> own_;
  const char* doing_ = "";
};

asio::awaitable<void> run_worker(std::shared_ptr<worker> w) { co_await w->run(); }

// Publishes the db's stats in the state header, so that the parent can
// tell what was running when it killed the child.
asio::awaitable<void> sample_stats(std::shared_ptr<db> d, const expected_state& state) {
  const auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  state_header& h = state.header();
  for (;;) {
    const db_stats s = d->stats();
    store(h.flushes, s.flushes);
    store(h.compactions, s.compactions);
    store(h.compactions_running, s.compactions_running);
    store(h.immutable_memtables, s.immutable_memtables);
    store(h.l0_files, s.l0_files);
    store(h.table_files, s.table_files);
    add(h.stats_samples, 1);
    timer.expires_after(std::chrono::milliseconds(3));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<void> open_and_start(const child_args& args, const expected_state& state,
                                     std::chrono::steady_clock::time_point started) {
  const auto ex = co_await asio::this_coro::executor;
  const options opts = round_options(args.seed);
  auto opened = co_await db::open(ex, args.dir, opts, asio::as_tuple(asio::use_awaitable));
  auto& [ec, d] = opened;
  if (ec) child_failure("db::open failed: " + ec.message() + ": " + last_open_error(), child_open_failed);
  state_header& h = state.header();
  store(h.recovered_records, d->stats().recovered_records);
  const auto open_time = std::chrono::steady_clock::now() - started;
  store(h.open_micros, std::chrono::duration_cast<std::chrono::microseconds>(open_time).count());
  store(h.opened, 1);
  for (std::uint32_t w = 0; w < state.workers(); ++w) {
    auto wk = std::make_shared<worker>(d, state, w, mix64(args.seed * 131 + w));
    asio::co_spawn(ex, run_worker(std::move(wk)), fail_on_exception);
  }
  asio::co_spawn(ex, sample_stats(d, state), fail_on_exception);
}

}  // namespace

int run_child(const child_args& args) {
  const auto started = std::chrono::steady_clock::now();
  known_error = args.known_error;
  // Die with the parent (a killed test run must leave no child writing on).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() == 1) return 1;
  const expected_state state = expected_state::attach(args.state);
  store(state.header().child_started, 1);
  asio::io_context ctx;
  asio::co_spawn(ctx, open_and_start(args, state, started), fail_on_exception);
  std::thread second([&ctx] { ctx.run(); });
  ctx.run();
  second.join();
  child_failure("the workload ended (it runs until killed)");
}

}  // namespace strata::crash
