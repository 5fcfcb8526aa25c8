// wal/wal_recovery.hpp — replays log files after a restart.
//
// Reads each log in order (a blocking read of the whole file: recovery runs
// on the background executor at open) and hands every complete record to
// the caller. A torn tail in the newest log ends replay cleanly and the file
// is truncated to its last complete record (and synced), so appends after
// recovery never follow garbage. Corruption anywhere else is
// errc::corruption with the file and offset in result.error, unless
// skip_corruption is set; then the damaged bytes are dropped and counted.
// Never returns a record that failed its checksum. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace strata::wal {

struct replay_options {
  bool skip_corruption = false;
  bool truncate_torn_tail = true;
};

struct replay_result {
  std::uint64_t records = 0;
  std::uint64_t dropped_bytes = 0;  // skipped as corrupt (skip_corruption only)
  bool torn_tail = false;
  std::uint64_t torn_tail_offset = 0;  // where the newest log now ends
  std::string error;                   // "corruption in <file> at offset N: why"
};

// Called per record in log order; a non-zero return stops replay with it.
using record_callback = std::function<std::error_code(std::string_view record, std::uint64_t log_number)>;

std::error_code replay_logs(const std::string& dir, std::span<const std::uint64_t> numbers,
                            const replay_options& options, const record_callback& on_record, replay_result& result);

// Numbers of the <number>.log files in dir, ascending.
std::vector<std::uint64_t> list_logs(const std::string& dir, std::error_code& ec);

// Reads a whole file (blocking).
std::error_code read_file(const std::string& path, std::string& out);

}  // namespace strata::wal
