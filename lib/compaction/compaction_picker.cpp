#include "compaction/compaction_picker.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "sst/internal_key.hpp"

namespace strata::compaction {

using db_internal::num_levels;
using db_internal::table_file;
using db_internal::version;

namespace {

std::string_view user_smallest(const table_file& f) { return sst::user_key_of(f.smallest); }
std::string_view user_largest(const table_file& f) { return sst::user_key_of(f.largest); }

// The user-key range of some files (non-empty).
void range_of(const std::vector<table_file>& files, std::string& smallest, std::string& largest) {
  smallest = user_smallest(files.front());
  largest = user_largest(files.front());
  for (const auto& f : files) {
    if (user_smallest(f) < std::string_view(smallest)) smallest = user_smallest(f);
    if (user_largest(f) > std::string_view(largest)) largest = user_largest(f);
  }
}

// Whether f holds any user key in [smallest, largest].
bool meets(const table_file& f, std::string_view smallest, std::string_view largest) {
  return !(user_largest(f) < smallest || user_smallest(f) > largest);
}

// The user-key range of both sides of a plan (inputs[0] non-empty).
void range_of(const compaction_plan& plan, std::string& smallest, std::string& largest) {
  range_of(plan.inputs[0], smallest, largest);
  if (plan.inputs[1].empty()) return;
  std::string s1, l1;
  range_of(plan.inputs[1], s1, l1);
  if (s1 < smallest) smallest = std::move(s1);
  if (l1 > largest) largest = std::move(l1);
}

}  // namespace

std::vector<table_file> overlapping(const version& v, int level, std::string_view smallest, std::string_view largest) {
  std::vector<table_file> out;
  for (const auto& f : v.levels[static_cast<std::size_t>(level)]) {
    if (meets(f, smallest, largest)) out.push_back(f);
  }
  return out;
}

std::vector<double> overlap_ratios(const version& v, int level) {
  const auto& files = v.levels[static_cast<std::size_t>(level)];
  const auto& next = v.levels[static_cast<std::size_t>(level + 1)];
  std::vector<double> out;
  out.reserve(files.size());
  std::size_t lo = 0;  // the first file of `next` that may meet the current file
  for (const auto& f : files) {
    while (lo < next.size() && user_largest(next[lo]) < user_smallest(f)) ++lo;
    std::uint64_t bytes = 0;
    for (std::size_t k = lo; k < next.size() && user_smallest(next[k]) <= user_largest(f); ++k) bytes += next[k].size;
    out.push_back(static_cast<double>(bytes) / static_cast<double>(std::max<std::uint64_t>(1, f.size)));
  }
  return out;
}

std::uint64_t leveled_picker::target_bytes(int level) const {
  if (level <= 0) return 0;
  return static_cast<std::uint64_t>(static_cast<double>(options_.max_bytes_for_level_base) *
                                    std::pow(options_.max_bytes_for_level_multiplier, level - 1));
}

double leveled_picker::score(const version& v, int level) const {
  if (level == 0) {
    return static_cast<double>(v.levels[0].size()) / std::max(1u, options_.level0_compaction_trigger);
  }
  if (level >= num_levels - 1) return 0;  // the last level has nowhere to go
  return static_cast<double>(v.level_bytes(level)) /
         static_cast<double>(std::max<std::uint64_t>(1, target_bytes(level)));
}

void leveled_picker::complete(const version& v, compaction_plan& plan) const {
  std::string smallest, largest;
  range_of(plan.inputs[0], smallest, largest);
  if (plan.output_level() != plan.level) plan.inputs[1] = overlapping(v, plan.output_level(), smallest, largest);
  if (plan.level >= 1 && plan.output_level() != plan.level && !plan.inputs[1].empty()) expand(v, plan);
  // The whole job's range, after any expansion: an expanded file may reach
  // past what level + 1 covers, and tombstones there may still hide older
  // versions below.
  range_of(plan, smallest, largest);
  plan.bottommost = true;
  for (int below = plan.output_level() + 1; below < num_levels; ++below) {
    if (!overlapping(v, below, smallest, largest).empty()) {
      plan.bottommost = false;
      break;
    }
  }
  plan.grandparents.clear();
  if (plan.output_level() != plan.level && plan.output_level() + 1 < num_levels) {
    plan.grandparents = overlapping(v, plan.output_level() + 1, smallest, largest);
  }
  plan.trivial_move = plan.output_level() != plan.level && plan.inputs[1].empty() && movable(plan);
}

bool leveled_picker::movable(const compaction_plan& plan) const {
  // Every input moves down as it is, so the inputs must already be what the
  // output level requires of its files: disjoint user-key ranges (level-0
  // tables of keys written in order, e.g. a sequential fill, are). Two
  // tables sharing a user key must be merged instead.
  std::vector<const table_file*> files;
  for (const auto& f : plan.inputs[0]) files.push_back(&f);
  std::sort(files.begin(), files.end(),
            [](const table_file* a, const table_file* b) { return user_smallest(*a) < user_smallest(*b); });
  for (std::size_t i = 1; i < files.size(); ++i) {
    if (user_largest(*files[i - 1]) >= user_smallest(*files[i])) return false;
  }
  // LevelDB's rule, per moved file: one that overlaps too much of the level
  // below its new one would make a later compaction rewrite all of that.
  // The plan's grandparents are every file there that meets the inputs.
  for (const auto* f : files) {
    std::uint64_t bytes = 0;
    for (const auto& g : plan.grandparents) {
      if (meets(g, user_smallest(*f), user_largest(*f))) bytes += g.size;
    }
    if (bytes > options_.max_grandparent_overlap_bytes) return false;
  }
  return true;
}

void leveled_picker::expand(const version& v, compaction_plan& plan) const {
  // LevelDB's expansion: the files of level + 1 fix a key range; files of
  // level n inside it that pull in no further level + 1 file ride along.
  // They would otherwise rewrite these same level + 1 files again soon.
  std::string smallest, largest;
  range_of(plan, smallest, largest);
  auto grown = overlapping(v, plan.level, smallest, largest);
  if (grown.size() <= plan.inputs[0].size()) return;
  std::uint64_t bytes = 0;
  for (const auto& side : {std::cref(grown), std::cref(plan.inputs[1])})
    for (const auto& f : side.get()) bytes += f.size;
  if (bytes >= options_.expanded_compaction_limit) return;
  std::string gs, gl;
  range_of(grown, gs, gl);
  if (overlapping(v, plan.output_level(), gs, gl).size() != plan.inputs[1].size()) return;
  plan.inputs[0] = std::move(grown);
}

std::optional<compaction_plan> leveled_picker::pick(const version& v, const std::array<bool, num_levels>& busy) {
  int best = -1;
  double best_score = 1;
  for (int level = 0; level < num_levels - 1; ++level) {
    if (busy[static_cast<std::size_t>(level)] || busy[static_cast<std::size_t>(level + 1)]) continue;
    const double s = score(v, level);
    if (s >= best_score) {  // ties go to the lower level: its data is newer and blocks writers first
      if (best < 0 || s > best_score) {
        best = level;
        best_score = s;
      }
    }
  }
  if (best < 0) return std::nullopt;
  compaction_plan plan;
  plan.level = best;
  plan.output = best + 1;
  plan.score = best_score;
  const auto& files = v.levels[static_cast<std::size_t>(best)];
  if (best == 0) {
    plan.inputs[0] = files;
  } else {
    // The first file after the cursor, wrapping around...
    auto& cursor = cursor_[static_cast<std::size_t>(best)];
    const auto after_cursor = std::find_if(files.begin(), files.end(), [&](const table_file& f) {
      return cursor.empty() || sst::compare_internal_keys(f.largest, cursor) > 0;
    });
    const std::size_t start = after_cursor == files.end() ? 0 : static_cast<std::size_t>(after_cursor - files.begin());
    std::size_t chosen = start;
    if (options_.choice == file_choice::min_overlapping_ratio) {
      // ...unless another file rewrites fewer bytes of level + 1 per byte
      // it moves down (ties still go round the cursor).
      const auto ratios = overlap_ratios(v, best);
      for (std::size_t k = 1; k < files.size(); ++k) {
        const std::size_t i = (start + k) % files.size();
        if (ratios[i] < ratios[chosen]) chosen = i;
      }
    }
    plan.inputs[0] = {files[chosen]};
    cursor = files[chosen].largest;
  }
  complete(v, plan);
  return plan;
}

std::optional<compaction_plan> leveled_picker::whole_level(const version& v, int level, bool in_place,
                                                           const std::optional<std::string>& begin,
                                                           const std::optional<std::string>& end) {
  const int last = in_place ? num_levels - 1 : num_levels - 2;
  if (level < 0 || level > last) return std::nullopt;
  std::vector<table_file> files;
  for (const auto& f : v.levels[static_cast<std::size_t>(level)]) {
    if (begin && user_largest(f) < std::string_view(*begin)) continue;
    if (end && user_smallest(f) > std::string_view(*end)) continue;
    files.push_back(f);
  }
  if (files.empty()) return std::nullopt;
  if (level == 0 && files.size() < v.levels[0].size()) {
    // Level-0 tables overlap: a table left behind that overlaps one taken
    // may hold older versions of its keys, which would then shadow the
    // moved newer ones. Take every table overlapping the growing range.
    for (bool grew = true; grew;) {
      std::string smallest, largest;
      range_of(files, smallest, largest);
      grew = false;
      for (const auto& f : overlapping(v, 0, smallest, largest)) {
        if (std::none_of(files.begin(), files.end(), [&](const table_file& t) { return t.number == f.number; })) {
          files.push_back(f);
          grew = true;
        }
      }
    }
  }
  compaction_plan plan;
  plan.level = level;
  plan.output = in_place ? level : level + 1;
  plan.inputs[0] = std::move(files);
  complete(v, plan);
  // A whole level is rewritten even if it is one file: db::compact() must
  // drop what is obsolete, which a move would keep.
  plan.trivial_move = false;
  return plan;
}

}  // namespace strata::compaction
