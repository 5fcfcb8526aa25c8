// tests/crash/parent_driver.hpp — the parent of the kill -9 test: rounds of
// spawn child, let it work a random while, SIGKILL, reap, then verify the
// recovered db in this process, until the time budget is spent.
#pragma once

#include <cstdint>
#include <string>

namespace strata::crash {

struct parent_args {
  double seconds = 170;  // the time budget; rounds start only while it lasts
  std::uint64_t seed = 0;
  std::uint32_t keys = 2000;
  std::uint32_t workers = 16;
  bool verbose = false;  // a line per round
  // One round in this many kills the child in or right after db::open; 0: none.
  std::uint32_t early_kill_one_in = 6;
  std::string known_error;  // see child_args::known_error: such rounds are counted and verified, not failed
};

// 0: every round verified; 1: a failure (printed, with the kept db's path).
int run_parent(const parent_args& args);

}  // namespace strata::crash
