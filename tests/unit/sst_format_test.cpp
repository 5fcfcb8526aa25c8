// SST framing: handles, block trailers with each compression, footer and
// properties; damaged bytes are reported, never trusted.
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>

#include "sst/format.hpp"
#include "strata/error.hpp"

using namespace strata;
using namespace strata::sst;

namespace {
std::string compressible(std::size_t n) {
  std::string s;
  while (s.size() < n) s += "user:000123 value value value ";
  s.resize(n);
  return s;
}
std::string incompressible(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(sst_format)

BOOST_AUTO_TEST_CASE(handles_round_trip_and_reject_truncation) {
  std::string buf;
  const block_handle a{0, 4096}, b{(1ull << 40) + 7, 123456};
  encode_handle(a, buf);
  encode_handle(b, buf);
  std::string_view in = buf;
  block_handle x, y;
  BOOST_REQUIRE(decode_handle(in, x));
  BOOST_REQUIRE(decode_handle(in, y));
  BOOST_TEST((x == a));
  BOOST_TEST((y == b));
  BOOST_TEST(in.empty());
  for (std::size_t len = 0; len < buf.size(); ++len) {
    std::string_view cut(buf.data(), len);
    block_handle h;
    decode_handle(cut, h);  // first handle may decode; the pair must not
    BOOST_TEST(!decode_handle(cut, h));
  }
}

BOOST_AUTO_TEST_CASE(blocks_round_trip_with_every_compression) {
  for (const auto c : {compression::none, compression::lz4, compression::zstd}) {
    for (const auto& contents : {std::string(), compressible(4096), incompressible(4096, 1), compressible(300000)}) {
      std::string stored;
      encode_block(contents, c, stored);
      const block_handle h{1000, stored.size() - block_trailer_size};
      std::string back, message;
      BOOST_REQUIRE_MESSAGE(!decode_block(stored, h, "t.sst", back, message), message);
      BOOST_REQUIRE(back == contents);
      const auto used = static_cast<compression>(stored[h.size]);
      if (c != compression::none && contents.size() > 1000 && contents[0] == 'u') {
        BOOST_TEST((used == c), compression_name(c) << " was not used on compressible data");
        BOOST_TEST(stored.size() < contents.size() / 2);
      }
      if (contents.size() > 0 && contents[0] != 'u') BOOST_TEST((used == compression::none));  // not worth it
    }
  }
}

BOOST_AUTO_TEST_CASE(damaged_blocks_are_corruption_naming_file_and_offset) {
  for (const auto c : {compression::none, compression::lz4, compression::zstd}) {
    std::string stored;
    encode_block(compressible(5000), c, stored);
    const block_handle h{777, stored.size() - block_trailer_size};
    for (std::size_t i = 0; i < stored.size(); i += 1 + stored.size() / 300) {
      std::string bad = stored;
      bad[i] = static_cast<char>(bad[i] ^ 0x01);
      std::string back, message;
      const auto ec = decode_block(bad, h, "t.sst", back, message);
      BOOST_REQUIRE_MESSAGE((ec == errc::corruption), "flip at " << i << " went unnoticed");
      BOOST_REQUIRE(message.find("t.sst") != std::string::npos);
      BOOST_REQUIRE(message.find("777") != std::string::npos);
    }
    std::string back, message;
    BOOST_TEST((decode_block(std::string_view(stored).substr(1), h, "t.sst", back, message) == errc::corruption));
  }
}

BOOST_AUTO_TEST_CASE(footer_round_trip_and_rejections) {
  const footer f{{100, 200}, {300, 400}, {700, 50}};
  const auto bytes = encode_footer(f);
  BOOST_REQUIRE_EQUAL(bytes.size(), footer_size);
  footer back;
  std::string message;
  BOOST_REQUIRE(!decode_footer(bytes, back, message));
  BOOST_TEST((back.filter == f.filter));
  BOOST_TEST((back.index == f.index));
  BOOST_TEST((back.properties == f.properties));
  BOOST_TEST((decode_footer(bytes.substr(1), back, message) == errc::corruption));
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    BOOST_REQUIRE_MESSAGE(decode_footer(bad, back, message), "flip at " << i);
  }
  std::string wrong_magic = bytes;
  wrong_magic[53] = 'x';
  BOOST_TEST((decode_footer(wrong_magic, back, message) == errc::corruption));
  BOOST_TEST(message.find("magic") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(properties_round_trip_and_reject_truncation) {
  table_properties p;
  p.entries = 1000000;
  p.deletions = 12;
  p.data_blocks = 3000;
  p.raw_key_bytes = 24000000;
  p.raw_value_bytes = 100000000;
  p.data_bytes = 118000000;
  p.smallest_sequence = 5;
  p.largest_sequence = 1000004;
  p.created_unix_seconds = 1790000000;
  p.data_compression = compression::zstd;
  p.smallest_user_key = std::string("\0a", 2);
  p.largest_user_key = "zzz";
  const auto bytes = encode_properties(p);
  table_properties back;
  BOOST_REQUIRE(decode_properties(bytes, back));
  BOOST_TEST((back == p));
  for (std::size_t len = 0; len < bytes.size(); ++len) BOOST_REQUIRE(!decode_properties(bytes.substr(0, len), back));
  BOOST_TEST(!decode_properties(bytes + "x", back));
}

BOOST_AUTO_TEST_SUITE_END()
