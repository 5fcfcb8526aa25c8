#include "sst/block_reader.hpp"

#include <algorithm>

#include "sst/internal_key.hpp"
#include "util/coding.hpp"

namespace strata::sst {

block_reader::block_reader(std::string_view contents) : data_(contents) {
  if (contents.size() < 4) return;
  const std::uint32_t n = coding::decode_fixed32(contents.data() + contents.size() - 4);
  const std::uint64_t trailer = (std::uint64_t{n} + 1) * 4;
  if (n == 0 || trailer > contents.size()) return;
  const auto limit = static_cast<std::uint32_t>(contents.size() - trailer);
  // Restart offsets must start at 0, increase, and point inside the entries.
  std::uint32_t previous = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t r = coding::decode_fixed32(contents.data() + limit + 4 * i);
    if ((i == 0 && r != 0) || (i > 0 && r <= previous) || (r >= limit && !(limit == 0 && r == 0))) return;
    previous = r;
  }
  limit_ = limit;
  num_restarts_ = n;
  valid_ = true;
}

block_reader::iterator::iterator(const block_reader& block)
    : data_(block.data_), limit_(block.limit_), num_restarts_(block.num_restarts_), current_(block.limit_) {
  if (!block.valid_) mark_corrupted();
}

void block_reader::iterator::mark_corrupted() noexcept {
  corrupted_ = true;
  current_ = limit_;
  key_size_ = 0;
  value_ = {};
}

void block_reader::iterator::copy_long(char* dst, const char* src, std::size_t n) noexcept { std::memcpy(dst, src, n); }

void block_reader::iterator::grow_key(std::size_t at_least) {
  std::string bigger(std::max(at_least, 2 * key_capacity()), '\0');
  std::memcpy(bigger.data(), key_buffer(), key_size_);
  heap_key_ = std::move(bigger);
}

bool block_reader::iterator::decode_at_slow(std::uint32_t offset) {
  std::string_view in = data_.substr(offset, limit_ - offset);
  std::uint32_t shared = 0, unshared = 0, value_len = 0;
  if (!coding::get_varint32(in, shared) || !coding::get_varint32(in, unshared) ||
      !coding::get_varint32(in, value_len) || shared > key_size_ || std::uint64_t{unshared} + value_len > in.size()) {
    mark_corrupted();
    return false;
  }
  set_key(shared, in.data(), unshared);
  value_ = in.substr(unshared, value_len);
  current_ = offset;
  next_ = static_cast<std::uint32_t>(in.data() + unshared + value_len - data_.data());
  return true;
}

void block_reader::iterator::seek_to_restart(std::uint32_t index) {
  key_size_ = 0;  // a restart entry shares nothing with what came before
  restart_index_ = index;
  const std::uint32_t offset = restart_offset(index);
  if (offset >= limit_) {  // an empty block
    current_ = limit_;
    return;
  }
  decode_at(offset);
}

void block_reader::iterator::seek_to_first() {
  if (corrupted_) return;
  seek_to_restart(0);
}

void block_reader::iterator::seek_to_last() {
  if (corrupted_) return;
  seek_to_restart(num_restarts_ - 1);
  while (valid() && next_ < limit_) decode_at(next_);
}

void block_reader::iterator::prev() {
  if (!valid()) return;
  const std::uint32_t original = current_;
  // Find the restart interval that holds the entry before `original`.
  std::uint32_t index = restart_index_;
  while (restart_offset(index) >= original) {
    if (index == 0) {  // original was the first entry
      current_ = limit_;
      key_size_ = 0;
      return;
    }
    --index;
  }
  seek_to_restart(index);
  while (valid() && next_ < original) decode_at(next_);
  if (valid() && next_ != original) mark_corrupted();  // entries did not chain to `original`
}

bool block_reader::iterator::restart_key(std::uint32_t index, std::string_view& key) const noexcept {
  const std::uint32_t offset = restart_offset(index);
  std::string_view in = data_.substr(offset, limit_ - offset);
  std::uint32_t shared = 0, unshared = 0, value_len = 0;
  if (!coding::get_varint32(in, shared) || !coding::get_varint32(in, unshared) ||
      !coding::get_varint32(in, value_len) || shared != 0 || std::uint64_t{unshared} + value_len > in.size())
    return false;
  key = in.substr(0, unshared);
  return true;
}

void block_reader::iterator::seek(std::string_view target) {
  if (corrupted_) return;
  // Binary search over the restart keys, compared where they lie (a restart
  // entry shares no prefix, so its key is whole in the block): the last
  // restart whose key is < target.
  std::uint32_t lo = 0, hi = num_restarts_ - 1;
  // A few restart keys (4 KiB blocks have about 3): fetch them all at once
  // rather than one miss per step of the search.
  if (num_restarts_ <= 8) {
    for (std::uint32_t i = 1; i < num_restarts_; ++i) __builtin_prefetch(data_.data() + restart_offset(i));
  }
  while (lo < hi) {
    const std::uint32_t mid = lo + (hi - lo + 1) / 2;
    std::string_view key;
    if (!restart_key(mid, key)) {
      mark_corrupted();
      return;
    }
    if (compare_internal_keys(key, target) < 0) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  // The target is in this restart interval (or just past it): fetch all of
  // its lines at once rather than one miss after another as entries decode.
  const std::uint32_t from = restart_offset(lo);
  const std::uint32_t to = lo + 1 < num_restarts_ ? restart_offset(lo + 1) : limit_;
  for (std::uint32_t line = from & ~63u; line < to; line += 64) __builtin_prefetch(data_.data() + line);
  seek_to_restart(lo);
  while (valid() && compare_internal_keys(key(), target) < 0) next();
}

}  // namespace strata::sst
