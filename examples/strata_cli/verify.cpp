// examples/strata_cli/verify.cpp — `strata verify DIR`: checks every live
// file of a db without opening it (no LOCK, nothing written, so it may run
// while the db is open elsewhere). CURRENT and the MANIFEST give the live
// tables and the oldest live WAL (manifest_inspect); each table is read
// whole through sst::table_reader, every block checksum-verified, its
// entries checked for order and against its properties and the MANIFEST
// (sst_inspect); each live WAL is read with the log reader and every record
// decoded (wal_inspect). One line per file, then a summary.
#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "db/file_names.hpp"
#include "escape.hpp"
#include "io/io_engine.hpp"
#include "manifest_inspect.hpp"
#include "run_sync.hpp"
#include "sst_inspect.hpp"
#include "strata/write_batch.hpp"
#include "wal_inspect.hpp"

namespace strata_cli {

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace db_internal = strata::db_internal;

struct tally {
  std::uint64_t checked = 0;
  std::uint64_t damaged = 0;

  void ok(std::string_view name, std::string_view what) {
    ++checked;
    fmt::print("{}: OK ({})\n", name, what);
  }
  void bad(std::string_view name, std::string_view why) {
    ++checked;
    ++damaged;
    fmt::print("{}: DAMAGED: {}\n", name, why);
  }
};

std::string plural(std::uint64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// The files in the directory by kind and number.
struct dir_listing {
  std::map<std::uint64_t, std::string> tables, logs, temps;
};

dir_listing list_dir(const std::string& dir) {
  dir_listing out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    std::uint64_t number = 0;
    switch (db_internal::parse_file_name(name, number)) {
      case db_internal::file_kind::table:
        out.tables[number] = name;
        break;
      case db_internal::file_kind::log:
        out.logs[number] = name;
        break;
      case db_internal::file_kind::temp:
        out.temps[number] = name;
        break;
      default:
        break;
    }
  }
  return out;
}

// A table, against its MANIFEST entry if the MANIFEST could be read.
// (Strings by value: a coroutine must not keep references to its caller's temporaries.)
asio::awaitable<void> check_table(strata::io::io_engine& engine, std::string path, std::string name,
                                  const db_internal::table_file* meta, int level, tally& t) {
  table_layout layout;
  std::string message;
  if (auto ec = read_table_layout(path, layout, message)) {
    t.bad(name, message);
    co_return;
  }
  if (meta != nullptr && meta->size != layout.file_size) {
    t.bad(name, fmt::format("{} is {} bytes, the MANIFEST says {}", path, layout.file_size, meta->size));
    co_return;
  }
  const opened_table table = co_await open_table(engine, path);
  if (table.error) {
    t.bad(name, table.message);
    co_return;
  }
  const table_walk walk = co_await walk_table(table, nullptr);
  if (walk.error) {
    t.bad(name, walk.message);
    co_return;
  }
  if (const std::string why = check_properties(table.reader->properties(), walk, layout.data_blocks.size());
      !why.empty()) {
    t.bad(name, fmt::format("corruption in {}: {}", path, why));
    co_return;
  }
  if (meta != nullptr && walk.entries > 0 &&
      (meta->smallest != walk.smallest || meta->largest != walk.largest ||
       meta->smallest_sequence != walk.smallest_sequence || meta->largest_sequence != walk.largest_sequence)) {
    t.bad(name, fmt::format(
                    "{} holds keys {} .. {} (sequences {}..{}), the MANIFEST says {} .. {} ({}..{})", path,
                    escape(strata::sst::user_key_of(walk.smallest)), escape(strata::sst::user_key_of(walk.largest)),
                    walk.smallest_sequence, walk.largest_sequence, escape(strata::sst::user_key_of(meta->smallest)),
                    escape(strata::sst::user_key_of(meta->largest)), meta->smallest_sequence, meta->largest_sequence));
    co_return;
  }
  const std::string where = level >= 0 ? fmt::format("level {}, ", level) : std::string();
  t.ok(name, fmt::format("{}{}, {}, {} bytes", where, plural(walk.entries, "entry", "entries"),
                         plural(layout.data_blocks.size(), "data block", "data blocks"), layout.file_size));
}

void check_log(const std::string& path, const std::string& name, tally& t) {
  std::uint64_t bad_records = 0, first_bad = 0, ops = 0;
  std::uint64_t first_sequence = 0, last_sequence = 0;
  log_visitor visitor;
  visitor.on_record = [&](std::uint64_t offset, std::string_view record) {
    strata::write_batch batch;
    if (strata::write_batch::decode(record, batch)) {
      if (bad_records++ == 0) first_bad = offset;
      return;
    }
    if (batch.count() == 0) return;
    if (ops == 0) first_sequence = batch.sequence();
    ops += batch.count();
    last_sequence = std::max<std::uint64_t>(last_sequence, batch.sequence() + batch.count() - 1);
  };
  log_scan scan;
  std::string message;
  if (scan_log(path, visitor, scan, message)) {
    t.bad(name, message);
    return;
  }
  if (!scan.damage.empty()) {
    std::string why = scan.damage.front().message;
    if (scan.damage.size() > 1) why += fmt::format(" (and {} more damaged regions)", scan.damage.size() - 1);
    t.bad(name, why);
    return;
  }
  if (bad_records > 0) {
    t.bad(name, fmt::format("corruption in {} at offset {}: a record that passed its checksum is not a write batch",
                            path, first_bad));
    return;
  }
  std::string what = plural(scan.records, "record", "records");
  if (ops > 0) what += fmt::format(", sequences {}..{}", first_sequence, last_sequence);
  if (scan.torn_tail) {
    what += fmt::format("; torn tail of {} bytes at offset {}: an append cut short, truncated when the db opens",
                        scan.file_size - scan.valid_end, scan.valid_end);
  }
  t.ok(name, what);
}

asio::awaitable<int> verify(std::string dir) {
  tally t;
  manifest_state m;
  std::string failed_file, message;
  const std::error_code manifest_error = read_manifest(dir, m, failed_file, message);
  const std::string current_name = "CURRENT";
  if (!manifest_error) {
    t.ok(current_name, fmt::format("names {}", fs::path(m.manifest_path).filename().string()));
    std::string what = fmt::format(
        "{}, {}, log number {}, next file {}, last sequence {}", plural(m.edits, "edit", "edits"),
        plural(m.live.file_count(), "live table", "live tables"), m.log_number, m.next_file_number, m.last_sequence);
    if (m.torn_tail) what += "; a torn last edit (never acknowledged) is ignored";
    t.ok(fs::path(m.manifest_path).filename().string(), what);
  } else if (failed_file == db_internal::current_file_name(dir)) {
    t.bad(current_name, message);
  } else {
    t.ok(current_name, fmt::format("names {}", fs::path(failed_file).filename().string()));
    t.bad(fs::path(failed_file).filename().string(), message);
  }

  dir_listing files = list_dir(dir);
  auto engine = strata::io::make_io_engine({});
  if (manifest_error) {
    fmt::print("note: without a readable MANIFEST the live files are unknown: checking every table and log in {}\n",
               dir);
    for (const auto& entry : files.tables) {  // (no structured binding around a co_await: GCC 12)
      const std::string path = dir + "/" + entry.second;
      co_await check_table(*engine, path, entry.second, nullptr, -1, t);
    }
    for (const auto& [number, name] : files.logs) check_log(dir + "/" + name, name, t);
  } else {
    for (std::size_t level = 0; level < m.live.levels.size(); ++level) {
      for (const auto& f : m.live.levels[level]) {
        const std::string path = db_internal::table_file_name(dir, f.number);
        const std::string name = fs::path(path).filename().string();
        if (files.tables.erase(f.number) == 0) {
          t.bad(name, fmt::format("{} is missing (the MANIFEST lists it at level {})", path, level));
          continue;
        }
        co_await check_table(*engine, path, name, &f, static_cast<int>(level), t);
      }
    }
    for (const auto& [number, name] : files.logs) {
      if (number >= m.log_number) check_log(dir + "/" + name, name, t);
    }
    // Files the db no longer needs: it deletes them when it next opens.
    for (const auto& [number, name] : files.tables) {
      fmt::print("{}: not checked (not in the MANIFEST: a leftover the db deletes when it opens)\n", name);
    }
    for (const auto& [number, name] : files.logs) {
      if (number < m.log_number) {
        fmt::print("{}: not checked (obsolete: below the MANIFEST's log number {})\n", name, m.log_number);
      }
    }
  }
  for (const auto& [number, name] : files.temps) {
    fmt::print("{}: not checked (a temporary file the db deletes when it opens)\n", name);
  }

  if (!manifest_error) {
    // Another process with the db open may have replaced files meanwhile.
    manifest_state again;
    std::string again_file, again_message;
    const auto again_error = read_manifest(dir, again, again_file, again_message);
    if (again_error || again.current_contents != m.current_contents || again.manifest_size != m.manifest_size) {
      fmt::print(
          "note: the db changed while verify ran (it is open elsewhere): "
          "files it replaced meanwhile may show as missing; run verify again\n");
    }
  }
  if (t.damaged == 0) {
    fmt::print("verify: {} checked in {}, all OK\n", plural(t.checked, "file", "files"), dir);
    co_return exit_ok;
  }
  fmt::print("verify: {} checked in {}, {} DAMAGED\n", plural(t.checked, "file", "files"), dir, t.damaged);
  co_return exit_failure;
}

int run_verify(const parsed_args& args) {
  const std::string& dir = args.positional[0];
  std::error_code ec;
  const auto st = fs::status(dir, ec);
  if (!fs::exists(st)) {
    fmt::print(stderr, "strata: error: {}: no such directory\n", dir);
    return exit_failure;
  }
  if (!fs::is_directory(st)) {
    fmt::print(stderr, "strata: error: {}: not a directory\n", dir);
    return exit_failure;
  }
  return run_sync(verify(dir));
}

}  // namespace

std::vector<command> verify_commands() {
  return {
      {.name = "verify",
       .summary = "check every live file of a db (checksums, order, MANIFEST agreement)",
       .positionals = {"DIR"},
       .options = {},
       .description = "Checks the db in DIR without opening it (no LOCK is taken and nothing is written, so the db\n"
                      "may be open in another process): reads CURRENT and the MANIFEST to find the live tables and\n"
                      "write-ahead logs; reads every block of every live table, verifying its checksum, the order of\n"
                      "its keys and its properties against the MANIFEST; reads every live log, verifying each\n"
                      "record's checksum and that it decodes. Prints one line per file (OK or what is damaged, with\n"
                      "the file and offset) and a summary; exits with 1 if anything is damaged.",
       .run = run_verify},
  };
}

}  // namespace strata_cli
