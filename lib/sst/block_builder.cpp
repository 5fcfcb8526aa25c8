#include "sst/block_builder.hpp"

#include <algorithm>
#include <cassert>

#include "sst/internal_key.hpp"
#include "util/coding.hpp"

namespace strata::sst {

block_builder::block_builder(int restart_interval) : restart_interval_(std::max(1, restart_interval)) { reset(); }

void block_builder::reset() {
  buffer_.clear();
  restarts_.assign(1, 0);  // the first entry is always a restart point
  since_restart_ = 0;
  entries_ = 0;
  finished_ = false;
  last_key_.clear();
}

std::size_t block_builder::size_estimate() const noexcept { return buffer_.size() + restarts_.size() * 4 + 4; }

void block_builder::add(std::string_view key, std::string_view value) {
  assert(!finished_);
  assert(entries_ == 0 || compare_internal_keys(last_key_, key) < 0);
  std::size_t shared = 0;
  if (since_restart_ < restart_interval_) {
    const std::size_t limit = std::min(last_key_.size(), key.size());
    while (shared < limit && last_key_[shared] == key[shared]) ++shared;
  } else {
    restarts_.push_back(static_cast<std::uint32_t>(buffer_.size()));
    since_restart_ = 0;
  }
  const std::size_t unshared = key.size() - shared;
  coding::put_varint32(buffer_, static_cast<std::uint32_t>(shared));
  coding::put_varint32(buffer_, static_cast<std::uint32_t>(unshared));
  coding::put_varint32(buffer_, static_cast<std::uint32_t>(value.size()));
  buffer_.append(key.substr(shared));
  buffer_.append(value);
  last_key_.resize(shared);
  last_key_.append(key.substr(shared));
  ++since_restart_;
  ++entries_;
}

std::string_view block_builder::finish() {
  if (!finished_) {
    for (const std::uint32_t r : restarts_) coding::put_fixed32(buffer_, r);
    coding::put_fixed32(buffer_, static_cast<std::uint32_t>(restarts_.size()));
    finished_ = true;
  }
  return buffer_;
}

}  // namespace strata::sst
