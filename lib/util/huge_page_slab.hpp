// util/huge_page_slab.hpp — a process-wide slab allocator on 2 MiB huge pages,
// for many mid-sized objects that are read at random (block cache blocks).
//
// A warm point lookup reads a cached block's trailer, restart keys and
// entries; with blocks spread over 4 KiB pages of the malloc heap each
// lookup also pays one or two TLB misses and page walks. Carving the blocks
// out of huge pages removes them (about 20 % more warm gets in sst_bench).
//
// Objects up to slab_max_object bytes are rounded up to a size class
// (multiples of 256 bytes up to 8 KiB, of 1 KiB up to 64 KiB: at most 6 % of
// a 4 KiB block) and carved from chunks: 2 MiB-aligned mappings advised
// MADV_HUGEPAGE, one size class per chunk, freed objects reused first. A
// chunk that empties is unmapped unless it is its class's only chunk with
// room. So the memory mapped is what is live, plus at most about two chunks
// per size class in use, plus the holes frees leave until they are reused:
// meant for caches of hundreds of MiB, not for a few blocks.
//
// Larger objects are not slab objects: callers use operator new for them
// (slab_allocate refuses them with std::bad_alloc).
//
// Thread safety: any thread may allocate and free, concurrently; each size
// class has its own mutex. Objects may be freed by another thread than the
// one that allocated them. The slab lives for the whole process (it is never
// destroyed), so objects may outlive whatever allocated them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strata::util {

inline constexpr std::size_t slab_max_object = std::size_t{64} << 10;

// The bytes an object of `bytes` (1..slab_max_object) really occupies.
std::size_t slab_class_size(std::size_t bytes) noexcept;

// 256-byte aligned memory for `bytes` (1..slab_max_object); std::bad_alloc
// if the kernel will not map a chunk or bytes is out of range.
void* slab_allocate(std::size_t bytes);
// p from slab_allocate(bytes), with the same bytes.
void slab_free(void* p, std::size_t bytes) noexcept;

struct slab_stats {
  std::uint64_t chunks = 0;        // mapped now
  std::uint64_t mapped_bytes = 0;  // chunks * 2 MiB
  std::uint64_t live_objects = 0;
  std::uint64_t live_bytes = 0;  // by class size
};
slab_stats get_slab_stats();

}  // namespace strata::util
