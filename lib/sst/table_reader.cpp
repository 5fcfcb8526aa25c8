#include "sst/table_reader.hpp"

#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "io/file_ops.hpp"
#include "sst/internal_key.hpp"
#include "strata/error.hpp"

namespace strata::sst {

namespace asio = boost::asio;

asio::awaitable<std::error_code> table_reader::read_block(const block_handle& h, std::string& contents,
                                                          std::string& message) const {
  std::string stored(h.size + block_trailer_size, '\0');
  auto [ec, n] = co_await io::async_read_at(file_, h.offset, asio::buffer(stored), asio::as_tuple(asio::use_awaitable));
  if (ec) {
    message = file_.last_error();
    co_return ec;
  }
  if (n != stored.size()) {
    message = fmt::format("corruption in {} at block offset {}: block extends past the end of the file", file_.path(),
                          h.offset);
    co_return errc::corruption;
  }
  co_return decode_block(stored, h, file_.path(), contents, message);
}

asio::awaitable<std::error_code> table_reader::data_block(const block_handle& h, block_cache::block_ptr& out, bool& hit,
                                                          std::string& message, bool look_in_cache,
                                                          bool fill_cache) const {
  if (look_in_cache) {
    if (auto now = block_without_waiting(h, fill_cache, hit)) {
      out = std::move(now);
      co_return std::error_code{};
    }
  }
  hit = false;
  std::string contents;
  if (auto ec = co_await read_block(h, contents, message)) co_return ec;
  out = keep_block(h, contents, fill_cache);
  co_return std::error_code{};
}

block_cache::block_ptr table_reader::keep_block(const block_handle& h, std::string_view contents,
                                                bool fill_cache) const {
  return keeps_in_cache(fill_cache) ? cache_->insert({cache_id_, h.offset}, contents)
                                    : block_cache::make_uncached(contents);
}

block_cache::block_ptr table_reader::keep_block(const block_handle& h, block_cache::block_memory memory,
                                                bool fill_cache) const {
  return keeps_in_cache(fill_cache) ? cache_->insert({cache_id_, h.offset}, std::move(memory))
                                    : block_cache::make_uncached(std::move(memory));
}

block_cache::block_memory table_reader::memory_for_block(const block_handle& h, bool fill_cache) const {
  return keeps_in_cache(fill_cache) ? cache_->allocate(h.size) : block_cache::allocate_uncached(h.size);
}

block_cache::block_ptr table_reader::block_without_waiting(const block_handle& h, bool fill_cache, bool& hit,
                                                           bool look_in_cache) const {
  hit = false;
  if (look_in_cache) {
    if (auto cached = cached_block(h)) {
      hit = true;
      return cached;
    }
  }
  // Read straight into the memory the block will live in, trailer and all
  // (block_memory has room for it past the block): no copy out of a read
  // buffer. A compressed block is decompressed into a scratch buffer and
  // copied as before.
  static_assert(block_trailer_size <= block_cache::in_place_slack);
  auto memory = memory_for_block(h, fill_cache);
  const std::size_t n = h.size + block_trailer_size;
  if (!file_.read_if_cached(h.offset, memory.data(), n)) return nullptr;
  thread_local std::string scratch;
  std::string_view contents;
  std::string message;
  // A damaged block is left to the engine read, which reports it.
  if (decode_block_view(std::string_view(memory.data(), n), h, file_.path(), contents, scratch, message))
    return nullptr;
  if (contents.data() != memory.data()) return keep_block(h, contents, fill_cache);  // decompressed
  return keep_block(h, std::move(memory), fill_cache);
}

asio::awaitable<table_reader::open_result> table_reader::open(io::file& file, std::uint64_t file_size,
                                                              block_cache* cache) {
  open_result r;
  if (file_size < footer_size) {
    r.error = errc::corruption;
    r.message = fmt::format("{}: not an SSTable (only {} bytes)", file.path(), file_size);
    co_return r;
  }
  std::string foot(footer_size, '\0');
  auto [ec, n] = co_await io::async_read_at(file, file_size - footer_size, asio::buffer(foot),
                                            asio::as_tuple(asio::use_awaitable));
  if (ec || n != footer_size) {
    r.error = ec ? ec : std::error_code(errc::corruption);
    r.message = ec ? file.last_error() : fmt::format("{}: footer cut short", file.path());
    co_return r;
  }
  footer f;
  if (auto fec = decode_footer(foot, f, r.message)) {
    r.error = fec;
    r.message = fmt::format("{}: {}", file.path(), r.message);
    co_return r;
  }
  const std::uint64_t limit = file_size - footer_size;
  for (const block_handle* h : {&f.filter, &f.index, &f.properties}) {
    if (h->offset > limit || h->size + block_trailer_size > limit - h->offset) {
      if (h == &f.filter && h->size == 0 && h->offset == 0) continue;  // no filter
      r.error = errc::corruption;
      r.message = fmt::format("corruption in {}: footer points outside the file", file.path());
      co_return r;
    }
  }
  std::unique_ptr<table_reader> t(new table_reader(file));
  t->cache_ = cache;
  if (cache != nullptr) t->cache_id_ = cache->new_table_id();
  std::string index_bytes;
  if (auto bec = co_await t->read_block(f.index, index_bytes, r.message)) {
    r.error = bec;
    co_return r;
  }
  if (std::string why; !table_index::decode(index_bytes, t->index_, why)) {
    r.error = errc::corruption;
    r.message = fmt::format("corruption in {} at block offset {}: {}", file.path(), f.index.offset, why);
    co_return r;
  }
  if (f.filter.size > 0) {
    std::string filter_bytes;
    if (auto bec = co_await t->read_block(f.filter, filter_bytes, r.message)) {
      r.error = bec;
      co_return r;
    }
    t->filter_bytes_ = util::huge_buffer(filter_bytes.size());
    if (!filter_bytes.empty()) std::memcpy(t->filter_bytes_.data(), filter_bytes.data(), filter_bytes.size());
    t->filter_ = bloom_filter_reader(std::string_view(t->filter_bytes_.data(), t->filter_bytes_.size()));
  }
  std::string props;
  if (auto bec = co_await t->read_block(f.properties, props, r.message)) {
    r.error = bec;
    co_return r;
  }
  if (!decode_properties(props, t->properties_)) {
    r.error = errc::corruption;
    r.message =
        fmt::format("corruption in {} at block offset {}: bad properties block", file.path(), f.properties.offset);
    co_return r;
  }
  r.table = std::move(t);
  co_return r;
}

table_reader::lookup_step table_reader::locate(std::string_view user_key, std::string_view target, block_handle& handle,
                                               table_lookup& out) const {
  if (filter_.valid() && !filter_.may_contain(user_key)) {
    out.filtered = true;
    return lookup_step::answered;
  }
  const std::size_t i = index_.seek(target);
  if (i == index_.size()) return lookup_step::answered;  // past the last block: absent
  handle = index_.handle(i);
  return lookup_step::need_block;
}

void table_reader::search_block(std::string_view contents, const block_handle& handle, std::string_view user_key,
                                std::string_view target, table_lookup& out) const {
  const block_reader block(contents);
  auto it = block.new_iterator();
  it.seek(target);
  if (it.corrupted() || !block.valid()) {
    out.error = errc::corruption;
    out.message = fmt::format("corruption in {} at block offset {}: bad data block", file_.path(), handle.offset);
    return;
  }
  // Not in this block means not in the table: the separator after this
  // block is below the next block's first user key (see docs/sst_format.md).
  if (!it.valid()) return;
  parsed_internal_key found;
  if (!parse_internal_key(it.key(), found)) {
    out.error = errc::corruption;
    out.message = fmt::format("corruption in {} at block offset {}: bad internal key", file_.path(), handle.offset);
    return;
  }
  if (found.user_key != user_key) return;
  out.sequence = found.sequence;
  if (found.type == value_type::deletion) {
    out.status = table_lookup::state::deleted;
  } else {
    out.status = table_lookup::state::found;
    out.value.assign(it.value());
  }
}

bool table_reader::try_get(std::string_view user_key, sequence_number snapshot, table_lookup& out) const {
  // Field by field, not `out = {}`: the value keeps its buffer across calls.
  out.status = table_lookup::state::absent;
  out.value.clear();
  out.sequence = 0;
  out.error.clear();
  out.message.clear();
  out.filtered = false;
  out.cache_hit = false;
  const lookup_key target(user_key, snapshot);
  block_handle handle;
  if (locate(user_key, target.internal_key(), handle, out) == lookup_step::answered) return true;
  const auto block = block_without_waiting(handle, true, out.cache_hit);
  if (!block) return false;
  search_block(*block, handle, user_key, target.internal_key(), out);
  return true;
}

asio::awaitable<table_lookup> table_reader::get(std::string_view user_key, sequence_number snapshot) const {
  table_lookup out;
  const lookup_key target(user_key, snapshot);
  block_handle handle;
  if (locate(user_key, target.internal_key(), handle, out) == lookup_step::answered) co_return out;
  block_cache::block_ptr contents;
  if (auto ec = co_await data_block(handle, contents, out.cache_hit, out.message)) {
    out.error = ec;
    co_return out;
  }
  search_block(*contents, handle, user_key, target.internal_key(), out);
  co_return out;
}

table_iterator table_reader::new_iterator(bool fill_cache, std::size_t readahead) const {
  return table_iterator(*this, fill_cache, readahead);
}

table_iterator::table_iterator(const table_reader& table, bool fill_cache, std::size_t readahead)
    : table_(&table), fill_cache_(fill_cache), data_(block_.new_iterator()), readahead_(readahead) {}

bool table_iterator::in_window(const block_handle& h) const noexcept {
  return !window_.empty() && h.offset >= window_offset_ &&
         h.offset + h.size + block_trailer_size <= window_offset_ + window_.size();
}

std::size_t table_iterator::window_length(const block_handle& h) const noexcept {
  const block_handle last = table_->index_.handle(table_->index_.size() - 1);
  const std::uint64_t data_end = last.offset + last.size + block_trailer_size;
  const std::uint64_t block_end = h.offset + h.size + block_trailer_size;
  return static_cast<std::size_t>(std::max(block_end, std::min(data_end, h.offset + readahead_)) - h.offset);
}

bool table_iterator::fill_window_now(const block_handle& h) {
  window_.resize(window_length(h));
  if (!table_->file_.read_if_cached(h.offset, window_.data(), window_.size())) {
    window_.clear();
    return false;
  }
  window_offset_ = h.offset;
  return true;
}

asio::awaitable<std::error_code> table_iterator::fill_window(const block_handle& h, std::string& message) {
  window_.resize(window_length(h));
  auto [ec, n] =
      co_await io::async_read_at(table_->file_, h.offset, asio::buffer(window_), asio::as_tuple(asio::use_awaitable));
  if (!ec && n != window_.size()) {
    ec = errc::corruption;
    message = fmt::format("corruption in {} at block offset {}: data blocks extend past the end of the file",
                          table_->file_.path(), h.offset);
  } else if (ec) {
    message = table_->file_.last_error();
  }
  if (ec) {
    window_.clear();
    co_return ec;
  }
  window_offset_ = h.offset;
  co_return std::error_code{};
}

block_cache::block_ptr table_iterator::block_via_window_now(const block_handle& h, bool look_in_cache,
                                                            std::error_code& ec, std::string& message) {
  if (look_in_cache) {
    if (auto cached = table_->cached_block(h)) return cached;
  }
  if (!in_window(h) && !fill_window_now(h)) return nullptr;
  return block_from_window(h, ec, message);
}

block_cache::block_ptr table_iterator::block_from_window(const block_handle& h, std::error_code& ec,
                                                         std::string& message) const {
  std::string_view contents;
  std::string scratch;
  const std::string_view stored =
      std::string_view(window_).substr(h.offset - window_offset_, h.size + block_trailer_size);
  if ((ec = decode_block_view(stored, h, table_->file_.path(), contents, scratch, message))) return nullptr;
  return table_->keep_block(h, contents, fill_cache_);
}

void table_iterator::fail(std::error_code ec, std::string message) {
  error_ = ec;
  message_ = std::move(message);
  data_valid_ = false;
}

asio::awaitable<bool> table_iterator::enter_block(bool forward, bool look_ahead) {
  data_valid_ = false;
  if (error_ || block_index_ >= table_->index_.size()) co_return false;  // (npos is >= too)
  const block_handle handle = table_->index_.handle(block_index_);
  if (block_index_ == ahead_index_ && ahead_bytes_) {  // looked up already
    ahead_index_ = npos;
    co_return adopt_block(block_index_, std::move(ahead_bytes_), look_ahead);
  }
  std::string message;
  block_cache::block_ptr bytes;
  bool hit = false;
  const bool look_in_cache = missed_block_ != block_index_;
  missed_block_ = npos;
  if (readahead_ > 0 && forward) {
    std::error_code ec;
    bytes = block_via_window_now(handle, look_in_cache, ec, message);
    if (!bytes && !ec) {  // the window needs a disk read
      ec = co_await fill_window(handle, message);
      if (!ec) bytes = block_from_window(handle, ec, message);
    }
    if (ec) {
      fail(ec, std::move(message));
      co_return false;
    }
    co_return adopt_block(block_index_, std::move(bytes), look_ahead);
  }
  if (auto ec = co_await table_->data_block(handle, bytes, hit, message, look_in_cache, fill_cache_)) {
    fail(ec, std::move(message));
    co_return false;
  }
  co_return adopt_block(block_index_, std::move(bytes), look_ahead);
}

bool table_iterator::adopt_block(std::size_t index, block_cache::block_ptr bytes, bool look_ahead) {
  ahead_index_ = npos;
  ahead_bytes_.reset();
  prefetch_next_ = prefetch_end_ = nullptr;
  if (look_ahead && index + 1 < table_->index_.size()) {
    ahead_index_ = index + 1;
    ahead_bytes_ = table_->cached_block(table_->index_.handle(index + 1));
    // A pipeline over the blocks after it, one stage per block scanned: the
    // slot of index + 3 now, the bytes of index + 2 (whose slot was fetched
    // one block ago), so that each lookup above finds both in cache.
    table_->prefetch_slot_of(index + 3);
    table_->prefetch_block_of(index + 2);
    if (ahead_bytes_) {
      // Its first lines and restart count now; the rest while this block is
      // scanned (try_next).
      const char* p = ahead_bytes_->data();
      const std::size_t n = ahead_bytes_->size();
      for (std::size_t line = 0; line < 2 && line * 64 < n; ++line) __builtin_prefetch(p + line * 64);
      if (n >= 4) __builtin_prefetch(p + n - 4);
      prefetch_next_ = p + std::min<std::size_t>(n, 128);
      prefetch_end_ = p + n;
    } else {
      missed_block_ = index + 1;  // counted once: a read of it will not look again
    }
  } else {
    // After a seek: no lookup (most seeks never leave this block), but the
    // cache slots of the next two blocks are fetched now, so that a scan
    // that does step on finds them in cache rather than missing twice when
    // it enters the next block (which looks the one after it up too).
    table_->prefetch_slot_of(index + 1);
    table_->prefetch_slot_of(index + 2);
  }
  block_index_ = index;
  block_bytes_ = std::move(bytes);
  block_ = block_reader(*block_bytes_);
  data_ = block_.new_iterator();
  if (!block_.valid()) {
    fail(errc::corruption, fmt::format("corruption in {} at block offset {}: bad data block", table_->file_.path(),
                                       table_->index_.handle(index).offset));
    return false;
  }
  data_valid_ = true;
  return true;
}

asio::awaitable<void> table_iterator::skip_empty_blocks_forward() {
  while (!error_ && !data_.valid()) {
    if (data_.corrupted()) {
      fail(errc::corruption, fmt::format("corruption in {}: bad data block entry", table_->file_.path()));
      co_return;
    }
    ++block_index_;
    const bool entered = co_await enter_block(true, true);  // (GCC 12: no co_await inside `!`)
    if (!entered) co_return;
    data_.seek_to_first();
  }
}

asio::awaitable<void> table_iterator::skip_empty_blocks_backward() {
  while (!error_ && !data_.valid()) {
    if (data_.corrupted()) {
      fail(errc::corruption, fmt::format("corruption in {}: bad data block entry", table_->file_.path()));
      co_return;
    }
    block_index_ = block_index_ == 0 ? npos : block_index_ - 1;
    const bool entered = co_await enter_block(false, false);  // (GCC 12: no co_await inside `!`)
    if (!entered) co_return;
    data_.seek_to_last();
  }
}

bool table_iterator::try_seek_to_first() {
  missed_block_ = npos;
  ahead_index_ = npos;
  ahead_bytes_.reset();
  data_valid_ = false;
  block_index_ = npos;      // before the first block:
  return try_next_block();  // looks from block 0 on
}

asio::awaitable<void> table_iterator::seek_to_first() {
  missed_block_ = npos;  // only next() follows up a refused try_next()
  block_index_ = 0;
  const bool entered = co_await enter_block(true, true);  // (GCC 12: no co_await inside `!`)
  if (!entered) co_return;
  data_.seek_to_first();
  co_await skip_empty_blocks_forward();
}

asio::awaitable<void> table_iterator::seek_to_last() {
  missed_block_ = npos;  // only next() follows up a refused try_next()
  block_index_ = table_->index_.size() == 0 ? npos : table_->index_.size() - 1;
  const bool entered = co_await enter_block(false, false);  // (GCC 12: no co_await inside `!`)
  if (!entered) co_return;
  data_.seek_to_last();
  co_await skip_empty_blocks_backward();
}

asio::awaitable<void> table_iterator::seek(std::string_view target) {
  missed_block_ = npos;  // only next() follows up a refused try_next()
  block_index_ = table_->index_.seek(target);
  // No look-ahead: most seeks (gets through iterators, short scans) never
  // reach the next block; the first step into it looks it up then.
  const bool entered = co_await enter_block(true, false);  // (GCC 12: no co_await inside `!`)
  if (!entered) co_return;
  data_.seek(target);
  co_await skip_empty_blocks_forward();
}

asio::awaitable<void> table_iterator::next() {
  if (!valid()) co_return;
  data_.next();
  co_await skip_empty_blocks_forward();
}

asio::awaitable<void> table_iterator::prev() {
  missed_block_ = npos;  // only next() follows up a refused try_next()
  if (!valid()) co_return;
  data_.prev();
  co_await skip_empty_blocks_backward();
}

bool table_iterator::try_next_block() {
  // Look ahead without moving until a non-empty block is found that is in
  // the block or page cache; a block that needs a disk read: refuse, unmoved.
  for (std::size_t b = block_index_ + 1;; ++b) {
    if (b >= table_->index_.size()) {  // the end, as next() would reach it
      block_index_ = b;
      data_valid_ = false;
      return true;
    }
    block_cache::block_ptr bytes;
    bool looked_up = false;
    if (b == ahead_index_) {
      bytes = std::move(ahead_bytes_);
      ahead_index_ = npos;
      looked_up = true;
    }
    if (!bytes && readahead_ > 0) {
      std::error_code ec;
      std::string message;
      bytes = block_via_window_now(table_->index_.handle(b), !looked_up, ec, message);  // damaged: next() reports it
      if (!bytes) missed_block_ = b;
    } else if (!bytes) {  // not looked up ahead, or not in the block cache then (a miss counted once)
      bool hit = false;
      bytes = table_->block_without_waiting(table_->index_.handle(b), fill_cache_, hit, !looked_up);
      if (!bytes) missed_block_ = b;
    }
    if (!bytes) return false;
    const block_reader peek(*bytes);
    auto first = peek.new_iterator();
    first.seek_to_first();
    if (!first.valid() && !first.corrupted()) continue;        // an empty block: on to the next
    if (!adopt_block(b, std::move(bytes), true)) return true;  // failed: invalid with error()
    data_.seek_to_first();
    if (data_.corrupted())
      fail(errc::corruption, fmt::format("corruption in {}: bad data block entry", table_->file_.path()));
    return true;
  }
}

bool table_iterator::try_seek(std::string_view target) {
  missed_block_ = npos;
  const std::size_t index = table_->index_.seek(target);
  if (index >= table_->index_.size()) {  // past the last block, as seek() would find
    block_index_ = index;
    data_valid_ = false;
    return true;
  }
  bool hit = false;
  auto bytes = table_->block_without_waiting(table_->index_.handle(index), fill_cache_, hit);
  if (!bytes) {  // needs a disk read (or is damaged: the read reports it)
    data_valid_ = false;
    return false;
  }
  if (!adopt_block(index, std::move(bytes), /*look_ahead=*/false)) return true;  // failed: invalid with error()
  data_.seek(target);
  if (data_.corrupted()) {
    fail_entry();
    return true;
  }
  if (data_.valid()) return true;
  // The target is past this block's last entry: the next non-empty block's
  // first, if it needs no read either.
  return try_next_block();
}

void table_iterator::fail_entry() {
  fail(errc::corruption, fmt::format("corruption in {}: bad data block entry", table_->file_.path()));
}

bool table_iterator::try_prev() {
  if (!valid()) return true;
  if (data_.at_first()) return false;
  data_.prev();
  if (data_.corrupted())
    fail(errc::corruption, fmt::format("corruption in {}: bad data block entry", table_->file_.path()));
  return true;
}

}  // namespace strata::sst
