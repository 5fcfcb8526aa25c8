// tests/unit/db_test_support.hpp — opening and closing a strata::db from a
// test's io_context (the db suites share these).
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "run_awaitable.hpp"
#include "strata/db.hpp"

namespace strata::testing {

inline std::shared_ptr<db> open_db(boost::asio::io_context& ctx, const std::string& path, options o = {}) {
  return run(ctx, [&]() -> boost::asio::awaitable<std::shared_ptr<db>> {
    co_return co_await db::open(ctx.get_executor(), path, o);
  }());
}

inline void close_db(boost::asio::io_context& ctx, const std::shared_ptr<db>& d) {
  run(ctx, [&]() -> boost::asio::awaitable<void> { co_await d->close(); }());
}

}  // namespace strata::testing
