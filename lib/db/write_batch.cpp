#include "strata/write_batch.hpp"

#include <algorithm>

#include "util/coding.hpp"

namespace strata {

namespace {
constexpr char put_tag = 1;
constexpr char erase_tag = 0;

// One allocation per op at most (and none while capacity lasts): the
// appends below would otherwise grow the string two or three times per put.
void make_room(std::string& rep, std::size_t extra) {
  const std::size_t needed = rep.size() + extra;
  if (needed > rep.capacity()) rep.reserve(std::max(needed, rep.capacity() * 2));
}
}  // namespace

void write_batch::clear() { rep_.assign(header_size, '\0'); }

std::uint32_t write_batch::count() const noexcept { return coding::decode_fixed32(rep_.data() + 8); }
std::uint64_t write_batch::sequence() const noexcept { return coding::decode_fixed64(rep_.data()); }
void write_batch::set_sequence(std::uint64_t seq) noexcept { coding::encode_fixed64(rep_.data(), seq); }

void write_batch::put(std::string_view key, std::string_view value) {
  make_room(rep_,
            1 + coding::varint_length(key.size()) + key.size() + coding::varint_length(value.size()) + value.size());
  coding::encode_fixed32(rep_.data() + 8, count() + 1);
  rep_.push_back(put_tag);
  coding::put_length_prefixed(rep_, key);
  coding::put_length_prefixed(rep_, value);
}

void write_batch::erase(std::string_view key) {
  make_room(rep_, 1 + coding::varint_length(key.size()) + key.size());
  coding::encode_fixed32(rep_.data() + 8, count() + 1);
  rep_.push_back(erase_tag);
  coding::put_length_prefixed(rep_, key);
}

bool write_batch::next_op(std::string_view& in, bool& is_put, std::string_view& key, std::string_view& value) {
  if (in.empty()) return false;
  const char tag = in.front();
  if (tag != put_tag && tag != erase_tag) return false;
  std::string_view rest = in.substr(1);
  if (!coding::get_length_prefixed(rest, key)) return false;
  value = {};
  if (tag == put_tag && !coding::get_length_prefixed(rest, value)) return false;
  is_put = tag == put_tag;
  in = rest;
  return true;
}

std::error_code write_batch::validate(std::string_view bytes) {
  if (bytes.size() < header_size) return errc::corruption;
  const std::uint32_t n = coding::decode_fixed32(bytes.data() + 8);
  // Each operation takes at least 2 bytes: reject absurd counts before looping.
  if (n > (bytes.size() - header_size) / 2) return errc::corruption;
  std::string_view in = bytes.substr(header_size);
  for (std::uint32_t i = 0; i < n; ++i) {
    bool is_put = false;
    std::string_view key, value;
    if (!next_op(in, is_put, key, value)) return errc::corruption;
  }
  return in.empty() ? std::error_code{} : std::error_code(errc::corruption);
}

std::error_code write_batch::decode(std::string_view bytes, write_batch& out) {
  if (auto ec = validate(bytes)) return ec;
  out.rep_.assign(bytes);
  return {};
}

}  // namespace strata
