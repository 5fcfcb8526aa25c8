// tests/corruption/known_damage_test.cpp — single, deterministic pieces of
// damage that the corruption campaign (corruption_test.cpp) found handled
// against the docs, each reduced to the smallest db that shows it. Each
// case states what docs/wal_format.md, docs/manifest_format.md and db.hpp
// promise; a case fails for as long as the library does otherwise.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "../unit/db_test_support.hpp"
#include "../unit/run_awaitable.hpp"
#include "../unit/temp_dir.hpp"
#include "strata/db.hpp"

using namespace strata;
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

struct open_result {
  std::error_code error;
  std::string message;
  std::shared_ptr<db> d;
};

open_result try_open(asio::io_context& ctx, const std::string& path, options o) {
  open_result r;
  strata::testing::run(ctx, [&]() -> asio::awaitable<void> {
    auto [ec, d] = co_await db::open(ctx.get_executor(), path, o, asio::as_tuple(asio::use_awaitable));
    r.error = ec;
    r.d = std::move(d);
  }());
  if (r.error) r.message = last_open_error();
  return r;
}

std::optional<std::string> get(asio::io_context& ctx, db& d, const std::string& key) {
  return strata::testing::run(ctx, [&]() -> asio::awaitable<std::optional<std::string>> {
    read_options ro;
    co_return co_await d.get(key, ro);
  }());
}

void put(asio::io_context& ctx, db& d, const std::string& key, const std::string& value) {
  strata::testing::run(ctx, [&]() -> asio::awaitable<void> {
    write_options wo;
    co_await d.put(key, value, wo);
  }());
}

void flush(asio::io_context& ctx, db& d) {
  strata::testing::run(ctx, [&]() -> asio::awaitable<void> { co_await d.flush(); }());
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The one file in `dir` whose name passes `match` and that is not empty.
std::string only_file(const std::string& dir, bool (*match)(const std::string&)) {
  std::string found;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!match(e.path().filename().string()) || fs::file_size(e.path()) == 0) continue;
    BOOST_TEST_REQUIRE(found.empty(), "two candidate files: " << found << " and " << e.path().string());
    found = e.path().string();
  }
  BOOST_TEST_REQUIRE(!found.empty());
  return found;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(corruption)

// docs/wal_format.md: after a bad fragment the reader looks for any intact
// fragment after it; if one follows, that is corruption. Here a 4 KiB range
// across the first block boundary zeroes the end of a record's first
// fragment and the start of its last one (the fragment that starts block
// 1); record "c" after it, in block 1, is intact. The reader tries every
// offset of block 0 but only the start of block 1, finds nothing, and calls
// it a torn tail: "c" (acknowledged, and synced by close) is silently lost
// and open succeeds although error_on_corrupt_wal is on.
BOOST_AUTO_TEST_CASE(wal_damage_across_a_block_boundary_is_not_a_torn_tail) {
  asio::io_context ctx;
  strata::testing::temp_dir dir;
  const std::string path = dir.file("db");
  options o;
  {
    auto d = strata::testing::open_db(ctx, path, o);
    put(ctx, *d, "a", "1");
    put(ctx, *d, "b", std::string(40000, 'b'));  // fragments: 32 KiB block 0 (from offset ~20), then block 1
    put(ctx, *d, "c", "3");
    strata::testing::close_db(ctx, d);
  }
  const std::string wal = only_file(path, [](const std::string& n) { return n.ends_with(".log"); });
  std::string bytes = slurp(wal);
  BOOST_TEST_REQUIRE(bytes.size() > 40000u);  // "c" ends the file, after the range zeroed below
  for (std::size_t i = 32768 - 2048; i < 32768 + 2048; ++i) bytes[i] = '\0';
  spit(wal, bytes);

  const open_result r = try_open(ctx, path, o);
  BOOST_TEST((r.error == errc::corruption), "open: " << (r.error ? r.message : "succeeded"));
  if (r.error) BOOST_TEST(r.message.find(fs::path(wal).filename().string()) != std::string::npos, r.message);
  if (r.d) {
    const auto c = get(ctx, *r.d, "c");
    BOOST_TEST((c == std::optional<std::string>("3")),
               "the intact record after the damage: " << c.value_or("(absent)"));
    strata::testing::close_db(ctx, r.d);
  }
}

// docs/manifest_format.md: a torn last edit ends replay "because that edit
// was never synced, so never acknowledged". But a MANIFEST is only ever
// appended to with a sync before anything depends on it, so a damaged last
// edit of a MANIFEST that was synced (here: the flush of "k" = "v2", after
// which that memtable's WAL was deleted) is damage, not a tear. Open
// ignores it: "k" reads "v1", and the table holding "v2" is deleted at
// open as a leftover. Expected: corruption naming the MANIFEST.
BOOST_AUTO_TEST_CASE(a_damaged_last_manifest_edit_is_not_ignored) {
  asio::io_context ctx;
  strata::testing::temp_dir dir;
  const std::string path = dir.file("db");
  options o;
  {
    auto d = strata::testing::open_db(ctx, path, o);
    put(ctx, *d, "k", "v1");
    flush(ctx, *d);
    put(ctx, *d, "k", "v2");
    flush(ctx, *d);
    strata::testing::close_db(ctx, d);
  }
  const std::string manifest = only_file(path, [](const std::string& n) { return n.starts_with("MANIFEST-"); });
  std::string bytes = slurp(manifest);
  bytes.back() = static_cast<char>(bytes.back() ^ 0x20);  // inside the last edit's data
  spit(manifest, bytes);

  const open_result r = try_open(ctx, path, o);
  BOOST_TEST((r.error == errc::corruption), "open: " << (r.error ? r.message : "succeeded"));
  if (r.error) BOOST_TEST(r.message.find("MANIFEST-") != std::string::npos, r.message);
  if (r.d) {
    const auto k = get(ctx, *r.d, "k");
    BOOST_TEST((k == std::optional<std::string>("v2")), "the value of the last flush: " << k.value_or("(absent)"));
    strata::testing::close_db(ctx, r.d);
  }
}

// db.hpp: damaged files fail open with corruption. A flipped bit in CURRENT
// that turns a digit into another names a MANIFEST that does not exist;
// version_set::recover means to report that as corruption but gets
// io_error, because wal::read_file maps ENOENT to io_error.
BOOST_AUTO_TEST_CASE(current_naming_a_missing_manifest_is_corruption) {
  asio::io_context ctx;
  strata::testing::temp_dir dir;
  const std::string path = dir.file("db");
  {
    auto d = strata::testing::open_db(ctx, path, {});
    put(ctx, *d, "k", "v");
    strata::testing::close_db(ctx, d);
  }
  std::string current = slurp(path + "/CURRENT");
  BOOST_TEST_REQUIRE(current.size() > 10u);
  current[9] = static_cast<char>(current[9] ^ 0x08);  // the first digit: '0' -> '8'
  spit(path + "/CURRENT", current);

  const open_result r = try_open(ctx, path, {});
  BOOST_TEST((r.error == errc::corruption), "open: " << (r.error ? r.error.message() + ": " + r.message : "succeeded"));
  BOOST_TEST(r.message.find("CURRENT") != std::string::npos, r.message);
}

// A table the MANIFEST lists but that is missing (what an ignored MANIFEST
// edit leaves behind, see above) fails open with io_error and the message
// "open <file>: I/O error": the ENOENT is lost, so nothing says the file is
// missing. `strata verify` calls the same state "DAMAGED: ... is missing".
// Expected: corruption, with a message that says the file is missing.
BOOST_AUTO_TEST_CASE(a_missing_live_table_is_reported_as_missing) {
  asio::io_context ctx;
  strata::testing::temp_dir dir;
  const std::string path = dir.file("db");
  {
    auto d = strata::testing::open_db(ctx, path, {});
    put(ctx, *d, "k", "v");
    flush(ctx, *d);
    strata::testing::close_db(ctx, d);
  }
  const std::string table = only_file(path, [](const std::string& n) { return n.ends_with(".sst"); });
  fs::remove(table);

  const open_result r = try_open(ctx, path, {});
  BOOST_TEST((r.error == errc::corruption), "open: " << (r.error ? r.error.message() + ": " + r.message : "succeeded"));
  BOOST_TEST(r.message.find(fs::path(table).filename().string()) != std::string::npos, r.message);
  BOOST_TEST((r.message.find("missing") != std::string::npos || r.message.find("No such file") != std::string::npos),
             r.message);
}

BOOST_AUTO_TEST_SUITE_END()
