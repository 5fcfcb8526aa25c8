#include <boost/test/unit_test.hpp>

#include <string>

#include "util/checksum.hpp"

BOOST_AUTO_TEST_SUITE(checksum)

BOOST_AUTO_TEST_CASE(known_xxh3_values) {
  // Reference values of XXH3_64bits with seed 0 (from the xxHash test suite /
  // `xxhsum -H3`), so a change of algorithm or seed is caught.
  BOOST_TEST(strata::checksum64("") == 0x2D06800538D394C2ull);
  BOOST_TEST(strata::checksum32("") == 0x38D394C2u);
}

BOOST_AUTO_TEST_CASE(detects_every_single_bit_flip) {
  std::string data(1000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + 7);
  const auto good32 = strata::checksum32(data);
  const auto good64 = strata::checksum64(data);
  for (std::size_t bit = 0; bit < data.size() * 8; ++bit) {
    data[bit / 8] = static_cast<char>(data[bit / 8] ^ (1 << (bit % 8)));
    BOOST_TEST(strata::checksum32(data) != good32);
    BOOST_TEST(strata::checksum64(data) != good64);
    data[bit / 8] = static_cast<char>(data[bit / 8] ^ (1 << (bit % 8)));
  }
  BOOST_TEST(strata::checksum32(data) == good32);
}

BOOST_AUTO_TEST_CASE(stream_equals_one_shot) {
  const std::string a = "\x01", b(5000, 'q'), c = "tail";
  strata::checksum_stream s;
  s.update(a).update(b).update(c);
  BOOST_TEST(s.digest64() == strata::checksum64(a + b + c));
  BOOST_TEST(s.digest32() == strata::checksum32(a + b + c));
  s.reset();
  s.update(c);
  BOOST_TEST(s.digest64() == strata::checksum64(c));
}

BOOST_AUTO_TEST_CASE(length_is_part_of_the_hash) {
  BOOST_TEST(strata::checksum32(std::string(1, '\0')) != strata::checksum32(std::string(2, '\0')));
}

BOOST_AUTO_TEST_SUITE_END()
