// tests/unit/run_awaitable.hpp — runs one awaitable to completion on a test's
// io_context and returns its result (rethrowing what it threw).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace strata::testing {

template <typename T>
T run(boost::asio::io_context& ctx, boost::asio::awaitable<T> aw) {
  auto fut = boost::asio::co_spawn(ctx, std::move(aw), boost::asio::use_future);
  ctx.restart();
  ctx.run();
  return fut.get();
}

}  // namespace strata::testing
