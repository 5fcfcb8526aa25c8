#include "util/coding.hpp"

namespace strata::coding {

void put_fixed16(std::string& dst, std::uint16_t v) {
  char buf[2];
  encode_fixed16(buf, v);
  dst.append(buf, sizeof buf);
}
void put_fixed32(std::string& dst, std::uint32_t v) {
  char buf[4];
  encode_fixed32(buf, v);
  dst.append(buf, sizeof buf);
}
void put_fixed64(std::string& dst, std::uint64_t v) {
  char buf[8];
  encode_fixed64(buf, v);
  dst.append(buf, sizeof buf);
}

bool get_fixed16(std::string_view& in, std::uint16_t& v) noexcept {
  if (in.size() < 2) return false;
  v = decode_fixed16(in.data());
  in.remove_prefix(2);
  return true;
}
bool get_fixed32(std::string_view& in, std::uint32_t& v) noexcept {
  if (in.size() < 4) return false;
  v = decode_fixed32(in.data());
  in.remove_prefix(4);
  return true;
}
bool get_fixed64(std::string_view& in, std::uint64_t& v) noexcept {
  if (in.size() < 8) return false;
  v = decode_fixed64(in.data());
  in.remove_prefix(8);
  return true;
}

char* encode_varint64(char* dst, std::uint64_t v) noexcept {
  auto* p = reinterpret_cast<unsigned char*>(dst);
  while (v >= 0x80) {
    *p++ = static_cast<unsigned char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<unsigned char>(v);
  return reinterpret_cast<char*>(p);
}
char* encode_varint32(char* dst, std::uint32_t v) noexcept { return encode_varint64(dst, v); }

void put_varint32(std::string& dst, std::uint32_t v) {
  char buf[max_varint32_bytes];
  dst.append(buf, static_cast<std::size_t>(encode_varint32(buf, v) - buf));
}
void put_varint64(std::string& dst, std::uint64_t v) {
  char buf[max_varint64_bytes];
  dst.append(buf, static_cast<std::size_t>(encode_varint64(buf, v) - buf));
}

std::size_t varint_length(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

namespace {
// Shared decoder: `max_bytes` bounds the encoding, `last_byte_limit` is the
// largest value the final permitted byte may hold without overflowing.
template <typename T>
bool get_varint(std::string_view& in, T& v, std::size_t max_bytes, unsigned last_byte_limit) noexcept {
  T result = 0;
  const std::size_t limit = in.size() < max_bytes ? in.size() : max_bytes;
  for (std::size_t i = 0; i < limit; ++i) {
    const auto byte = static_cast<unsigned char>(in[i]);
    if (i + 1 == max_bytes && byte > last_byte_limit) return false;  // overflow
    result |= static_cast<T>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      v = result;
      in.remove_prefix(i + 1);
      return true;
    }
  }
  return false;  // truncated, or no terminating byte within max_bytes
}
}  // namespace

bool get_varint32_slow(std::string_view& in, std::uint32_t& v) noexcept {
  return get_varint(in, v, max_varint32_bytes, 0x0f);
}
bool get_varint64(std::string_view& in, std::uint64_t& v) noexcept {
  return get_varint(in, v, max_varint64_bytes, 0x01);
}

void put_length_prefixed(std::string& dst, std::string_view bytes) {
  put_varint32(dst, static_cast<std::uint32_t>(bytes.size()));
  dst.append(bytes);
}

bool get_length_prefixed(std::string_view& in, std::string_view& bytes) noexcept {
  std::string_view rest = in;
  std::uint32_t len = 0;
  if (!get_varint32(rest, len) || rest.size() < len) return false;
  bytes = rest.substr(0, len);
  rest.remove_prefix(len);
  in = rest;
  return true;
}

}  // namespace strata::coding
