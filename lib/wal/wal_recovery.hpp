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
  // Point in time across files: any file may end torn, and a torn tail ends
  // the replay (later files are not read; result.ignored_logs counts them).
  // For a writer that keeps several logs open (the db: one per memtable),
  // where a crash can tear an older log while a newer one holds records
  // written after it. Those records were never acknowledged as durable (a
  // synced write is acknowledged only once every older log is synced), so
  // replaying up to the tear is the newest consistent prefix.
  bool torn_tail_ends_replay = false;
};

struct replay_result {
  std::uint64_t records = 0;
  std::uint64_t dropped_bytes = 0;  // skipped as corrupt (skip_corruption only)
  bool torn_tail = false;
  std::uint64_t torn_tail_offset = 0;  // where the torn log now ends
  std::uint64_t ignored_logs = 0;      // after a torn tail, with torn_tail_ends_replay
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
