// tests/corruption/corruption_test.cpp — the corruption campaign: hundreds
// of seeded trials, each damaging one file of a reference db (flipped bits,
// truncation, a zeroed 4 KiB range, appended garbage; WAL, tables,
// MANIFEST, CURRENT by weight) and checking that the db either refuses to
// open with corruption naming the file, or reports corruption on the reads
// that meet it, or reads back exactly what the history allows
// (expectation.hpp says what that is and why). Never a wrong value, a
// crash, a hang or an unexpected error. On a subset of trials `strata
// verify` (examples/strata_cli) must find every damage the db reported.
//
// Campaigns (Boost.Test cases of suite `corruption`, meson test
// `corruption`): a reference db closed cleanly; one dropped without close
// after a reopen; and WAL-only damage with error_on_corrupt_wal off. Each
// prints a table of outcomes per file kind, the regions where damage went
// unnoticed with the data intact, and every failing trial.
//
// The CLI's path is the first argument that is not an option
// (`corruption_test -- /path/to/strata`, as meson passes it); without it
// the verify part is skipped. The environment replays or scales a run:
//   STRATA_CORRUPTION_SEED=S     base seed (default below; printed)
//   STRATA_CORRUPTION_TRIALS=N   trials per campaign (defaults below)
//   STRATA_CORRUPTION_TRIAL=N    only trial N of each campaign (a replay)
//   STRATA_CORRUPTION_KEEP=DIR   with ..._TRIAL: leave the damaged db in DIR/<campaign>
#define BOOST_TEST_MODULE strata_corruption
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../unit/temp_dir.hpp"
#include "damage.hpp"
#include "reference_db.hpp"
#include "trial.hpp"
#include "verdict.hpp"

using namespace strata;
using namespace strata::corruption;

namespace {

constexpr std::uint64_t default_seed = 20240917;

struct campaign {
  const char* name;
  std::uint64_t id;  // part of every trial's seed
  reference_ending ending;
  file_weights weights;
  bool error_on_corrupt_wal = true;
  int trials = 0;
  int verify_trials = 0;  // spread evenly over the trials
};

std::optional<std::uint64_t> env_number(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::strtoull(v, nullptr, 10);
}

std::optional<std::string> cli_binary() {
  const auto& suite = boost::unit_test::framework::master_test_suite();
  for (int i = 1; i < suite.argc; ++i) {
    const std::string arg = suite.argv[i];
    if (!arg.empty() && arg[0] != '-') return arg;
  }
  if (const char* env = std::getenv("STRATA_CLI")) return std::string(env);
  return std::nullopt;
}

const char* outcome_name(outcome o) {
  switch (o) {
    case outcome::open_failed:
      return "open failed";
    case outcome::reads_failed:
      return "reads failed";
    case outcome::intact:
      return "unnoticed, intact";
    case outcome::data_dropped:
      return "tail cut/skipped";
    case outcome::failed:
      return "FAILED";
  }
  return "?";
}

// Outcomes per file kind, the regions of unnoticed damage, verify's record,
// and the failures, for the report at the end of a campaign.
struct tally {
  std::map<file_kind, std::array<int, outcome_count>> outcomes;
  std::map<std::string, int> unnoticed_regions;  // "WAL: flip in zero tail ..." -> trials
  std::map<std::string, int> dropped_regions;
  int verify_runs = 0, verify_caught = 0, verify_missed = 0, verify_flagged_unnoticed = 0, verify_clean = 0;
  std::vector<std::string> failures;   // each with its problems
  std::vector<std::string> headlines;  // trial and damage only

  void add(const reference_file& f, const damage& d, const trial_report& r, const std::string& what) {
    outcomes[f.kind][static_cast<std::size_t>(r.judged.result)]++;
    const std::string region = std::string(kind_name(f.kind)) + ": " + d.region(f);
    if (r.judged.result == outcome::intact) unnoticed_regions[region]++;
    if (r.judged.result == outcome::data_dropped) dropped_regions[region]++;
    if (r.verify) {
      ++verify_runs;
      if (r.detectable) {
        (r.verify->code == 1 ? verify_caught : verify_missed)++;
      } else {
        (r.verify->code == 0 ? verify_clean : verify_flagged_unnoticed)++;
      }
    }
    if (r.judged.result != outcome::failed) return;
    headlines.push_back(what + ": " + d.describe(f));
    std::ostringstream s;
    s << headlines.back() << "\n    rule: " << r.expected.rule;
    if (r.observed.open_error) s << "\n    open: " << r.observed.open_message;
    for (const auto& p : r.judged.problems) s << "\n    problem: " << p;
    failures.push_back(s.str());
  }

  void print(std::ostream& out) const {
    out << "  file kind  ";
    for (std::size_t o = 0; o < outcome_count; ++o) out << " | " << outcome_name(static_cast<outcome>(o));
    out << "\n";
    for (const auto& [kind, counts] : outcomes) {
      char line[160];
      std::snprintf(line, sizeof line, "  %-10s | %11d | %12d | %17d | %16d | %6d\n", kind_name(kind), counts[0],
                    counts[1], counts[2], counts[3], counts[4]);
      out << line;
    }
    out << "  damage unnoticed with the data intact, by region:\n";
    for (const auto& [region, n] : unnoticed_regions) out << "    " << n << "  " << region << "\n";
    out << "  damage that cost data the format allows to lose (torn WAL tail, skipped WAL records), by region:\n";
    for (const auto& [region, n] : dropped_regions) out << "    " << n << "  " << region << "\n";
    if (verify_runs > 0) {
      out << "  strata verify on " << verify_runs << " trials: caught " << verify_caught << " of "
          << verify_caught + verify_missed << " damages the db reported (or must); on the others, " << verify_clean
          << " clean and " << verify_flagged_unnoticed << " flagged\n";
    }
  }
};

void run_campaign(const campaign& c) {
  const std::uint64_t seed = env_number("STRATA_CORRUPTION_SEED").value_or(default_seed);
  const int trials =
      static_cast<int>(env_number("STRATA_CORRUPTION_TRIALS").value_or(static_cast<std::uint64_t>(c.trials)));
  const std::optional<std::uint64_t> only = env_number("STRATA_CORRUPTION_TRIAL");
  const char* keep_env = std::getenv("STRATA_CORRUPTION_KEEP");
  const std::optional<std::string> keep_dir = keep_env != nullptr ? std::optional<std::string>(keep_env) : std::nullopt;
  const std::optional<std::string> cli = cli_binary();
  const auto start = std::chrono::steady_clock::now();

  boost::asio::io_context ctx;
  testing::temp_dir reference_dir;
  const reference_db ref = build_reference(ctx, reference_dir.path() + "/db", c.ending, seed ^ c.id);
  std::ostringstream layout;
  for (const auto& f : ref.files) {
    layout << " " << f.name << "(" << f.bytes.size();
    if (f.log) layout << "," << f.log->records.size() << " records";
    layout << ")";
  }
  std::cout << "\ncorruption campaign '" << c.name << "': reference " << ref.description << "; seed " << seed << "; "
            << ref.history.batches.size() << " batches, " << ref.history.keys.size() << " keys; levels:";
  for (std::size_t l = 0; l < ref.stats.level_files.size(); ++l) {
    if (ref.stats.level_files[l] > 0) std::cout << " L" << l << "=" << ref.stats.level_files[l];
  }
  std::cout << "\n  files:" << layout.str() << std::endl;

  // The undamaged copy: opens, reads back the whole history, and verify finds nothing.
  {
    damage none{.kind = damage_kind::appended_garbage, .file = 0, .flips = {}, .offset = 0, .garbage = {}};
    while (ref.files[none.file].kind != file_kind::wal) ++none.file;
    const trial_report r =
        run_trial(ctx, ref, none, c.error_on_corrupt_wal, cli ? &*cli : nullptr, std::string(c.name) + " baseline");
    BOOST_TEST_REQUIRE((r.judged.result == outcome::intact),
                       "the undamaged reference db does not read back intact: "
                           << (r.judged.problems.empty() ? r.observed.open_message : r.judged.problems[0]));
    if (r.verify) BOOST_TEST_REQUIRE(r.verify->code == 0, "strata verify on the undamaged db:\n" << r.verify->out);
  }
  if (!cli) {
    BOOST_TEST_MESSAGE("no strata CLI given (examples off?): the strata verify part is skipped");
    std::cout << "  no strata CLI given (examples off?): the strata verify part is skipped\n";
  }

  tally t;
  const int verify_every = c.verify_trials > 0 ? std::max(1, trials / c.verify_trials) : 0;
  for (int trial = 0; trial < trials; ++trial) {
    if (only && static_cast<std::uint64_t>(trial) != *only) continue;
    std::seed_seq trial_seed{seed, c.id, static_cast<std::uint64_t>(trial)};
    std::mt19937_64 rng(trial_seed);
    const damage d = pick_damage(ref, c.weights, rng);
    const std::string what = std::string(c.name) + " trial " + std::to_string(trial) +
                             " (STRATA_CORRUPTION_SEED=" + std::to_string(seed) +
                             " STRATA_CORRUPTION_TRIAL=" + std::to_string(trial) + ")";
    BOOST_TEST_CHECKPOINT(what << ": " << d.describe(ref.files[d.file]));
    const bool with_verify = cli && verify_every > 0 && (trial % verify_every == 0 || only);
    const std::optional<std::string> keep =
        only && keep_dir ? std::optional<std::string>(*keep_dir + "/" + c.name) : std::nullopt;
    const trial_report r = run_trial(ctx, ref, d, c.error_on_corrupt_wal, with_verify ? &*cli : nullptr,
                                     what + ": " + d.describe(ref.files[d.file]), keep);
    t.add(ref.files[d.file], d, r, what);
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "  " << trials << " trials in " << seconds << " s (with the reference build)\n";
  t.print(std::cout);
  std::cout << "  " << t.failures.size() << " failing trials\n";
  for (const auto& f : t.failures) std::cout << "  " << f << "\n";
  std::cout << std::flush;
  for (std::size_t i = 0; i < t.headlines.size() && i < 40; ++i) BOOST_ERROR(t.headlines[i]);
  BOOST_TEST(t.failures.empty(), t.failures.size() << " of " << trials << " trials failed (listed above)");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(corruption)

BOOST_AUTO_TEST_CASE(closed_db) {
  run_campaign({.name = "closed_db",
                .id = 1,
                .ending = reference_ending::closed,
                .weights = {},
                .error_on_corrupt_wal = true,
                .trials = 400,
                .verify_trials = 50});
}

BOOST_AUTO_TEST_CASE(dropped_db) {
  run_campaign({.name = "dropped_db",
                .id = 2,
                .ending = reference_ending::dropped_after_reopen,
                .weights = {},
                .error_on_corrupt_wal = true,
                .trials = 400,
                .verify_trials = 50});
}

// Damaged WAL records are skipped rather than failing open: exactly those
// batches may be missing.
BOOST_AUTO_TEST_CASE(wal_skip_corruption) {
  run_campaign({.name = "wal_skip_corruption",
                .id = 3,
                .ending = reference_ending::closed,
                .weights = {.wal = 1, .table = 0, .manifest = 0, .current = 0},
                .error_on_corrupt_wal = false,
                .trials = 150,
                .verify_trials = 15});
}

BOOST_AUTO_TEST_SUITE_END()
