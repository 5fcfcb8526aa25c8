// tests/crash/verifier.hpp — the parent's check after each kill: reopen the
// db (recovering it), read every key by get and get_many, scan it forward
// and backward, and hold all of that against the expected state: each key
// at its committed version or, if a write was in flight, at that write's
// version; scans sorted and equal to the point reads; a batch in flight
// all or nothing. Then settle the in-flight writes to what was found, so
// that the next round starts from an exact oracle.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "expected_state.hpp"
#include "strata/db.hpp"

namespace strata::crash {

struct verify_outcome {
  std::vector<std::string> failures;  // empty: passed (at most a few are listed)
  std::uint64_t keys_checked = 0;
  std::uint64_t live_keys = 0;
  std::uint64_t pending_found_new = 0;  // in-flight writes that made it
  std::uint64_t pending_found_old = 0;  // in-flight writes that did not
  std::uint64_t batches_in_flight = 0;  // checked for all-or-nothing
  std::uint64_t recovered_records = 0;  // WAL records the reopen replayed
  bool ok() const { return failures.empty(); }
};

// Opens the db at `dir` with `opts`, checks it against `state`, closes it;
// on success also resolves the pending slots and batch records of `state`.
verify_outcome verify_and_resolve(const expected_state& state, const std::string& dir, const options& opts);

}  // namespace strata::crash
