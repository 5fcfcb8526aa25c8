// sst/format.hpp — the framing of an SSTable file: block handles, the
// per-block trailer (compression type + checksum), the fixed-size footer,
// and the properties block. docs/sst_format.md has the byte-level tables.
//
//   [data block][trailer] ... [filter block][trailer] [index block][trailer]
//   [properties block][trailer] [footer, 64 bytes]
//
// Every stored block is followed by a 5-byte trailer: compression type
// (0 none, 1 lz4, 2 zstd) and XXH3-32 of the stored bytes plus that type
// byte. decode_block() verifies the checksum before it decompresses
// anything; a mismatch is errc::corruption with the file and offset.
// Pure functions and plain structs; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace strata::sst {

enum class compression : std::uint8_t { none = 0, lz4 = 1, zstd = 2 };
const char* compression_name(compression c) noexcept;

inline constexpr std::size_t block_trailer_size = 5;
inline constexpr std::size_t footer_size = 64;
inline constexpr std::uint64_t table_magic = 0x5354524154415353ull;  // on disk (little-endian): "SSATARTS"
inline constexpr std::uint32_t format_version = 1;

// Where a block sits in the file; size excludes the trailer.
struct block_handle {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  bool operator==(const block_handle&) const = default;
};
void encode_handle(const block_handle& h, std::string& out);  // varint64 offset, varint64 size
bool decode_handle(std::string_view& in, block_handle& h) noexcept;

// Block contents -> stored bytes + trailer. Compresses when it saves at
// least 1/8 of the block; otherwise stores it raw (type none).
void encode_block(std::string_view contents, compression wanted, std::string& out);

// Stored bytes + trailer (exactly handle.size + block_trailer_size bytes)
// -> contents. On damage: errc::corruption and a message naming `file` and
// the block's offset.
// The same without a copy where it can: `contents` views the stored bytes
// of an uncompressed block, or `scratch`, which holds a decompressed one.
std::error_code decode_block_view(std::string_view stored_with_trailer, const block_handle& handle,
                                  std::string_view file, std::string_view& contents, std::string& scratch,
                                  std::string& message);
std::error_code decode_block(std::string_view stored_with_trailer, const block_handle& handle, std::string_view file,
                             std::string& contents, std::string& message);

struct footer {
  block_handle filter;
  block_handle index;
  block_handle properties;
};
// Exactly footer_size bytes: three handles as fixed64 pairs, the format
// version, the magic number, and XXH3-32 of the 60 bytes before it.
std::string encode_footer(const footer& f);
std::error_code decode_footer(std::string_view bytes, footer& f, std::string& message);

struct table_properties {
  std::uint64_t entries = 0;
  std::uint64_t deletions = 0;
  std::uint64_t data_blocks = 0;
  std::uint64_t raw_key_bytes = 0;
  std::uint64_t raw_value_bytes = 0;
  std::uint64_t data_bytes = 0;  // stored data blocks, trailers included
  std::uint64_t smallest_sequence = 0;
  std::uint64_t largest_sequence = 0;
  std::uint64_t created_unix_seconds = 0;
  compression data_compression = compression::none;
  std::string smallest_user_key;
  std::string largest_user_key;
  std::string creator = "strata";
  bool operator==(const table_properties&) const = default;
};
std::string encode_properties(const table_properties& p);
bool decode_properties(std::string_view bytes, table_properties& p) noexcept;

}  // namespace strata::sst
