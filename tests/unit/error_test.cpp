#include <boost/test/unit_test.hpp>

#include <set>
#include <system_error>

#include "strata/error.hpp"

BOOST_AUTO_TEST_SUITE(error)

BOOST_AUTO_TEST_CASE(codes_carry_strata_category_and_messages) {
  std::error_code ec = strata::errc::corruption;
  BOOST_TEST(ec.category().name() == std::string("strata"));
  BOOST_TEST(ec.value() == static_cast<int>(strata::errc::corruption));
  BOOST_TEST(ec.message() == "data corruption");
  BOOST_TEST(static_cast<bool>(ec));
  BOOST_TEST(!static_cast<bool>(std::error_code(strata::errc::ok)));
  BOOST_TEST((ec == strata::errc::corruption));
  BOOST_TEST((ec != strata::errc::io_error));
}

BOOST_AUTO_TEST_CASE(every_code_has_a_distinct_message_and_name) {
  using strata::errc;
  std::set<std::string> messages, names;
  for (auto e : {errc::invalid_argument, errc::not_found, errc::corruption, errc::io_error, errc::busy, errc::closed,
                 errc::no_space, errc::sealed, errc::out_of_memory, errc::not_supported}) {
    messages.insert(make_error_code(e).message());
    names.insert(strata::errc_name(e));
  }
  BOOST_TEST(messages.size() == 10u);
  BOOST_TEST(names.size() == 10u);
  BOOST_TEST(std::string(strata::errc_name(errc::no_space)) == "no_space");
}

BOOST_AUTO_TEST_CASE(maps_to_portable_conditions) {
  BOOST_TEST((std::error_code(strata::errc::no_space) == std::errc::no_space_on_device));
  BOOST_TEST((std::error_code(strata::errc::invalid_argument) == std::errc::invalid_argument));
  BOOST_TEST((std::error_code(strata::errc::corruption) != std::errc::io_error));
}

BOOST_AUTO_TEST_CASE(throws_as_system_error) {
  try {
    throw std::system_error(strata::errc::busy, "LOCK held");
  } catch (const std::system_error& e) {
    BOOST_TEST((e.code() == strata::errc::busy));
    BOOST_TEST(std::string(e.what()).find("LOCK held") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
