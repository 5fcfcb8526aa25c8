#include "wal_inspect.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "wal/log_format.hpp"
#include "wal/log_reader.hpp"
#include "wal/wal_recovery.hpp"

namespace strata_cli {

namespace wal = strata::wal;

namespace {

// Where the reader looks for the next fragment after `offset`: there, or
// at the next block when fewer bytes than a header are left in this one
// (the zero-filled block trailer).
std::uint64_t next_fragment_at(std::uint64_t offset) {
  const std::uint64_t left = wal::block_size - offset % wal::block_size;
  return left < wal::header_size ? offset + left : offset;
}

}  // namespace

std::string check_regular_file(const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) return fmt::format("{}: no such file", path);
  if (std::filesystem::is_directory(st)) return fmt::format("{}: is a directory, not a file", path);
  return {};
}

std::error_code scan_log(const std::string& path, const log_visitor& visitor, log_scan& out, std::string& message) {
  out = log_scan{};
  if (message = check_regular_file(path); !message.empty())
    return std::make_error_code(std::errc::no_such_file_or_directory);
  std::string contents;
  if (auto ec = wal::read_file(path, contents)) {
    message = fmt::format("read {}: {}", path, ec.message());
    return ec;
  }
  out.file_size = contents.size();

  // A strict reader stops at the first damage and says why; the skipping
  // reader below only counts the bytes it drops. Both judge damage the same
  // way, so the first drop is the damage the strict reader describes.
  std::string first_reason;
  {
    wal::log_reader_options strict;
    strict.skip_corruption = false;
    strict.last_file = true;
    wal::log_reader reader(contents, path, strict);
    std::string_view record;
    while (reader.next(record) == wal::log_reader::status::record) {
    }
    first_reason = reader.error();
  }

  wal::log_reader_options skipping;
  skipping.skip_corruption = true;
  skipping.last_file = true;  // any log may end torn (the db replays with torn_tail_ends_replay)
  wal::log_reader reader(contents, path, skipping);
  std::uint64_t dropped_so_far = 0;
  for (;;) {
    const std::uint64_t resumed_from = next_fragment_at(reader.valid_end());
    std::string_view record;
    const auto st = reader.next(record);
    // The bytes dropped by this call are contiguous: they start where reading
    // resumed after the previous record, and are followed by this record (or
    // by a torn tail).
    if (const std::uint64_t dropped = reader.dropped_bytes() - dropped_so_far; dropped > 0) {
      dropped_so_far = reader.dropped_bytes();
      log_damage d;
      d.offset = st == wal::log_reader::status::record ? reader.record_offset() - dropped : resumed_from;
      d.bytes = dropped;
      d.message = out.damage.empty() && !first_reason.empty()
                      ? first_reason
                      : fmt::format("corruption in {} at offset {}: damaged bytes", path, d.offset);
      out.damage.push_back(d);
      if (visitor.on_damage) visitor.on_damage(out.damage.back());
    }
    if (st != wal::log_reader::status::record) break;
    ++out.records;
    if (visitor.on_record) visitor.on_record(reader.record_offset(), record);
  }
  out.valid_end = reader.valid_end();
  out.torn_tail = reader.torn_tail();
  return {};
}

}  // namespace strata_cli
