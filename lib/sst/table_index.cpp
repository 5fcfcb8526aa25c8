#include "sst/table_index.hpp"

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
  const block_reader reader(block);
  auto it = reader.new_iterator();
  out.key_offsets_.push_back(0);
  for (it.seek_to_first(); it.valid(); it.next()) {
    const std::string_view key = it.key();
    if (key.size() < tag_size) {
      message = "bad index block: separator shorter than a tag";
      return false;
    }
    if (out.size() > 0 && compare_internal_keys(out.separator(out.size() - 1), key) >= 0) {
      message = "bad index block: separators out of order";
      return false;
    }
    std::string_view handle_bytes = it.value();
    block_handle h;
    if (!decode_handle(handle_bytes, h)) {
      message = "bad block handle in index";
      return false;
    }
    if (out.keys_.size() + key.size() > UINT32_MAX) {
      message = "bad index block: too large";
      return false;
    }
    out.keys_.append(key);
    out.key_offsets_.push_back(static_cast<std::uint32_t>(out.keys_.size()));
    out.prefixes_.push_back(prefix_of(user_key_of(key)));
    out.handles_.push_back(h);
  }
  if (it.corrupted() || !reader.valid()) {
    message = "bad index block";
    return false;
  }
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
  const std::uint64_t p = prefix_of(user_key_of(target));
  // lower_bound: the first i with separator(i) >= target. Prefixes order the
  // separators (non-strictly): every separator before the first prefix >= p
  // is below target, and every one from the first prefix > p on is above
  // it; only the run of prefixes equal to p needs full comparisons.
  std::size_t lo = lower_bound_prefix(prefixes_.data(), prefixes_.size(), p);
  if (lo == prefixes_.size() || prefixes_[lo] != p) return lo;
  std::size_t n = lower_bound_prefix(prefixes_.data() + lo, prefixes_.size() - lo, p + 1);
  if (p == UINT64_MAX) n = prefixes_.size() - lo;  // (p + 1 wrapped)
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
  return lo;
}

}  // namespace strata::sst
