// db/version.hpp — one immutable view of the live tables, level by level.
//
// Level 0 holds flushed memtables, newest first (highest file number
// first); their key ranges may overlap. Levels 1 and up hold files sorted by
// smallest key with disjoint ranges. A version never changes once built:
// readers hold a shared_ptr<const version> for as long as they read, while
// the version_set installs newer ones. Thread-safe to share.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "db/version_edit.hpp"

namespace strata::db_internal {

struct version {
  std::array<std::vector<table_file>, num_levels> levels;

  std::size_t file_count() const noexcept;
  std::uint64_t level_bytes(int level) const noexcept;

  // `base` with `edit` applied. errc::corruption (and `why`) if the edit
  // does not fit: it deletes a file that is not there, adds one that is, or
  // leaves a level >= 1 unsorted or overlapping.
  static std::error_code apply(const version& base, const version_edit& edit, version& out, std::string& why);
};

}  // namespace strata::db_internal
