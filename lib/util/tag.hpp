// util/tag.hpp — the 8-byte version tag shared by the memtable and SSTables.
//
// tag = sequence << 8 | type. For one user key, versions sort by tag
// descending (newest first) in both places, so the encoding must be one
// definition. Pure; thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>

#include "strata/memtable.hpp"

namespace strata {

inline std::uint64_t pack_tag(sequence_number seq, value_type type) noexcept {
  return (seq << 8) | static_cast<std::uint64_t>(type);
}

// The largest tag at or below snapshot `seq`: seeking (key, lookup_tag(S))
// lands on the newest version of key with sequence <= S. Snapshots beyond
// the 56-bit range mean "everything".
inline std::uint64_t lookup_tag(sequence_number seq) noexcept {
  return (std::min(seq, max_sequence_number) << 8) | 0xff;
}

}  // namespace strata
