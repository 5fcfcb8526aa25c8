#include "sst/table_index.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "sst/block_reader.hpp"
#include "sst/internal_key.hpp"

namespace strata::sst {

std::uint64_t table_index::prefix_of(std::string_view user_key) noexcept {
  std::uint64_t p = 0;
  const std::size_t n = user_key.size() < 8 ? user_key.size() : 8;
  for (std::size_t i = 0; i < n; ++i) p |= std::uint64_t{static_cast<unsigned char>(user_key[i])} << (56 - 8 * i);
  return p;
}

bool table_index::decode(std::string_view block, table_index& out, std::string& message) {
  out = table_index{};
  // Decoded into growing arrays first (the count is unknown until the end),
  // then packed into one allocation (the prefixes are computed there).
  std::vector<block_handle> handles;
  std::vector<std::uint32_t> key_offsets{0};
  std::string keys;
  const block_reader reader(block);
  auto it = reader.new_iterator();
  std::string_view previous;
  for (it.seek_to_first(); it.valid(); it.next()) {
    const std::string_view key = it.key();
    if (key.size() < tag_size) {
      message = "bad index block: separator shorter than a tag";
      return false;
    }
    if (!handles.empty() && compare_internal_keys(previous, key) >= 0) {
      message = "bad index block: separators out of order";
      return false;
    }
    std::string_view handle_bytes = it.value();
    block_handle h;
    if (!decode_handle(handle_bytes, h)) {
      message = "bad block handle in index";
      return false;
    }
    if (keys.size() + key.size() > UINT32_MAX) {
      message = "bad index block: too large";
      return false;
    }
    keys.append(key);
    key_offsets.push_back(static_cast<std::uint32_t>(keys.size()));
    previous = std::string_view(keys).substr(key_offsets[key_offsets.size() - 2]);
    handles.push_back(h);
  }
  if (it.corrupted() || !reader.valid()) {
    message = "bad index block";
    return false;
  }

  const std::size_t n = handles.size();
  // The separators are sorted, so the user-key head that the first and the
  // second-to-last share is shared by all of them but the last: the 8-byte
  // prefixes start after it. The last is left out because it is usually a
  // short successor of the table's last key ("1" after "0000...9999"),
  // which shares nothing; seek() compares it in full.
  std::size_t common = 0;
  if (n > 1) {
    const std::string_view first = user_key_of(std::string_view(keys).substr(0, key_offsets[1]));
    const std::string_view last =
        user_key_of(std::string_view(keys).substr(key_offsets[n - 2], key_offsets[n - 1] - key_offsets[n - 2]));
    while (common < first.size() && common < last.size() && first[common] == last[common]) ++common;
  }
  static_assert(alignof(block_handle) <= alignof(std::uint64_t) && sizeof(block_handle) % alignof(std::uint32_t) == 0);
  const std::size_t prefix_bytes = n * sizeof(std::uint64_t);
  const std::size_t handle_bytes = n * sizeof(block_handle);
  const std::size_t offset_bytes = (n + 1) * sizeof(std::uint32_t);
  out.memory_ = util::huge_buffer(prefix_bytes + handle_bytes + offset_bytes + keys.size());
  char* at = out.memory_.data();
  out.size_ = n;
  auto* prefixes = reinterpret_cast<std::uint64_t*>(at);
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const std::string_view key = std::string_view(keys).substr(key_offsets[i], key_offsets[i + 1] - key_offsets[i]);
    prefixes[i] = prefix_of(user_key_of(key).substr(common));
  }
  if (n > 0) prefixes[n - 1] = UINT64_MAX;  // the last separator's: never searched
  out.prefixes_ = prefixes;
  at += prefix_bytes;
  if (n > 0) std::memcpy(at, handles.data(), handle_bytes);
  out.handles_ = reinterpret_cast<const block_handle*>(at);
  at += handle_bytes;
  std::memcpy(at, key_offsets.data(), offset_bytes);
  out.key_offsets_ = reinterpret_cast<const std::uint32_t*>(at);
  at += offset_bytes;
  if (!keys.empty()) std::memcpy(at, keys.data(), keys.size());
  out.keys_ = at;
  out.common_prefix_ = std::string_view(out.keys_, common);  // the first separator's first bytes
  return true;
}

namespace {

// The first i in [0, n) with a[i] >= p, or n. Branchless, with the next
// step's two candidate lines prefetched: a table's index is too large to
// stay in cache between reads, and a mispredicted branch per step would
// throw away the loads already in flight.
std::size_t lower_bound_prefix(const std::uint64_t* a, std::size_t n, std::uint64_t p) noexcept {
  if (n == 0) return 0;
  const std::uint64_t* base = a;
  while (n > 1) {
    const std::size_t half = n / 2;
    __builtin_prefetch(base + half / 2);
    __builtin_prefetch(base + half + half / 2);
    base = base[half - 1] < p ? base + half : base;  // a conditional move
    n -= half;
  }
  return static_cast<std::size_t>(base - a) + (*base < p);
}

}  // namespace

std::size_t table_index::seek(std::string_view target) const noexcept {
  if (size_ == 0) return 0;
  // The first `searched` separators share common_prefix_ and are searched
  // by prefix; the last is compared in full.
  const std::size_t searched = size_ - 1;
  std::size_t lo = 0;
  const std::string_view user_key = user_key_of(target);
  const std::size_t shared = std::min(user_key.size(), common_prefix_.size());
  const int c = std::memcmp(user_key.data(), common_prefix_.data(), shared);
  if (c < 0 || (c == 0 && shared < common_prefix_.size())) {
    return 0;  // below the shared head (or a proper prefix of it): below every separator
  }
  if (c > 0) {
    lo = searched;  // above the head: above every searched separator
  } else {
    const std::uint64_t p = prefix_of(user_key.substr(common_prefix_.size()));
    // lower_bound: the first i with separator(i) >= target. Prefixes order
    // the separators (non-strictly): every separator before the first
    // prefix >= p is below target, and every one from the first prefix > p
    // on is above it; only the run of prefixes equal to p needs full
    // comparisons.
    lo = lower_bound_prefix(prefixes_, searched, p);
    if (lo < searched && prefixes_[lo] == p) {
      std::size_t n = p == UINT64_MAX ? searched - lo  // (p + 1 would wrap)
                                      : lower_bound_prefix(prefixes_ + lo, searched - lo, p + 1);
      while (n > 0) {
        const std::size_t half = n / 2;
        const std::size_t mid = lo + half;
        if (compare_internal_keys(separator(mid), target) < 0) {
          lo = mid + 1;
          n -= half + 1;
        } else {
          n = half;
        }
      }
    }
  }
  if (lo < searched) return lo;
  return compare_internal_keys(separator(searched), target) >= 0 ? searched : size_;
}

}  // namespace strata::sst
