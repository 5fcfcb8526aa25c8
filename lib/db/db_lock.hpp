// db/db_lock.hpp — the LOCK file that makes a db directory single-owner.
//
// acquire() opens <dir>/LOCK and takes an exclusive, non-blocking flock on
// it. flock locks belong to the open file description, so a second db::open
// of the same directory fails with errc::busy also within one process. The
// lock is released when the db_lock is destroyed (or the process dies: the
// kernel drops it, so a crash never leaves a db locked). Not thread-safe.
#pragma once

#include <string>
#include <system_error>

namespace strata::db_internal {

class db_lock {
 public:
  db_lock() = default;
  ~db_lock();
  db_lock(const db_lock&) = delete;
  db_lock& operator=(const db_lock&) = delete;

  // errc::busy if another holder has it; io errors with `message`.
  std::error_code acquire(const std::string& dir, std::string& message);
  void release() noexcept;

 private:
  int fd_ = -1;
};

}  // namespace strata::db_internal
