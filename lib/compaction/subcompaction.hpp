// compaction/subcompaction.hpp — splitting one compaction job by key range.
//
// A large job (level 0 into level 1 above all: every level-0 file spans the
// whole key space) runs on one thread for seconds. Split at user keys into
// disjoint ranges of about equal input bytes, its parts can run on several
// background threads at once, each merging only its range of every input
// and writing its own output tables; together the parts write exactly what
// the whole job would (the ranges cut between user keys, so every version
// of a key lands in one part). RocksDB calls the parts subcompactions.
//
// Plain functions of a plan; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compaction/compaction_plan.hpp"

namespace strata::compaction {

// User keys [begin, end); nullopt: unbounded on that side.
struct key_range {
  std::optional<std::string> begin = std::nullopt, end = std::nullopt;
};

// At most max_parts ranges covering every key, in ascending order, cut at
// input files' largest user keys so that the parts' input bytes are about
// equal. One unbounded range when max_parts <= 1 or the plan's inputs are
// below min_bytes (splitting a small job costs more than it saves).
std::vector<key_range> split_for_subcompactions(const compaction_plan& plan, unsigned max_parts,
                                                std::uint64_t min_bytes);

}  // namespace strata::compaction
