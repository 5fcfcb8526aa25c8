// tests/crash/child_workload.hpp — the child process of the kill -9 test:
// opens (and so recovers) the db, then runs random writes, reads, scans,
// snapshot reads, flushes and compactions from many coroutines on two
// threads until the parent kills it. Every write is recorded in the
// expected state around the call; reads are checked against it as they
// go. It never returns normally: a wrong read or a failed call prints the
// reason and exits with status 3 (a failed open: status 2).
#pragma once

#include <cstdint>
#include <string>

namespace strata::crash {

struct child_args {
  std::string dir;    // the db
  std::string state;  // the expected-state file (made by the parent)
  std::uint64_t seed = 0;
  // A failure whose message contains this (non-empty) text ends the child
  // with child_known_error instead: lets a long run go on past a bug that
  // is already known, to look for others.
  std::string known_error;
};

inline constexpr int child_open_failed = 2;
inline constexpr int child_check_failed = 3;
inline constexpr int child_known_error = 4;

int run_child(const child_args& args);

}  // namespace strata::crash
