// compaction/compaction_plan.hpp — what one compaction job is to do.
//
// A plan names its input files (from `level` and from the output level,
// normally level + 1; the same level for a bottom-level rewrite), whether the output level is the bottom for the plan's
// key range (no live file below overlaps it, so tombstones can go), and whether the job is a trivial move (files
// with nothing to merge with: only the MANIFEST changes). Plain data; made by a compaction_picker from one version, run
// by compaction_job.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "db/version_edit.hpp"

namespace strata::compaction {

struct compaction_plan {
  int level = 0;   // inputs come from level and the output level; outputs go to the output level
  int output = 1;  // level + 1, or level itself when a db::compact() rewrites the bottom level
  std::array<std::vector<db_internal::table_file>, 2> inputs;  // [0] from level, [1] from the output level
  // The files of the level below the output level that meet the plan's key
  // range, in key order (LevelDB's "grandparents"). The job cuts an output
  // early when it would overlap too many of their bytes, so that compacting
  // that output later rewrites a bounded amount of the level below.
  std::vector<db_internal::table_file> grandparents;
  bool bottommost = false;    // nothing below the output level overlaps the inputs' key range
  bool trivial_move = false;  // inputs[1] empty, inputs[0] disjoint, few grandparent bytes each: move them down
  double score = 0;           // why it was picked (>= 1 for automatic compactions)

  int output_level() const noexcept { return output; }
  std::uint64_t grandparent_bytes() const noexcept {
    std::uint64_t n = 0;
    for (const auto& f : grandparents) n += f.size;
    return n;
  }
  std::uint64_t input_bytes() const noexcept {
    std::uint64_t n = 0;
    for (const auto& side : inputs)
      for (const auto& f : side) n += f.size;
    return n;
  }
};

}  // namespace strata::compaction
