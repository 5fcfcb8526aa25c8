// db/db_iterator.cpp — strata::db_iterator: the user's ordered view, on top
// of a merging iterator over every memtable and table of one moment.
//
// The merged stream holds every version (internal-key order: user key
// ascending, newest first). For each user key the iterator shows the first
// version at or below its sequence, unless that version is a tombstone;
// newer versions (written after the iterator was made) and older ones are
// stepped over.
#include <boost/asio/awaitable.hpp>

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
  bool valid = false;
  std::string key;  // the current user key (a copy: the merged stream moves on to skip its older versions)
  std::error_code error;
  std::string message;

  explicit state(std::vector<std::unique_ptr<compaction::internal_iterator>> children) : merged(std::move(children)) {}

  // From the merged stream's position: the next user key with a visible,
  // live version (none equal to `skip` when skipping).
  asio::awaitable<void> settle(bool skipping) {
    valid = false;
    while (merged.valid()) {
      sst::parsed_internal_key k;
      if (!sst::parse_internal_key(merged.key(), k)) {
        error = errc::corruption;
        message = "scan: a table or memtable holds a malformed internal key";
        co_return;
      }
      const bool hidden = k.sequence > sequence || (skipping && k.user_key == key);
      if (!hidden) {
        if (upper_bound && k.user_key >= std::string_view(*upper_bound)) co_return;
        key.assign(k.user_key);
        if (k.type != value_type::deletion) {
          valid = true;  // value() reads the merged stream, which stays here
          co_return;
        }
        skipping = true;  // a tombstone: its key is deleted here; skip the older versions
      }
      co_await merged.next();
    }
    if (merged.error()) {
      error = merged.error();
      message = merged.message();
    }
  }
};

db_iterator::db_iterator(std::unique_ptr<state> s) : s_(std::move(s)) {}
db_iterator::~db_iterator() = default;

bool db_iterator::valid() const noexcept { return s_->valid && !s_->error; }
std::string_view db_iterator::key() const noexcept { return s_->key; }
std::string_view db_iterator::value() const noexcept { return s_->merged.value(); }
std::error_code db_iterator::error() const noexcept { return s_->error; }
const std::string& db_iterator::message() const noexcept { return s_->message; }

asio::awaitable<void> db_iterator::seek_to_first() {
  if (s_->error) co_return;
  co_await s_->merged.seek_to_first();
  co_await s_->settle(false);
}

asio::awaitable<void> db_iterator::seek(std::string_view key) {
  if (s_->error) co_return;
  const std::string target = sst::make_internal_key(key, s_->sequence, value_type::value);
  // (make_internal_key with the highest type at `sequence` would be the
  // exact lookup key; any version of `key` above `sequence` sorts before
  // this one and is skipped by settle() anyway.)
  co_await s_->merged.seek(target);
  co_await s_->settle(false);
}

asio::awaitable<void> db_iterator::next() {
  if (!valid()) co_return;
  co_await s_->merged.next();
  co_await s_->settle(true);
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
    const auto version = versions_.current();
    for (const auto& level : version->levels) {
      for (const auto& f : level) {
        const auto t = tables_.find(f.number);
        if (t == tables_.end()) continue;  // (cannot happen: the map holds every table of the current version)
        children.push_back(compaction::table_child(t->second->reader->new_iterator()));
        pins.push_back(t->second);
      }
    }
  }
  auto s = std::make_unique<db_iterator::state>(std::move(children));
  s->pins = std::move(pins);
  s->sequence = sequence;
  s->upper_bound = ro.upper_bound;
  return std::make_unique<db_iterator>(std::move(s));
}

std::unique_ptr<db_iterator> db::scan(read_options ro) { return impl_->scan(ro); }

}  // namespace strata
