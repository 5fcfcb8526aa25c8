// examples/strata_cli/manifest_inspect.hpp — which files of a db are live,
// read without opening the db: CURRENT names the MANIFEST, whose version
// edits (lib/db/version_edit) replayed in order give the live tables per
// level and the oldest WAL still needed. Unlike version_set::recover, it
// writes nothing (recover starts a fresh MANIFEST), takes no LOCK, and so
// may run while the db is open elsewhere.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

#include "db/version.hpp"
#include "strata/memtable.hpp"

namespace strata_cli {

struct manifest_state {
  std::string current_contents;  // CURRENT's bytes, as read
  std::string manifest_path;
  std::uint64_t manifest_size = 0;
  strata::db_internal::version live;  // the live tables, per level
  std::uint64_t log_number = 0;       // logs numbered below are obsolete
  std::uint64_t next_file_number = 0;
  strata::sequence_number last_sequence = 0;
  std::uint64_t edits = 0;
  bool torn_tail = false;  // the last edit was cut short (never acknowledged: ignored, as by recovery)
};

// On failure `failed_file` is the path of the file at fault (CURRENT or the
// MANIFEST) and `message` says what is wrong with it: errc::not_found if
// there is no CURRENT, errc::corruption for damage, io errors.
std::error_code read_manifest(const std::string& dir, manifest_state& out, std::string& failed_file,
                              std::string& message);

}  // namespace strata_cli
