// tests/linearizability/linearizability_checker.hpp — decides whether a
// recorded concurrent history (history.hpp) is linearizable with respect to
// a map of independent registers: get returns the value of the latest put on
// its key, or absent initially and after an erase.
//
// Registers on different keys are independent, so by locality
// (P-compositionality) each key's sub-history is checked on its own. Each
// check is the Wing & Gong search with Lowe's improvements (WGL, as in
// Porcupine): it linearizes pending calls that were invoked before the first
// outstanding response, memoizes (set of linearized ops, register value)
// pairs it has already explored, and backtracks. The answer is exact: a
// history is accepted iff some linearization exists. Operations that never
// returned (never_returned) may take effect at any point after their
// invocation, or not at all; gets that never returned are ignored.
//
// Unique written values make the search fast (a register value is then a
// small integer naming the put that wrote it, and a get pins which put it
// follows); repeated values are still checked correctly, only more slowly.
// Exact reductions on top (the .cpp argues them) keep histories of tens of
// thousands of ops per key, dozens in flight at once, near linear.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "history.hpp"

namespace strata::testing::linearizability {

struct check_options {
  // Give up (verdict unknown) once one key's search has explored this many
  // states; 0: never give up.
  std::size_t max_states_per_key = 0;
};

enum class verdict : std::uint8_t { linearizable, not_linearizable, unknown };
std::ostream& operator<<(std::ostream& out, verdict v);

struct check_result {
  verdict outcome = verdict::linearizable;
  // Why not (or why unknown): the key; how far the search got (ops
  // linearized, the last one, the register value then, and a get that
  // still had to read that value if one explains the dead end); the
  // operation that had to take effect next and could not; the others it
  // could have followed. Empty when linearizable.
  std::string explanation;
  std::size_t operations = 0;       // operations checked (gets that never returned excluded)
  std::size_t keys = 0;             // keys checked (the search stops at the first bad key)
  std::size_t states_explored = 0;  // memoized (linearized set, value) pairs, over all keys checked
  std::size_t max_key_operations = 0;

  bool linearizable() const noexcept { return outcome == verdict::linearizable; }
};

check_result check(const std::vector<operation>& history, const check_options& options = {});

// "put("k", "v") @[3,9]": for explanations and test messages.
std::string describe(const operation& op);

}  // namespace strata::testing::linearizability
