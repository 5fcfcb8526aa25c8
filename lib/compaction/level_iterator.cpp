#include "compaction/level_iterator.hpp"

#include <algorithm>
#include <optional>

#include "sst/internal_key.hpp"

namespace strata::compaction {

namespace asio = boost::asio;

namespace {

class level_source final : public internal_iterator {
 public:
  level_source(std::shared_ptr<const std::vector<run_table>> tables, bool fill_cache, std::size_t readahead)
      : shared_tables_(std::move(tables)), tables_(*shared_tables_), fill_cache_(fill_cache), readahead_(readahead) {}

  bool valid() const noexcept override { return it_ && it_->valid(); }
  std::string_view key() const noexcept override { return it_->key(); }
  std::string_view value() const noexcept override { return it_->value(); }
  std::error_code error() const noexcept override { return it_ ? it_->error() : std::error_code{}; }
  const std::string& message() const noexcept override { return it_ ? it_->message() : no_message_; }

  asio::awaitable<void> seek_to_first() override {
    pending_first_ = false;
    if (tables_.empty()) co_return;
    enter(0);
    co_await it_->seek_to_first();
    co_await skip_exhausted_tables();
  }

  asio::awaitable<void> seek_to_last() override {
    pending_first_ = false;
    if (tables_.empty()) co_return;
    enter(tables_.size() - 1);
    co_await it_->seek_to_last();
    co_await skip_exhausted_tables_backward();
  }

  asio::awaitable<void> seek(std::string_view target) override {
    pending_first_ = false;
    const std::string t(target);  // target may view into this iterator's current key
    if (!position_at(t)) co_return;
    co_await it_->seek(t);
    co_await skip_exhausted_tables();
  }

  bool try_seek(std::string_view target) override {
    pending_first_ = false;
    if (!position_at(target)) return true;
    if (!it_->try_seek(target)) return false;
    while (!it_->valid() && !it_->error() && current_ + 1 < tables_.size()) {
      enter(current_ + 1);
      if (!it_->try_seek_to_first()) return false;  // seek() starts over
    }
    return true;
  }

  asio::awaitable<void> next() override {
    if (!it_) co_return;
    if (pending_first_) {  // try_next() entered a table whose first block needs a read
      pending_first_ = false;
      co_await it_->seek_to_first();
      co_await skip_exhausted_tables();
      co_return;
    }
    // A try_next() that returned false may have left the table exhausted
    // (it reached its end): then only the step to the next table remains.
    if (it_->valid()) co_await it_->next();
    co_await skip_exhausted_tables();
  }

  asio::awaitable<void> prev() override {
    if (!it_) co_return;
    // (A try_prev() that returned false did not move: prev() does the step.)
    if (it_->valid()) co_await it_->prev();
    co_await skip_exhausted_tables_backward();
  }

  // false when the step needs a read: the current table's next block, or
  // the next table's first block (entered, then positioned by next()).
  bool try_next() override {
    if (!it_) return true;
    if (!it_->try_next()) return false;
    while (!it_->valid() && !it_->error() && current_ + 1 < tables_.size()) {
      enter(current_ + 1);
      if (!it_->try_seek_to_first()) {
        pending_first_ = true;  // next() positions it
        return false;
      }
    }
    return true;
  }

  // Within the current block only (the table iterator refuses, unmoved, at
  // a block's first entry); crossing blocks or tables is prev()'s.
  bool try_prev() override { return !it_ || it_->try_prev(); }

 private:
  // Enters the table that holds the first entry >= target: the first whose
  // largest key is >= target (if the target falls in the gap before it,
  // its first entry). false: past the end (then invalid).
  bool position_at(std::string_view target) {
    const auto at = std::partition_point(tables_.begin(), tables_.end(), [&](const run_table& t) {
      return sst::compare_internal_keys(t.largest, target) < 0;
    });
    if (at == tables_.end()) {
      it_.reset();
      current_ = tables_.size();
      return false;
    }
    enter(static_cast<std::size_t>(at - tables_.begin()));
    return true;
  }

  void enter(std::size_t index) {
    current_ = index;
    it_.emplace(tables_[index].reader->new_iterator(fill_cache_, readahead_));
  }

  asio::awaitable<void> skip_exhausted_tables() {
    while (it_ && !it_->valid() && !it_->error() && current_ + 1 < tables_.size()) {
      enter(current_ + 1);
      co_await it_->seek_to_first();
    }
  }

  asio::awaitable<void> skip_exhausted_tables_backward() {
    while (it_ && !it_->valid() && !it_->error() && current_ > 0) {
      enter(current_ - 1);
      co_await it_->seek_to_last();
    }
  }

  std::shared_ptr<const std::vector<run_table>> shared_tables_;
  const std::vector<run_table>& tables_;  // *shared_tables_
  bool fill_cache_;
  std::size_t readahead_;
  std::size_t current_ = 0;
  bool pending_first_ = false;             // tables_[current_] entered by try_next(), not yet positioned
  std::optional<sst::table_iterator> it_;  // positioned in tables_[current_]; empty before the first seek
  inline static const std::string no_message_;
};

}  // namespace

std::unique_ptr<internal_iterator> level_child(std::vector<run_table> tables, bool fill_cache, std::size_t readahead) {
  return level_child(std::make_shared<const std::vector<run_table>>(std::move(tables)), fill_cache, readahead);
}

std::unique_ptr<internal_iterator> level_child(std::shared_ptr<const std::vector<run_table>> tables, bool fill_cache,
                                               std::size_t readahead) {
  return std::make_unique<level_source>(std::move(tables), fill_cache, readahead);
}

void add_level_children(int level, const std::vector<db_internal::table_file>& files,
                        const std::function<const sst::table_reader*(std::size_t)>& reader_of, bool fill_cache,
                        std::size_t readahead, std::vector<std::unique_ptr<internal_iterator>>& out) {
  std::vector<run_table> run;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const sst::table_reader* reader = reader_of(i);
    if (reader == nullptr) continue;
    if (level == 0)
      out.push_back(table_child(reader->new_iterator(fill_cache, readahead)));
    else
      run.push_back({.largest = files[i].largest, .reader = reader});
  }
  if (!run.empty()) out.push_back(level_child(std::move(run), fill_cache, readahead));
}

}  // namespace strata::compaction
