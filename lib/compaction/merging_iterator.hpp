// compaction/merging_iterator.hpp — one sorted stream over several sources.
//
// Merges internal iterators (tables, memtables) by internal-key order (user key ascending, then
// sequence descending), so every version and tombstone of every input comes
// out once, newest version of a key first: what a compaction needs (it
// decides what to keep) and what a scan builds on (it hides what it must).
// A heap of the children that still have entries (smallest on top moving
// forward, largest moving backward); a step advances the top child and
// restores the heap. Turning around (prev() after next() or the reverse)
// re-seeks every other child around the current key, as LevelDB's merging
// iterator does, so mixed directions cost one seek per child per turn.
// Turning needs every internal key to be in one child only, which holds for
// the sources of one version (an entry lives in one memtable or table) and
// for a compaction's inputs; a forward-only merge does not care.
// Moves are awaitable because a child may have to read its next block; a
// child that needs no read moves without suspending
// (internal_iterator::try_next).
//
// After any child fails (I/O error, corruption), valid() is false and
// error()/message() say which. Owns its children; the tables they read must
// outlive it. One coroutine at a time.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "compaction/internal_iterator.hpp"
#include "sst/internal_key.hpp"

namespace strata::compaction {

class merging_iterator {
 public:
  explicit merging_iterator(std::vector<std::unique_ptr<internal_iterator>> children);

  bool valid() const noexcept { return !error_ && !heap_.empty(); }
  std::string_view key() const noexcept { return heap_.front().key; }
  std::string_view value() const noexcept { return children_[heap_.front().child]->value(); }
  std::error_code error() const noexcept { return error_; }
  const std::string& message() const noexcept { return message_; }

  boost::asio::awaitable<void> seek_to_first();
  boost::asio::awaitable<void> seek_to_last();
  // First entry >= target in internal-key order.
  boost::asio::awaitable<void> seek(std::string_view target);
  // Last entry <= target in internal-key order.
  boost::asio::awaitable<void> seek_for_prev(std::string_view target);
  boost::asio::awaitable<void> next();
  boost::asio::awaitable<void> prev();
  // next() without suspending when the child that moves needs no read.
  // false: the step needs one (or a turn from moving backward); co_await
  // finish_next() completes it (and nothing else may be called in between).
  bool try_next();
  boost::asio::awaitable<void> finish_next();
  // prev() without suspending when the top child needs no read; false:
  // nothing moved, co_await prev() does the step.
  bool try_prev();

 private:
  // Rebuilds the heap from every valid child (after a seek).
  void rebuild();
  // Puts the smallest child back in place after it moved (or drops it if
  // it ran out).
  void settle_top();
  bool take_error(const internal_iterator& child);
  // A valid child and its current key, cached so that comparisons make no
  // virtual calls (a child's key view stays valid until it moves, and only
  // the top child moves).
  struct entry {
    std::string_view key;
    std::size_t child;
  };
  // True if a's key sorts after b's (ties by child index, so the order is
  // total). Inline: the heap compares on every step of a scan.
  static bool after(const entry& a, const entry& b) noexcept {
    const int c = sst::compare_internal_keys(a.key, b.key);
    return c != 0 ? c > 0 : a.child > b.child;
  }
  // The heap's order: true if a belongs below b (a is further from the
  // next entry in the current direction).
  bool below(const entry& a, const entry& b) const noexcept { return forward_ ? after(a, b) : after(b, a); }
  // Turning around at the current entry: every other child is re-seeked to
  // just after it (forward) or just before it (backward).
  boost::asio::awaitable<void> turn_forward();
  boost::asio::awaitable<void> turn_backward();

  std::vector<std::unique_ptr<internal_iterator>> children_;
  std::vector<entry> heap_;  // heap_.front() is the next entry in the current direction
  bool forward_ = true;
  std::error_code error_;
  std::string message_;
};

}  // namespace strata::compaction
