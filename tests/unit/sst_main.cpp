// Test runner for lib/sst: suites block, bloom_filter, sst_format, table, block_cache.
#define BOOST_TEST_MODULE strata_sst
#include <boost/test/unit_test.hpp>
