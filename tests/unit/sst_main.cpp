// Test runner for lib/sst: suites block, bloom_filter, sst_format, table.
#define BOOST_TEST_MODULE strata_sst
#include <boost/test/unit_test.hpp>
