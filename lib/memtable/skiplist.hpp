// memtable/skiplist.hpp — the node layout and the lock-free skip list.
//
// A node is one arena allocation:
//   [ header 16 B: tag (seq<<8|type), value_size, key_size, height ]
//   [ tower: height x std::atomic<node*> ]
//   [ key bytes ][ value bytes ]
// Nodes are ordered by internal key: user key ascending (bytewise), then tag
// descending, so the newest version of a key comes first.
//
// Nodes are never unlinked or freed while the list lives, which is what
// makes the algorithm simple: an insert links level 0 with one CAS (the
// linearization point: from then on every reader finds the node), then each
// upper level with its own CAS; a failed CAS re-finds the neighbours at that
// level starting from the old predecessor, which is still smaller than the
// new key because the list only grows. Readers walk with acquire loads and
// never write.
//
// Memory ordering: a node's header, key, value and its own tower entries
// are plain/relaxed writes made before the release CAS that links it at a
// level; every traversal reads next pointers with acquire, so whoever
// reaches a node through a link sees it fully built.
//
// Thread safety: insert() and all readers are safe to run concurrently.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "strata/memtable.hpp"
#include "util/compare.hpp"
#include "util/tag.hpp"

namespace strata::detail {

inline constexpr int max_height = 24;  // p = 1/2: ample for 2^24 = 16M entries per table

using strata::lookup_tag;  // util/tag.hpp: the same tags as SSTables
using strata::pack_tag;

struct memtable_node {
  std::uint64_t tag;
  std::uint32_t value_size;
  std::uint16_t key_size;
  std::uint8_t height;
  std::uint8_t reserved;

  static std::size_t allocation_size(int height, std::size_t key_size, std::size_t value_size) noexcept {
    return sizeof(memtable_node) + static_cast<std::size_t>(height) * sizeof(std::atomic<memtable_node*>) + key_size +
           value_size;
  }

  std::atomic<memtable_node*>* tower() noexcept { return reinterpret_cast<std::atomic<memtable_node*>*>(this + 1); }
  const std::atomic<memtable_node*>* tower() const noexcept {
    return reinterpret_cast<const std::atomic<memtable_node*>*>(this + 1);
  }
  const char* key_data() const noexcept { return reinterpret_cast<const char*>(tower() + height); }
  std::string_view key() const noexcept { return {key_data(), key_size}; }
  std::string_view value() const noexcept { return {key_data() + key_size, value_size}; }
  sequence_number sequence() const noexcept { return tag >> 8; }
  value_type type() const noexcept { return static_cast<value_type>(tag & 0xff); }

  // Acquire: pairs with the release CAS that linked the successor (see top).
  memtable_node* next(int level) const noexcept { return tower()[level].load(std::memory_order_acquire); }
};
static_assert(sizeof(memtable_node) == 16);

// The memtable orders user keys bytewise (util/compare.hpp).
inline int compare_user_keys(std::string_view a, std::string_view b) noexcept { return compare_bytes(a, b); }

// <0 if node sorts before (key, tag), 0 if equal, >0 after.
inline int compare_node(const memtable_node* n, std::string_view key, std::uint64_t tag) noexcept {
  const int c = compare_user_keys(n->key(), key);
  if (c != 0) return c;
  return n->tag > tag ? -1 : (n->tag < tag ? 1 : 0);
}

class skiplist {
 public:
  using node = memtable_node;

  // `head_memory` must hold allocation_size(max_height, 0, 0) bytes and
  // outlive the list.
  explicit skiplist(char* head_memory) noexcept : head_(init_node(head_memory, max_height, 0, 0)) {}

  // Builds a node in `memory` (allocation_size bytes). Not yet linked.
  static node* init_node(char* memory, int height, std::uint64_t tag, std::size_t key_size) noexcept {
    auto* n = new (memory) node{tag, 0, static_cast<std::uint16_t>(key_size), static_cast<std::uint8_t>(height), 0};
    for (int i = 0; i < height; ++i) new (&n->tower()[i]) std::atomic<node*>(nullptr);
    return n;
  }

  // The node must be fully built. Returns false (and links nothing) if a
  // node with the same key and sequence is already present. `guard(prev, next)`
  // is called with the level-0 neighbours right before the linking CAS
  // (prev is null for the head, next null at the end); returning false
  // aborts the insert (used by get_or_insert).
  template <typename Guard>
  bool insert(node* n, Guard&& guard) noexcept;
  bool insert(node* n) noexcept {
    return insert(n, [](const node*, const node*) { return true; });
  }
  // Inserts nodes[0..count), fully built and no two with the same key and
  // sequence, as insert(nodes[i]) would one after another; inserted[i] is
  // insert's result for nodes[i]. The neighbour searches run search_lanes
  // at a time in lockstep, each loading the next node it will compare while
  // the other lanes compare theirs, so that up to search_lanes cache misses
  // are in flight instead of one (a search of a large table is a chain of a
  // dozen cold loads). Any order is correct: a search result stays a valid
  // start however many nodes are linked after it (its predecessors still
  // sort before the key, as the list only grows), and the linking CAS sees
  // the change and walks on, as for concurrent inserts. Sorted ascending is
  // fastest: neighbours share the top of their paths.
  void insert_many(node* const* nodes, std::size_t count, bool* inserted) noexcept;
  static constexpr std::size_t search_lanes = 8;

  // First node >= (key, tag), or null.
  const node* find_greater_or_equal(std::string_view key, std::uint64_t tag) const noexcept;
  // Last node for which before(node) holds, where before is true on a prefix
  // of the list; null if none (the head does not count).
  template <typename Before>
  const node* find_last(Before&& before) const noexcept;
  const node* first() const noexcept { return head_->next(0); }
  const node* last() const noexcept {
    return find_last([](const node*) { return true; });
  }
  const node* find_less_than(std::string_view key, std::uint64_t tag) const noexcept {
    return find_last([&](const node* x) { return compare_node(x, key, tag) < 0; });
  }

  int current_height() const noexcept { return height_.load(std::memory_order_relaxed); }

 private:
  // Walks level `level` from `from` until the successor is >= (key, tag).
  static void find_at_level(node* from, int level, std::string_view key, std::uint64_t tag, node** prev,
                            node** next) noexcept {
    node* x = from;
    for (;;) {
      node* nx = x->next(level);
      prefetch_down(x, level);
      if (nx != nullptr && compare_node(nx, key, tag) < 0) {
        x = nx;
      } else {
        *prev = x;
        *next = nx;
        return;
      }
    }
  }

  // Memory-level parallelism for a pointer chase: while we compare x's
  // successor at `level`, start loading the node we will visit first if we
  // drop a level at x. Searches touch ~35 nodes at 1M entries, a dozen of
  // them cold; this overlaps one miss per level with the horizontal walk.
  // Relaxed: only an address to prefetch; nothing is read through it here.
  static void prefetch_down(const node* x, int level) noexcept {
    if (level > 0) __builtin_prefetch(x->tower()[level - 1].load(std::memory_order_relaxed));
  }

  // Raises the list's height to at least `height`; returns the height to
  // search from.
  int raise_height(int height) noexcept {
    int list_height = height_.load(std::memory_order_relaxed);
    while (height > list_height && !height_.compare_exchange_weak(list_height, height, std::memory_order_relaxed)) {
    }
    return height > list_height ? height : list_height;
  }

  // Links n given its neighbours found at every level below its height (a
  // search result, possibly outdated by inserts since: each failed CAS
  // walks on from the old predecessor).
  template <typename Guard>
  bool link(node* n, node** prev, node** next, Guard&& guard) noexcept;

  static bool same_version(const node* n, std::string_view key, std::uint64_t tag) noexcept {
    return (n->tag >> 8) == (tag >> 8) && n->key() == key;
  }

  node* const head_;
  // Relaxed: only a hint of where searches start. A reader that sees a stale
  // smaller value starts lower (still correct, the lower levels hold every
  // node); one that sees a larger value finds null links there and descends.
  std::atomic<int> height_{1};
};

template <typename Guard>
bool skiplist::insert(node* n, Guard&& guard) noexcept {
  const std::string_view key = n->key();
  const std::uint64_t tag = n->tag;
  const int top = raise_height(n->height);

  node* prev[max_height];
  node* next[max_height];
  node* x = head_;
  for (int level = top - 1; level >= 0; --level) {
    find_at_level(x, level, key, tag, &prev[level], &next[level]);
    x = prev[level];
  }
  return link(n, prev, next, guard);
}

template <typename Guard>
bool skiplist::link(node* n, node** prev, node** next, Guard&& guard) noexcept {
  const std::string_view key = n->key();
  const std::uint64_t tag = n->tag;
  const int height = n->height;

  // Level 0: the linearization point.
  for (;;) {
    // One version per (key, sequence), whatever its type: the neighbours
    // are the only places a same-sequence twin can sit.
    if ((next[0] != nullptr && same_version(next[0], key, tag)) ||
        (prev[0] != head_ && same_version(prev[0], key, tag))) {
      return false;
    }
    if (!guard(prev[0] == head_ ? nullptr : static_cast<const node*>(prev[0]), static_cast<const node*>(next[0]))) {
      return false;
    }
    // Relaxed: n is not reachable yet; the release CAS below publishes it.
    n->tower()[0].store(next[0], std::memory_order_relaxed);
    // Release publishes n's contents; on failure we re-read with acquire in find_at_level.
    if (prev[0]->tower()[0].compare_exchange_strong(next[0], n, std::memory_order_release, std::memory_order_relaxed)) {
      break;
    }
    find_at_level(prev[0], 0, key, tag, &prev[0], &next[0]);
  }

  // Upper levels: shortcuts only; readers already find n through level 0.
  for (int level = 1; level < height; ++level) {
    for (;;) {
      // Relaxed: n is not linked at this level yet, nobody else writes this slot.
      n->tower()[level].store(next[level], std::memory_order_relaxed);
      if (prev[level]->tower()[level].compare_exchange_strong(next[level], n, std::memory_order_release,
                                                              std::memory_order_relaxed)) {
        break;
      }
      find_at_level(prev[level], level, key, tag, &prev[level], &next[level]);
    }
  }
  return true;
}

inline void skiplist::insert_many(node* const* nodes, std::size_t count, bool* inserted) noexcept {
  int tallest = 1;
  for (std::size_t i = 0; i < count; ++i) tallest = tallest > nodes[i]->height ? tallest : nodes[i]->height;
  const int top = raise_height(tallest);

  // One search per lane: at `level`, x is the last node known to sort
  // before the key and nx its successor there, whose load is in flight.
  struct search {
    node* x;
    node* nx;
    int level;
  };
  node* prev[search_lanes][max_height];
  node* next[search_lanes][max_height];
  const auto always = [](const node*, const node*) { return true; };
  for (std::size_t base = 0; base < count; base += search_lanes) {
    const std::size_t lanes = count - base < search_lanes ? count - base : search_lanes;
    search s[search_lanes];
    for (std::size_t j = 0; j < lanes; ++j) s[j] = {head_, head_->next(top - 1), top - 1};
    for (std::size_t searching = lanes; searching > 0;) {
      for (std::size_t j = 0; j < lanes; ++j) {
        search& q = s[j];
        if (q.level < 0) continue;
        if (q.nx != nullptr && compare_node(q.nx, nodes[base + j]->key(), nodes[base + j]->tag) < 0) {
          q.x = q.nx;
        } else {
          prev[j][q.level] = q.x;
          next[j][q.level] = q.nx;
          if (--q.level < 0) {
            --searching;
            continue;
          }
        }
        // Acquire, as every traversal (see top); compared on this lane's
        // next turn, after the other lanes' steps have hidden the miss.
        q.nx = q.x->next(q.level);
        if (q.nx != nullptr) __builtin_prefetch(q.nx);
      }
    }
    for (std::size_t j = 0; j < lanes; ++j) inserted[base + j] = link(nodes[base + j], prev[j], next[j], always);
  }
}

inline const skiplist::node* skiplist::find_greater_or_equal(std::string_view key, std::uint64_t tag) const noexcept {
  const node* x = head_;
  const node* nx = nullptr;
  for (int level = current_height() - 1; level >= 0; --level) {
    for (;;) {
      nx = x->next(level);
      prefetch_down(x, level);
      if (nx != nullptr && compare_node(nx, key, tag) < 0) {
        x = nx;
      } else {
        break;
      }
    }
  }
  return nx;
}

template <typename Before>
const skiplist::node* skiplist::find_last(Before&& before) const noexcept {
  const node* x = head_;
  for (int level = current_height() - 1; level >= 0; --level) {
    for (;;) {
      const node* nx = x->next(level);
      prefetch_down(x, level);
      if (nx != nullptr && before(nx)) {
        x = nx;
      } else {
        break;
      }
    }
  }
  return x == head_ ? nullptr : x;
}

}  // namespace strata::detail
