// Test runner for perf/bench (strata_bench's library): flags, key
// generators, and a smoke run of every workload on Strata.
#define BOOST_TEST_MODULE strata_bench
#include <boost/test/unit_test.hpp>
