// tests/crash/value_format.hpp — the crash test's keys and values. A key is
// "key%06d" over a fixed key space; a value is a pure function of (key
// index, version): "<keyidx>:<version>:" then filler whose length and bytes
// are derived from both. So any value read back names the write it came
// from, and is checked byte for byte by regenerating it: a torn, mixed-up or
// invented value cannot pass.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace strata::crash {

inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

inline std::string key_name(std::uint32_t index) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "key%06u", index);
  return buf;
}

// The index of a key named by key_name(), or nullopt for anything else.
inline std::optional<std::uint32_t> parse_key(std::string_view key) {
  if (key.size() != 9 || key.substr(0, 3) != "key") return std::nullopt;
  std::uint32_t index = 0;
  const auto digits = key.substr(3);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return index;
}

// Mostly small values, some of a few KiB, rarely ~64 KiB (larger than a
// block and than a memtable's share): every size class goes through the
// WAL, flush and compaction.
inline std::size_t value_length(std::uint32_t index, std::uint32_t version) {
  const std::uint64_t h = mix64((std::uint64_t{index} << 32) ^ version ^ 0x5a5a);
  const std::uint64_t r = h % 1000;
  if (r < 4) return (60u << 10) + (h >> 10) % (8u << 10);
  if (r < 80) return 2048 + (h >> 10) % 2048;
  return 10 + (h >> 10) % 1000;
}

inline std::string make_value(std::uint32_t index, std::uint32_t version) {
  std::string v = std::to_string(index) + ":" + std::to_string(version) + ":";
  const std::size_t length = std::max(value_length(index, version), v.size() + 1);
  std::uint64_t state = (std::uint64_t{index} << 32) | version;
  // Half the values repeat an 8-byte pattern (lz4 has something to do), half are noise.
  const bool compressible = (mix64(state ^ 0xc0ffee) & 1) != 0;
  std::uint64_t word = mix64(state);
  while (v.size() < length) {
    if (!compressible) word = mix64(word);
    for (int b = 0; b < 8 && v.size() < length; ++b) v.push_back(static_cast<char>('!' + ((word >> (8 * b)) & 0x3f)));
  }
  return v;
}

struct parsed_value {
  std::uint32_t index = 0;
  std::uint32_t version = 0;
};

// The (key index, version) a value names, or nullopt if it is not exactly
// make_value() of what it names.
inline std::optional<parsed_value> parse_value(std::string_view value) {
  const auto first = value.find(':');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = value.find(':', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  parsed_value p;
  auto [e1, ec1] = std::from_chars(value.data(), value.data() + first, p.index);
  auto [e2, ec2] = std::from_chars(value.data() + first + 1, value.data() + second, p.version);
  if (ec1 != std::errc{} || e1 != value.data() + first) return std::nullopt;
  if (ec2 != std::errc{} || e2 != value.data() + second) return std::nullopt;
  if (p.version == 0 || value_length(p.index, p.version) > (128u << 10)) return std::nullopt;
  if (make_value(p.index, p.version) != value) return std::nullopt;
  return p;
}

// Whether `value` (as read for key `index`) is the state "version
// `version`, a put unless `erased`"; version 0 is "never written".
inline bool holds_state(const std::optional<std::string>& value, std::uint32_t index, std::uint32_t version,
                        bool erased) {
  if (version == 0 || erased) return !value.has_value();
  if (!value) return false;
  const auto p = parse_value(*value);
  return p && p->index == index && p->version == version;
}

// A short printable description of a value for failure messages.
inline std::string describe_value(const std::optional<std::string>& value) {
  if (!value) return "absent";
  if (auto p = parse_value(*value)) {
    return "key " + std::to_string(p->index) + " version " + std::to_string(p->version);
  }
  std::string head = value->substr(0, 48);
  for (char& c : head)
    if (c < 32 || c > 126) c = '?';
  return "unparsable value (" + std::to_string(value->size()) + " bytes, starts \"" + head + "\")";
}

}  // namespace strata::crash
