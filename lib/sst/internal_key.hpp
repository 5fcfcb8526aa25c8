// sst/internal_key.hpp — the keys stored in SSTables.
//
// An internal key is the user key followed by an 8-byte little-endian tag,
// tag = sequence << 8 | type (the memtable's order, see docs/memtable.md).
// Internal keys sort by user key ascending, then tag descending, so the
// newest version of a user key comes first, as in the memtable.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "strata/memtable.hpp"
#include "util/coding.hpp"
#include "util/compare.hpp"
#include "util/tag.hpp"

namespace strata::sst {

inline constexpr std::size_t tag_size = 8;

inline void append_internal_key(std::string& out, std::string_view user_key, sequence_number seq, value_type type) {
  out.append(user_key);
  coding::put_fixed64(out, pack_tag(seq, type));
}

inline std::string make_internal_key(std::string_view user_key, sequence_number seq, value_type type) {
  std::string k;
  k.reserve(user_key.size() + tag_size);
  append_internal_key(k, user_key, seq, type);
  return k;
}

// The internal key a point lookup seeks to: (user_key, snapshot, highest
// type), i.e. the first version of user_key visible at the snapshot. Keys up
// to inline_capacity bytes live on the stack: a lookup should not allocate.
class lookup_key {
 public:
  static constexpr std::size_t inline_capacity = 120;

  lookup_key(std::string_view user_key, sequence_number snapshot) {
    const std::size_t n = user_key.size() + tag_size;
    char* dst = inline_;
    if (n > inline_capacity) {
      heap_.resize(n);
      dst = heap_.data();
    }
    if (!user_key.empty()) std::memcpy(dst, user_key.data(), user_key.size());
    coding::encode_fixed64(dst + user_key.size(), lookup_tag(snapshot));
    view_ = std::string_view(dst, n);
  }
  lookup_key(const lookup_key&) = delete;
  lookup_key& operator=(const lookup_key&) = delete;

  std::string_view internal_key() const noexcept { return view_; }

 private:
  char inline_[inline_capacity];
  std::string heap_;
  std::string_view view_;
};

struct parsed_internal_key {
  std::string_view user_key;
  sequence_number sequence = 0;
  value_type type = value_type::value;
};

// False if the bytes cannot be an internal key (shorter than a tag, or an
// unknown type): data from disk is checked, never trusted.
inline bool parse_internal_key(std::string_view key, parsed_internal_key& out) noexcept {
  if (key.size() < tag_size) return false;
  const std::uint64_t tag = coding::decode_fixed64(key.data() + key.size() - tag_size);
  const auto type = static_cast<std::uint8_t>(tag & 0xff);
  if (type > static_cast<std::uint8_t>(value_type::value)) return false;
  out.user_key = key.substr(0, key.size() - tag_size);
  out.sequence = tag >> 8;
  out.type = static_cast<value_type>(type);
  return true;
}

inline std::string_view user_key_of(std::string_view internal_key) noexcept {
  return internal_key.size() < tag_size ? internal_key : internal_key.substr(0, internal_key.size() - tag_size);
}

// Internal-key order. Keys too short to hold a tag (only possible in corrupt
// data) compare by their bytes, before any well-formed key with that prefix.
inline int compare_internal_keys(std::string_view a, std::string_view b) noexcept {
  if (a.size() < tag_size || b.size() < tag_size) return compare_bytes(a, b);
  const int c = compare_bytes(a.substr(0, a.size() - tag_size), b.substr(0, b.size() - tag_size));
  if (c != 0) return c;
  const std::uint64_t ta = coding::decode_fixed64(a.data() + a.size() - tag_size);
  const std::uint64_t tb = coding::decode_fixed64(b.data() + b.size() - tag_size);
  return ta > tb ? -1 : (ta < tb ? 1 : 0);
}

}  // namespace strata::sst
