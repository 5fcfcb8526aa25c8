// Version edits, versions and the MANIFEST: round trips, refusals, and
// recovery from torn, damaged and missing files.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "db/file_names.hpp"
#include "db/version_set.hpp"
#include "sst/internal_key.hpp"
#include "strata/error.hpp"
#include "temp_dir.hpp"

using namespace strata;
using namespace strata::db_internal;

namespace {

table_file make_file(std::uint64_t number, std::string_view lo, std::string_view hi, sequence_number s = 1) {
  table_file f;
  f.number = number;
  f.size = 1000 + number;
  f.smallest = sst::make_internal_key(lo, s + 1, value_type::value);
  f.largest = sst::make_internal_key(hi, s, value_type::deletion);
  f.smallest_sequence = s;
  f.largest_sequence = s + 1;
  return f;
}

version_edit full_edit() {
  version_edit e;
  e.format_name = std::string(manifest_format_name);
  e.log_number = 7;
  e.next_file_number = 42;
  e.last_sequence = 123456789;
  e.deleted = {{0, 3}, {6, 1u << 30}};
  e.added = {{0, make_file(9, "a", "m")}, {2, make_file(10, std::string("\0\xff", 2), "zz")}};
  return e;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::uint64_t current_manifest(const std::string& dir) {
  std::uint64_t n = 0;
  const std::string c = slurp(current_file_name(dir));
  BOOST_REQUIRE(parse_file_name(c.substr(0, c.size() - 1), n) == file_kind::manifest);
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(version_edit_suite)

BOOST_AUTO_TEST_CASE(edits_round_trip) {
  for (const auto& e : {full_edit(), version_edit{}}) {
    std::string bytes;
    e.encode(bytes);
    version_edit back;
    std::string why;
    BOOST_REQUIRE_MESSAGE(!version_edit::decode(bytes, back, why), why);
    BOOST_TEST((back == e));
  }
}

BOOST_AUTO_TEST_CASE(malformed_edits_are_corruption) {
  std::string bytes;
  full_edit().encode(bytes);
  // Every cut either fails or is a shorter edit that encodes back to exactly
  // the bytes it came from (a cut on a field boundary); never a crash.
  std::size_t failures = 0;
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    version_edit e;
    std::string why;
    if (version_edit::decode(bytes.substr(0, cut), e, why)) {
      ++failures;
      BOOST_TEST(!why.empty());
    } else {
      std::string again;
      e.encode(again);
      BOOST_TEST(again.size() <= cut);
    }
  }
  BOOST_TEST(failures > bytes.size() / 2);
  version_edit e;
  std::string why;
  BOOST_TEST((version_edit::decode("\x63", e, why) == errc::corruption));  // unknown tag 99
  BOOST_TEST(why == "unknown field tag");
  BOOST_TEST((version_edit::decode("\x05\x07\x01", e, why) == errc::corruption));      // level 7
  BOOST_TEST((version_edit::decode("\x02\x01\x02\x02", e, why) == errc::corruption));  // log number twice
}

BOOST_AUTO_TEST_CASE(apply_adds_deletes_orders_and_refuses) {
  version v;
  std::string why;
  version_edit add;
  add.added = {{0, make_file(5, "a", "z")},
               {0, make_file(8, "b", "c")},
               {1, make_file(6, "m", "p")},
               {1, make_file(7, "a", "c")}};
  BOOST_REQUIRE(!version::apply(v, add, v, why));
  BOOST_TEST(v.levels[0].front().number == 8u);  // L0 newest first
  BOOST_TEST(v.levels[1].front().number == 7u);  // L1 by smallest key
  BOOST_TEST(v.file_count() == 4u);
  BOOST_TEST(v.level_bytes(1) == 1006u + 1007u);

  version unchanged = v;
  version_edit dup;
  dup.added = {{3, make_file(6, "x", "y")}};
  BOOST_TEST((version::apply(v, dup, unchanged, why) == errc::corruption));
  BOOST_TEST(why.find("already live") != std::string::npos);
  version_edit missing;
  missing.deleted = {{2, 5}};
  BOOST_TEST((version::apply(v, missing, unchanged, why) == errc::corruption));
  version_edit overlap;
  overlap.added = {{1, make_file(9, "o", "q")}};
  BOOST_TEST((version::apply(v, overlap, unchanged, why) == errc::corruption));
  BOOST_TEST(why.find("overlap") != std::string::npos);
  BOOST_TEST(unchanged.file_count() == 4u);  // a refused edit leaves the output alone

  version_edit del;
  del.deleted = {{0, 5}, {1, 7}};
  BOOST_REQUIRE(!version::apply(v, del, v, why));
  BOOST_TEST(v.file_count() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(version_set_suite)

BOOST_AUTO_TEST_CASE(edits_survive_reopen_and_the_manifest_is_rewritten) {
  testing::temp_dir dir;
  std::string msg;
  std::uint64_t first_manifest = 0;
  {
    version_set vs(dir.path());
    BOOST_REQUIRE_MESSAGE(!vs.create(msg), msg);
    first_manifest = vs.manifest_number();
    for (std::uint64_t i = 0; i < 50; ++i) {
      version_edit e;
      e.added = {{0, make_file(vs.new_file_number(), "k" + std::to_string(i), "k" + std::to_string(i) + "z", i)}};
      if (i % 5 == 4) e.deleted = {{0, vs.current()->levels[0].back().number}};
      e.log_number = i + 100;
      vs.set_last_sequence(1000 + i);
      BOOST_REQUIRE_MESSAGE(!vs.log_and_apply(e, msg), msg);
    }
    BOOST_TEST(vs.current()->file_count() == 40u);
  }
  version_set vs(dir.path());
  BOOST_REQUIRE_MESSAGE(!vs.recover(msg), msg);
  BOOST_TEST(vs.current()->file_count() == 40u);
  BOOST_TEST(vs.log_number() == 149u);
  BOOST_TEST(vs.last_sequence() == 1049u);
  BOOST_TEST(vs.manifest_number() != first_manifest);
  BOOST_TEST(current_manifest(dir.path()) == vs.manifest_number());
  BOOST_TEST(!std::filesystem::exists(manifest_file_name(dir.path(), first_manifest)));
  // Numbers handed out after recovery are above everything used before.
  for (const auto& f : vs.current()->levels[0]) BOOST_TEST(f.number < vs.next_file_number());
  const auto before = *vs.current();
  version_edit e;
  e.added = {{4, make_file(vs.new_file_number(), "q", "r")}};
  BOOST_REQUIRE(!vs.log_and_apply(e, msg));
  version_set again(dir.path());
  BOOST_REQUIRE_MESSAGE(!again.recover(msg), msg);
  BOOST_TEST(again.current()->file_count() == before.file_count() + 1);
  BOOST_TEST((again.current()->levels[0] == before.levels[0]));
}

BOOST_AUTO_TEST_CASE(a_torn_last_edit_is_dropped) {
  testing::temp_dir dir;
  std::string msg;
  std::uint64_t manifest = 0;
  std::size_t size_after_two = 0;
  {
    version_set vs(dir.path());
    BOOST_REQUIRE(!vs.create(msg));
    manifest = vs.manifest_number();
    for (int i = 0; i < 3; ++i) {
      version_edit e;
      e.added = {{0, make_file(vs.new_file_number(), "a", "b")}};
      BOOST_REQUIRE(!vs.log_and_apply(e, msg));
      if (i == 1) size_after_two = std::filesystem::file_size(manifest_file_name(dir.path(), manifest));
    }
  }
  const std::string path = manifest_file_name(dir.path(), manifest);
  const std::string full = slurp(path);
  for (std::size_t cut = size_after_two + 1; cut < full.size(); cut += 3) {
    testing::temp_dir copy;
    std::filesystem::copy(dir.path(), copy.path(), std::filesystem::copy_options::recursive);
    spit(manifest_file_name(copy.path(), manifest), full.substr(0, cut));
    version_set vs(copy.path());
    BOOST_REQUIRE_MESSAGE(!vs.recover(msg), msg);
    BOOST_TEST(vs.current()->file_count() == 2u);
  }
}

BOOST_AUTO_TEST_CASE(missing_and_damaged_files_are_clear_errors) {
  testing::temp_dir dir;
  std::string msg;
  {
    version_set empty(dir.path());
    BOOST_TEST((empty.recover(msg) == errc::not_found));
    BOOST_TEST(msg.find("no CURRENT") != std::string::npos);
  }
  std::uint64_t manifest = 0;
  {
    version_set vs(dir.path());
    BOOST_REQUIRE(!vs.create(msg));
    manifest = vs.manifest_number();
    for (int i = 0; i < 20; ++i) {
      version_edit e;
      e.added = {{0, make_file(vs.new_file_number(), "a", "b")}};
      BOOST_REQUIRE(!vs.log_and_apply(e, msg));
    }
  }
  const std::string path = manifest_file_name(dir.path(), manifest);
  const std::string good = slurp(path);
  // A flipped bit in the middle: corruption naming the MANIFEST.
  std::string bad = good;
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x10);
  spit(path, bad);
  {
    version_set vs(dir.path());
    BOOST_TEST((vs.recover(msg) == errc::corruption));
    BOOST_TEST(msg.find("MANIFEST-") != std::string::npos, msg);
  }
  spit(path, good);
  spit(current_file_name(dir.path()), "garbage\n");
  {
    version_set vs(dir.path());
    BOOST_TEST((vs.recover(msg) == errc::corruption));
    BOOST_TEST(msg.find("CURRENT") != std::string::npos, msg);
  }
  spit(current_file_name(dir.path()), "MANIFEST-999999\n");
  {
    version_set vs(dir.path());
    BOOST_TEST(static_cast<bool>(vs.recover(msg)));
    BOOST_TEST(msg.find("MANIFEST-999999") != std::string::npos, msg);
  }
  // A MANIFEST in another format is refused, not misread.
  {
    testing::temp_dir other;
    wal::log_encoder enc(0);
    version_edit e;
    e.format_name = "leveldb.BytewiseComparator";
    e.log_number = 1;
    e.next_file_number = 3;
    std::string payload, bytes;
    e.encode(payload);
    enc.add_record(payload, bytes);
    spit(manifest_file_name(other.path(), 2), bytes);
    spit(current_file_name(other.path()), "MANIFEST-000002\n");
    version_set vs(other.path());
    BOOST_TEST((vs.recover(msg) == errc::corruption));
    BOOST_TEST(msg.find("format") != std::string::npos, msg);
  }
}

BOOST_AUTO_TEST_CASE(refused_edits_change_nothing) {
  testing::temp_dir dir;
  std::string msg;
  version_set vs(dir.path());
  version_edit early;
  BOOST_TEST((vs.log_and_apply(early, msg) == errc::invalid_argument));  // not created yet
  BOOST_REQUIRE(!vs.create(msg));
  const auto size = std::filesystem::file_size(manifest_file_name(dir.path(), vs.manifest_number()));
  version_edit bad;
  bad.deleted = {{0, 77}};
  BOOST_TEST((vs.log_and_apply(bad, msg) == errc::invalid_argument));
  BOOST_TEST(std::filesystem::file_size(manifest_file_name(dir.path(), vs.manifest_number())) == size);
  version_edit good;
  good.added = {{0, make_file(vs.new_file_number(), "a", "b")}};
  BOOST_TEST(!vs.log_and_apply(good, msg));  // still usable
}

BOOST_AUTO_TEST_CASE(file_names_parse_back) {
  std::uint64_t n = 0;
  BOOST_TEST((parse_file_name("000012.log", n) == file_kind::log && n == 12));
  BOOST_TEST((parse_file_name("1234567.sst", n) == file_kind::table && n == 1234567));
  BOOST_TEST((parse_file_name("MANIFEST-000003", n) == file_kind::manifest && n == 3));
  BOOST_TEST((parse_file_name("000004.tmp", n) == file_kind::temp && n == 4));
  BOOST_TEST((parse_file_name("CURRENT", n) == file_kind::current));
  BOOST_TEST((parse_file_name("LOCK", n) == file_kind::lock));
  for (const char* junk :
       {"MANIFEST-", "MANIFEST-12x", ".log", "12.ldb", "x12.sst", "12.sst.bak", "99999999999999999999999.log"})
    BOOST_TEST((parse_file_name(junk, n) == file_kind::unknown), junk);
  BOOST_TEST(table_file_name("/d", 5) == "/d/000005.sst");
}

BOOST_AUTO_TEST_SUITE_END()
