// Test runner for lib/db: suites version_edit_suite, version_set_suite, db_api, db_concurrency.
#define BOOST_TEST_MODULE strata_db
#include <boost/test/unit_test.hpp>
