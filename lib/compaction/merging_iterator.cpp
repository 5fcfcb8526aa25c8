#include "compaction/merging_iterator.hpp"

#include <algorithm>

#include "sst/internal_key.hpp"

namespace strata::compaction {

namespace asio = boost::asio;

merging_iterator::merging_iterator(std::vector<std::unique_ptr<internal_iterator>> children)
    : children_(std::move(children)) {}

bool merging_iterator::after(const entry& a, const entry& b) noexcept {
  const int c = sst::compare_internal_keys(a.key, b.key);
  return c != 0 ? c > 0 : a.child > b.child;
}

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
  std::make_heap(heap_.begin(), heap_.end(), after);
}

void merging_iterator::settle_top() {
  const internal_iterator& moved = *children_[heap_.front().child];
  if (!moved.valid()) {  // (a failed child is invalid too)
    if (take_error(moved)) return;
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (heap_.empty()) return;
  } else {
    heap_.front().key = moved.key();
  }
  // Sift the top down: one pass of ~log n comparisons, where pop_heap +
  // push_heap would take two. Most steps stop at once (the same child stays
  // smallest while it walks a run of keys the others lack).
  const std::size_t n = heap_.size();
  const entry top = heap_.front();
  std::size_t hole = 0;
  for (;;) {
    std::size_t child = 2 * hole + 1;
    if (child >= n) break;
    if (child + 1 < n && after(heap_[child], heap_[child + 1])) ++child;
    if (!after(top, heap_[child])) break;
    heap_[hole] = heap_[child];
    hole = child;
  }
  heap_[hole] = top;
}

asio::awaitable<void> merging_iterator::seek_to_first() {
  for (auto& c : children_) co_await c->seek_to_first();
  rebuild();
}

asio::awaitable<void> merging_iterator::seek(std::string_view target) {
  const std::string t(target);  // target may view into a child's key
  for (auto& c : children_) co_await c->seek(t);
  rebuild();
}

asio::awaitable<void> merging_iterator::next() {
  if (!valid()) co_return;
  auto& top = *children_[heap_.front().child];
  if (!top.try_next()) co_await top.next();
  settle_top();
}

bool merging_iterator::try_next() {
  if (!valid()) return true;
  if (!children_[heap_.front().child]->try_next()) return false;
  settle_top();
  return true;
}

asio::awaitable<void> merging_iterator::finish_next() {
  co_await children_[heap_.front().child]->next();
  settle_top();
}

}  // namespace strata::compaction
