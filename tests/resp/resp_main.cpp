// Test runner for examples/resp_server: suites resp_protocol, resp_engine.
#define BOOST_TEST_MODULE strata_resp
#include <boost/test/unit_test.hpp>
