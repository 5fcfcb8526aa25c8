// tests/corruption/expectation.hpp — what the db may do with one piece of
// damage: whether open may, must or must not fail, whether reads may report
// corruption, and which db contents a successful open may show. This file
// is the campaign's acceptance policy; every rule says why.
//
// Data may go missing only through the WAL, and only as the log format and
// docs/db.md define it (recovery with torn_tail_ends_replay):
//   * damage that touches no record (block padding, the zero tail, appended
//     bytes) loses nothing: the full history must read back;
//   * damage after which no intact fragment follows in that log is a torn
//     tail: replay stops before the first damaged record, so the db must
//     hold exactly the batches before it (a prefix of the history; newer
//     logs, if any, are dropped, and they only hold later batches);
//   * damage with intact fragments after it is corruption: open fails
//     (error_on_corrupt_wal) or, with error_on_corrupt_wal = false, exactly
//     the damaged records are dropped (and a torn tail after the last
//     intact fragment, as above).
// WAL damage never makes a read fail (tables are intact). Table damage may
// fail open or reads with corruption but never changes what a successful
// read returns. MANIFEST damage may fail open, and nothing else: every edit
// in the reference MANIFEST was synced and acted upon (tables deleted after
// compactions, WALs deleted after flushes), so no edit may be ignored.
// CURRENT damage must fail open (it names the MANIFEST by its exact bytes).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "damage.hpp"
#include "reference_db.hpp"

namespace strata::corruption {

struct allowed_state {
  std::string name;
  db_state contents;
  bool full = false;  // the whole history: nothing lost
};

struct expectation {
  bool open_may_fail = true;
  bool open_must_fail = false;
  bool reads_may_fail = true;
  std::vector<allowed_state> states;  // for a successful open, any one of these
  // The damage changed bytes that a checksum covers (for a report of an
  // open that succeeds with everything intact).
  bool hits_checked_bytes = false;
  // A documented gap (docs/reliability.md): the db cannot tell this damage
  // from a crash, so any state may show; open errors must still be
  // corruption, but may name another file than the damaged one.
  bool known_gap = false;
  std::string rule;       // which rule applied, for reports
  db_state full_history;  // to describe what an open that must fail shows
};

inline expectation expect(const reference_db& ref, const damage& d, bool error_on_corrupt_wal) {
  const reference_file& f = ref.files[d.file];
  const std::vector<byte_range> changed = d.changed(f.bytes);
  expectation e;
  e.full_history = ref.history.full_state();
  const auto full = [&] { return allowed_state{"the full history", e.full_history, true}; };
  switch (f.kind) {
    case file_kind::table:
      e.states = {full()};
      // Every byte of a table is under a block or footer checksum; an append moves the footer.
      e.hits_checked_bytes = true;
      e.rule = "table damage: open or reads may report corruption; values read must be the history's";
      return e;
    case file_kind::current:
      e.open_must_fail = true;
      e.hits_checked_bytes = true;
      e.rule = "CURRENT damage: open must fail";
      return e;
    case file_kind::manifest: {
      e.states = {full()};
      e.reads_may_fail = false;
      for (const auto& fr : f.log->fragments) {
        for (const auto& c : changed) e.hits_checked_bytes = e.hits_checked_bytes || fr.bytes.overlaps(c);
      }
      e.rule = e.hits_checked_bytes ? "MANIFEST record damage: open must fail or see every (synced) edit"
                                    : "MANIFEST damage outside its records: nothing lost";
      if (d.kind == damage_kind::truncation && e.hits_checked_bytes) {
        // A MANIFEST cut short reads exactly like one whose last append a
        // crash cut off (RocksDB and LevelDB read it the same way): the
        // edits after the cut are taken as never made. Known gap.
        e.known_gap = true;
        e.reads_may_fail = true;
        e.rule = "MANIFEST cut short (known gap: read as a crash-cut tail; later edits lost)";
      }
      return e;
    }
    case file_kind::wal:
      break;
  }

  // The WAL: which fragments (and so records) the damage reaches.
  e.reads_may_fail = false;
  e.open_may_fail = false;
  const log_layout& log = *f.log;
  std::vector<bool> damaged(log.fragments.size(), false);
  std::set<std::size_t> damaged_records;
  for (std::size_t i = 0; i < log.fragments.size(); ++i) {
    for (const auto& c : changed) damaged[i] = damaged[i] || log.fragments[i].bytes.overlaps(c);
    if (damaged[i]) damaged_records.insert(log.fragments[i].record);
  }
  if (damaged_records.empty()) {
    e.states = {full()};
    e.rule = "WAL damage outside every record (padding, zero tail, appended bytes): nothing lost";
    return e;
  }
  e.hits_checked_bytes = true;
  const auto first_damaged =
      static_cast<std::size_t>(std::find(damaged.begin(), damaged.end(), true) - damaged.begin());
  const bool torn = std::all_of(damaged.begin() + static_cast<std::ptrdiff_t>(first_damaged), damaged.end(),
                                [](bool b) { return b; });
  const auto sequence_of = [&](std::size_t record) { return ref.batch_of_record(f, record).sequence; };
  if (torn) {
    const std::uint64_t cut = sequence_of(log.fragments[first_damaged].record);
    e.states = {{"the history before sequence " + std::to_string(cut) + " (torn tail)",
                 ref.history.state([&](const logged_batch& b) { return b.sequence < cut; }), false}};
    e.rule =
        "WAL damage with no intact fragment after it: a torn tail, replay stops before sequence " + std::to_string(cut);
    return e;
  }
  if (error_on_corrupt_wal) {
    e.open_must_fail = true;
    e.open_may_fail = true;
    e.rule = "WAL damage with intact records after it: open must fail (error_on_corrupt_wal)";
    return e;
  }
  // Skipped: the damaged records; then a torn tail after the last intact fragment, if damaged.
  std::set<std::uint64_t> skipped;
  for (const auto r : damaged_records) skipped.insert(sequence_of(r));
  std::size_t last_intact = 0;
  for (std::size_t i = 0; i < damaged.size(); ++i) {
    if (!damaged[i]) last_intact = i;
  }
  std::uint64_t cut = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t i = last_intact + 1; i < damaged.size(); ++i)
    cut = std::min(cut, sequence_of(log.fragments[i].record));
  e.states = {
      {"the history without the " + std::to_string(skipped.size()) + " damaged batches" +
           (cut == std::numeric_limits<std::uint64_t>::max() ? "" : " and before sequence " + std::to_string(cut)),
       ref.history.state([&](const logged_batch& b) { return b.sequence < cut && skipped.count(b.sequence) == 0; }),
       false}};
  e.rule = "WAL damage with intact records after it, error_on_corrupt_wal off: exactly the damaged records are dropped";
  return e;
}

}  // namespace strata::corruption
