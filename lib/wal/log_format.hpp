// wal/log_format.hpp — the physical record format shared by the WAL and the
// MANIFEST (docs/wal_format.md has the byte-level description).
//
// A log file is a sequence of 32 KiB blocks. Each logical record is written
// as one or more fragments; a fragment never crosses a block boundary:
//   checksum  fixed32  XXH3-32 (low 32 bits of XXH3-64) of type byte + data
//   length    fixed16  data bytes in this fragment
//   type      byte     1 full, 2 first, 3 middle, 4 last
//   data      length bytes
// A block tail shorter than a header is zero-filled and skipped by readers.
// A file may end in zero-filled space (preallocated by the writer): a zero
// header followed only by zeros is the end of the log.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strata::wal {

inline constexpr std::size_t block_size = 32 * 1024;
inline constexpr std::size_t header_size = 4 + 2 + 1;

enum class fragment_type : std::uint8_t {
  zero = 0,  // never written; zero-filled space (preallocated, or a crash mid-extend) reads as this
  full = 1,
  first = 2,
  middle = 3,
  last = 4,
};

}  // namespace strata::wal
