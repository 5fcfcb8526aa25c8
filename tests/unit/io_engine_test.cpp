// The io layer on both engines: data round trips, batching of concurrent
// operations into shared submissions, completion on the caller's executor,
// errors with file names, and fault injection.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "fault_injection.hpp"
#include "io/file_ops.hpp"
#include "strata/error.hpp"
#include "temp_dir.hpp"

namespace asio = boost::asio;
using namespace strata;

namespace {
const bool engine_kinds[] = {false, true};  // force_fallback: io_uring, then threads

// An engine (fault injector installed), a temp dir and one open file in it.
struct file_setup {
  explicit file_setup(bool fallback = false, io::open_options options = {.create = true})
      : engine(io::make_io_engine({.force_fallback = fallback})) {
    engine->set_fault_injector(&faults);
    std::error_code ec;
    f = io::file::open(*engine, dir.file("data"), options, ec);
    BOOST_REQUIRE(!ec);
  }
  testing::test_faults faults;
  testing::temp_dir dir;
  std::unique_ptr<io::io_engine> engine;
  std::unique_ptr<io::file> f;
};
}  // namespace

BOOST_AUTO_TEST_SUITE(io_engine)

BOOST_DATA_TEST_CASE(write_then_read_back, boost::unit_test::data::make(engine_kinds), fallback) {
  file_setup t(fallback);
  auto& f = t.f;
  BOOST_TEST(t.engine->name() == std::string(fallback ? "threads" : "io_uring"));
  const std::string a(10000, 'a'), b(5000, 'b');
  const asio::const_buffer bufs[] = {asio::buffer(a), asio::buffer(b)};
  std::string back(15100, 'x');
  std::size_t read_bytes = 0, written = 0, past_end = 99;
  std::error_code e1, e2, e3;
  asio::io_context ctx;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        std::tie(e1, written) = co_await io::async_write_at(*f, 100, bufs, true, asio::as_tuple(asio::use_awaitable));
        std::tie(e2, read_bytes) =
            co_await io::async_read_at(*f, 0, asio::buffer(back), asio::as_tuple(asio::use_awaitable));
        std::tie(e3, past_end) =
            co_await io::async_read_at(*f, 1 << 20, asio::buffer(back.data(), 10), asio::as_tuple(asio::use_awaitable));
      },
      asio::detached);
  ctx.run();
  BOOST_TEST(!e1);
  BOOST_TEST(!e2);
  BOOST_TEST(!e3);
  BOOST_TEST(written == 15000u);
  BOOST_TEST(read_bytes == 15100u);
  BOOST_TEST(past_end == 0u);  // past the end: 0 bytes, no error
  BOOST_TEST(back.substr(0, 100) == std::string(100, '\0'));
  BOOST_TEST(back.substr(100, 10000) == a);
  BOOST_TEST(back.substr(10100) == b);
}

BOOST_DATA_TEST_CASE(works_with_use_future_and_callbacks, boost::unit_test::data::make(engine_kinds), fallback) {
  file_setup t(fallback);
  auto& f = t.f;
  const std::string data = "hello";
  // The signature's std::error_code is a plain value to Asio (it only turns
  // boost::system::error_code into exceptions): use_future yields the tuple.
  auto [wec, wn] = io::async_write_at(*f, 0, asio::buffer(data), false, asio::use_future).get();
  BOOST_TEST(!wec);
  BOOST_TEST(wn == 5u);
  std::promise<std::size_t> got;
  char buf[5];
  io::async_read_at(*f, 0, asio::buffer(buf), [&](std::error_code e, std::size_t n) { got.set_value(e ? 0 : n); });
  BOOST_TEST(got.get_future().get() == 5u);
  BOOST_TEST(std::string(buf, 5) == data);
}

BOOST_DATA_TEST_CASE(completion_resumes_on_the_callers_executor, boost::unit_test::data::make(engine_kinds), fallback) {
  file_setup t(fallback);
  auto& f = t.f;
  asio::io_context ctx;
  int checks = 0, on_right_thread = 0;
  const std::string data(4096, 'z');
  for (int c = 0; c < 8; ++c) {
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
          for (int i = 0; i < 20; ++i) {
            co_await io::async_write_at(*f, static_cast<std::uint64_t>(i) * 4096, asio::buffer(data), i % 5 == 0,
                                        asio::as_tuple(asio::use_awaitable));
            ++checks;
            on_right_thread += ctx.get_executor().running_in_this_thread();
          }
        },
        asio::detached);
  }
  std::thread runner([&] { ctx.run(); });  // not the engine's thread, not the main thread
  runner.join();
  BOOST_TEST(checks == 160);
  BOOST_TEST(on_right_thread == 160);
}

BOOST_AUTO_TEST_CASE(concurrent_operations_share_submissions) {
  file_setup t;
  auto& f = t.f;
  BOOST_REQUIRE(t.engine->name() == std::string("io_uring"));
  asio::io_context ctx;
  const std::string data(512, 'q');
  int done = 0;
  for (int c = 0; c < 64; ++c) {
    asio::co_spawn(
        ctx,
        [&, c]() -> asio::awaitable<void> {
          for (int i = 0; i < 20; ++i) {
            auto [e, n] = co_await io::async_write_at(*f, static_cast<std::uint64_t>(c * 20 + i) * 512,
                                                      asio::buffer(data), i == 19, asio::as_tuple(asio::use_awaitable));
            done += !e;
          }
        },
        asio::detached);
  }
  ctx.run();
  BOOST_TEST(done == 64 * 20);
  const auto s = t.engine->stats();
  BOOST_TEST(s.operations == 64u * 20u);
  // 64 coroutines keep up to 64 operations queued at once: they must share
  // io_uring_enter calls (a ratio, not a timing). Without sharing it would
  // be one call per op; the bound leaves room for a loaded machine (under
  // TSan with other suites running, about one call per three ops).
  BOOST_TEST(s.submissions < s.operations / 2, s.submissions << " submissions for " << s.operations << " ops");
}

BOOST_DATA_TEST_CASE(kernel_errors_carry_the_file_name, boost::unit_test::data::make(engine_kinds), fallback) {
  auto engine = io::make_io_engine({.force_fallback = fallback});
  testing::temp_dir dir;
  std::error_code ec;
  {
    auto w = io::file::open(*engine, dir.file("ro"), {.create = true}, ec);
    BOOST_REQUIRE(!ec);
  }
  auto f = io::file::open(*engine, dir.file("ro"), {.read_only = true}, ec);
  BOOST_REQUIRE(!ec);
  const std::string data = "x";
  asio::io_context ctx;
  std::error_code result;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        auto [e, n] =
            co_await io::async_write_at(*f, 0, asio::buffer(data), false, asio::as_tuple(asio::use_awaitable));
        result = e;
      },
      asio::detached);
  ctx.run();
  BOOST_TEST((result == errc::io_error));  // EBADF: written to a read-only descriptor
  BOOST_TEST(f->last_error().find(dir.file("ro")) != std::string::npos, f->last_error());
  auto missing = io::file::open(*engine, dir.file("nope"), {}, ec);
  BOOST_TEST(!missing);
  BOOST_TEST((ec == errc::io_error));
}

BOOST_DATA_TEST_CASE(fault_injection_fails_writes_and_syncs, boost::unit_test::data::make(engine_kinds), fallback) {
  file_setup t(fallback);
  auto& f = t.f;
  auto& faults = t.faults;
  const std::string data(100, 'd');
  asio::io_context ctx;
  std::vector<std::error_code> results;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        faults.fail_writes(ENOSPC, 1);
        results.push_back(std::get<0>(
            co_await io::async_write_at(*f, 0, asio::buffer(data), false, asio::as_tuple(asio::use_awaitable))));
        results.push_back(std::get<0>(
            co_await io::async_write_at(*f, 0, asio::buffer(data), false, asio::as_tuple(asio::use_awaitable))));
        faults.fail_syncs(EIO, 1);
        results.push_back(std::get<0>(co_await io::async_sync(*f, true, asio::as_tuple(asio::use_awaitable))));
        results.push_back(std::get<0>(co_await io::async_sync(*f, true, asio::as_tuple(asio::use_awaitable))));
      },
      asio::detached);
  ctx.run();
  BOOST_REQUIRE(results.size() == 4u);
  BOOST_TEST((results[0] == errc::no_space));
  BOOST_TEST(!results[1]);
  BOOST_TEST((results[2] == errc::io_error));
  BOOST_TEST(!results[3]);
  BOOST_TEST(f->last_error().find("fdatasync") != std::string::npos, f->last_error());
}

BOOST_DATA_TEST_CASE(write_now_writes_parts_in_order_through_the_fault_injector,
                     boost::unit_test::data::make(engine_kinds), fallback) {
  file_setup t(fallback);
  const std::string a(3000, 'a'), b(5000, 'b');
  const std::string_view parts[] = {a, {}, b};  // an empty part is skipped
  BOOST_TEST(!t.f->write_now(10, parts, false));
  std::string back(8010, '?');
  const auto [ec, n] = io::async_read_at(*t.f, 0, asio::buffer(back), asio::use_future).get();
  BOOST_TEST(!ec);
  BOOST_TEST(n == 8010u);
  BOOST_TEST((back == std::string(10, '\0') + a + b));
  BOOST_TEST(t.engine->stats().operations == 2u);  // run_now counts as an operation

  // Synced: durable as far as the injector's power cut is concerned.
  BOOST_TEST(!t.f->write_now(8010, parts, true));
  const std::string_view tail[] = {"volatile"};
  BOOST_TEST(!t.f->write_now(16010, tail, false));
  t.faults.simulate_power_loss();
  std::uint64_t size = 0;
  BOOST_REQUIRE(!t.f->size(size));
  BOOST_TEST(size == 16010u);

  t.faults.fail_writes(ENOSPC, 1);
  BOOST_TEST((t.f->write_now(0, parts, false) == errc::no_space));
  BOOST_TEST(t.f->last_error().find("write") != std::string::npos, t.f->last_error());
  BOOST_TEST(t.f->last_error().find("data") != std::string::npos, t.f->last_error());
  t.faults.fail_syncs(EIO, 1);
  BOOST_TEST((t.f->write_now(0, parts, true) == errc::io_error));
  BOOST_TEST(t.f->last_error().find("fdatasync") != std::string::npos, t.f->last_error());
  BOOST_TEST(!t.f->write_now(0, parts, true));  // healed: the budget was one each
}

BOOST_AUTO_TEST_CASE(simulated_crash_drops_unsynced_bytes) {
  file_setup t;
  auto& f = t.f;
  auto& faults = t.faults;
  const std::string durable(1000, 'D'), volatile_data(500, 'V');
  BOOST_TEST(!std::get<0>(io::async_write_at(*f, 0, asio::buffer(durable), true, asio::use_future).get()));
  BOOST_TEST(!std::get<0>(io::async_write_at(*f, 1000, asio::buffer(volatile_data), false, asio::use_future).get()));
  std::uint64_t size = 0;
  BOOST_REQUIRE(!f->size(size));
  BOOST_TEST(size == 1500u);
  faults.simulate_power_loss();
  BOOST_REQUIRE(!f->size(size));
  BOOST_TEST(size == 1000u);
}

BOOST_AUTO_TEST_CASE(direct_io_with_aligned_buffers) {
  auto engine = io::make_io_engine({});
  testing::temp_dir dir;
  std::error_code ec;
  auto f = io::file::open(*engine, dir.file("direct"), {.create = true, .direct = true}, ec);
  if (ec) {  // some filesystems (tmpfs) refuse O_DIRECT
    BOOST_TEST_MESSAGE("O_DIRECT not supported in " << dir.path() << "; skipped");
    return;
  }
  io::aligned_buffer out(8192), in(8192);
  std::memset(out.data(), 'x', out.size());
  BOOST_TEST(
      std::get<1>(io::async_write_at(*f, 4096, asio::buffer(out.data(), out.size()), true, asio::use_future).get()) ==
      8192u);
  BOOST_TEST(std::get<1>(io::async_read_at(*f, 4096, asio::buffer(in.data(), in.size()), asio::use_future).get()) ==
             8192u);
  BOOST_TEST(std::memcmp(in.data(), out.data(), 8192) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
