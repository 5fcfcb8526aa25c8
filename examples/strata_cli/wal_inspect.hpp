// examples/strata_cli/wal_inspect.hpp — reading one log file (a WAL, or a
// MANIFEST, which shares the format) record by record with the library's
// wal::log_reader, for dump-wal and verify. Unlike recovery it does not
// stop at damage: damaged bytes are reported (where, how many, and for the
// first damage the reader's own reason) and reading resumes at the next
// intact fragment. A torn tail (an append cut short by a crash) and
// zero-filled space at the end are the log's clean end, as in recovery.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace strata_cli {

struct log_damage {
  std::uint64_t offset = 0;  // where the damaged bytes start
  std::uint64_t bytes = 0;   // how many were skipped
  std::string message;       // "corruption in <file> at offset N: why"
};

struct log_scan {
  std::uint64_t file_size = 0;
  std::uint64_t records = 0;
  std::uint64_t valid_end = 0;  // just after the last intact record
  bool torn_tail = false;       // bytes after valid_end that are not a whole record (else zeros, or nothing)
  std::vector<log_damage> damage;
};

struct log_visitor {
  std::function<void(std::uint64_t offset, std::string_view record)> on_record;  // may be empty
  std::function<void(const log_damage& damage)> on_damage;                       // may be empty
};

// Reads the whole file (blocking) and calls the visitor in file order. An
// error (with `message`) only if the file cannot be read at all; damage is
// in out.damage.
std::error_code scan_log(const std::string& path, const log_visitor& visitor, log_scan& out, std::string& message);

// Checks that `path` names a readable regular file; "" if so, else why not
// ("<path>: no such file").
std::string check_regular_file(const std::string& path);

}  // namespace strata_cli
