// examples/strata_cli/file_commands.cpp — dump-sst and dump-wal: print
// what one table or log file holds, read with the library's internal
// readers (sst_inspect, wal_inspect), without opening any db.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <limits>
#include <string>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "commands.hpp"
#include "db/file_names.hpp"
#include "db/version_edit.hpp"
#include "escape.hpp"
#include "io/io_engine.hpp"
#include "run_sync.hpp"
#include "sst_inspect.hpp"
#include "strata/write_batch.hpp"
#include "wal_inspect.hpp"

namespace strata_cli {

namespace {

namespace asio = boost::asio;
namespace sst = strata::sst;
namespace db_internal = strata::db_internal;

std::string describe_handle(const sst::block_handle& h) {
  return fmt::format("offset {}, {} bytes (+{} trailer)", h.offset, h.size, sst::block_trailer_size);
}

std::string describe_internal_key(std::string_view internal_key) {
  sst::parsed_internal_key k;
  if (!sst::parse_internal_key(internal_key, k)) return fmt::format("(malformed: {})", escape(internal_key));
  return fmt::format("{} @{} {}", escape(k.user_key), k.sequence,
                     k.type == strata::value_type::value ? "put" : "delete");
}

// ---- dump-sst ----

void print_properties(const sst::table_properties& p) {
  fmt::print("properties:\n");
  fmt::print("  entries:           {}\n", p.entries);
  fmt::print("  deletions:         {}\n", p.deletions);
  fmt::print("  data blocks:       {}\n", p.data_blocks);
  fmt::print("  smallest key:      {}\n", escape(p.smallest_user_key));
  fmt::print("  largest key:       {}\n", escape(p.largest_user_key));
  fmt::print("  smallest sequence: {}\n", p.smallest_sequence);
  fmt::print("  largest sequence:  {}\n", p.largest_sequence);
  fmt::print("  raw key bytes:     {}\n", p.raw_key_bytes);
  fmt::print("  raw value bytes:   {}\n", p.raw_value_bytes);
  fmt::print("  data bytes:        {} (stored, with trailers)\n", p.data_bytes);
  fmt::print("  compression:       {}\n", sst::compression_name(p.data_compression));
  const auto created = static_cast<std::time_t>(p.created_unix_seconds);
  fmt::print("  created:           {:%Y-%m-%d %H:%M:%S} UTC ({})\n", fmt::gmtime(created), p.created_unix_seconds);
  fmt::print("  creator:           {}\n", escape(p.creator));
}

asio::awaitable<int> dump_sst(std::string path, bool entries, bool blocks) {
  table_layout layout;
  std::string message;
  if (auto ec = read_table_layout(path, layout, message)) {
    fmt::print(stderr, "strata: error: {}\n", message);
    co_return exit_failure;
  }
  fmt::print("file: {} ({} bytes)\n", path, layout.file_size);
  fmt::print("footer (format version {}):\n", sst::format_version);
  if (layout.footer.filter.size == 0) {
    fmt::print("  filter block:     none\n");
  } else {
    fmt::print("  filter block:     {}\n", describe_handle(layout.footer.filter));
  }
  fmt::print("  index block:      {}\n", describe_handle(layout.footer.index));
  fmt::print("  properties block: {}\n", describe_handle(layout.footer.properties));

  // The io engine outlives the table (locals are destroyed in reverse order).
  auto engine = strata::io::make_io_engine({});
  const opened_table table = co_await open_table(*engine, path);
  if (table.error) {
    fmt::print(stderr, "strata: error: {}\n", table.message);
    co_return exit_failure;
  }
  const sst::table_properties& props = table.reader->properties();
  print_properties(props);
  fmt::print("filter: {}\n", table.reader->has_filter() ? "bloom" : "none");
  fmt::print("index: {} data block{}\n", layout.data_blocks.size(), layout.data_blocks.size() == 1 ? "" : "s");
  if (blocks) {
    for (std::size_t i = 0; i < layout.data_blocks.size(); ++i) {
      fmt::print("  block {}: {}\n", i, describe_handle(layout.data_blocks[i]));
    }
  }
  if (!entries) co_return exit_ok;

  fmt::print("entries:\n");
  const entry_visitor print_entry = [](const sst::parsed_internal_key& k, std::string_view value) {
    if (k.type == strata::value_type::value) {
      fmt::print("  {} @{} put => {}\n", escape(k.user_key), k.sequence, escape(value));
    } else {
      fmt::print("  {} @{} delete\n", escape(k.user_key), k.sequence);
    }
  };
  const table_walk walk = co_await walk_table(table, &print_entry);
  if (walk.error) {
    fmt::print(stderr, "strata: error: after {} entries: {}\n", walk.entries, walk.message);
    co_return exit_failure;
  }
  fmt::print("{} entr{} read, every data block's checksum verified\n", walk.entries, walk.entries == 1 ? "y" : "ies");
  if (const std::string why = check_properties(props, walk, layout.data_blocks.size()); !why.empty()) {
    fmt::print(stderr, "strata: error: corruption in {}: {}\n", path, why);
    co_return exit_failure;
  }
  co_return exit_ok;
}

int run_dump_sst(const parsed_args& args) {
  const std::string& path = args.positional[0];
  if (const std::string why = check_regular_file(path); !why.empty()) {
    fmt::print(stderr, "strata: error: {}\n", why);
    return exit_failure;
  }
  return run_sync(dump_sst(path, args.has("--entries"), args.has("--blocks")));
}

// ---- dump-wal ----

struct wal_totals {
  std::uint64_t ops = 0;
  std::uint64_t bad_records = 0;  // passed their checksum but do not decode
  std::uint64_t first_sequence = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t last_sequence = 0;
};

void print_batch(std::uint64_t offset, std::string_view record, wal_totals& totals) {
  strata::write_batch batch;
  if (strata::write_batch::decode(record, batch)) {
    fmt::print("offset {}: DAMAGED: a record of {} bytes that passed its checksum is not a write batch\n", offset,
               record.size());
    ++totals.bad_records;
    return;
  }
  const std::uint32_t n = batch.count();
  fmt::print("offset {}: sequence {}, {} op{}\n", offset, batch.sequence(), n, n == 1 ? "" : "s");
  batch.for_each([](bool is_put, std::string_view key, std::string_view value) {
    if (is_put) {
      fmt::print("  put {} => {}\n", escape(key), escape(value));
    } else {
      fmt::print("  delete {}\n", escape(key));
    }
  });
  totals.ops += n;
  if (n > 0) {
    totals.first_sequence = std::min(totals.first_sequence, batch.sequence());
    totals.last_sequence = std::max<std::uint64_t>(totals.last_sequence, batch.sequence() + n - 1);
  }
}

// A MANIFEST shares the log format; its records are version edits.
void print_edit(std::uint64_t offset, std::string_view record, wal_totals& totals) {
  db_internal::version_edit edit;
  std::string why;
  if (db_internal::version_edit::decode(record, edit, why)) {
    fmt::print("offset {}: DAMAGED: a record that passed its checksum is not a version edit: {}\n", offset, why);
    ++totals.bad_records;
    return;
  }
  std::string fields;
  auto field = [&fields](std::string_view name, auto value) {
    fields += fmt::format("{}{} {}", fields.empty() ? "" : ", ", name, value);
  };
  if (edit.format_name) field("format", *edit.format_name);
  if (edit.log_number) field("log number", *edit.log_number);
  if (edit.next_file_number) field("next file", *edit.next_file_number);
  if (edit.last_sequence) field("last sequence", *edit.last_sequence);
  fmt::print("offset {}: version edit{}{}\n", offset, fields.empty() ? "" : ": ", fields);
  for (const auto& [level, f] : edit.added) {
    fmt::print("  add level {}: {:06}.sst, {} bytes, {} .. {}\n", level, f.number, f.size,
               describe_internal_key(f.smallest), describe_internal_key(f.largest));
  }
  for (const auto& [level, number] : edit.deleted) fmt::print("  delete level {}: {:06}.sst\n", level, number);
  totals.ops += edit.added.size() + edit.deleted.size();
}

int run_dump_wal(const parsed_args& args) {
  const std::string& path = args.positional[0];
  std::uint64_t number = 0;
  const bool manifest = db_internal::parse_file_name(std::filesystem::path(path).filename().string(), number) ==
                        db_internal::file_kind::manifest;
  wal_totals totals;
  log_visitor visitor;
  visitor.on_record = [&](std::uint64_t offset, std::string_view record) {
    if (manifest) {
      print_edit(offset, record, totals);
    } else {
      print_batch(offset, record, totals);
    }
  };
  visitor.on_damage = [](const log_damage& d) {
    fmt::print("offset {}: DAMAGED: {} ({} bytes skipped)\n", d.offset, d.message, d.bytes);
  };
  std::string message;
  if (const std::string why = check_regular_file(path); !why.empty()) {
    fmt::print(stderr, "strata: error: {}\n", why);
    return exit_failure;
  }
  fmt::print("file: {} ({})\n", path, manifest ? "MANIFEST: version edits" : "write-ahead log: write batches");
  log_scan scan;
  if (scan_log(path, visitor, scan, message)) {
    fmt::print(stderr, "strata: error: {}\n", message);
    return exit_failure;
  }
  const std::uint64_t after = scan.file_size - scan.valid_end;
  if (scan.torn_tail) {
    fmt::print(
        "end: offset {}; the {} bytes after it are a torn tail (an append cut short), "
        "which the db truncates when it opens\n",
        scan.valid_end, after);
  } else if (after > 0) {
    fmt::print("end: offset {}; the {} bytes after it are zero (space filled ahead of appends)\n", scan.valid_end,
               after);
  } else {
    fmt::print("end: offset {} (end of file)\n", scan.valid_end);
  }
  std::string summary = fmt::format("{} record{}, {} {}{}", scan.records, scan.records == 1 ? "" : "s", totals.ops,
                                    manifest ? "file change" : "op", totals.ops == 1 ? "" : "s");
  if (!manifest && totals.ops > 0)
    summary += fmt::format(", sequences {}..{}", totals.first_sequence, totals.last_sequence);
  const std::uint64_t damaged = scan.damage.size() + totals.bad_records;
  if (damaged > 0) summary += fmt::format("; {} damaged", damaged);
  fmt::print("{}\n", summary);
  if (damaged > 0) {
    fmt::print(stderr, "strata: error: {}: {} damaged record{} or region{}\n", path, damaged, damaged == 1 ? "" : "s",
               damaged == 1 ? "" : "s");
    return exit_failure;
  }
  return exit_ok;
}

}  // namespace

std::vector<command> file_commands() {
  return {
      {.name = "dump-sst",
       .summary = "print a table file's footer, properties and (optionally) entries",
       .positionals = {"FILE"},
       .options = {{.name = "--entries", .value_name = "", .help = "print every entry: key, sequence, type, value"},
                   {.name = "--blocks", .value_name = "", .help = "print every data block's offset and size"}},
       .description = "Reads the SSTable FILE (a <number>.sst file of a db) and prints its footer, its properties\n"
                      "(entry and deletion counts, smallest and largest keys and sequences, sizes, compression)\n"
                      "and its number of data blocks. With --entries it reads every data block (verifying each\n"
                      "checksum) and prints every internal key ('key @sequence put => value' or\n"
                      "'key @sequence delete'), then checks the counts against the properties.\n"
                      "Damage is reported with the file and block offset, and exits with 1.",
       .run = run_dump_sst},
      {.name = "dump-wal",
       .summary = "print the records of a write-ahead log (or MANIFEST) file",
       .positionals = {"FILE"},
       .options = {},
       .description = "Reads the log FILE (a <number>.log file of a db) and prints every record: its offset,\n"
                      "its sequence and op count, then each op ('put key => value' or 'delete key').\n"
                      "Damaged records are reported with their offset and skipped (exit code 1 at the end);\n"
                      "a torn or zero-filled tail is reported as the log's clean end. A MANIFEST-<number>\n"
                      "file, which has the same format, is printed as its version edits.",
       .run = run_dump_wal},
  };
}

}  // namespace strata_cli
