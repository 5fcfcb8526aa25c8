#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "strata/write_batch.hpp"

using strata::errc;
using strata::write_batch;

BOOST_AUTO_TEST_SUITE(write_batch_suite)

BOOST_AUTO_TEST_CASE(encodes_operations_in_order) {
  write_batch b;
  BOOST_TEST(b.empty());
  b.put("k1", "v1");
  b.erase("k2");
  b.put("", std::string("\0bin", 4));
  b.set_sequence(42);
  BOOST_TEST(b.count() == 3u);
  BOOST_TEST(b.sequence() == 42u);
  std::vector<std::tuple<bool, std::string, std::string>> ops;
  BOOST_TEST(!b.for_each([&](bool put, std::string_view k, std::string_view v) { ops.emplace_back(put, k, v); }));
  BOOST_TEST(ops.size() == 3u);
  BOOST_TEST((ops[0] == std::make_tuple(true, std::string("k1"), std::string("v1"))));
  BOOST_TEST((ops[1] == std::make_tuple(false, std::string("k2"), std::string())));
  BOOST_TEST((ops[2] == std::make_tuple(true, std::string(), std::string("\0bin", 4))));

  write_batch copy;
  BOOST_TEST(!write_batch::decode(b.rep(), copy));
  BOOST_TEST(copy.rep() == b.rep());
}

BOOST_AUTO_TEST_CASE(decode_rejects_every_truncation_and_bad_counts) {
  write_batch b;
  b.put("key", "value");
  b.erase("gone");
  b.set_sequence(7);
  const std::string rep = b.rep();
  write_batch out;
  for (std::size_t len = 0; len < rep.size(); ++len) {
    BOOST_TEST((write_batch::decode(std::string_view(rep).substr(0, len), out) == errc::corruption), "len " << len);
  }
  std::string more = rep;
  more[8] = 3;  // claims three operations, holds two
  BOOST_TEST((write_batch::decode(more, out) == errc::corruption));
  std::string fewer = rep;
  fewer[8] = 1;  // claims one, trailing bytes left over
  BOOST_TEST((write_batch::decode(fewer, out) == errc::corruption));
  std::string bad_tag = rep;
  bad_tag[12] = 9;
  BOOST_TEST((write_batch::decode(bad_tag, out) == errc::corruption));
  std::string huge_count = rep;
  huge_count[11] = static_cast<char>(0x7f);
  BOOST_TEST((write_batch::decode(huge_count, out) == errc::corruption));
}

BOOST_AUTO_TEST_CASE(random_bytes_never_crash_the_decoder) {
  std::mt19937_64 rng(5);
  write_batch out;
  for (int i = 0; i < 20000; ++i) {
    std::string junk(rng() % 64, '\0');
    for (auto& c : junk) c = static_cast<char>(rng() % 4 == 0 ? rng() % 3 : rng());
    if (!write_batch::decode(junk, out)) {
      std::size_t n = 0;
      BOOST_REQUIRE(!out.for_each([&](bool, std::string_view, std::string_view) { ++n; }));
      BOOST_REQUIRE_EQUAL(n, out.count());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
