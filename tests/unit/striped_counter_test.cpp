// util::striped_counter: counts from many threads at once add up exactly,
// and a thread keeps to its stripe. Registered as meson test
// `util_striped_counter` (suites `unit` and `stress`: TSan checks the
// relaxed adds and loads in CI).
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

#include "util/striped_counter.hpp"

BOOST_AUTO_TEST_SUITE(striped_counter)

BOOST_AUTO_TEST_CASE(starts_at_zero_and_adds_on_one_thread) {
  strata::util::striped_counter c;
  BOOST_TEST(c.load() == 0u);
  c.add(1);
  c.add(41);
  c.add(0);
  BOOST_TEST(c.load() == 42u);
}

BOOST_AUTO_TEST_CASE(adds_from_more_threads_than_stripes_sum_exactly) {
  // 24 threads (more than the 16 stripes: some share one) each add their
  // index + 1, 20000 times, while another thread keeps loading: the loads
  // never go down, and after the join the total is exact.
  strata::util::striped_counter c;
  constexpr int threads = 24, adds = 20000;
  std::latch start(threads + 1);
  std::atomic<bool> done{false};
  std::atomic<bool> went_down{false};
  std::thread reader([&] {
    start.arrive_and_wait();
    std::uint64_t last = 0;
    while (!done.load()) {
      const std::uint64_t now = c.load();
      if (now < last) went_down = true;
      last = now;
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < adds; ++i) c.add(static_cast<std::uint64_t>(t) + 1);
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  BOOST_TEST(!went_down.load());
  BOOST_TEST(c.load() == std::uint64_t{adds} * threads * (threads + 1) / 2);
}

BOOST_AUTO_TEST_SUITE_END()
