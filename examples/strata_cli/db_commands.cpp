// examples/strata_cli/db_commands.cpp — get, put, delete, scan, stats and
// compact: each opens the db through the public API (include/strata/db.hpp)
// on a local io_context, does its work, and always closes the db again.
// None creates a db unless asked to (put --create).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "args.hpp"
#include "commands.hpp"
#include "escape.hpp"
#include "run_sync.hpp"
#include "strata/db.hpp"

namespace strata_cli {

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

constexpr auto with_error_code = asio::as_tuple(asio::use_awaitable);

// What a db command was asked to do, checked before the db is opened (a bad
// argument must be exit code 2 and must not touch the db).
struct request {
  std::string dir;
  std::string key;
  std::string value;
  bool create = false;
  bool sync = false;
  bool keys_only = false;
  std::optional<std::string> prefix;
  std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();
};

using db_body = asio::awaitable<int> (*)(strata::db& store, const request& req);

// db::open with create_if_missing off still takes the LOCK (creating that
// file) in whatever directory it is given before it finds no db there. So a
// path is checked first, and a wrong one is reported without being touched.
bool looks_like_a_db(const std::string& dir) {
  std::error_code ec;
  const auto st = fs::status(dir, ec);
  if (!fs::exists(st)) {
    fmt::print(stderr, "strata: error: {}: no such directory\n", dir);
    return false;
  }
  if (!fs::is_directory(st)) {
    fmt::print(stderr, "strata: error: {}: not a directory\n", dir);
    return false;
  }
  if (fs::exists(fs::path(dir) / "CURRENT", ec)) return true;
  bool db_files = false;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".sst") || name.ends_with(".log") || name.starts_with("MANIFEST-")) db_files = true;
  }
  if (db_files) {
    fmt::print(stderr, "strata: error: {}: holds db files but no CURRENT file (a damaged db; try 'strata verify')\n",
               dir);
  } else {
    fmt::print(stderr, "strata: error: {}: not a strata db (no CURRENT file)\n", dir);
  }
  return false;
}

// The db's own message for its last failure (it names the file), or the code's.
std::string failure_of(const strata::db& store, const boost::system::error_code& ec) {
  std::string message = store.last_error();
  return message.empty() ? ec.message() : message;
}

// Opens req.dir, runs `body`, and closes the db whatever happened.
asio::awaitable<int> with_db(const request& req, db_body body) {
  auto executor = co_await asio::this_coro::executor;
  strata::options opts;
  opts.create_if_missing = req.create;
  auto [open_ec, store] = co_await strata::db::open(executor, req.dir, opts, with_error_code);
  if (open_ec) {
    std::string message = strata::last_open_error();
    if (message.empty()) message = open_ec.message();
    fmt::print(stderr, "strata: error: cannot open {}: {}\n", req.dir, message);
    co_return exit_failure;
  }
  int code = exit_failure;
  try {
    const int body_code = co_await body(*store, req);
    code = body_code;
  } catch (const std::exception& e) {
    fmt::print(stderr, "strata: error: {}\n", e.what());
    code = exit_failure;
  }
  auto [close_ec] = co_await store->close(with_error_code);
  if (close_ec) {
    fmt::print(stderr, "strata: error: closing {}: {}\n", req.dir, failure_of(*store, close_ec));
    code = exit_failure;
  }
  co_return code;
}

int run_with_db(const request& req, db_body body) {
  if (!req.create && !looks_like_a_db(req.dir)) return exit_failure;
  return run_sync(with_db(req, body));
}

void check_key(const std::string& key) {
  if (key.size() > strata::db::max_key_bytes) {
    throw usage_error(fmt::format("a key holds at most {} bytes, this one {}", strata::db::max_key_bytes, key.size()));
  }
}

// Waits for the flush of what the db replayed from its WAL at open (the
// active memtable is empty then, so nothing else is flushed), so that the
// table counts printed are settled rather than caught mid-flush.
asio::awaitable<bool> settle(strata::db& store) {
  auto [ec] = co_await store.flush(with_error_code);
  if (ec) {
    fmt::print(stderr, "strata: error: flushing {}: {}\n", store.path(), failure_of(store, ec));
    co_return false;
  }
  co_return true;
}

void print_levels(const strata::db_stats& s, std::string_view indent) {
  for (std::size_t level = 0; level < s.level_files.size(); ++level) {
    if (s.level_files[level] == 0) continue;
    fmt::print("{}level {}: {} file{}, {} bytes\n", indent, level, s.level_files[level],
               s.level_files[level] == 1 ? "" : "s", s.level_bytes[level]);
  }
}

void print_tables(std::string_view label, const strata::db_stats& s) {
  fmt::print("{} {} table file{}, {} bytes\n", label, s.table_files, s.table_files == 1 ? "" : "s", s.table_bytes);
  print_levels(s, "  ");
}

// ---- get ----

asio::awaitable<int> get_body(strata::db& store, const request& req) {
  strata::read_options ro;
  auto [ec, value] = co_await store.get(req.key, ro, with_error_code);
  if (ec) {
    fmt::print(stderr, "strata: error: get: {}\n", failure_of(store, ec));
    co_return exit_failure;
  }
  if (!value) {
    fmt::print(stderr, "(not found)\n");
    co_return exit_failure;
  }
  std::fwrite(value->data(), 1, value->size(), stdout);
  std::fputc('\n', stdout);
  co_return exit_ok;
}

int run_get(const parsed_args& args) {
  request req;
  req.dir = args.positional[0];
  req.key = args.positional[1];
  check_key(req.key);
  return run_with_db(req, get_body);
}

// ---- put ----

asio::awaitable<int> put_body(strata::db& store, const request& req) {
  strata::write_options wo;
  wo.sync = req.sync;
  auto [ec] = co_await store.put(req.key, req.value, wo, with_error_code);
  if (ec) {
    fmt::print(stderr, "strata: error: put: {}\n", failure_of(store, ec));
    co_return exit_failure;
  }
  co_return exit_ok;
}

int run_put(const parsed_args& args) {
  request req;
  req.dir = args.positional[0];
  req.key = args.positional[1];
  req.value = args.positional[2];
  req.sync = args.has("--sync");
  req.create = args.has("--create");
  check_key(req.key);
  return run_with_db(req, put_body);
}

// ---- delete ----

asio::awaitable<int> delete_body(strata::db& store, const request& req) {
  strata::write_options wo;
  wo.sync = req.sync;
  auto [ec] = co_await store.erase(req.key, wo, with_error_code);
  if (ec) {
    fmt::print(stderr, "strata: error: delete: {}\n", failure_of(store, ec));
    co_return exit_failure;
  }
  co_return exit_ok;
}

int run_delete(const parsed_args& args) {
  request req;
  req.dir = args.positional[0];
  req.key = args.positional[1];
  req.sync = args.has("--sync");
  check_key(req.key);
  return run_with_db(req, delete_body);
}

// ---- scan ----

asio::awaitable<int> scan_body(strata::db& store, const request& req) {
  strata::read_options ro;
  ro.prefix = req.prefix;
  auto it = store.scan(ro);  // dropped before with_db closes the db
  std::uint64_t shown = 0;
  if (req.limit > 0) co_await it->seek_to_first();
  while (shown < req.limit && it->valid()) {
    if (req.keys_only) {
      fmt::print("{}\n", escape(it->key()));
    } else {
      fmt::print("{} => {}\n", escape(it->key()), escape(it->value()));
    }
    ++shown;
    if (shown == req.limit) break;
    if (!it->try_next()) co_await it->next();
  }
  if (it->error()) {
    fmt::print(stderr, "strata: error: scan: {}\n", it->message().empty() ? it->error().message() : it->message());
    co_return exit_failure;
  }
  co_return exit_ok;
}

int run_scan(const parsed_args& args) {
  request req;
  req.dir = args.positional[0];
  if (const auto* p = args.value("--prefix")) req.prefix = *p;
  if (const auto* l = args.value("--limit")) req.limit = parse_count("--limit", *l);
  req.keys_only = args.has("--keys-only");
  return run_with_db(req, scan_body);
}

// ---- stats ----

asio::awaitable<int> stats_body(strata::db& store, const request&) {
  const bool settled = co_await settle(store);
  if (!settled) co_return exit_failure;
  const strata::db_stats s = store.stats();
  fmt::print("{}", strata::to_string(s));
  fmt::print("\n{:<6} {:>6} {:>14}\n", "level", "files", "bytes");
  for (std::size_t level = 0; level < s.level_files.size(); ++level) {
    fmt::print("{:<6} {:>6} {:>14}\n", level, s.level_files[level], s.level_bytes[level]);
  }
  fmt::print("{:<6} {:>6} {:>14}\n", "total", s.table_files, s.table_bytes);
  co_return exit_ok;
}

int run_stats(const parsed_args& args) {
  request req;
  req.dir = args.positional[0];
  return run_with_db(req, stats_body);
}

// ---- compact ----

asio::awaitable<int> compact_body(strata::db& store, const request&) {
  const bool settled = co_await settle(store);
  if (!settled) co_return exit_failure;
  const strata::db_stats before = store.stats();
  print_tables("before:", before);
  auto [ec] = co_await store.compact(with_error_code);
  if (ec) {
    fmt::print(stderr, "strata: error: compact: {}\n", failure_of(store, ec));
    co_return exit_failure;
  }
  const strata::db_stats after = store.stats();
  print_tables("after: ", after);
  fmt::print("compacted: {} job{}, {} bytes read, {} bytes written, {:.3f} s\n", after.compactions,
             after.compactions == 1 ? "" : "s", after.compaction_bytes_read, after.compaction_bytes_written,
             after.compaction_seconds);
  co_return exit_ok;
}

int run_compact(const parsed_args& args) {
  request req;
  req.dir = args.positional[0];
  return run_with_db(req, compact_body);
}

}  // namespace

std::vector<command> db_commands() {
  return {
      {.name = "get",
       .summary = "print the value of a key",
       .positionals = {"DIR", "KEY"},
       .options = {},
       .description = "Prints the value stored under KEY in the db in DIR (its raw bytes, then a newline).\n"
                      "A missing key prints \"(not found)\" on stderr and exits with 1.",
       .run = run_get},
      {.name = "put",
       .summary = "store a value under a key",
       .positionals = {"DIR", "KEY", "VALUE"},
       .options = {{.name = "--sync", .value_name = "", .help = "return only once the write is on disk (fdatasync)"},
                   {.name = "--create", .value_name = "", .help = "create the db if DIR holds none"}},
       .description = "Stores VALUE under KEY in the db in DIR, replacing any value it had.\n"
                      "The db must exist unless --create is given.",
       .run = run_put},
      {.name = "delete",
       .summary = "delete a key",
       .positionals = {"DIR", "KEY"},
       .options = {{.name = "--sync", .value_name = "", .help = "return only once the delete is on disk (fdatasync)"}},
       .description = "Deletes KEY from the db in DIR. Deleting a key that is not there is not an error.",
       .run = run_delete},
      {.name = "scan",
       .summary = "list keys and values in key order",
       .positionals = {"DIR"},
       .options = {{.name = "--prefix", .value_name = "P", .help = "only the keys that start with P"},
                   {.name = "--limit", .value_name = "N", .help = "at most N entries"},
                   {.name = "--keys-only", .value_name = "", .help = "print the keys without their values"}},
       .description = "Prints one 'key => value' line per entry, in key order (bytewise), at one snapshot.\n"
                      "Bytes outside printable ASCII are shown as \\xNN and a backslash as \\\\.",
       .run = run_scan},
      {.name = "stats",
       .summary = "print the db's statistics and its files per level",
       .positionals = {"DIR"},
       .options = {},
       .description = "Opens the db in DIR, waits for the flush of what it replayed from its write-ahead log,\n"
                      "and prints its statistics (one name=value line each; see strata::db_stats) and a\n"
                      "table of table files and bytes per level.",
       .run = run_stats},
      {.name = "compact",
       .summary = "compact the whole db into its deepest level",
       .positionals = {"DIR"},
       .options = {},
       .description = "Runs a full compaction of the db in DIR (db::compact: flush, then merge every level into\n"
                      "the next down to the deepest level holding data, dropping overwritten versions and\n"
                      "deletions) and prints its table files and bytes per level before and after. The db is\n"
                      "opened with default options: tables are rewritten uncompressed, cut at 64 MiB.",
       .run = run_compact},
  };
}

}  // namespace strata_cli
