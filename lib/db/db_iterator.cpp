// db/db_iterator.cpp — strata::db_iterator: the user's ordered view, on top
// of a merging iterator over every memtable and table of one moment.
//
// The merged stream holds every version (internal-key order: user key
// ascending, newest first). For each user key the iterator shows the first
// version at or below its sequence, unless that version is a tombstone;
// newer versions (written after the iterator was made) and older ones are
// stepped over.
//
// Moving forward, the merged stream stays on the version shown. Moving
// backward (LevelDB's DBIter scheme), a key's versions come oldest first,
// so the iterator reads all of them to know which one is visible and stops
// on the entry before them: it keeps copies of the key and value, and the
// merged stream is left just before the current key's versions. A turn
// re-seeks the merged stream next to the current key.
#include <boost/asio/awaitable.hpp>

#include "compaction/level_iterator.hpp"
#include "compaction/merging_iterator.hpp"
#include "db/db_impl.hpp"
#include "sst/internal_key.hpp"

namespace strata {

namespace asio = boost::asio;

struct db_iterator::state {
  std::vector<std::shared_ptr<const void>> pins;  // memtables and open tables it reads
  compaction::merging_iterator merged;
  sequence_number sequence = 0;
  std::optional<std::string> upper_bound;
  std::optional<std::string> lower_bound;
  std::optional<std::string> prefix;
  bool valid = false;
  bool reverse = false;  // the last move was backward: `saved_value` holds the value
  // A try_next() stopped at a step of the merged stream that needs a read:
  // next() finishes it (finish_next, then settle_now, still skipping).
  bool step_pending = false;
  std::string key;          // the current user key (a copy: the merged stream moves on to skip its older versions)
  std::string saved_value;  // moving backward: the current value (the merged stream has moved past it)
  std::error_code error;
  std::string message;

  explicit state(std::vector<std::unique_ptr<compaction::internal_iterator>> children) : merged(std::move(children)) {}

  // From the merged stream's position, without suspending: on to the next
  // user key with a visible, live version (none equal to `key` while
  // `skipping`). false when a step of the merged stream needs a read: then
  // co_await merged.finish_next() and call again with the same `skipping`.
  bool settle_now(bool& skipping) {
    valid = false;
    while (merged.valid()) {
      sst::parsed_internal_key k;
      if (!sst::parse_internal_key(merged.key(), k)) {
        error = errc::corruption;
        message = "scan: a table or memtable holds a malformed internal key";
        return true;
      }
      const bool hidden = k.sequence > sequence || (skipping && k.user_key == key);
      if (!hidden) {
        if (past_bounds(k.user_key)) return true;
        key.assign(k.user_key);
        if (k.type != value_type::deletion) {
          valid = true;  // value() reads the merged stream, which stays here
          return true;
        }
        skipping = true;  // a tombstone: its key is deleted here; skip the older versions
      }
      if (!merged.try_next()) return false;
    }
    if (merged.error()) {
      error = merged.error();
      message = merged.message();
    }
    return true;
  }

  asio::awaitable<void> settle(bool skipping) {
    while (!settle_now(skipping)) co_await merged.finish_next();
  }

  bool past_bounds(std::string_view user_key) const {
    if (upper_bound && user_key >= std::string_view(*upper_bound)) return true;
    return prefix && !user_key.starts_with(*prefix);
  }
  // Moving backward: below the lower bound or the prefix.
  bool before_bounds(std::string_view user_key) const {
    if (lower_bound && user_key < std::string_view(*lower_bound)) return true;
    return prefix && !user_key.starts_with(*prefix);
  }

  // From the merged stream's position (moving backward), back to the
  // previous user key with a visible, live version: its newest visible
  // version is the last of its versions read. Leaves the merged stream on
  // the entry before that key's versions.
  asio::awaitable<void> settle_backward() {
    valid = false;
    bool have_value = false;  // key/saved_value hold the newest visible version read so far, and it is live
    while (merged.valid()) {
      sst::parsed_internal_key k;
      if (!sst::parse_internal_key(merged.key(), k)) {
        error = errc::corruption;
        message = "scan: a table or memtable holds a malformed internal key";
        co_return;
      }
      if (before_bounds(k.user_key)) break;
      if (k.sequence <= sequence) {
        if (have_value && k.user_key < std::string_view(key)) break;  // a whole key read: it is the answer
        if (k.type == value_type::deletion) {
          have_value = false;  // deleted at this point; an older key may still be the answer
        } else {
          key.assign(k.user_key);
          saved_value.assign(merged.value());
          have_value = true;
        }
      }
      if (!merged.try_prev()) co_await merged.prev();
    }
    if (merged.error()) {
      error = merged.error();
      message = merged.message();
      co_return;
    }
    valid = have_value;
  }

  // The first and last internal keys a user key can have.
  std::string first_entry_of(std::string_view user_key) const {
    return sst::make_internal_key(user_key, max_sequence_number, value_type::value);
  }
  static std::string last_entry_of(std::string_view user_key) {
    return sst::make_internal_key(user_key, 0, value_type::deletion);
  }
  // Backward from just below `user_key` (exclusive) or at it (inclusive).
  asio::awaitable<void> seek_backward_from(std::string_view user_key, bool inclusive) {
    reverse = true;
    const std::string target = inclusive ? last_entry_of(user_key) : first_entry_of(user_key);
    co_await merged.seek_for_prev(target);
    co_await settle_backward();
  }
};

namespace {

// The smallest string greater than every string starting with `prefix`
// (none if it is all 0xff bytes).
std::optional<std::string> prefix_successor(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last != 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return std::nullopt;
}

}  // namespace

db_iterator::db_iterator(std::unique_ptr<state> s) : s_(std::move(s)) {}
db_iterator::~db_iterator() = default;

bool db_iterator::valid() const noexcept { return s_->valid && !s_->error; }
std::string_view db_iterator::key() const noexcept { return s_->key; }
std::string_view db_iterator::value() const noexcept {
  return s_->reverse ? std::string_view(s_->saved_value) : s_->merged.value();
}
std::error_code db_iterator::error() const noexcept { return s_->error; }
const std::string& db_iterator::message() const noexcept { return s_->message; }

asio::awaitable<void> db_iterator::seek_to_first() {
  s_->step_pending = false;
  s_->reverse = false;
  if (s_->error) co_return;
  std::optional<std::string> start = s_->lower_bound;
  if (s_->prefix && (!start || *start < *s_->prefix)) start = s_->prefix;
  if (start) {  // the first key of the prefix or bound
    const std::string target = sst::make_internal_key(*start, s_->sequence, value_type::value);
    co_await s_->merged.seek(target);
  } else {
    co_await s_->merged.seek_to_first();
  }
  co_await s_->settle(false);
}

namespace {

// Where the scan's keys end (exclusive): the upper bound or the end of the
// prefix, whichever comes first; none: the end of the db.
std::optional<std::string> scan_end(const std::optional<std::string>& upper_bound,
                                    const std::optional<std::string>& prefix) {
  std::optional<std::string> end = upper_bound;
  if (prefix) {
    auto after_prefix = prefix_successor(*prefix);
    if (after_prefix && (!end || *after_prefix < *end)) end = std::move(after_prefix);
  }
  return end;
}

}  // namespace

asio::awaitable<void> db_iterator::seek_to_last() {
  s_->step_pending = false;
  if (s_->error) co_return;
  const std::optional<std::string> end = scan_end(s_->upper_bound, s_->prefix);
  if (end) {
    co_await s_->seek_backward_from(*end, false);
  } else {
    s_->reverse = true;
    co_await s_->merged.seek_to_last();
    co_await s_->settle_backward();
  }
}

asio::awaitable<void> db_iterator::seek(std::string_view key) {
  s_->step_pending = false;
  s_->reverse = false;
  if (s_->error) co_return;
  // Below the lower bound or prefix: start there.
  if (s_->lower_bound && key < std::string_view(*s_->lower_bound)) key = *s_->lower_bound;
  if (s_->prefix && key < std::string_view(*s_->prefix)) key = *s_->prefix;
  const std::string target = sst::make_internal_key(key, s_->sequence, value_type::value);
  // (make_internal_key with the highest type at `sequence` would be the
  // exact lookup key; any version of `key` above `sequence` sorts before
  // this one and is skipped by settle() anyway.)
  co_await s_->merged.seek(target);
  co_await s_->settle(false);
}

asio::awaitable<void> db_iterator::seek_for_prev(std::string_view key) {
  s_->step_pending = false;
  if (s_->error) co_return;
  // Past the upper bound or the prefix: start below the nearer of the two
  // (found by tests/metamorphic: with both set, starting below the upper
  // bound alone landed on a key outside the prefix and ended the scan).
  const std::optional<std::string> end = scan_end(s_->upper_bound, s_->prefix);
  if (end && key >= std::string_view(*end)) {
    co_await s_->seek_backward_from(*end, false);
    co_return;
  }
  co_await s_->seek_backward_from(key, true);
}

asio::awaitable<void> db_iterator::prev() {
  s_->step_pending = false;
  if (!valid()) co_return;
  if (!s_->reverse) {
    // Moving forward, the merged stream is on the current key's visible
    // version; backward, it must be before all of its versions.
    const std::string current = s_->key;
    co_await s_->seek_backward_from(current, false);
    co_return;
  }
  co_await s_->settle_backward();
}

asio::awaitable<void> db_iterator::next() {
  if (s_->reverse) {
    // Turn: the merged stream is before the current key's versions; start
    // at its first version and step over all of them.
    s_->step_pending = false;
    if (!valid()) co_return;
    s_->reverse = false;
    const std::string target = s_->first_entry_of(s_->key);
    co_await s_->merged.seek(target);
    co_await s_->settle(true);
    co_return;
  }
  // The common step needs no read and so no coroutine below this one.
  if (!s_->step_pending && try_next()) co_return;
  s_->step_pending = false;  // finish the step try_next() began
  bool skipping = true;      // (a step always skips the current key's older versions)
  do {
    co_await s_->merged.finish_next();
  } while (!s_->settle_now(skipping));
}

bool db_iterator::try_next() {
  if (!valid()) return true;
  if (s_->reverse) return false;  // a turn: next() seeks
  bool skipping = true;
  if (s_->merged.try_next() && s_->settle_now(skipping)) return true;
  s_->step_pending = true;  // next() finishes the step
  return false;
}

std::unique_ptr<db_iterator> db_impl::scan(const read_options& ro) {
  const sequence_number sequence = read_sequence(ro);
  std::vector<std::shared_ptr<const void>> pins;
  std::vector<std::unique_ptr<compaction::internal_iterator>> children;
  {
    std::lock_guard lock(mu_);
    std::vector<std::shared_ptr<mem_state>> mems{active_};
    for (auto it = sealed_.rbegin(); it != sealed_.rend(); ++it) mems.push_back(*it);
    for (const auto& m : mems) {
      children.push_back(compaction::memtable_child(m->mem, sequence));
      pins.push_back(m->mem);
    }
    // Level 0: a child per table (their ranges overlap); deeper levels: a
    // child per level (compaction/level_iterator.hpp). The table set pins
    // the version (whose keys the level children view) and every table.
    const auto set = current_tables();
    pins.push_back(set);
    // (a null table: a flush's table not yet open; its memtable is among the children)
    for (const auto& t : set->levels[0]) {
      if (t) children.push_back(compaction::table_child(t->reader->new_iterator()));
    }
    for (std::size_t level = 1; level < set->runs.size(); ++level) {
      if (set->runs[level] && !set->runs[level]->empty()) children.push_back(compaction::level_child(set->runs[level]));
    }
  }
  auto s = std::make_unique<db_iterator::state>(std::move(children));
  s->pins = std::move(pins);
  s->sequence = sequence;
  s->upper_bound = ro.upper_bound;
  s->lower_bound = ro.lower_bound;
  s->prefix = ro.prefix;
  return std::make_unique<db_iterator>(std::move(s));
}

std::unique_ptr<db_iterator> db::scan(read_options ro) { return impl_->scan(ro); }

}  // namespace strata
