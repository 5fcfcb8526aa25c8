// Tests of the RESP server's command engine against a real db: replies of
// each command, pipelined runs, atomic read-modify-write under concurrent
// coroutines on two threads, SCAN's cursors, and the key locks.
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>
#include <future>
#include <set>
#include <string>
#include <vector>

#include "../unit/db_test_support.hpp"
#include "../unit/temp_dir.hpp"
#include "command_engine.hpp"
#include "key_locks.hpp"

namespace asio = boost::asio;
using namespace strata::resp;
using strata::testing::temp_dir;

namespace {

// A db and an engine over it, driven from one io_context.
struct fixture {
  temp_dir dir;
  asio::io_context ctx;
  std::shared_ptr<strata::db> db = strata::testing::open_db(ctx, dir.path());
  server_counters counters;
  command_engine engine{db, counters, engine_options{.sync = false, .max_scan_cursors = 4, .max_batch_commands = 1024}};

  ~fixture() { strata::testing::close_db(ctx, db); }

  // Runs the commands as one pipeline; returns the replies.
  std::string run(const std::vector<std::vector<std::string>>& commands) {
    std::vector<command> views;
    for (const auto& c : commands) views.emplace_back(c.begin(), c.end());
    std::string out;
    strata::testing::run(ctx, engine.execute(views, out));
    return out;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(resp_engine)

BOOST_FIXTURE_TEST_CASE(strings_round_trip, fixture) {
  BOOST_TEST(run({{"PING"}, {"ping", "hi"}, {"ECHO", "x"}}) == "+PONG\r\n$2\r\nhi\r\n$1\r\nx\r\n");
  BOOST_TEST(run({{"SET", "a", "1"}, {"set", "b", "2"}, {"GET", "a"}, {"get", "b"}, {"GET", "c"}}) ==
             "+OK\r\n+OK\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n");
  BOOST_TEST(run({{"MSET", "x", "1", "y", "2"}, {"MGET", "x", "nope", "y"}}) ==
             "+OK\r\n*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n");
  BOOST_TEST(run({{"EXISTS", "x", "x", "nope"}}) == ":2\r\n");
  BOOST_TEST(run({{"DEL", "x", "x", "nope"}, {"GET", "x"}, {"EXISTS", "y"}}) == ":1\r\n$-1\r\n:1\r\n");
}

BOOST_FIXTURE_TEST_CASE(a_pipeline_sees_its_own_writes_in_order, fixture) {
  // SET a 1, GET a, SET a 2, GET a: the runs alternate, each sees the last.
  BOOST_TEST(run({{"SET", "a", "1"}, {"GET", "a"}, {"SET", "a", "2"}, {"SET", "a", "3"}, {"GET", "a"}}) ==
             "+OK\r\n$1\r\n1\r\n+OK\r\n+OK\r\n$1\r\n3\r\n");
  BOOST_TEST(counters.total_commands.load() == 5u);
}

BOOST_FIXTURE_TEST_CASE(set_conditions, fixture) {
  BOOST_TEST(run({{"SET", "k", "1", "XX"}, {"GET", "k"}}) == "$-1\r\n$-1\r\n");
  BOOST_TEST(run({{"SET", "k", "1", "NX"}, {"SET", "k", "2", "NX"}, {"GET", "k"}}) == "+OK\r\n$-1\r\n$1\r\n1\r\n");
  BOOST_TEST(run({{"SET", "k", "3", "XX", "GET"}, {"GET", "k"}}) == "$1\r\n1\r\n$1\r\n3\r\n");
  BOOST_TEST(run({{"SET", "k", "4", "NX", "XX"}}) == "-ERR syntax error\r\n");
  BOOST_TEST(run({{"SET", "k", "4", "EX", "10"}}).starts_with("-ERR expiry is not supported"));
}

BOOST_FIXTURE_TEST_CASE(counters_and_their_errors, fixture) {
  BOOST_TEST(run({{"INCR", "n"}, {"INCRBY", "n", "41"}, {"DECR", "n"}, {"DECRBY", "n", "-10"}}) ==
             ":1\r\n:42\r\n:41\r\n:51\r\n");
  BOOST_TEST(run({{"SET", "s", "abc"}, {"INCR", "s"}}) == "+OK\r\n-ERR value is not an integer or out of range\r\n");
  BOOST_TEST(run({{"SET", "big", "9223372036854775807"}, {"INCR", "big"}, {"GET", "big"}}) ==
             "+OK\r\n-ERR increment or decrement would overflow\r\n$19\r\n9223372036854775807\r\n");
  BOOST_TEST(run({{"INCRBY", "n", "x"}}) == "-ERR value is not an integer or out of range\r\n");
}

BOOST_FIXTURE_TEST_CASE(bad_commands_get_errors_not_crashes, fixture) {
  BOOST_TEST(run({{"NOSUCH", "a"}}) == "-ERR unknown command 'NOSUCH', with args beginning with: 'a' \r\n");
  BOOST_TEST(run({{"GET"}}) == "-ERR wrong number of arguments for 'get' command\r\n");
  BOOST_TEST(run({{"MSET", "a"}}) == "-ERR wrong number of arguments for 'mset' command\r\n");
  BOOST_TEST(run({{"SELECT", "1"}, {"SELECT", "0"}}) == "-ERR DB index is out of range\r\n+OK\r\n");
  BOOST_TEST(run({{}}).empty());  // an empty command: no reply
  // A key over the store's limit is an error of its own; its neighbours land.
  const std::string huge(strata::db::max_key_bytes + 1, 'k');
  const std::string out = run({{"SET", "a", "1"}, {"SET", huge, "v"}, {"SET", "b", "2"}, {"MGET", "a", "b"}});
  BOOST_TEST(out.starts_with("+OK\r\n-ERR "));
  BOOST_TEST(out.ends_with("+OK\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n"));
}

BOOST_FIXTURE_TEST_CASE(scan_visits_every_key_once_across_cursors, fixture) {
  std::vector<std::vector<std::string>> writes;
  for (int i = 0; i < 50; ++i) writes.push_back({"SET", "user:" + std::to_string(i), "v"});
  for (int i = 0; i < 20; ++i) writes.push_back({"SET", "other:" + std::to_string(i), "v"});
  run(writes);
  std::multiset<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    const std::string out = run({{"SCAN", cursor, "MATCH", "user:*", "COUNT", "7"}});
    // *2\r\n$<n>\r\n<cursor>\r\n*<k>\r\n($<n>\r\n<key>\r\n)*
    std::size_t pos = out.find("\r\n", 4) + 2;
    const std::size_t cursor_end = out.find("\r\n", pos);
    cursor = out.substr(pos, cursor_end - pos);
    pos = out.find("\r\n", cursor_end + 2) + 2;  // past the keys' array header
    while (pos < out.size()) {
      pos = out.find("\r\n", pos) + 2;  // past "$n"
      const std::size_t key_end = out.find("\r\n", pos);
      seen.insert(out.substr(pos, key_end - pos));
      pos = key_end + 2;
    }
    BOOST_TEST_REQUIRE(++calls < 100);
  } while (cursor != "0");
  BOOST_TEST(seen.size() == 50u);
  BOOST_TEST(std::set<std::string>(seen.begin(), seen.end()).size() == 50u);  // once each
  BOOST_TEST(seen.begin()->starts_with("user:"));
  BOOST_TEST(calls == 8);  // 50 keys, 7 per call (prefix-bounded: no call spent on other:*)
}

BOOST_FIXTURE_TEST_CASE(scan_cursors_are_numbers_and_expire, fixture) {
  run({{"SET", "a", "1"}, {"SET", "b", "1"}});
  BOOST_TEST(run({{"SCAN", "abc"}}) == "-ERR invalid cursor\r\n");
  BOOST_TEST(run({{"SCAN", "12345"}}).starts_with("-ERR invalid cursor (unknown"));
  const std::string first = run({{"SCAN", "0", "COUNT", "1"}});
  BOOST_TEST(first == "*2\r\n$1\r\n1\r\n*1\r\n$1\r\na\r\n");
  for (int i = 0; i < 4; ++i) run({{"SCAN", "0", "COUNT", "1"}});  // 4 newer cursors push cursor 1 out
  BOOST_TEST(run({{"SCAN", "1"}}).starts_with("-ERR invalid cursor (unknown"));
  BOOST_TEST(run({{"SCAN", "5", "COUNT", "10"}}) == "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nb\r\n");
}

BOOST_FIXTURE_TEST_CASE(dbsize_and_info, fixture) {
  run({{"MSET", "a", "1", "b", "2", "c", "3"}});
  BOOST_TEST(run({{"DBSIZE"}}) == ":3\r\n");
  const std::string info = run({{"INFO", "keyspace"}});
  BOOST_TEST(info.find("db0:keys=3,expires=0,avg_ttl=0") != std::string::npos);
  BOOST_TEST(info.find("# Strata") == std::string::npos);
  BOOST_TEST(run({{"INFO"}}).find("puts:") != std::string::npos);
}

// INCR from 200 coroutines on two threads: a lost update (two reads of the
// same value) would leave the total short.
BOOST_FIXTURE_TEST_CASE(incr_is_atomic_under_concurrency, fixture) {
  asio::thread_pool pool(2);
  constexpr int coroutines = 200, increments = 20;
  std::vector<std::future<void>> done;
  for (int c = 0; c < coroutines; ++c) {
    done.push_back(asio::co_spawn(
        pool,
        [this, c]() -> asio::awaitable<void> {
          const std::string other = "k" + std::to_string(c);
          for (int i = 0; i < increments; ++i) {
            std::vector<command> commands{{"INCR", "counter"}, {"SET", "counter2", other}, {"INCRBY", "counter", "2"}};
            std::string out;
            co_await engine.execute(commands, out);
            if (!out.starts_with(":")) throw std::runtime_error(out);
          }
        },
        asio::use_future));
  }
  for (auto& f : done) f.get();
  pool.join();
  BOOST_TEST(run({{"GET", "counter"}}) == "$5\r\n12000\r\n");
}

// The locks themselves: an exclusive holder excludes everyone, shared
// holders only exclusive ones, and waiters are served in order.
BOOST_AUTO_TEST_CASE(key_locks_exclude_as_promised) {
  key_locks locks(1);  // one stripe: every key collides
  asio::thread_pool pool(2);
  std::atomic<int> exclusive_in{0}, shared_in{0};
  std::atomic<bool> violated{false};
  std::vector<std::future<void>> done;
  for (int c = 0; c < 64; ++c) {
    done.push_back(asio::co_spawn(
        pool,
        [&, c]() -> asio::awaitable<void> {
          for (int i = 0; i < 50; ++i) {
            const bool exclusive = (c + i) % 4 == 0;
            lock_set held(locks);
            held.add("key");
            co_await held.acquire(exclusive ? lock_mode::exclusive : lock_mode::shared);
            if (exclusive) {
              if (exclusive_in.fetch_add(1) != 0 || shared_in.load() != 0) violated = true;
            } else {
              shared_in.fetch_add(1);
              if (exclusive_in.load() != 0) violated = true;
            }
            const auto executor = co_await asio::this_coro::executor;
            co_await asio::post(executor, asio::use_awaitable);  // hold the lock across a suspension
            if (exclusive) {
              exclusive_in.fetch_sub(1);
            } else {
              shared_in.fetch_sub(1);
            }
          }
        },
        asio::use_future));
  }
  for (auto& f : done) f.get();
  pool.join();
  BOOST_TEST(!violated.load());
}

BOOST_AUTO_TEST_SUITE_END()
