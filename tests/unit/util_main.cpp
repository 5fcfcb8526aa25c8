// Test runner for lib/util: one executable, one Boost.Test suite per file.
#define BOOST_TEST_MODULE strata_util
#include <boost/test/unit_test.hpp>
