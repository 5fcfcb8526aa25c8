#include "compaction/internal_iterator.hpp"

#include "sst/internal_key.hpp"

namespace strata::compaction {

namespace asio = boost::asio;

namespace {

class table_source final : public internal_iterator {
 public:
  explicit table_source(sst::table_iterator it) : it_(std::move(it)) {}
  bool valid() const noexcept override { return it_.valid(); }
  std::string_view key() const noexcept override { return it_.key(); }
  std::string_view value() const noexcept override { return it_.value(); }
  std::error_code error() const noexcept override { return it_.error(); }
  const std::string& message() const noexcept override { return it_.message(); }
  asio::awaitable<void> seek_to_first() override { co_await it_.seek_to_first(); }
  asio::awaitable<void> seek_to_last() override { co_await it_.seek_to_last(); }
  asio::awaitable<void> seek(std::string_view target) override { co_await it_.seek(target); }
  asio::awaitable<void> next() override { co_await it_.next(); }
  asio::awaitable<void> prev() override { co_await it_.prev(); }
  bool try_next() override { return it_.try_next(); }
  bool try_prev() override { return it_.try_prev(); }
  bool try_seek(std::string_view target) override { return it_.try_seek(target); }

 private:
  sst::table_iterator it_;
};

class memtable_source final : public internal_iterator {
 public:
  memtable_source(std::shared_ptr<const memtable> mem, sequence_number snapshot)
      : cursor_(mem->new_cursor({.snapshot = snapshot, .all_versions = true, .include_deletions = true})) {}
  bool valid() const noexcept override { return cursor_.valid(); }
  std::string_view key() const noexcept override { return key_; }
  std::string_view value() const noexcept override { return cursor_.value(); }
  std::error_code error() const noexcept override { return {}; }
  const std::string& message() const noexcept override { return no_message_; }
  asio::awaitable<void> seek_to_first() override {
    cursor_.seek_to_first();
    settle();
    co_return;
  }
  asio::awaitable<void> seek_to_last() override {
    cursor_.seek_to_last();
    settle();
    co_return;
  }
  asio::awaitable<void> seek(std::string_view target) override {
    try_seek(target);
    co_return;
  }
  bool try_seek(std::string_view target) override {
    // The cursor seeks by user key; versions of that key newer than the
    // target's sequence sort before it and are stepped over.
    const std::string t(target);
    cursor_.seek(sst::user_key_of(t));
    settle();
    while (valid() && sst::compare_internal_keys(key_, t) < 0) try_next();
    return true;
  }
  asio::awaitable<void> next() override {
    try_next();
    co_return;
  }
  asio::awaitable<void> prev() override {
    try_prev();
    co_return;
  }
  bool try_next() override {
    if (!cursor_.valid()) return true;
    cursor_.next();
    settle();
    return true;
  }
  // (A backward step re-searches the skip list from its head: O(log n).)
  bool try_prev() override {
    if (!cursor_.valid()) return true;
    cursor_.prev();
    settle();
    return true;
  }

 private:
  void settle() {
    if (!cursor_.valid()) return;
    key_.clear();
    sst::append_internal_key(key_, cursor_.key(), cursor_.sequence(), cursor_.type());
  }

  memtable::cursor cursor_;
  std::string key_;  // the current entry as an internal key
  inline static const std::string no_message_;
};

}  // namespace

std::unique_ptr<internal_iterator> table_child(sst::table_iterator it) {
  return std::make_unique<table_source>(std::move(it));
}

std::unique_ptr<internal_iterator> memtable_child(std::shared_ptr<const memtable> mem, sequence_number snapshot) {
  return std::make_unique<memtable_source>(std::move(mem), snapshot);
}

}  // namespace strata::compaction
