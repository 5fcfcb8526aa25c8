// Test runner for lib/db: suites version_edit, version_set.
#define BOOST_TEST_MODULE strata_db
#include <boost/test/unit_test.hpp>
