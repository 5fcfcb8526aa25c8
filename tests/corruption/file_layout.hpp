// tests/corruption/file_layout.hpp — where things are in an undamaged db
// file, parsed here independently of the library's readers (the campaign
// must not judge the library with its own parsers): the fragments and
// records of a log-format file (WAL or MANIFEST, docs/wal_format.md) and the
// blocks of a table (docs/sst_format.md). Used to tell which records a
// damaged byte range hits and to name the region of an undetected change.
//
// parse_log() throws if the file is not a clean log (every fragment intact,
// then an optional zero tail): the reference db is undamaged by definition.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace strata::corruption {

inline std::uint64_t load_le(const char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// A byte range [begin, end) of a file.
struct byte_range {
  std::uint64_t begin = 0, end = 0;
  bool overlaps(const byte_range& o) const { return begin < o.end && o.begin < end; }
};

struct log_fragment {
  byte_range bytes;  // header and data
  int type = 0;      // 1 full, 2 first, 3 middle, 4 last
  std::size_t record = 0;
};

struct log_record {
  std::vector<std::size_t> fragments;  // indexes into log_layout::fragments
  std::string payload;
};

struct log_layout {
  static constexpr std::uint64_t block_size = 32768;
  static constexpr std::uint64_t header_size = 7;

  std::uint64_t file_size = 0;
  std::vector<log_fragment> fragments;
  std::vector<log_record> records;
  std::uint64_t records_end = 0;  // end of the last fragment

  std::uint64_t record_start(std::size_t r) const { return fragments[records[r].fragments.front()].bytes.begin; }

  // A short name for the part of the file holding `offset`, for reports.
  std::string region_of(std::uint64_t offset) const {
    for (const auto& f : fragments) {
      if (offset >= f.bytes.begin && offset < f.bytes.end) {
        const bool last = f.record + 1 == records.size();
        const char* part = offset < f.bytes.begin + header_size ? "header" : "data";
        return std::string(last ? "last record " : "record ") + part;
      }
    }
    if (offset >= file_size) return "past the end";
    if (offset >= records_end) return "zero tail after the records";
    return "block padding (< 7 bytes before a block boundary)";
  }
};

inline log_layout parse_log(std::string_view bytes, const std::string& name) {
  log_layout out;
  out.file_size = bytes.size();
  std::uint64_t pos = 0;
  bool in_record = false;
  const auto fail = [&](const std::string& why) {
    throw std::runtime_error("reference file " + name + " is not a clean log at offset " + std::to_string(pos) + ": " +
                             why);
  };
  while (pos < bytes.size()) {
    const std::uint64_t left = log_layout::block_size - pos % log_layout::block_size;
    if (left < log_layout::header_size) {
      pos += left;
      continue;
    }
    if (bytes.find_first_not_of('\0', pos) == std::string_view::npos) break;  // zero tail
    if (bytes.size() - pos < log_layout::header_size) fail("truncated header");
    const char* h = bytes.data() + pos;
    const auto checksum = static_cast<std::uint32_t>(load_le(h, 4));
    const auto length = static_cast<std::uint64_t>(load_le(h + 4, 2));
    const int type = static_cast<unsigned char>(h[6]);
    if (type < 1 || type > 4) fail("bad fragment type");
    if (log_layout::header_size + length > left || pos + log_layout::header_size + length > bytes.size())
      fail("fragment past its block or the file");
    std::string covered(h + 6, 1 + length);  // the type byte and the data
    if (static_cast<std::uint32_t>(XXH3_64bits(covered.data(), covered.size())) != checksum) fail("bad checksum");
    const bool starts = type == 1 || type == 2;
    if (starts == in_record) fail("broken fragment sequence");
    if (starts) out.records.emplace_back();
    out.fragments.push_back(
        {.bytes = {pos, pos + log_layout::header_size + length}, .type = type, .record = out.records.size() - 1});
    auto& record = out.records.back();
    record.fragments.push_back(out.fragments.size() - 1);
    record.payload.append(h + log_layout::header_size, length);
    in_record = type == 2 || type == 3;
    pos += log_layout::header_size + length;
    out.records_end = pos;
  }
  if (in_record) fail("file ends inside a record");
  return out;
}

// A table's blocks, from its footer (64 bytes: filter, index and properties
// handles as fixed64 offset + size, then version, magic, checksum).
struct table_layout {
  static constexpr std::uint64_t footer_size = 64, trailer_size = 5;
  std::uint64_t file_size = 0;
  byte_range filter, index, properties;  // with their trailers

  std::string region_of(std::uint64_t offset) const {
    if (offset >= file_size) return "past the end";
    if (offset >= file_size - footer_size) return "footer";
    if (offset >= filter.begin && offset < filter.end) return "filter block";
    if (offset >= index.begin && offset < index.end) return "index block";
    if (offset >= properties.begin && offset < properties.end) return "properties block";
    return "data blocks";
  }
};

inline table_layout parse_table(std::string_view bytes, const std::string& name) {
  if (bytes.size() < table_layout::footer_size) throw std::runtime_error("reference table " + name + " too short");
  const char* f = bytes.data() + bytes.size() - table_layout::footer_size;
  const auto handle = [&](int i) {
    const std::uint64_t offset = load_le(f + 16 * i, 8), size = load_le(f + 16 * i + 8, 8);
    return size == 0 && offset == 0 ? byte_range{} : byte_range{offset, offset + size + table_layout::trailer_size};
  };
  return {.file_size = bytes.size(), .filter = handle(0), .index = handle(1), .properties = handle(2)};
}

}  // namespace strata::corruption
