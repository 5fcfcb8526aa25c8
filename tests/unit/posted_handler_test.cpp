// detail::posted_handler: complete() and complete_all() run every handler
// exactly once, on its own executor, never inline; complete_all runs
// handlers that share an executor in one posted function and keeps their
// order. Registered as meson test `util_posted_handler` (suites `unit` and
// `stress`: TSan checks the cross-thread completions in CI).
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "strata/detail/posted_handler.hpp"

namespace asio = boost::asio;
using handler = strata::detail::posted_handler<boost::system::error_code, int>;

namespace {

// What each handler saw when it ran, in the order they ran.
struct journal {
  std::mutex mu;
  std::vector<int> order;
  int wrong_executor = 0;
  int wrong_arguments = 0;
  void note(int id, bool on_its_executor, bool arguments_ok) {
    std::lock_guard lock(mu);
    order.push_back(id);
    wrong_executor += on_its_executor ? 0 : 1;
    wrong_arguments += arguments_ok ? 0 : 1;
  }
};

template <typename Executor>
handler make_handler(journal& j, int id, Executor ex) {
  return handler(asio::bind_executor(ex, [&j, id, ex](boost::system::error_code ec, int value) {
    j.note(id, ex.running_in_this_thread(), ec == asio::error::operation_aborted && value == 7);
  }));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(posted_handler)

BOOST_AUTO_TEST_CASE(complete_all_runs_each_once_in_order_and_never_inline) {
  asio::io_context ctx;
  journal j;
  std::vector<handler> hs;
  for (int id = 0; id < 50; ++id) hs.push_back(make_handler(j, id, ctx.get_executor()));
  handler::complete_all(hs, asio::error::operation_aborted, 7);
  BOOST_TEST(hs.empty());
  BOOST_TEST(j.order.empty());  // nothing ran inside complete_all
  // One posted function for all 50: a single run_one completes every one.
  BOOST_TEST(ctx.run_one() == 1u);
  BOOST_TEST(j.order.size() == 50u);
  ctx.restart();
  BOOST_TEST(ctx.run() == 0u);
  for (int id = 0; id < static_cast<int>(j.order.size()); ++id) BOOST_TEST(j.order[id] == id);
  BOOST_TEST(j.wrong_executor == 0);
  BOOST_TEST(j.wrong_arguments == 0);
}

BOOST_AUTO_TEST_CASE(complete_all_keeps_each_handler_on_its_own_executor) {
  // Handlers on two contexts and on two strands of the first, interleaved:
  // each runs on its own executor (a strand's handler inside its strand),
  // and each executor sees its own handlers in their original order.
  asio::io_context a, b;
  auto strand1 = asio::make_strand(a);
  auto strand2 = asio::make_strand(a);
  journal j;
  std::vector<handler> hs;
  std::vector<std::vector<int>> expected(4);
  for (int id = 0; id < 40; ++id) {
    switch (id % 5) {
      case 0:
      case 1:
        hs.push_back(make_handler(j, id, a.get_executor()));
        expected[0].push_back(id);
        break;
      case 2:
        hs.push_back(make_handler(j, id, b.get_executor()));
        expected[1].push_back(id);
        break;
      case 3:
        hs.push_back(make_handler(j, id, strand1));
        expected[2].push_back(id);
        break;
      default:
        hs.push_back(make_handler(j, id, strand2));
        expected[3].push_back(id);
    }
  }
  handler::complete_all(hs, asio::error::operation_aborted, 7);
  std::thread tb([&] { b.run(); });
  a.run();
  tb.join();
  BOOST_TEST(j.order.size() == 40u);
  BOOST_TEST(j.wrong_executor == 0);
  BOOST_TEST(j.wrong_arguments == 0);
  std::vector<std::vector<int>> seen(4);
  for (int id : j.order) {
    const int kind = id % 5;
    seen[kind <= 1 ? 0 : kind - 1].push_back(id);
  }
  for (std::size_t k = 0; k < expected.size(); ++k) BOOST_TEST(seen[k] == expected[k], "executor " << k);
}

BOOST_AUTO_TEST_CASE(work_is_outstanding_until_every_handler_ran) {
  // run() on the handlers' context must not return before the batch is
  // completed from another thread, late.
  asio::io_context ctx;
  journal j;
  std::vector<handler> hs;
  for (int id = 0; id < 10; ++id) hs.push_back(make_handler(j, id, ctx.get_executor()));
  std::atomic<bool> completed{false};
  std::thread completer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    completed = true;
    handler::complete_all(hs, asio::error::operation_aborted, 7);
  });
  ctx.run();  // returns only when the handlers' work is done
  completer.join();
  BOOST_TEST(completed.load());
  BOOST_TEST(j.order.size() == 10u);
}

BOOST_AUTO_TEST_CASE(a_throwing_handler_does_not_strand_the_rest) {
  asio::io_context ctx;
  journal j;
  std::vector<handler> hs;
  for (int id = 0; id < 5; ++id) {
    if (id == 2) {
      hs.push_back(handler(asio::bind_executor(ctx.get_executor(), [&j](boost::system::error_code, int) {
        j.note(2, true, true);
        throw std::runtime_error("handler 2 throws");
      })));
    } else {
      hs.push_back(make_handler(j, id, ctx.get_executor()));
    }
  }
  handler::complete_all(hs, asio::error::operation_aborted, 7);
  BOOST_CHECK_THROW(ctx.run(), std::runtime_error);  // the exception reaches run()
  ctx.restart();
  ctx.run();  // the handlers after it still run
  BOOST_TEST(j.order == (std::vector<int>{0, 1, 2, 3, 4}));
  BOOST_TEST(j.wrong_executor == 0);
}

BOOST_AUTO_TEST_SUITE_END()
