// db/version_edit.hpp — one change to the set of live tables, as logged in
// the MANIFEST.
//
// A version edit says which table files were added (with their level, size
// and key range) and removed, and moves the db's counters forward: the
// oldest WAL still needed, the next file number, the last sequence number.
// The MANIFEST is a log (WAL record format) of encoded edits; replaying them
// in order rebuilds the live table set (docs/manifest_format.md).
//
// decode() treats its input as untrusted: anything malformed, any unknown
// tag, any level out of range is errc::corruption with a reason, never a
// half-filled edit used as if whole. Plain values; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "strata/memtable.hpp"

namespace strata::db_internal {

inline constexpr int num_levels = 7;

// The format name written in a new MANIFEST's first edit and checked on
// recovery: a db written with another key order must not be opened.
inline constexpr std::string_view manifest_format_name = "strata.bytewise.v1";

// One live SSTable.
struct table_file {
  std::uint64_t number = 0;
  std::uint64_t size = 0;  // bytes
  std::string smallest;    // smallest internal key in the file
  std::string largest;     // largest internal key in the file
  sequence_number smallest_sequence = 0;
  sequence_number largest_sequence = 0;

  bool operator==(const table_file&) const = default;
};

struct version_edit {
  std::optional<std::string> format_name;              // first edit of a MANIFEST only
  std::optional<std::uint64_t> log_number;             // WALs numbered below are obsolete
  std::optional<std::uint64_t> next_file_number;       // file numbers below are taken
  std::optional<sequence_number> last_sequence;        // the newest sequence in tables or WALs
  std::vector<std::pair<int, table_file>> added;       // (level, file)
  std::vector<std::pair<int, std::uint64_t>> deleted;  // (level, file number)

  bool operator==(const version_edit&) const = default;

  void encode(std::string& out) const;
  // Replaces `out` with the edit in `in`. errc::corruption with `why` set if
  // `in` is not exactly one well-formed edit.
  static std::error_code decode(std::string_view in, version_edit& out, std::string& why);
};

}  // namespace strata::db_internal
