#include "sst/format.hpp"

#include <lz4.h>
#include <zstd.h>

#include <fmt/format.h>

#include "strata/error.hpp"
#include "util/checksum.hpp"
#include "util/coding.hpp"

namespace strata::sst {

namespace {
constexpr std::uint8_t properties_version = 1;
constexpr int zstd_level = 3;

// A block's checksum covers its stored bytes and the type byte right after
// them: one contiguous range, both where the writer appends them and where
// the reader finds them, so one-shot XXH3 over it (a streaming state would
// cost a 576-byte allocation and a slower hash per block read).
std::uint32_t block_checksum(std::string_view stored_and_type) { return checksum32(stored_and_type); }

// Compressed payloads start with the raw size (varint32), so decompression
// knows its output size without trusting the codec's own framing.
bool compress(std::string_view in, compression c, std::string& out) {
  out.clear();
  coding::put_varint32(out, static_cast<std::uint32_t>(in.size()));
  const std::size_t header = out.size();
  if (c == compression::lz4) {
    const int bound = LZ4_compressBound(static_cast<int>(in.size()));
    out.resize(header + static_cast<std::size_t>(bound));
    const int n = LZ4_compress_default(in.data(), out.data() + header, static_cast<int>(in.size()), bound);
    if (n <= 0) return false;
    out.resize(header + static_cast<std::size_t>(n));
    return true;
  }
  if (c == compression::zstd) {
    const std::size_t bound = ZSTD_compressBound(in.size());
    out.resize(header + bound);
    const std::size_t n = ZSTD_compress(out.data() + header, bound, in.data(), in.size(), zstd_level);
    if (ZSTD_isError(n) != 0) return false;
    out.resize(header + n);
    return true;
  }
  return false;
}

bool decompress(std::string_view in, compression c, std::string& out) {
  std::uint32_t raw = 0;
  if (!coding::get_varint32(in, raw) || raw > (1u << 30)) return false;
  out.resize(raw);
  if (c == compression::lz4) {
    const int n = LZ4_decompress_safe(in.data(), out.data(), static_cast<int>(in.size()), static_cast<int>(raw));
    return n >= 0 && static_cast<std::uint32_t>(n) == raw;
  }
  if (c == compression::zstd) {
    const std::size_t n = ZSTD_decompress(out.data(), raw, in.data(), in.size());
    return ZSTD_isError(n) == 0 && n == raw;
  }
  return false;
}
}  // namespace

const char* compression_name(compression c) noexcept {
  switch (c) {
    case compression::none:
      return "none";
    case compression::lz4:
      return "lz4";
    case compression::zstd:
      return "zstd";
  }
  return "unknown";
}

void encode_handle(const block_handle& h, std::string& out) {
  coding::put_varint64(out, h.offset);
  coding::put_varint64(out, h.size);
}

bool decode_handle(std::string_view& in, block_handle& h) noexcept {
  std::string_view rest = in;
  block_handle tmp;
  if (!coding::get_varint64(rest, tmp.offset) || !coding::get_varint64(rest, tmp.size)) return false;
  h = tmp;
  in = rest;
  return true;
}

void encode_block(std::string_view contents, compression wanted, std::string& out) {
  std::string compressed;
  compression used = compression::none;
  std::string_view stored = contents;
  if (wanted != compression::none && compress(contents, wanted, compressed) &&
      compressed.size() < contents.size() - contents.size() / 8) {
    used = wanted;
    stored = compressed;
  }
  const std::size_t start = out.size();
  out.append(stored);
  out.push_back(static_cast<char>(used));
  coding::put_fixed32(out, block_checksum(std::string_view(out).substr(start)));
}

std::error_code decode_block_view(std::string_view stored_with_trailer, const block_handle& handle,
                                  std::string_view file, std::string_view& contents, std::string& scratch,
                                  std::string& message) {
  auto fail = [&](const char* why) {
    message = fmt::format("corruption in {} at block offset {}: {}", file, handle.offset, why);
    return std::error_code(errc::corruption);
  };
  if (stored_with_trailer.size() != handle.size + block_trailer_size) return fail("short block");
  const std::string_view stored = stored_with_trailer.substr(0, handle.size);
  const char type = stored_with_trailer[handle.size];
  const std::uint32_t expected = coding::decode_fixed32(stored_with_trailer.data() + handle.size + 1);
  if (block_checksum(stored_with_trailer.substr(0, handle.size + 1)) != expected) return fail("checksum mismatch");
  const auto c = static_cast<compression>(static_cast<std::uint8_t>(type));
  if (c == compression::none) {
    contents = stored;
    return {};
  }
  if (c != compression::lz4 && c != compression::zstd) return fail("unknown compression type");
  if (!decompress(stored, c, scratch)) return fail("cannot decompress");
  contents = scratch;
  return {};
}

std::error_code decode_block(std::string_view stored_with_trailer, const block_handle& handle, std::string_view file,
                             std::string& contents, std::string& message) {
  std::string_view view;
  if (auto ec = decode_block_view(stored_with_trailer, handle, file, view, contents, message)) return ec;
  if (view.data() != contents.data()) contents.assign(view);
  return {};
}

std::string encode_footer(const footer& f) {
  std::string out;
  for (const block_handle* h : {&f.filter, &f.index, &f.properties}) {
    coding::put_fixed64(out, h->offset);
    coding::put_fixed64(out, h->size);
  }
  coding::put_fixed32(out, format_version);
  coding::put_fixed64(out, table_magic);
  coding::put_fixed32(out, checksum32(out));
  return out;
}

std::error_code decode_footer(std::string_view bytes, footer& f, std::string& message) {
  if (bytes.size() != footer_size) {
    message = "not an SSTable: file too short for a footer";
    return errc::corruption;
  }
  if (coding::decode_fixed64(bytes.data() + 52) != table_magic) {
    message = "not an SSTable: bad magic number";
    return errc::corruption;
  }
  if (checksum32(bytes.substr(0, 60)) != coding::decode_fixed32(bytes.data() + 60)) {
    message = "footer checksum mismatch";
    return errc::corruption;
  }
  const std::uint32_t version = coding::decode_fixed32(bytes.data() + 48);
  if (version != format_version) {
    message = fmt::format("unsupported SSTable format version {}", version);
    return errc::not_supported;
  }
  block_handle* handles[] = {&f.filter, &f.index, &f.properties};
  for (int i = 0; i < 3; ++i) {
    handles[i]->offset = coding::decode_fixed64(bytes.data() + 16 * i);
    handles[i]->size = coding::decode_fixed64(bytes.data() + 16 * i + 8);
  }
  return {};
}

std::string encode_properties(const table_properties& p) {
  std::string out;
  out.push_back(static_cast<char>(properties_version));
  for (std::uint64_t v : {p.entries, p.deletions, p.data_blocks, p.raw_key_bytes, p.raw_value_bytes, p.data_bytes,
                          p.smallest_sequence, p.largest_sequence, p.created_unix_seconds}) {
    coding::put_varint64(out, v);
  }
  out.push_back(static_cast<char>(p.data_compression));
  coding::put_length_prefixed(out, p.smallest_user_key);
  coding::put_length_prefixed(out, p.largest_user_key);
  coding::put_length_prefixed(out, p.creator);
  return out;
}

bool decode_properties(std::string_view in, table_properties& p) noexcept {
  if (in.empty() || static_cast<std::uint8_t>(in[0]) != properties_version) return false;
  in.remove_prefix(1);
  table_properties t;
  for (std::uint64_t* v : {&t.entries, &t.deletions, &t.data_blocks, &t.raw_key_bytes, &t.raw_value_bytes,
                           &t.data_bytes, &t.smallest_sequence, &t.largest_sequence, &t.created_unix_seconds}) {
    if (!coding::get_varint64(in, *v)) return false;
  }
  if (in.empty() || static_cast<std::uint8_t>(in[0]) > 2) return false;
  t.data_compression = static_cast<compression>(static_cast<std::uint8_t>(in[0]));
  in.remove_prefix(1);
  std::string_view smallest, largest, creator;
  if (!coding::get_length_prefixed(in, smallest) || !coding::get_length_prefixed(in, largest) ||
      !coding::get_length_prefixed(in, creator) || !in.empty()) {
    return false;
  }
  t.smallest_user_key.assign(smallest);
  t.largest_user_key.assign(largest);
  t.creator.assign(creator);
  p = std::move(t);
  return true;
}

}  // namespace strata::sst
