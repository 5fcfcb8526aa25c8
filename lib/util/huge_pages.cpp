#include "util/huge_pages.hpp"

#include <sys/mman.h>

#include <cstdint>

namespace strata::util {

namespace {

std::size_t round_to_huge(std::size_t bytes) noexcept { return (bytes + huge_page_size - 1) & ~(huge_page_size - 1); }

}  // namespace

std::size_t footprint_of(std::size_t bytes) noexcept {
  return bytes >= huge_page_threshold ? round_to_huge(bytes) : bytes;
}

void* allocate_maybe_huge(std::size_t bytes) {
  if (bytes < huge_page_threshold) return ::operator new(bytes);
  const std::size_t size = round_to_huge(bytes);
  if (size < bytes) throw std::bad_alloc();
  // Map one huge page more than needed and trim both ends, so that what is
  // left starts on a 2 MiB boundary: a huge page can only back an aligned
  // 2 MiB range that lies wholly inside the mapping.
  const std::size_t span = size + huge_page_size;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + huge_page_size - 1) & ~(std::uintptr_t{huge_page_size} - 1);
  if (aligned > start) ::munmap(raw, aligned - start);
  const std::uintptr_t end = start + span;
  if (end > aligned + size) ::munmap(reinterpret_cast<void*>(aligned + size), end - (aligned + size));
  // Advice only: without it (THP off, old kernel) the memory still works.
  (void)::madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
}

void deallocate_maybe_huge(void* p, std::size_t bytes) noexcept {
  if (p == nullptr) return;
  if (bytes < huge_page_threshold) {
    ::operator delete(p);
    return;
  }
  ::munmap(p, round_to_huge(bytes));
}

}  // namespace strata::util
