#include "compaction/merging_iterator.hpp"

#include <algorithm>

#include "sst/internal_key.hpp"

namespace strata::compaction {

namespace asio = boost::asio;

merging_iterator::merging_iterator(std::vector<std::unique_ptr<internal_iterator>> children)
    : children_(std::move(children)) {}

bool merging_iterator::take_error(const internal_iterator& child) {
  if (!child.error()) return false;
  if (!error_) {
    error_ = child.error();
    message_ = child.message();
  }
  return true;
}

void merging_iterator::rebuild() {
  heap_.clear();
  for (std::size_t i = 0; i < children_.size(); ++i) {
    if (take_error(*children_[i])) return;
    if (children_[i]->valid()) heap_.push_back({children_[i]->key(), i});
  }
  std::make_heap(heap_.begin(), heap_.end(), [this](const entry& a, const entry& b) { return below(a, b); });
}

void merging_iterator::settle_top() {
  const std::size_t moved_child = heap_.front().child;
  const internal_iterator& moved = *children_[moved_child];
  // The entry to sift down from the top, built in registers: storing the
  // new key into heap_.front() and reading the whole entry back stalled on
  // store forwarding (two 8-byte stores, one wider load), a quarter of this
  // function's time in a warm scan.
  entry top;
  if (!moved.valid()) {  // (a failed child is invalid too)
    if (take_error(moved)) return;
    top = heap_.back();
    heap_.pop_back();
    if (heap_.empty()) return;
  } else {
    top = entry{moved.key(), moved_child};
  }
  // Sift the top down: one pass of ~log n comparisons, where pop_heap +
  // push_heap would take two. Most steps stop at once (the same child stays
  // smallest while it walks a run of keys the others lack).
  const std::size_t n = heap_.size();
  std::size_t hole = 0;
  for (;;) {
    std::size_t child = 2 * hole + 1;
    if (child >= n) break;
    if (child + 1 < n && below(heap_[child], heap_[child + 1])) ++child;
    if (!below(top, heap_[child])) break;
    heap_[hole] = heap_[child];
    hole = child;
  }
  heap_[hole] = top;
}

asio::awaitable<void> merging_iterator::seek_to_first() {
  forward_ = true;
  for (auto& c : children_) co_await c->seek_to_first();
  rebuild();
}

asio::awaitable<void> merging_iterator::seek_to_last() {
  forward_ = false;
  for (auto& c : children_) co_await c->seek_to_last();
  rebuild();
}

asio::awaitable<void> merging_iterator::seek(std::string_view target) {
  forward_ = true;
  const std::string t(target);  // target may view into a child's key
  // Most children seek without a read, and then without a coroutine frame
  // each (a seek is a large part of a short scan).
  for (auto& c : children_) {
    if (!c->try_seek(t)) co_await c->seek(t);
  }
  rebuild();
}

asio::awaitable<void> merging_iterator::seek_for_prev(std::string_view target) {
  forward_ = false;
  const std::string t(target);
  for (auto& c : children_) {
    // Each child's last entry <= t: its first entry >= t if that is t,
    // else the one before (its last entry when none is >= t).
    co_await c->seek(t);
    if (c->error()) continue;  // (rebuild reports it)
    if (!c->valid()) {
      co_await c->seek_to_last();
    } else if (sst::compare_internal_keys(c->key(), t) > 0) {
      co_await c->prev();
    }
  }
  rebuild();
}

asio::awaitable<void> merging_iterator::turn_forward() {
  // Moving backward, every child but the top is at its last entry below the
  // current key (or exhausted); moving forward they must be at their first
  // entry above it, which is their first entry >= it (no other child holds
  // the current key: see the header).
  const std::size_t top = heap_.front().child;
  const std::string current(key());
  for (std::size_t i = 0; i < children_.size(); ++i) {
    if (i == top) continue;
    co_await children_[i]->seek(current);
  }
  forward_ = true;
  rebuild();  // the top child, at `current`, is the smallest again
}

asio::awaitable<void> merging_iterator::turn_backward() {
  const std::size_t top = heap_.front().child;
  const std::string current(key());
  for (std::size_t i = 0; i < children_.size(); ++i) {
    if (i == top) continue;
    auto& c = *children_[i];
    co_await c.seek(current);
    if (c.error()) continue;
    if (c.valid()) {
      co_await c.prev();
    } else {
      co_await c.seek_to_last();
    }
  }
  forward_ = false;
  rebuild();  // the top child, at `current`, is the largest again
}

asio::awaitable<void> merging_iterator::next() {
  if (!valid()) co_return;
  if (!forward_) co_await turn_forward();
  if (!valid()) co_return;
  auto& top = *children_[heap_.front().child];
  if (!top.try_next()) co_await top.next();
  settle_top();
}

asio::awaitable<void> merging_iterator::prev() {
  if (!valid()) co_return;
  if (forward_) co_await turn_backward();
  if (!valid()) co_return;
  auto& top = *children_[heap_.front().child];
  if (!top.try_prev()) co_await top.prev();
  settle_top();
}

bool merging_iterator::try_next() {
  if (!valid()) return true;
  if (!forward_) return false;  // turning around seeks: finish_next() does the whole step
  if (!children_[heap_.front().child]->try_next()) return false;
  settle_top();
  return true;
}

bool merging_iterator::try_prev() {
  if (!valid()) return true;
  if (forward_) return false;
  // (A child's try_prev() that refuses has not moved.)
  if (!children_[heap_.front().child]->try_prev()) return false;
  settle_top();
  return true;
}

asio::awaitable<void> merging_iterator::finish_next() {
  if (!forward_) {
    co_await next();
    co_return;
  }
  co_await children_[heap_.front().child]->next();
  settle_top();
}

}  // namespace strata::compaction
