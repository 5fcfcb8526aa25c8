// tests/unit/thread_checks.hpp — assertions for worker threads.
//
// Boost.Test's BOOST_TEST/BOOST_REQUIRE are not thread-safe, so threads
// record failures here and the test's main thread reports them with
// BOOST_TEST(checks.ok(), checks.report()) after joining.
#pragma once

#include <atomic>
#include <mutex>
#include <sstream>
#include <string>

namespace strata::testing {

class thread_checks {
 public:
  // Returns `ok` so callers can bail out of a loop on the first failure.
  bool check(bool ok, const char* what, int line) {
    if (!ok && failures_.fetch_add(1) == 0) {
      std::lock_guard lock(mu_);
      std::ostringstream s;
      s << "line " << line << ": " << what;
      first_ = s.str();
    }
    return ok;
  }
  bool ok() const { return failures_.load() == 0; }
  std::string report() const {
    std::lock_guard lock(mu_);
    return std::to_string(failures_.load()) + " failed checks in threads; first at " + first_;
  }

 private:
  std::atomic<int> failures_{0};
  mutable std::mutex mu_;
  std::string first_;
};

}  // namespace strata::testing

#define THREAD_CHECK(checks, cond) (checks).check(static_cast<bool>(cond), #cond, __LINE__)
