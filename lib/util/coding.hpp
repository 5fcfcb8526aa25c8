// util/coding.hpp — little-endian fixed-width and varint encoding.
//
// Every on-disk format in Strata (WAL, SST, MANIFEST) is built from these
// primitives. Encoders append to a std::string or write into a caller buffer
// of sufficient size. Decoders take a std::string_view by reference, consume
// what they decode from its front, and return false — leaving the input
// untouched — when the input is truncated or malformed, so a parser never
// reads past the end of its buffer. All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace strata::coding {

inline constexpr std::size_t max_varint32_bytes = 5;
inline constexpr std::size_t max_varint64_bytes = 10;

// ---- fixed width (little-endian regardless of host order) ----

inline void encode_fixed16(char* dst, std::uint16_t v) noexcept {
  dst[0] = static_cast<char>(v);
  dst[1] = static_cast<char>(v >> 8);
}
inline void encode_fixed32(char* dst, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline void encode_fixed64(char* dst, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}

// Unchecked: the caller guarantees 2/4/8 readable bytes at src.
inline std::uint16_t decode_fixed16(const char* src) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(src);
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
inline std::uint32_t decode_fixed32(const char* src) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(src);
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
inline std::uint64_t decode_fixed64(const char* src) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(src);
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void put_fixed16(std::string& dst, std::uint16_t v);
void put_fixed32(std::string& dst, std::uint32_t v);
void put_fixed64(std::string& dst, std::uint64_t v);

// Checked: consume the value from the front of `in`; false if too short.
bool get_fixed16(std::string_view& in, std::uint16_t& v) noexcept;
bool get_fixed32(std::string_view& in, std::uint32_t& v) noexcept;
bool get_fixed64(std::string_view& in, std::uint64_t& v) noexcept;

// ---- varints (7 bits per byte, high bit = more follows) ----

// Writes the varint at dst (room for max_varint*_bytes) and returns one past its end.
char* encode_varint32(char* dst, std::uint32_t v) noexcept;
char* encode_varint64(char* dst, std::uint64_t v) noexcept;
void put_varint32(std::string& dst, std::uint32_t v);
void put_varint64(std::string& dst, std::uint64_t v);
std::size_t varint_length(std::uint64_t v) noexcept;

// False on truncation, on more than max bytes, and on a value that overflows
// the target width (a 5th varint32 byte above 0x0f, a 10th varint64 byte above 1).
// get_varint32 is inline for its one-byte case (lengths in block entries
// almost always fit in 7 bits); longer varints take the out-of-line path.
bool get_varint32_slow(std::string_view& in, std::uint32_t& v) noexcept;
inline bool get_varint32(std::string_view& in, std::uint32_t& v) noexcept {
  if (!in.empty() && static_cast<unsigned char>(in.front()) < 0x80) {
    v = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    return true;
  }
  return get_varint32_slow(in, v);
}
bool get_varint64(std::string_view& in, std::uint64_t& v) noexcept;

// ---- length-prefixed byte strings: varint32 length, then the bytes ----

void put_length_prefixed(std::string& dst, std::string_view bytes);
// On success `bytes` views into the input buffer (no copy).
bool get_length_prefixed(std::string_view& in, std::string_view& bytes) noexcept;

}  // namespace strata::coding
