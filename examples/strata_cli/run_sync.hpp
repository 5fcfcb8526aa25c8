// examples/strata_cli/run_sync.hpp — runs one coroutine to completion on a
// local io_context and returns its result (rethrowing what it threw). The
// db's completions and the io layer's are posted to that context; the db
// runs its own background pool for the WAL, flushes and compactions.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace strata_cli {

template <typename T>
T run_sync(boost::asio::awaitable<T> work) {
  boost::asio::io_context ctx;
  auto result = boost::asio::co_spawn(ctx, std::move(work), boost::asio::use_future);
  ctx.run();
  return result.get();
}

}  // namespace strata_cli
