// util::polling_thread: every handler runs, on the one thread, in the order
// each poster posted; a sleeping thread wakes for new work; join() waits for
// all outstanding work, including work that handlers add and timers.
// Registered as meson test `util_polling_thread` (suites `unit` and `stress`:
// TSan checks the hand-offs in CI).
#include <boost/test/unit_test.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <future>
#include <thread>
#include <utility>
#include <vector>

#include "util/polling_thread.hpp"

namespace asio = boost::asio;
using strata::util::polling_thread;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(polling_thread_suite)

BOOST_AUTO_TEST_CASE(handlers_run_on_one_thread_in_each_posters_order) {
  for (const auto spin : {0us, 50us}) {
    // Only the polling thread touches `ran` and `threads` until join().
    std::vector<std::pair<int, int>> ran;
    std::vector<std::thread::id> threads;
    {
      polling_thread t(spin);
      auto post_many = [&](int poster) {
        for (int i = 0; i < 5000; ++i)
          asio::post(t.get_executor(), [&, poster, i] {
            ran.emplace_back(poster, i);
            threads.push_back(std::this_thread::get_id());
          });
      };
      std::thread a(post_many, 0), b(post_many, 1);
      a.join();
      b.join();
      t.join();
    }
    BOOST_TEST_REQUIRE(ran.size() == 10000u);
    int next[2] = {0, 0};
    for (const auto& [poster, i] : ran) {
      BOOST_TEST_REQUIRE(i == next[poster]);
      ++next[poster];
    }
    for (const auto& id : threads) BOOST_TEST_REQUIRE(id == threads.front());
    BOOST_TEST((threads.front() != std::this_thread::get_id()));
  }
}

BOOST_AUTO_TEST_CASE(a_sleeping_thread_wakes_for_new_work) {
  for (const auto spin : {0us, 50us}) {
    polling_thread t(spin);
    for (int round = 0; round < 3; ++round) {
      // Long past the polling: the thread is asleep when this arrives.
      std::this_thread::sleep_for(20ms);
      std::promise<void> done;
      asio::post(t.get_executor(), [&] { done.set_value(); });
      BOOST_TEST_REQUIRE((done.get_future().wait_for(10s) == std::future_status::ready));
    }
  }
}

BOOST_AUTO_TEST_CASE(join_waits_for_work_that_handlers_add) {
  int count = 0;  // the polling thread's until join()
  {
    polling_thread t(0us);
    auto ex = t.get_executor();
    // A chain: each handler posts the next one, so at join() most of the
    // work does not exist yet.
    struct step {
      asio::any_io_executor ex;
      int* count;
      void operator()() const {
        if (++*count < 1000) asio::post(ex, step{ex, count});
      }
    };
    asio::post(ex, step{ex, &count});
    t.join();
    BOOST_TEST(count == 1000);
  }
}

BOOST_AUTO_TEST_CASE(join_waits_for_a_coroutine_on_a_timer) {
  bool finished = false;
  polling_thread t(50us);
  asio::co_spawn(
      t.get_executor(),
      [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor, 30ms);
        co_await timer.async_wait(asio::use_awaitable);
        finished = true;
      },
      asio::detached);
  t.join();
  BOOST_TEST(finished);
  t.join();  // a second join is harmless
}

BOOST_AUTO_TEST_SUITE_END()
