// db/file_names.hpp — the names of the files in a db directory.
//
//   <number>.log       write-ahead log (lib/wal)
//   <number>.sst       table
//   MANIFEST-<number>  log of version edits
//   CURRENT            names the live MANIFEST (replaced by atomic rename)
//   LOCK               flock()ed by the process that has the db open
//   <number>.tmp       a file being written; never live, deleted at open
// Numbers come from one counter (version_set::new_file_number) and are
// printed with at least 6 digits. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace strata::db_internal {

enum class file_kind { log, table, manifest, current, lock, temp, unknown };

std::string table_file_name(const std::string& dir, std::uint64_t number);
std::string manifest_file_name(const std::string& dir, std::uint64_t number);
std::string temp_file_name(const std::string& dir, std::uint64_t number);
std::string current_file_name(const std::string& dir);
std::string lock_file_name(const std::string& dir);

// What a directory entry's name (no directory part) is, and its number.
file_kind parse_file_name(std::string_view name, std::uint64_t& number) noexcept;

}  // namespace strata::db_internal
