#include "manifest_inspect.hpp"

#include <fmt/format.h>

#include "db/file_names.hpp"
#include "db/version_edit.hpp"
#include "strata/error.hpp"
#include "wal/log_reader.hpp"
#include "wal/wal_recovery.hpp"
#include "wal_inspect.hpp"

namespace strata_cli {

namespace db_internal = strata::db_internal;
namespace wal = strata::wal;

std::error_code read_manifest(const std::string& dir, manifest_state& out, std::string& failed_file,
                              std::string& message) {
  out = manifest_state{};
  failed_file = db_internal::current_file_name(dir);
  if (message = check_regular_file(failed_file); !message.empty()) {
    message = fmt::format("{} (not a strata db, or CURRENT was removed)", message);
    return strata::errc::not_found;
  }
  if (auto ec = wal::read_file(failed_file, out.current_contents)) {
    message = fmt::format("read {}: {}", failed_file, ec.message());
    return ec;
  }
  const std::string& current = out.current_contents;
  std::uint64_t number = 0;
  if (current.size() < 2 || current.back() != '\n' ||
      db_internal::parse_file_name(std::string_view(current).substr(0, current.size() - 1), number) !=
          db_internal::file_kind::manifest) {
    message = fmt::format("corruption in {}: does not name a MANIFEST", failed_file);
    return strata::errc::corruption;
  }

  failed_file = out.manifest_path = db_internal::manifest_file_name(dir, number);
  if (message = check_regular_file(failed_file); !message.empty()) {
    message = fmt::format("{} (named by CURRENT)", message);
    return strata::errc::corruption;
  }
  std::string contents;
  if (auto ec = wal::read_file(failed_file, contents)) {
    message = fmt::format("read {}: {}", failed_file, ec.message());
    return ec;
  }
  out.manifest_size = contents.size();
  // As recovery reads it: a torn last edit was never acknowledged, so the
  // MANIFEST ends cleanly before it; damage anywhere else is corruption.
  wal::log_reader_options o;
  o.skip_corruption = false;
  o.last_file = true;
  o.tail_must_be_cut = true;  // as the db reads it (version_set::recover)
  wal::log_reader reader(contents, failed_file, o);
  bool have_log = false, have_next = false;
  std::string_view record;
  wal::log_reader::status st;
  while ((st = reader.next(record)) == wal::log_reader::status::record) {
    db_internal::version_edit edit;
    std::string why;
    if (auto ec = db_internal::version_edit::decode(record, edit, why)) {
      message = fmt::format("corruption in {} at offset {}: {}", failed_file, reader.record_offset(), why);
      return ec;
    }
    if (out.edits == 0 && edit.format_name != db_internal::manifest_format_name) {
      message = fmt::format("{}: written in format '{}', this build reads '{}'", failed_file,
                            edit.format_name.value_or("(none)"), db_internal::manifest_format_name);
      return strata::errc::corruption;
    }
    if (edit.log_number) {
      out.log_number = *edit.log_number;
      have_log = true;
    }
    if (edit.next_file_number) {
      out.next_file_number = *edit.next_file_number;
      have_next = true;
    }
    if (edit.last_sequence) out.last_sequence = *edit.last_sequence;
    db_internal::version next;
    if (auto ec = db_internal::version::apply(out.live, edit, next, why)) {
      message = fmt::format("corruption in {} at offset {}: {}", failed_file, reader.record_offset(), why);
      return ec;
    }
    out.live = std::move(next);
    ++out.edits;
  }
  if (st == wal::log_reader::status::corruption) {
    message = reader.error();
    return strata::errc::corruption;
  }
  out.torn_tail = reader.torn_tail();
  if (!have_log || !have_next) {
    message = fmt::format("corruption in {}: no log number or next file number recorded", failed_file);
    return strata::errc::corruption;
  }
  failed_file.clear();
  return {};
}

}  // namespace strata_cli
