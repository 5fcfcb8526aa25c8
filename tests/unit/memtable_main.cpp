// Test runner for lib/memtable: suites memtable_api, memtable_model and
// memtable_stress (the last also runs under ThreadSanitizer in CI).
#define BOOST_TEST_MODULE strata_memtable
#include <boost/test/unit_test.hpp>
