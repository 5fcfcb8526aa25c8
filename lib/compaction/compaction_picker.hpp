// compaction/compaction_picker.hpp — which compaction to run next.
//
// compaction_picker is the seam for other strategies (tiered/universal,
// FIFO); leveled_picker is the one implemented. It scores every level —
// level 0 by its file count over level0_compaction_trigger, level n >= 1 by
// its bytes over max_bytes_for_level_base * multiplier^(n-1) — and picks
// the highest score >= 1. From level 0 it takes every file (their ranges
// overlap); from level n >= 1 the file with the least overlap in level n+1
// per byte of its own (file_choice), the level's cursor (the largest key
// the last compaction of that level took) breaking ties so that equal
// files are taken in turn round the key space. It then adds the files of
// level n+1 that overlap the inputs' user-key range, and then the files of
// level n inside that wider range that bring no more of level n+1 (LevelDB's
// expansion: work that would otherwise rewrite the same files again).
//
// Levels with a compaction running are skipped (the caller says which), so
// two jobs never share an input or write the same output level.
// Not thread-safe: the db calls it under its mutex.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compaction/compaction_plan.hpp"
#include "db/version.hpp"

namespace strata::compaction {

// Which file of a level n >= 1 a compaction takes.
enum class file_choice : std::uint8_t {
  // The one whose overlap in level n+1 is smallest for its size (RocksDB's
  // default, kMinOverlappingRatio): least rewriting per byte moved down,
  // the lowest write amplification. Ties: the first after the cursor.
  min_overlapping_ratio,
  // The first file after the cursor (LevelDB's way): sweeps the key space.
  round_robin,
};

struct leveled_options {
  unsigned level0_compaction_trigger = 4;
  std::uint64_t max_bytes_for_level_base = std::uint64_t{256} << 20;
  double max_bytes_for_level_multiplier = 10;
  file_choice choice = file_choice::min_overlapping_ratio;
  // A job from level n >= 1 takes more files of level n when they fit in
  // the key range its level n+1 files span anyway, unless that makes the
  // job larger than this (LevelDB: 25 target files).
  std::uint64_t expanded_compaction_limit = std::uint64_t{25} * (64u << 20);
  // A file moves down a level without a rewrite only if it overlaps at most
  // this many bytes two levels down (LevelDB: 10 target files); otherwise
  // compacting it later would rewrite all of them at once.
  std::uint64_t max_grandparent_overlap_bytes = std::uint64_t{10} * (64u << 20);
};

class compaction_picker {
 public:
  virtual ~compaction_picker() = default;
  // The next automatic compaction, or nothing if no level needs one.
  // busy[n]: a job is reading level n or writing level n (skip both).
  virtual std::optional<compaction_plan> pick(const db_internal::version& v,
                                              const std::array<bool, db_internal::num_levels>& busy) = 0;
  // A job over everything in `level` (only its tables whose user keys meet
  // [begin, end], when given) and what overlaps it in level + 1
  // (db::compact), or with in_place, those tables rewritten into `level`
  // itself (the last step of db::compact: the bottom level drops what no
  // snapshot needs). Nothing if no table qualifies.
  virtual std::optional<compaction_plan> whole_level(const db_internal::version& v, int level, bool in_place,
                                                     const std::optional<std::string>& begin,
                                                     const std::optional<std::string>& end) = 0;
};

class leveled_picker final : public compaction_picker {
 public:
  explicit leveled_picker(leveled_options o) : options_(o) {}

  std::optional<compaction_plan> pick(const db_internal::version& v,
                                      const std::array<bool, db_internal::num_levels>& busy) override;
  std::optional<compaction_plan> whole_level(const db_internal::version& v, int level, bool in_place,
                                             const std::optional<std::string>& begin,
                                             const std::optional<std::string>& end) override;

  // The score of each level as pick() sees it (for stats and tests).
  double score(const db_internal::version& v, int level) const;
  std::uint64_t target_bytes(int level) const;

 private:
  // Adds level + 1's overlapping files, the bottommost flag and the
  // trivial-move flag.
  void complete(const db_internal::version& v, compaction_plan& plan) const;
  // Grows inputs[0] within the range of inputs[1] (see expanded_compaction_limit).
  void expand(const db_internal::version& v, compaction_plan& plan) const;
  // Whether inputs[0] (inputs[1] being empty) can move down without a
  // rewrite: disjoint user-key ranges, and no file over the grandparent
  // limit (measured against plan.grandparents, which complete() lists first).
  bool movable(const compaction_plan& plan) const;

  leveled_options options_;
  std::array<std::string, db_internal::num_levels> cursor_;  // per level: largest internal key compacted last
};

// For each file of `level` (>= 1, below the last): the bytes of level + 1
// it overlaps over its own size.
std::vector<double> overlap_ratios(const db_internal::version& v, int level);

// Files of `level` whose user-key range meets [smallest, largest] (user keys).
std::vector<db_internal::table_file> overlapping(const db_internal::version& v, int level, std::string_view smallest,
                                                 std::string_view largest);

}  // namespace strata::compaction
