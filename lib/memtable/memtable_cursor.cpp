// strata::memtable::cursor — ordered reads at a fixed snapshot.
//
// Stability argument (snapshot cursors; a live cursor reads at the maximum
// sequence and simply sees what is linked): a cursor reads at sequence S, and every version with
// sequence <= S was completely linked before S was published; versions
// written later carry larger sequences and are skipped. So the set of
// entries a cursor can land on never changes under concurrent writers, and
// forward and backward steps agree with each other.
//
// Backward steps re-search from the head (O(log n)), as LevelDB's memtable
// iterator does; the list has no back pointers to keep consistent.
#include "memtable/memtable_core.hpp"
#include "strata/memtable.hpp"

namespace strata {

using detail::compare_user_keys;
using detail::lookup_tag;
using detail::memtable_node;

memtable::cursor memtable::new_cursor(const cursor_options& opts) const {
  const sequence_number snap = std::min(opts.snapshot.value_or(max_sequence_number), max_sequence_number);
  return cursor(shared_from_this(), opts, snap);
}

memtable::cursor memtable::new_cursor() const { return new_cursor(cursor_options{}); }
memtable::entry_range memtable::entries() const { return entries(cursor_options{}); }

memtable::entry_range memtable::entries(const cursor_options& opts) const {
  entry_range range{new_cursor(opts)};
  range.start.seek_to_first();
  return range;
}

memtable::cursor::cursor(std::shared_ptr<const memtable> table, const cursor_options& opts, sequence_number snap)
    : table_(std::move(table)),
      snapshot_(snap),
      all_versions_(opts.all_versions),
      include_deletions_(opts.include_deletions) {}

// From n (the start of a key's versions, or a node reached by skipping
// newer invisible versions), move forward to the first entry the view shows.
void memtable::cursor::settle_forward(const memtable_node* n) {
  while (n != nullptr) {
    if (n->sequence() > snapshot_) {  // written after our snapshot
      n = n->next(0);
      continue;
    }
    if (!all_versions_ && n->type() == value_type::deletion && !include_deletions_) {
      const std::string_view deleted = n->key();  // hide every older version too
      do {
        n = n->next(0);
      } while (n != nullptr && n->key() == deleted);
      continue;
    }
    break;
  }
  node_ = n;
}

// User view: position on the largest user key whose newest visible version
// the view shows, among keys below *bound (at most *bound when inclusive;
// all keys when bound is null).
void memtable::cursor::settle_backward_before(const std::string_view* bound_or_null, bool inclusive) {
  const auto& list = table_->core_->list;
  std::string_view bound = bound_or_null != nullptr ? *bound_or_null : std::string_view{};
  bool bounded = bound_or_null != nullptr;
  for (;;) {
    const memtable_node* p = !bounded ? list.last() : list.find_last([&](const memtable_node* x) {
      const int c = compare_user_keys(x->key(), bound);
      return inclusive ? c <= 0 : c < 0;
    });
    if (p == nullptr) {
      node_ = nullptr;
      return;
    }
    const std::string_view key = p->key();
    const memtable_node* newest = list.find_greater_or_equal(key, lookup_tag(snapshot_));
    if (newest != nullptr && newest->key() == key && (newest->type() == value_type::value || include_deletions_)) {
      node_ = newest;
      return;
    }
    bound = key;  // nothing visible for this key: keep going left
    bounded = true;
    inclusive = false;
  }
}

void memtable::cursor::seek_to_first() { settle_forward(table_->core_->list.first()); }

void memtable::cursor::seek(std::string_view target) {
  settle_forward(table_->core_->list.find_greater_or_equal(target, lookup_tag(snapshot_)));
}

void memtable::cursor::next() {
  if (node_ == nullptr) return;
  const memtable_node* n = node_->next(0);
  if (!all_versions_) {
    while (n != nullptr && n->key() == node_->key()) n = n->next(0);
  }
  settle_forward(n);
}

void memtable::cursor::prev() {
  if (node_ == nullptr) return;
  if (!all_versions_) {
    const std::string_view key = node_->key();
    settle_backward_before(&key, false);
    return;
  }
  const auto& list = table_->core_->list;
  const memtable_node* n = list.find_less_than(node_->key(), node_->tag);
  while (n != nullptr && n->sequence() > snapshot_) n = list.find_less_than(n->key(), n->tag);
  node_ = n;
}

void memtable::cursor::seek_to_last() {
  if (!all_versions_) {
    settle_backward_before(nullptr, false);
    return;
  }
  const auto& list = table_->core_->list;
  const memtable_node* n = list.last();
  while (n != nullptr && n->sequence() > snapshot_) n = list.find_less_than(n->key(), n->tag);
  node_ = n;
}

void memtable::cursor::seek_for_prev(std::string_view target) {
  if (!all_versions_) {
    settle_backward_before(&target, true);
    return;
  }
  const auto& list = table_->core_->list;
  const memtable_node* n =
      list.find_last([&](const memtable_node* x) { return compare_user_keys(x->key(), target) <= 0; });
  while (n != nullptr && n->sequence() > snapshot_) n = list.find_less_than(n->key(), n->tag);
  node_ = n;
}

memtable::entry memtable::cursor::current() const noexcept {
  return {node_->key(), node_->type() == value_type::deletion ? std::string_view{} : node_->value(), node_->sequence(),
          node_->type()};
}
std::string_view memtable::cursor::key() const noexcept { return node_->key(); }
std::string_view memtable::cursor::value() const noexcept { return current().value; }
sequence_number memtable::cursor::sequence() const noexcept { return node_->sequence(); }
value_type memtable::cursor::type() const noexcept { return node_->type(); }

}  // namespace strata
