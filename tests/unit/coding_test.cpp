#include <boost/test/unit_test.hpp>

#include <limits>
#include <random>
#include <vector>

#include "util/coding.hpp"

using namespace strata::coding;

BOOST_AUTO_TEST_SUITE(coding)

BOOST_AUTO_TEST_CASE(fixed_width_is_little_endian) {
  std::string s;
  put_fixed32(s, 0x04030201u);
  put_fixed64(s, 0x0807060504030201ull);
  put_fixed16(s, 0x0201u);
  BOOST_TEST(s == std::string("\x01\x02\x03\x04\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02", 14));
}

BOOST_AUTO_TEST_CASE(fixed_width_round_trip) {
  std::mt19937_64 rng(7);
  std::string s;
  std::vector<std::uint64_t> values{0, 1, 0xff, 0x100, std::numeric_limits<std::uint64_t>::max()};
  for (int i = 0; i < 1000; ++i) values.push_back(rng());
  for (auto v : values) {
    put_fixed16(s, static_cast<std::uint16_t>(v));
    put_fixed32(s, static_cast<std::uint32_t>(v));
    put_fixed64(s, v);
  }
  std::string_view in = s;
  for (auto v : values) {
    std::uint16_t a = 0;
    std::uint32_t b = 0;
    std::uint64_t c = 0;
    BOOST_REQUIRE(get_fixed16(in, a));
    BOOST_REQUIRE(get_fixed32(in, b));
    BOOST_REQUIRE(get_fixed64(in, c));
    BOOST_TEST(a == static_cast<std::uint16_t>(v));
    BOOST_TEST(b == static_cast<std::uint32_t>(v));
    BOOST_TEST(c == v);
  }
  BOOST_TEST(in.empty());
}

BOOST_AUTO_TEST_CASE(fixed_width_rejects_truncated_input) {
  std::string s;
  put_fixed64(s, 42);
  for (std::size_t len = 0; len < 8; ++len) {
    std::string_view in(s.data(), len);
    std::uint64_t v = 7;
    BOOST_TEST(!get_fixed64(in, v));
    BOOST_TEST(v == 7u);           // output untouched
    BOOST_TEST(in.size() == len);  // input not consumed
    std::uint32_t w = 0;
    std::string_view in32(s.data(), len < 4 ? len : 0);
    BOOST_TEST(!get_fixed32(in32, w));
  }
}

BOOST_AUTO_TEST_CASE(varint_round_trip_at_every_width) {
  std::vector<std::uint64_t> values;
  for (unsigned bit = 0; bit < 64; ++bit) {
    const std::uint64_t p = 1ull << bit;
    values.insert(values.end(), {p - 1, p, p + 1});
  }
  values.push_back(std::numeric_limits<std::uint64_t>::max());
  std::string s;
  for (auto v : values) put_varint64(s, v);
  std::string_view in = s;
  for (auto v : values) {
    std::uint64_t got = 0;
    const auto before = in.size();
    BOOST_REQUIRE(get_varint64(in, got));
    BOOST_TEST(got == v);
    BOOST_TEST(before - in.size() == varint_length(v));
  }
  BOOST_TEST(in.empty());
}

BOOST_AUTO_TEST_CASE(varint32_round_trip) {
  std::string s;
  for (std::uint32_t v : {0u, 1u, 127u, 128u, 16383u, 16384u, 0xffffffffu}) {
    s.clear();
    put_varint32(s, v);
    BOOST_TEST(s.size() == varint_length(v));
    std::string_view in = s;
    std::uint32_t got = 1;
    BOOST_REQUIRE(get_varint32(in, got));
    BOOST_TEST(got == v);
    BOOST_TEST(in.empty());
  }
}

BOOST_AUTO_TEST_CASE(varint_rejects_every_truncation) {
  std::string s;
  put_varint64(s, std::numeric_limits<std::uint64_t>::max());
  BOOST_REQUIRE(s.size() == max_varint64_bytes);
  for (std::size_t len = 0; len < s.size(); ++len) {
    std::string_view in(s.data(), len);
    std::uint64_t v = 99;
    BOOST_TEST(!get_varint64(in, v), "accepted a varint cut to " << len << " bytes");
    BOOST_TEST(v == 99u);
    BOOST_TEST(in.size() == len);
  }
}

BOOST_AUTO_TEST_CASE(varint_does_not_read_past_the_view) {
  // The byte after the view's end continues the varint; a decoder that looks
  // at it would succeed. Ours must stop at the view's end.
  const std::string backing("\x81\x01", 2);
  std::string_view in(backing.data(), 1);
  std::uint64_t v = 0;
  BOOST_TEST(!get_varint64(in, v));
  std::uint32_t w = 0;
  BOOST_TEST(!get_varint32(in, w));
}

BOOST_AUTO_TEST_CASE(varint_rejects_overflow_and_overlong) {
  {  // 2^32 does not fit a varint32
    std::string s;
    put_varint64(s, 1ull << 32);
    std::string_view in = s;
    std::uint32_t v = 0;
    BOOST_TEST(!get_varint32(in, v));
  }
  {  // eleven continuation bytes: longer than any uint64
    std::string s(10, '\x80');
    s.push_back('\x00');
    std::string_view in = s;
    std::uint64_t v = 0;
    BOOST_TEST(!get_varint64(in, v));
  }
  {  // a 10th byte of 2 would set bit 64
    std::string s(9, '\xff');
    s.push_back('\x02');
    std::string_view in = s;
    std::uint64_t v = 0;
    BOOST_TEST(!get_varint64(in, v));
  }
}

BOOST_AUTO_TEST_CASE(length_prefixed_round_trip_and_truncation) {
  std::string s;
  const std::string binary("a\0b\xff", 4);
  put_length_prefixed(s, "");
  put_length_prefixed(s, binary);
  put_length_prefixed(s, std::string(300, 'x'));
  std::string_view in = s;
  std::string_view a, b, c;
  BOOST_REQUIRE(get_length_prefixed(in, a));
  BOOST_REQUIRE(get_length_prefixed(in, b));
  BOOST_REQUIRE(get_length_prefixed(in, c));
  BOOST_TEST(a.empty());
  BOOST_TEST(b == binary);
  BOOST_TEST(c == std::string(300, 'x'));
  BOOST_TEST(in.empty());

  // A length that promises more bytes than remain is rejected untouched.
  std::string_view cut(s.data(), s.size() - 1);
  std::string_view x;
  BOOST_REQUIRE(get_length_prefixed(cut, x));
  BOOST_REQUIRE(get_length_prefixed(cut, x));
  const auto left = cut.size();
  BOOST_TEST(!get_length_prefixed(cut, x));
  BOOST_TEST(cut.size() == left);
}

BOOST_AUTO_TEST_SUITE_END()
