// tests/crash/parent_driver.cpp — the rounds of the kill -9 test (see
// parent_driver.hpp). The child is this same executable (/proc/self/exe
// --child ...). It is reaped before the parent opens the db, so its LOCK is
// released by then. A copy of the db as the kill left it (before the
// parent's recovery touches it) is kept per round, so that a failure can
// be replayed from the exact bytes.
#include "parent_driver.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../unit/temp_dir.hpp"
#include "child_workload.hpp"
#include "expected_state.hpp"
#include "round_options.hpp"
#include "value_format.hpp"
#include "verifier.hpp"

extern char** environ;

namespace strata::crash {

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

pid_t spawn_self(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, args.data(), environ);
  if (rc != 0) throw std::runtime_error("posix_spawn /proc/self/exe failed: " + std::to_string(rc));
  return pid;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "died of signal " + std::to_string(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

// Copies the whole working directory (db, db as the kill left it, state
// file) somewhere that outlives the test; returns where.
std::string keep_for_inspection(const std::string& root) {
  const char* base = std::getenv("TMPDIR");
  std::string kept = std::string(base != nullptr ? base : "/tmp") + "/strata-crash-failure-XXXXXX";
  if (::mkdtemp(kept.data()) == nullptr) return "(could not create a directory to keep the db in)";
  std::error_code ec;
  fs::copy(root, kept, fs::copy_options::recursive, ec);
  if (ec) return kept + " (copy incomplete: " + ec.message() + ")";
  return kept;
}

struct totals {
  std::uint64_t rounds = 0, killed_before_open = 0, killed_with_compaction = 0, killed_with_flush_pending = 0;
  std::uint64_t writes_acked = 0, reads_checked = 0, keys_verified = 0;
  std::uint64_t pending_new = 0, pending_old = 0, batches_in_flight = 0, recovered_records = 0;
  std::uint64_t child_flushes = 0, child_compactions = 0, stalled_rounds = 0, known_errors = 0;
  std::uint64_t opens = 0, open_micros = 0, max_open_micros = 0;  // the child's, when it got that far
};

// When the child dies: mostly 0.2-2 s after its start; one round in
// `early_one_in` (6 by default) 0-30 ms after it reports that it runs,
// which usually lands in db::open (WAL replay, the new MANIFEST) or in the
// flush of the replayed memtable right after.
struct kill_plan {
  bool early = false;  // counted from the child's own start, not from the spawn
  std::chrono::milliseconds delay{0};
};

kill_plan pick_kill_plan(std::mt19937_64& rng, std::uint32_t early_one_in) {
  const std::uint64_t early_draw = rng() % std::max<std::uint32_t>(early_one_in, 1);
  if (early_one_in != 0 && early_draw == 0) return {true, std::chrono::milliseconds(rng() % 31)};
  return {false, std::chrono::milliseconds(200 + rng() % 1801)};
}

}  // namespace

int run_parent(const parent_args& args) {
  testing::temp_dir root;
  const std::string db_dir = root.file("db");
  const std::string at_kill_dir = root.file("db-as-killed");
  const std::string state_path = root.file("expected_state");
  const expected_state state = expected_state::create(state_path, args.keys, args.workers);
  state_header& h = state.header();
  std::printf("crash_test: seed=%llu budget=%.0fs keys=%u workers=%u dir=%s\n",
              static_cast<unsigned long long>(args.seed), args.seconds, args.keys, args.workers, root.path().c_str());
  std::fflush(stdout);

  std::mt19937_64 rng(args.seed);
  totals t;
  const auto started = clock_type::now();
  const auto budget = std::chrono::duration<double>(args.seconds);
  for (std::uint64_t round = 1; clock_type::now() - started < budget; ++round) {
    const std::uint64_t round_seed = mix64(args.seed ^ (round * 0x9e3779b97f4a7c15ull));
    const options opts = round_options(round_seed);
    for (auto* field : {&h.child_started, &h.opened, &h.open_micros, &h.acked_writes, &h.reads_checked,
                        &h.stats_samples, &h.flushes, &h.compactions, &h.compactions_running, &h.immutable_memtables,
                        &h.l0_files, &h.table_files, &h.recovered_records}) {
      store(*field, 0);
    }
    const auto fail_round = [&](const std::string& what, const std::vector<std::string>& details) {
      std::printf("crash_test: FAILURE in round %llu (round seed %llu, run seed %llu; %s): %s\n",
                  static_cast<unsigned long long>(round), static_cast<unsigned long long>(round_seed),
                  static_cast<unsigned long long>(args.seed), describe_options(opts).c_str(), what.c_str());
      for (const auto& d : details) std::printf("  %s\n", d.c_str());
      std::printf(
          "crash_test: the db after verification, the db as the kill left it (db-as-killed) and the expected "
          "state are kept in %s\n",
          keep_for_inspection(root.path()).c_str());
      std::fflush(stdout);
      return 1;
    };

    std::vector<std::string> child_argv{"/proc/self/exe", "--child",  "--dir",  db_dir,
                                        "--state",        state_path, "--seed", std::to_string(round_seed)};
    if (!args.known_error.empty()) {
      child_argv.push_back("--known-error");
      child_argv.push_back(args.known_error);
    }
    const pid_t pid = spawn_self(child_argv);
    const kill_plan plan = pick_kill_plan(rng, args.early_kill_one_in);
    const auto spawned = clock_type::now();
    auto clock_start = spawned;  // an early kill's delay counts from the child's start
    bool clock_started = !plan.early;
    // Watch the child while it works: an early exit is a failure it has
    // reported; a long stretch without an acknowledged write is a stall.
    std::uint64_t last_acks = 0;
    auto last_progress = spawned;
    bool stalled = false;
    int status = 0;
    bool exited_early = false;
    for (;;) {
      const auto now = clock_type::now();
      if (!clock_started && (load(h.child_started) != 0 || now - spawned > std::chrono::seconds(10))) {
        clock_started = true;
        clock_start = now;
      }
      if (clock_started && now - clock_start >= plan.delay) break;
      std::this_thread::sleep_for(plan.early ? std::chrono::microseconds(200) : std::chrono::microseconds(5000));
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited_early = true;
        break;
      }
      const auto acks = load(h.acked_writes);
      if (acks != last_acks || load(h.opened) == 0) {
        last_acks = acks;
        last_progress = clock_type::now();
      }
      if (clock_type::now() - last_progress > std::chrono::seconds(1)) stalled = true;
    }
    const bool opened = load(h.opened) != 0;
    const bool compaction_running = load(h.compactions_running) != 0;
    const bool flush_pending = load(h.immutable_memtables) != 0;
    const auto lifetime = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - spawned);
    if (!exited_early) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    }
    const bool known = WIFEXITED(status) && WEXITSTATUS(status) == child_known_error;
    if (known) ++t.known_errors;
    if (!known && (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)) {
      return fail_round("the child " + describe_exit(status) + " before the kill (its message is above)", {});
    }
    ++t.rounds;
    if (!opened && !known) ++t.killed_before_open;
    if (opened) {
      const auto micros = load(h.open_micros);
      ++t.opens;
      t.open_micros += micros;
      t.max_open_micros = std::max(t.max_open_micros, micros);
    }
    if (opened && !known && compaction_running) ++t.killed_with_compaction;
    if (opened && !known && flush_pending) ++t.killed_with_flush_pending;
    if (stalled) {
      ++t.stalled_rounds;
      std::printf("crash_test: warning: round %llu: no write acknowledged for over 1 s\n",
                  static_cast<unsigned long long>(round));
    }
    t.writes_acked += load(h.acked_writes);
    t.reads_checked += load(h.reads_checked);
    t.child_flushes += load(h.flushes);
    t.child_compactions += load(h.compactions);

    std::error_code ec;
    fs::remove_all(at_kill_dir, ec);
    if (fs::exists(db_dir)) fs::copy(db_dir, at_kill_dir, fs::copy_options::recursive);

    const verify_outcome v = verify_and_resolve(state, db_dir, opts);
    if (!v.ok()) return fail_round("verification after the kill failed", v.failures);
    t.keys_verified += v.keys_checked;
    t.pending_new += v.pending_found_new;
    t.pending_old += v.pending_found_old;
    t.batches_in_flight += v.batches_in_flight;
    t.recovered_records += v.recovered_records;
    if (args.verbose || round % 25 == 0) {
      std::printf(
          "crash_test: round %llu: killed after %lld ms (%s%s%s), %llu writes acked, %llu live keys, "
          "in flight: %llu landed %llu lost, %llu WAL records recovered\n",
          static_cast<unsigned long long>(round), static_cast<long long>(lifetime.count()),
          opened ? "running" : "in open", compaction_running ? ", compacting" : "",
          flush_pending ? ", flush pending" : "", static_cast<unsigned long long>(load(h.acked_writes)),
          static_cast<unsigned long long>(v.live_keys), static_cast<unsigned long long>(v.pending_found_new),
          static_cast<unsigned long long>(v.pending_found_old), static_cast<unsigned long long>(v.recovered_records));
      std::fflush(stdout);
    }
  }

  const double elapsed = std::chrono::duration<double>(clock_type::now() - started).count();
  std::printf(
      "crash_test: PASS rounds=%llu kills=%llu killed_before_open_done=%llu killed_with_compaction_running=%llu "
      "killed_with_flush_pending=%llu writes_acked=%llu child_reads_checked=%llu keys_verified=%llu "
      "in_flight_landed=%llu in_flight_lost=%llu batches_in_flight=%llu wal_records_recovered=%llu "
      "child_flushes=%llu child_compactions=%llu child_open_ms_mean=%.1f child_open_ms_max=%.1f stalled_rounds=%llu "
      "known_error_rounds=%llu seconds=%.1f seed=%llu\n",
      static_cast<unsigned long long>(t.rounds), static_cast<unsigned long long>(t.rounds - t.known_errors),
      static_cast<unsigned long long>(t.killed_before_open), static_cast<unsigned long long>(t.killed_with_compaction),
      static_cast<unsigned long long>(t.killed_with_flush_pending), static_cast<unsigned long long>(t.writes_acked),
      static_cast<unsigned long long>(t.reads_checked), static_cast<unsigned long long>(t.keys_verified),
      static_cast<unsigned long long>(t.pending_new), static_cast<unsigned long long>(t.pending_old),
      static_cast<unsigned long long>(t.batches_in_flight), static_cast<unsigned long long>(t.recovered_records),
      static_cast<unsigned long long>(t.child_flushes), static_cast<unsigned long long>(t.child_compactions),
      t.opens > 0 ? static_cast<double>(t.open_micros) / static_cast<double>(t.opens) / 1000 : 0.0,
      static_cast<double>(t.max_open_micros) / 1000, static_cast<unsigned long long>(t.stalled_rounds),
      static_cast<unsigned long long>(t.known_errors), elapsed, static_cast<unsigned long long>(args.seed));
  return 0;
}

}  // namespace strata::crash
