// Encoding: a sequence of fields, each a varint32 tag and its payload
// (docs/manifest_format.md). Fields may come in any order; each optional
// field at most once.
#include "db/version_edit.hpp"

#include "strata/error.hpp"
#include "util/coding.hpp"

namespace strata::db_internal {

namespace {

enum tag : std::uint32_t {
  tag_format_name = 1,
  tag_log_number = 2,
  tag_next_file_number = 3,
  tag_last_sequence = 4,
  tag_deleted_file = 5,
  tag_added_file = 6,
};

// Bounds that no well-formed edit exceeds; they keep a damaged count or
// length from turning into a huge allocation.
constexpr std::size_t max_format_name = 256;

bool get_level(std::string_view& in, int& level) {
  std::uint32_t v = 0;
  if (!coding::get_varint32(in, v) || v >= static_cast<std::uint32_t>(num_levels)) return false;
  level = static_cast<int>(v);
  return true;
}

}  // namespace

void version_edit::encode(std::string& out) const {
  if (format_name) {
    coding::put_varint32(out, tag_format_name);
    coding::put_length_prefixed(out, *format_name);
  }
  if (log_number) {
    coding::put_varint32(out, tag_log_number);
    coding::put_varint64(out, *log_number);
  }
  if (next_file_number) {
    coding::put_varint32(out, tag_next_file_number);
    coding::put_varint64(out, *next_file_number);
  }
  if (last_sequence) {
    coding::put_varint32(out, tag_last_sequence);
    coding::put_varint64(out, *last_sequence);
  }
  for (const auto& [level, number] : deleted) {
    coding::put_varint32(out, tag_deleted_file);
    coding::put_varint32(out, static_cast<std::uint32_t>(level));
    coding::put_varint64(out, number);
  }
  for (const auto& [level, f] : added) {
    coding::put_varint32(out, tag_added_file);
    coding::put_varint32(out, static_cast<std::uint32_t>(level));
    coding::put_varint64(out, f.number);
    coding::put_varint64(out, f.size);
    coding::put_length_prefixed(out, f.smallest);
    coding::put_length_prefixed(out, f.largest);
    coding::put_varint64(out, f.smallest_sequence);
    coding::put_varint64(out, f.largest_sequence);
  }
}

std::error_code version_edit::decode(std::string_view in, version_edit& out, std::string& why) {
  out = version_edit{};
  auto bad = [&](const char* reason) {
    why = reason;
    return std::error_code(errc::corruption);
  };
  while (!in.empty()) {
    std::uint32_t t = 0;
    if (!coding::get_varint32(in, t)) return bad("bad field tag");
    switch (t) {
      case tag_format_name: {
        std::string_view name;
        if (out.format_name || !coding::get_length_prefixed(in, name) || name.size() > max_format_name)
          return bad("bad format name");
        out.format_name = std::string(name);
        break;
      }
      case tag_log_number:
      case tag_next_file_number:
      case tag_last_sequence: {
        auto& field = t == tag_log_number         ? out.log_number
                      : t == tag_next_file_number ? out.next_file_number
                                                  : out.last_sequence;
        std::uint64_t v = 0;
        if (field || !coding::get_varint64(in, v)) return bad("bad or repeated counter field");
        if (t == tag_last_sequence && v > max_sequence_number) return bad("last sequence out of range");
        field = v;
        break;
      }
      case tag_deleted_file: {
        int level = 0;
        std::uint64_t number = 0;
        if (!get_level(in, level) || !coding::get_varint64(in, number)) return bad("bad deleted-file field");
        out.deleted.emplace_back(level, number);
        break;
      }
      case tag_added_file: {
        int level = 0;
        table_file f;
        std::string_view smallest, largest;
        if (!get_level(in, level) || !coding::get_varint64(in, f.number) || !coding::get_varint64(in, f.size) ||
            !coding::get_length_prefixed(in, smallest) || !coding::get_length_prefixed(in, largest) ||
            !coding::get_varint64(in, f.smallest_sequence) || !coding::get_varint64(in, f.largest_sequence))
          return bad("bad added-file field");
        if (f.smallest_sequence > f.largest_sequence || f.largest_sequence > max_sequence_number)
          return bad("added file with a bad sequence range");
        f.smallest = std::string(smallest);
        f.largest = std::string(largest);
        out.added.emplace_back(level, std::move(f));
        break;
      }
      default:
        return bad("unknown field tag");
    }
  }
  return {};
}

}  // namespace strata::db_internal
