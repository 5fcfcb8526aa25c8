#include "compaction/merging_iterator.hpp"

#include <algorithm>

#include "sst/internal_key.hpp"

namespace strata::compaction {

namespace asio = boost::asio;

merging_iterator::merging_iterator(std::vector<std::unique_ptr<internal_iterator>> children)
    : children_(std::move(children)) {}

bool merging_iterator::after(std::size_t a, std::size_t b) const noexcept {
  const int c = sst::compare_internal_keys(children_[a]->key(), children_[b]->key());
  return c != 0 ? c > 0 : a > b;
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
    if (children_[i]->valid()) heap_.push_back(i);
  }
  std::make_heap(heap_.begin(), heap_.end(), [this](std::size_t a, std::size_t b) { return after(a, b); });
}

void merging_iterator::settle_top() {
  const auto order = [this](std::size_t a, std::size_t b) { return after(a, b); };
  std::pop_heap(heap_.begin(), heap_.end(), order);  // the moved child goes last
  const std::size_t moved = heap_.back();
  if (take_error(*children_[moved])) return;
  if (children_[moved]->valid()) {
    std::push_heap(heap_.begin(), heap_.end(), order);
  } else {
    heap_.pop_back();
  }
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
  auto& top = *children_[heap_.front()];
  if (!top.try_next()) co_await top.next();
  settle_top();
}

}  // namespace strata::compaction
