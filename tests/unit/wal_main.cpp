// Test runner for lib/io and lib/wal: suites io_engine, log_format,
// write_batch_suite, wal_writer.
#define BOOST_TEST_MODULE strata_wal
#include <boost/test/unit_test.hpp>
