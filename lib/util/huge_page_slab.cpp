// Layout: each chunk is a 2 MiB-aligned mapping; its first 256 bytes hold
// the chunk header, objects follow, all of the chunk's one class size. An
// object's chunk is its address rounded down to 2 MiB, so a free finds the
// header without a lookup. Free objects link through their first bytes.
//
// Each size class keeps a doubly linked list of its chunks that have room
// (a free object or uncarved space); allocation takes from the first. All
// of a class's state, and the headers of its chunks, are guarded by the
// class mutex. The process-wide totals are atomics updated with relaxed
// ordering: they are statistics, read on their own, ordering nothing.
#include "util/huge_page_slab.hpp"

#include <array>
#include <atomic>
#include <mutex>
#include <new>

#include "util/huge_pages.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
// Free and uncarved slab memory is poisoned, so that AddressSanitizer reports
// a use after free of a slab object as it would one of operator new's.
#define SLAB_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define SLAB_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define SLAB_POISON(p, n) ((void)(p), (void)(n))
#define SLAB_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace strata::util {

namespace {

constexpr std::size_t small_step = 256;
constexpr std::size_t small_limit = 8 << 10;
constexpr std::size_t large_step = 1 << 10;
constexpr std::size_t small_classes = small_limit / small_step;                                    // 256 .. 8 KiB
constexpr std::size_t class_count = small_classes + (slab_max_object - small_limit) / large_step;  // .. 64 KiB
constexpr std::size_t chunk_size = huge_page_size;
constexpr std::size_t header_size = 256;

std::size_t class_of(std::size_t bytes) noexcept {
  if (bytes <= small_limit) return (bytes + small_step - 1) / small_step - 1;
  return small_classes + (bytes - small_limit + large_step - 1) / large_step - 1;
}

std::size_t size_of_class(std::size_t c) noexcept {
  if (c < small_classes) return (c + 1) * small_step;
  return small_limit + (c - small_classes + 1) * large_step;
}

struct free_object {
  free_object* next;
};

struct chunk {
  free_object* free_list = nullptr;
  std::size_t carved = header_size;  // the next uncarved byte
  std::size_t live = 0;
  chunk* prev = nullptr;  // in the class's list of chunks with room
  chunk* next = nullptr;
  bool listed = false;
};
static_assert(sizeof(chunk) <= header_size);

struct alignas(64) size_class {
  std::mutex mu;
  chunk* with_room = nullptr;  // head of the list
  std::size_t listed = 0;      // its length
};

std::array<size_class, class_count>& classes() {
  // Never destroyed: objects may be freed during static destruction.
  static auto* all = new std::array<size_class, class_count>();
  return *all;
}

std::atomic<std::uint64_t> total_chunks{0};
std::atomic<std::uint64_t> total_live_objects{0};
std::atomic<std::uint64_t> total_live_bytes{0};

chunk* chunk_of(void* p) noexcept {
  return reinterpret_cast<chunk*>(reinterpret_cast<std::uintptr_t>(p) & ~(std::uintptr_t{chunk_size} - 1));
}

void link(size_class& sc, chunk* ch) noexcept {
  ch->prev = nullptr;
  ch->next = sc.with_room;
  if (sc.with_room != nullptr) sc.with_room->prev = ch;
  sc.with_room = ch;
  ch->listed = true;
  ++sc.listed;
}

void unlink(size_class& sc, chunk* ch) noexcept {
  if (ch->prev != nullptr) ch->prev->next = ch->next;
  if (ch->next != nullptr) ch->next->prev = ch->prev;
  if (sc.with_room == ch) sc.with_room = ch->next;
  ch->prev = ch->next = nullptr;
  ch->listed = false;
  --sc.listed;
}

bool has_room(const chunk* ch, std::size_t object_size) noexcept {
  return ch->free_list != nullptr || ch->carved + object_size <= chunk_size;
}

}  // namespace

std::size_t slab_class_size(std::size_t bytes) noexcept { return size_of_class(class_of(bytes)); }

void* slab_allocate(std::size_t bytes) {
  if (bytes == 0 || bytes > slab_max_object) throw std::bad_alloc();
  const std::size_t c = class_of(bytes);
  const std::size_t object_size = size_of_class(c);
  size_class& sc = classes()[c];
  std::unique_lock lock(sc.mu);
  chunk* ch = sc.with_room;
  if (ch == nullptr) {
    // Mapping a chunk is a syscall, made outside the lock; another thread may
    // have added room meanwhile, in which case this chunk still joins the list.
    lock.unlock();
    void* memory = allocate_maybe_huge(chunk_size);  // 2 MiB-aligned, MADV_HUGEPAGE
    total_chunks.fetch_add(1, std::memory_order_relaxed);
    ch = new (memory) chunk();
    SLAB_POISON(static_cast<char*>(memory) + header_size, chunk_size - header_size);
    lock.lock();
    link(sc, ch);
  }
  void* p = nullptr;
  if (ch->free_list != nullptr) {
    p = ch->free_list;
    SLAB_UNPOISON(p, object_size);
    ch->free_list = ch->free_list->next;
  } else {
    p = reinterpret_cast<char*>(ch) + ch->carved;
    SLAB_UNPOISON(p, object_size);
    ch->carved += object_size;
  }
  ++ch->live;
  if (!has_room(ch, object_size)) unlink(sc, ch);
  lock.unlock();
  total_live_objects.fetch_add(1, std::memory_order_relaxed);
  total_live_bytes.fetch_add(object_size, std::memory_order_relaxed);
  return p;
}

void slab_free(void* p, std::size_t bytes) noexcept {
  if (p == nullptr) return;
  const std::size_t c = class_of(bytes);
  const std::size_t object_size = size_of_class(c);
  size_class& sc = classes()[c];
  chunk* ch = chunk_of(p);
  chunk* unmap = nullptr;
  {
    std::lock_guard lock(sc.mu);
    auto* object = static_cast<free_object*>(p);
    object->next = ch->free_list;
    ch->free_list = object;
    SLAB_POISON(p, object_size);
    --ch->live;
    if (!ch->listed) link(sc, ch);
    // An empty chunk goes back to the kernel unless it is the class's only
    // room: then the next allocation would only map another.
    if (ch->live == 0 && sc.listed > 1) {
      unlink(sc, ch);
      unmap = ch;
    }
  }
  total_live_objects.fetch_sub(1, std::memory_order_relaxed);
  total_live_bytes.fetch_sub(object_size, std::memory_order_relaxed);
  if (unmap != nullptr) {
    SLAB_UNPOISON(unmap, chunk_size);  // the kernel may map something else here
    unmap->~chunk();
    deallocate_maybe_huge(unmap, chunk_size);
    total_chunks.fetch_sub(1, std::memory_order_relaxed);
  }
}

slab_stats get_slab_stats() {
  slab_stats s;
  s.chunks = total_chunks.load(std::memory_order_relaxed);
  s.mapped_bytes = s.chunks * chunk_size;
  s.live_objects = total_live_objects.load(std::memory_order_relaxed);
  s.live_bytes = total_live_bytes.load(std::memory_order_relaxed);
  return s;
}

}  // namespace strata::util
