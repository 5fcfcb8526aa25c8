// wal/log_reader.hpp — parses log-format bytes back into logical records.
//
// Works on a file's whole contents in memory. Every fragment's checksum is
// verified; a record that did not pass is never returned. When a fragment
// is bad (checksum, length, type, or a broken first/middle/last sequence),
// the reader looks for any intact fragment after it:
//   * none, in the last log file: a torn tail (a crash mid-append). Reading
//     ends cleanly; valid_end() is where the file should be truncated.
//     Every byte offset after the damage is tried, not just block starts:
//     damage can reach across a block boundary into the next block's first
//     fragment, and intact records after it must not be mistaken for none.
//   * otherwise: corruption. error() names the file and the offset of the
//     bad fragment. With skip_corruption the reader drops the damaged bytes
//     (counted in dropped_bytes()) and resumes at the intact fragment.
// A log may end in zeros (space zero-filled ahead of appends, so that a
// synced append overwrites allocated blocks): zeros where a fragment header
// should start, and nothing but zeros after them, end the log cleanly.
// A log that is not the last file of a WAL must be complete: writers sync a
// file before starting the next, so a tear there is corruption too.
// Not thread-safe; record views are valid until the next call.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/checksum.hpp"
#include "wal/log_format.hpp"

namespace strata::wal {

struct log_reader_options {
  bool skip_corruption = false;
  bool last_file = true;  // a torn tail is expected only in the last file
  // A torn tail must be a cut: the file ends inside a fragment or record
  // (or in zeros). A complete fragment that fails its checksum at the end
  // is corruption. For the MANIFEST: an append there extends the file and
  // is synced before anything acts on it, so a crash can only cut it short;
  // bytes that are all there but wrong were damaged after the fact.
  bool tail_must_be_cut = false;
};

class log_reader {
 public:
  enum class status { record, end, corruption };

  log_reader(std::string_view contents, std::string file_name, log_reader_options options = {});

  status next(std::string_view& record);

  std::uint64_t record_offset() const noexcept { return record_offset_; }  // of the last record returned
  std::uint64_t valid_end() const noexcept { return valid_end_; }          // after the last good record
  bool torn_tail() const noexcept { return torn_tail_; }
  std::uint64_t dropped_bytes() const noexcept { return dropped_bytes_; }
  const std::string& error() const noexcept { return error_; }

 private:
  enum class fragment_status { ok, eof, bad };
  fragment_status read_fragment(fragment_type& type, std::string_view& data, std::uint64_t& offset, const char*& why);
  // Nothing but zero bytes from pos_ to the end: a zero tail, the end of the
  // log (space the writer zero-filled ahead of its appends, or that the file
  // grew by and no data reached).
  bool zero_tail() const noexcept { return data_.find_first_not_of('\0', pos_) == std::string_view::npos; }
  // Validates a fragment header + data at `offset` without consuming it.
  bool intact_fragment_at(std::uint64_t offset);
  // First offset >= from holding an intact fragment; 0 if there is none.
  std::uint64_t find_intact_from(std::uint64_t from);
  // Damage reported at `offset` (a bad fragment, or the start of the record
  // it broke); reading may resume at an intact fragment at or after `search_from`.
  // Returns status::record when the caller should just keep reading.
  // `cut`: the damage is the end of the file arriving inside a fragment or record.
  status on_damage(std::uint64_t offset, std::uint64_t search_from, const char* why, bool cut);

  std::string_view data_;
  std::string file_name_;
  log_reader_options options_;
  std::uint64_t pos_ = 0;
  std::string scratch_;
  bool in_record_ = false;
  std::uint64_t record_start_ = 0;
  std::uint64_t record_offset_ = 0;
  std::uint64_t valid_end_ = 0;
  bool torn_tail_ = false;
  bool cut_short_ = false;  // the last bad fragment ran past the end of the file
  bool done_ = false;
  std::uint64_t dropped_bytes_ = 0;
  std::string error_;
  checksum_stream checksum_;
};

}  // namespace strata::wal
