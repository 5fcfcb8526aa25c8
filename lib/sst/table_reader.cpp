#include "sst/table_reader.hpp"

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
                                                          std::string& message) const {
  hit = false;
  if (cache_ != nullptr) {
    if (auto cached = cache_->lookup({cache_id_, h.offset})) {
      out = std::move(cached);
      hit = true;
      co_return std::error_code{};
    }
  }
  std::string contents;
  if (auto ec = co_await read_block(h, contents, message)) co_return ec;
  out = cache_ != nullptr ? cache_->insert({cache_id_, h.offset}, std::move(contents))
                          : std::make_shared<const std::string>(std::move(contents));
  co_return std::error_code{};
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
  if (auto bec = co_await t->read_block(f.index, t->index_bytes_, r.message)) {
    r.error = bec;
    co_return r;
  }
  t->index_ = block_reader(t->index_bytes_);
  if (!t->index_.valid()) {
    r.error = errc::corruption;
    r.message = fmt::format("corruption in {} at block offset {}: bad index block", file.path(), f.index.offset);
    co_return r;
  }
  if (f.filter.size > 0) {
    if (auto bec = co_await t->read_block(f.filter, t->filter_bytes_, r.message)) {
      r.error = bec;
      co_return r;
    }
    t->filter_ = bloom_filter_reader(std::string_view(t->filter_bytes_));
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

asio::awaitable<table_lookup> table_reader::get(std::string_view user_key, sequence_number snapshot) const {
  table_lookup out;
  if (filter_.valid() && !filter_.may_contain(user_key)) {
    out.filtered = true;
    co_return out;
  }
  // The newest version <= snapshot: seek to (user_key, snapshot, highest type).
  std::string target(user_key);
  coding::put_fixed64(target, lookup_tag(snapshot));
  auto index = index_.new_iterator();
  index.seek(target);
  if (!index.valid()) {
    if (index.corrupted()) {
      out.error = errc::corruption;
      out.message = fmt::format("corruption in {}: bad index entry", file_.path());
    }
    co_return out;  // past the last block: absent
  }
  std::string_view handle_bytes = index.value();
  block_handle handle;
  if (!decode_handle(handle_bytes, handle)) {
    out.error = errc::corruption;
    out.message = fmt::format("corruption in {}: bad block handle in index", file_.path());
    co_return out;
  }
  block_cache::block_ptr contents;
  if (auto ec = co_await data_block(handle, contents, out.cache_hit, out.message)) {
    out.error = ec;
    co_return out;
  }
  const block_reader block(*contents);
  auto it = block.new_iterator();
  it.seek(target);
  if (it.corrupted() || !block.valid()) {
    out.error = errc::corruption;
    out.message = fmt::format("corruption in {} at block offset {}: bad data block", file_.path(), handle.offset);
    co_return out;
  }
  // Not in this block means not in the table: the separator after this
  // block is below the next block's first user key (see docs/sst_format.md).
  if (!it.valid()) co_return out;
  parsed_internal_key found;
  if (!parse_internal_key(it.key(), found)) {
    out.error = errc::corruption;
    out.message = fmt::format("corruption in {} at block offset {}: bad internal key", file_.path(), handle.offset);
    co_return out;
  }
  if (found.user_key != user_key) co_return out;
  out.sequence = found.sequence;
  if (found.type == value_type::deletion) {
    out.status = table_lookup::state::deleted;
  } else {
    out.status = table_lookup::state::found;
    out.value.assign(it.value());
  }
  co_return out;
}

table_iterator table_reader::new_iterator() const { return table_iterator(*this); }

table_iterator::table_iterator(const table_reader& table)
    : table_(&table), index_(table.index_.new_iterator()), data_(block_.new_iterator()) {}

void table_iterator::fail(std::error_code ec, std::string message) {
  error_ = ec;
  message_ = std::move(message);
  data_valid_ = false;
}

asio::awaitable<bool> table_iterator::enter_block() {
  data_valid_ = false;
  if (error_ || !index_.valid()) {
    if (index_.corrupted())
      fail(errc::corruption, fmt::format("corruption in {}: bad index block", table_->file_.path()));
    co_return false;
  }
  std::string_view handle_bytes = index_.value();
  block_handle handle;
  if (!decode_handle(handle_bytes, handle)) {
    fail(errc::corruption, fmt::format("corruption in {}: bad block handle in index", table_->file_.path()));
    co_return false;
  }
  std::string message;
  block_cache::block_ptr bytes;
  bool hit = false;
  if (auto ec = co_await table_->data_block(handle, bytes, hit, message)) {
    fail(ec, std::move(message));
    co_return false;
  }
  block_bytes_ = std::move(bytes);
  block_ = block_reader(*block_bytes_);
  data_ = block_.new_iterator();
  if (!block_.valid()) {
    fail(errc::corruption,
         fmt::format("corruption in {} at block offset {}: bad data block", table_->file_.path(), handle.offset));
    co_return false;
  }
  data_valid_ = true;
  co_return true;
}

asio::awaitable<void> table_iterator::skip_empty_blocks_forward() {
  while (!error_ && !data_.valid()) {
    if (data_.corrupted()) {
      fail(errc::corruption, fmt::format("corruption in {}: bad data block entry", table_->file_.path()));
      co_return;
    }
    index_.next();
    const bool entered = co_await enter_block();  // (GCC 12: no co_await inside `!`)
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
    index_.prev();
    const bool entered = co_await enter_block();  // (GCC 12: no co_await inside `!`)
    if (!entered) co_return;
    data_.seek_to_last();
  }
}

asio::awaitable<void> table_iterator::seek_to_first() {
  index_.seek_to_first();
  const bool entered = co_await enter_block();  // (GCC 12: no co_await inside `!`)
  if (!entered) co_return;
  data_.seek_to_first();
  co_await skip_empty_blocks_forward();
}

asio::awaitable<void> table_iterator::seek_to_last() {
  index_.seek_to_last();
  const bool entered = co_await enter_block();  // (GCC 12: no co_await inside `!`)
  if (!entered) co_return;
  data_.seek_to_last();
  co_await skip_empty_blocks_backward();
}

asio::awaitable<void> table_iterator::seek(std::string_view target) {
  index_.seek(target);
  const bool entered = co_await enter_block();  // (GCC 12: no co_await inside `!`)
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
  if (!valid()) co_return;
  data_.prev();
  co_await skip_empty_blocks_backward();
}

}  // namespace strata::sst
