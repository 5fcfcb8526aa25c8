// util/huge_pages.hpp — memory backed by transparent huge pages, for large,
// long-lived arrays that lookups hit at random.
//
// A point lookup touches a table's bloom filter, its index arrays and the
// block cache's slot table at effectively random places. With 4 KiB pages
// each of those touches is also a TLB miss and a page walk (a 1M-key table
// has 1.3 MiB of filter alone, over 300 pages), and on this machine a page
// walk that misses the caches costs as much as the load it serves. Backing
// the arrays with 2 MiB pages removes most of those walks.
//
// huge_page_allocator<T> is a std allocator: allocations of at least
// huge_page_threshold bytes are mapped on their own, 2 MiB-aligned and sized
// in whole 2 MiB pages, with madvise(MADV_HUGEPAGE) (the kernel's THP mode is
// "madvise" on Debian); smaller ones, where rounding up to a huge page would
// waste most of it, come from operator new. The kernel may still back a
// mapping with small pages (THP disabled, no free huge page): that is only
// slower, never wrong. Mapping failures throw std::bad_alloc, like new.
//
// Thread safety: stateless; any thread may allocate and free.
#pragma once

#include <cstddef>
#include <new>

namespace strata::util {

inline constexpr std::size_t huge_page_size = std::size_t{2} << 20;
// At 1 MiB a mapping rounded up to one huge page wastes at most half of it;
// below that the TLB saving is not worth the memory.
inline constexpr std::size_t huge_page_threshold = std::size_t{1} << 20;

// bytes >= huge_page_threshold: a huge-page mapping; else operator new.
// deallocate must get the same byte count.
void* allocate_maybe_huge(std::size_t bytes);
void deallocate_maybe_huge(void* p, std::size_t bytes) noexcept;
// The bytes an allocation of `bytes` really occupies (for accounting).
std::size_t footprint_of(std::size_t bytes) noexcept;

// A fixed-size, uninitialized buffer from allocate_maybe_huge. Move-only.
class huge_buffer {
 public:
  huge_buffer() noexcept = default;
  explicit huge_buffer(std::size_t bytes) : data_(static_cast<char*>(allocate_maybe_huge(bytes))), size_(bytes) {}
  huge_buffer(huge_buffer&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  huge_buffer& operator=(huge_buffer&& o) noexcept {
    huge_buffer gone(static_cast<huge_buffer&&>(*this));
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
    return *this;
  }
  ~huge_buffer() { deallocate_maybe_huge(data_, size_); }

  char* data() noexcept { return data_; }
  const char* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  char* data_ = nullptr;
  std::size_t size_ = 0;
};

template <typename T>
struct huge_page_allocator {
  using value_type = T;
  huge_page_allocator() noexcept = default;
  template <typename U>
  huge_page_allocator(const huge_page_allocator<U>&) noexcept {}  // NOLINT: rebinding, as std::allocator

  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(allocate_maybe_huge(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { deallocate_maybe_huge(p, n * sizeof(T)); }

  template <typename U>
  bool operator==(const huge_page_allocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace strata::util
