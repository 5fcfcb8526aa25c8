#include "db/version.hpp"

#include <algorithm>
#include <unordered_set>

#include <fmt/format.h>

#include "sst/internal_key.hpp"
#include "strata/error.hpp"

namespace strata::db_internal {

std::size_t version::file_count() const noexcept {
  std::size_t n = 0;
  for (const auto& l : levels) n += l.size();
  return n;
}

std::uint64_t version::level_bytes(int level) const noexcept {
  std::uint64_t b = 0;
  for (const auto& f : levels[static_cast<std::size_t>(level)]) b += f.size;
  return b;
}

std::error_code version::apply(const version& base, const version_edit& edit, version& out, std::string& why) {
  version next = base;
  for (const auto& deletion : edit.deleted) {
    const int level = deletion.first;
    const std::uint64_t number = deletion.second;  // (clang 14 cannot capture structured bindings)
    auto& files = next.levels[static_cast<std::size_t>(level)];
    const auto it = std::find_if(files.begin(), files.end(), [&](const table_file& f) { return f.number == number; });
    if (it == files.end()) {
      why = fmt::format("edit deletes table {} which is not in level {}", number, level);
      return errc::corruption;
    }
    files.erase(it);
  }
  std::unordered_set<std::uint64_t> live;
  for (const auto& l : next.levels) {
    for (const auto& f : l) live.insert(f.number);
  }
  for (const auto& [level, f] : edit.added) {
    if (!live.insert(f.number).second) {
      why = fmt::format("edit adds table {} which is already live", f.number);
      return errc::corruption;
    }
    if (sst::compare_internal_keys(f.smallest, f.largest) > 0) {
      why = fmt::format("edit adds table {} with smallest key above largest", f.number);
      return errc::corruption;
    }
    next.levels[static_cast<std::size_t>(level)].push_back(f);
  }
  auto& l0 = next.levels[0];
  std::sort(l0.begin(), l0.end(), [](const table_file& a, const table_file& b) { return a.number > b.number; });
  for (int level = 1; level < num_levels; ++level) {
    auto& files = next.levels[static_cast<std::size_t>(level)];
    std::sort(files.begin(), files.end(), [](const table_file& a, const table_file& b) {
      return sst::compare_internal_keys(a.smallest, b.smallest) < 0;
    });
    for (std::size_t i = 1; i < files.size(); ++i) {
      if (sst::compare_internal_keys(files[i - 1].largest, files[i].smallest) >= 0) {
        why = fmt::format("tables {} and {} overlap in level {}", files[i - 1].number, files[i].number, level);
        return errc::corruption;
      }
    }
  }
  out = std::move(next);
  return {};
}

}  // namespace strata::db_internal
