// Integration tests of examples/resp_server with clients nobody here wrote:
// Debian's redis-cli, redis-benchmark and nutcracker (twemproxy), plus a
// small client of our own where a test needs exact bytes. Each test starts
// real server processes on free loopback ports in a temp directory.
//
// Run: resp_server_test -- PATH/TO/resp_server   (meson passes the path).
#define BOOST_TEST_MODULE strata_resp_server
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "../unit/temp_dir.hpp"
#include "process.hpp"
#include "resp_client.hpp"

using namespace strata::testing;
using namespace std::chrono_literals;

namespace {

std::string server_binary() {
  const auto& suite = boost::unit_test::framework::master_test_suite();
  for (int i = 1; i < suite.argc; ++i) {
    const std::string arg = suite.argv[i];
    if (arg.ends_with("resp_server")) return arg;
  }
  throw std::runtime_error("pass the resp_server binary: resp_server_test -- PATH/resp_server");
}

unsigned short port_of(const std::string& line, const std::string& what) {
  // "listening on 127.0.0.1:6380"
  if (!line.starts_with(what + " on ")) throw std::runtime_error("unexpected line from the server: '" + line + "'");
  return static_cast<unsigned short>(std::stoi(line.substr(line.rfind(':') + 1)));
}

// A resp_server process on a free port, over `dir`.
class server {
 public:
  server(const std::string& dir, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{server_binary(), "--dir", dir, "--port", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<child_process>(argv);
    port_ = port_of(process_->read_line(), "listening");
  }
  unsigned short port() const { return port_; }
  child_process& process() { return *process_; }
  int stop(int signal = SIGTERM) { return process_->kill(signal); }

 private:
  std::unique_ptr<child_process> process_;
  unsigned short port_ = 0;
};

std::string cli(unsigned short port, const std::string& args) {
  return shell(fmt::format("redis-cli -p {} {}", port, args)).output;
}

// Sends all commands before reading any reply (one pipeline), returns the replies.
std::vector<reply> pipeline(resp_client& c, const std::vector<std::vector<std::string>>& commands) {
  std::string frames;
  for (const auto& cmd : commands) {
    frames += "*" + std::to_string(cmd.size()) + "\r\n";
    for (const auto& a : cmd) frames += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  }
  c.send_raw(frames);
  std::vector<reply> replies;
  for (std::size_t i = 0; i < commands.size(); ++i) replies.push_back(c.read());
  return replies;
}

// Writes key:<i> = value:<i> for i in [from, to); checks every reply is +OK.
void write_keys(unsigned short port, int from, int to) {
  resp_client c(port);
  std::vector<std::vector<std::string>> sets;
  for (int i = from; i < to; ++i) sets.push_back({"SET", fmt::format("key:{}", i), fmt::format("value:{}", i)});
  int ok = 0;
  for (const auto& r : pipeline(c, sets)) ok += r.type == '+' && r.text == "OK";
  BOOST_TEST(ok == to - from);
}

// How many of key:<i> for i in [0, n) read back with their value.
int count_readable(unsigned short port, int n) {
  resp_client c(port);
  std::vector<std::string> mget{"MGET"};
  for (int i = 0; i < n; ++i) mget.push_back(fmt::format("key:{}", i));
  const reply r = c.call(mget);
  int good = 0;
  for (int i = 0; i < static_cast<int>(r.elements.size()); ++i)
    good += !r.elements[static_cast<std::size_t>(i)].null &&
            r.elements[static_cast<std::size_t>(i)].text == fmt::format("value:{}", i);
  return good;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(resp_server_suite)

BOOST_AUTO_TEST_CASE(redis_cli_speaks_to_it) {
  BOOST_TEST_REQUIRE(have_program("redis-cli"), "redis-cli missing: bash scripts/install-deps.sh installs redis-tools");
  temp_dir dir;
  server s(dir.path() + "/db");
  BOOST_TEST(cli(s.port(), "PING") == "PONG\n");
  BOOST_TEST(cli(s.port(), "SET greeting hello") == "OK\n");
  BOOST_TEST(cli(s.port(), "GET greeting") == "hello\n");
  BOOST_TEST(cli(s.port(), "INCR visits") == "1\n");
  BOOST_TEST(cli(s.port(), "INCRBY visits 9") == "10\n");
  BOOST_TEST(cli(s.port(), "MSET a 1 b 2") == "OK\n");
  BOOST_TEST(cli(s.port(), "MGET a b nope") == "1\n2\n\n");
  BOOST_TEST(cli(s.port(), "SET a 5 NX") == "\n");
  BOOST_TEST(cli(s.port(), "EXISTS a b nope") == "2\n");
  BOOST_TEST(cli(s.port(), "DEL a nope") == "1\n");
  BOOST_TEST(cli(s.port(), "--scan --pattern 'gr*'") == "greeting\n");
  BOOST_TEST(cli(s.port(), "INFO keyspace").find("db0:keys=") != std::string::npos);
  BOOST_TEST(cli(s.port(), "NOSUCHCOMMAND").starts_with("ERR unknown command"));
  BOOST_TEST(s.stop() == 0);
}

// redis-benchmark's pipelined load, then every acknowledged key survives a
// clean restart and a kill -9.
BOOST_AUTO_TEST_CASE(pipelined_load_then_restarts_keep_every_acknowledged_write) {
  BOOST_TEST_REQUIRE(have_program("redis-benchmark"), "redis-benchmark missing: install redis-tools");
  temp_dir dir;
  const std::string db = dir.path() + "/db";
  {
    server s(db, {"--threads", "2"});
    const auto bench = shell(fmt::format("redis-benchmark -p {} -t set,get -n 20000 -c 50 -P 16 -r 1000 -q", s.port()));
    BOOST_TEST(bench.status == 0);
    BOOST_TEST(bench.output.find("SET: ") != std::string::npos, bench.output);
    BOOST_TEST(bench.output.find("GET: ") != std::string::npos, bench.output);
    write_keys(s.port(), 0, 10000);
    BOOST_TEST(count_readable(s.port(), 10000) == 10000);
    BOOST_TEST(s.stop(SIGTERM) == 0);
  }
  {
    server s(db);
    BOOST_TEST(count_readable(s.port(), 10000) == 10000);
    write_keys(s.port(), 10000, 15000);
    BOOST_TEST(s.stop(SIGKILL) == 128 + SIGKILL);  // acknowledged writes are in the WAL (page cache)
  }
  {
    server s(db);
    BOOST_TEST(count_readable(s.port(), 15000) == 15000);
    // redis-benchmark's own keys are there too (it wrote "key:000000000NNN").
    BOOST_TEST(cli(s.port(), "EXISTS key:000000000000 key:000000000999") == "2\n");
    BOOST_TEST(s.stop() == 0);
  }
}

BOOST_AUTO_TEST_CASE(sync_writes_are_acknowledged_and_durable) {
  temp_dir dir;
  const std::string db = dir.path() + "/db";
  {
    server s(db, {"--sync"});
    write_keys(s.port(), 0, 2000);
    BOOST_TEST(cli(s.port(), "INFO persistence").find("sync_writes:1") != std::string::npos);
    s.stop(SIGKILL);
  }
  server s(db);
  BOOST_TEST(count_readable(s.port(), 2000) == 2000);
}

BOOST_AUTO_TEST_CASE(malformed_input_gets_an_error_then_the_connection_closes) {
  temp_dir dir;
  server s(dir.path() + "/db");
  {
    resp_client c(s.port());
    // The command before the bad frame is answered first.
    c.send_raw("PING\r\n*1\r\n$x\r\n");
    const reply pong = c.read();
    BOOST_TEST(pong.text == "PONG");
    const reply bad = c.read();
    BOOST_TEST(bad.type == '-');
    BOOST_TEST(bad.text == "ERR Protocol error: invalid bulk length");
    BOOST_TEST(c.read().type == 0);  // closed
  }
  for (const std::string& junk :
       {std::string("*2\r\n:1\r\n"), std::string("*-5x\r\n"), std::string("\x00\xff*\r\n", 5)}) {
    resp_client c(s.port());
    c.send_raw(junk);
    const reply r = c.read();
    BOOST_TEST((r.type == '-' || r.type == 0));
  }
  resp_client after(s.port());  // the server is still there
  BOOST_TEST(after.call({"PING"}).text == "PONG");
  BOOST_TEST(s.stop() == 0);
}

BOOST_AUTO_TEST_CASE(requirepass_demands_auth) {
  temp_dir dir;
  server s(dir.path() + "/db", {"--requirepass", "s3cret"});
  resp_client c(s.port());
  BOOST_TEST(c.call({"GET", "a"}).text == "NOAUTH Authentication required.");
  BOOST_TEST(c.call({"AUTH", "wrong"}).text.starts_with("WRONGPASS"));
  BOOST_TEST(c.call({"AUTH", "s3cret"}).text == "OK");
  BOOST_TEST(c.call({"SET", "a", "1"}).text == "OK");
  BOOST_TEST(cli(s.port(), "-a s3cret --no-auth-warning GET a") == "1\n");
  BOOST_TEST(s.stop() == 0);
}

BOOST_AUTO_TEST_CASE(connection_limits_are_enforced) {
  temp_dir dir;
  server s(dir.path() + "/db", {"--max-clients", "2", "--timeout", "1", "--max-bulk", "1024"});
  resp_client one(s.port()), two(s.port());
  BOOST_TEST(one.call({"PING"}).text == "PONG");  // both served before the third arrives
  BOOST_TEST(two.call({"PING"}).text == "PONG");
  {
    resp_client three(s.port());
    const reply refused = three.read();
    BOOST_TEST(refused.text == "ERR max number of clients reached");
    BOOST_TEST(three.read().type == 0);
  }
  const reply too_big = two.call({"SET", "k", std::string(2000, 'v')});
  BOOST_TEST(too_big.text == "ERR Protocol error: invalid bulk length");
  BOOST_TEST(two.read().type == 0);
  std::this_thread::sleep_for(2500ms);  // `one` idles past the 1 s timeout
  BOOST_TEST(one.read().type == 0);
  resp_client four(s.port());
  BOOST_TEST(four.call({"INFO", "stats"}).text.find("idle_timeouts:1") != std::string::npos);
  BOOST_TEST(s.stop() == 0);
}

BOOST_AUTO_TEST_CASE(metrics_endpoint_serves_prometheus_text) {
  temp_dir dir;
  server s(dir.path() + "/db", {"--metrics-port", "0"});
  const unsigned short metrics = port_of(s.process().read_line(), "metrics");
  BOOST_TEST(cli(s.port(), "SET a 1") == "OK\n");
  boost::asio::io_context ctx;
  boost::asio::ip::tcp::socket socket(ctx);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), metrics});
  boost::asio::write(socket, boost::asio::buffer(std::string("GET /metrics HTTP/1.0\r\n\r\n")));
  std::string response;
  boost::system::error_code ec;
  boost::asio::read(socket, boost::asio::dynamic_buffer(response), ec);  // to EOF
  BOOST_TEST(response.starts_with("HTTP/1.0 200 OK"));
  BOOST_TEST(response.find("\nstrata_puts 1\n") != std::string::npos, response);
  BOOST_TEST(response.find("\nstrata_connected_clients ") != std::string::npos);
  BOOST_TEST(s.stop() == 0);
}

// Three servers behind nutcracker (twemproxy) with consistent hashing:
// 10,000 keys written through the proxy spread over all three and read
// back through it; no key lands on two shards.
BOOST_AUTO_TEST_CASE(nutcracker_shards_keys_over_three_servers) {
  BOOST_TEST_REQUIRE(have_program("nutcracker"), "nutcracker missing: bash scripts/install-deps.sh installs it");
  temp_dir dir;
  std::vector<std::unique_ptr<server>> shards;
  for (int i = 0; i < 3; ++i) shards.push_back(std::make_unique<server>(dir.path() + fmt::format("/db{}", i)));
  const unsigned short proxy_port = free_port(), stats_port = free_port();
  const std::string config = dir.path() + "/nutcracker.yml";
  {
    std::ofstream yml(config);
    yml << fmt::format(
        "strata:\n  listen: 127.0.0.1:{}\n  hash: fnv1a_64\n  distribution: ketama\n  redis: true\n"
        "  auto_eject_hosts: false\n  timeout: 5000\n  servers:\n",
        proxy_port);
    for (int i = 0; i < 3; ++i)
      yml << fmt::format("   - 127.0.0.1:{}:1 shard{}\n", shards[static_cast<std::size_t>(i)]->port(), i);
  }
  child_process proxy({"nutcracker", "-c", config, "-s", std::to_string(stats_port), "-a", "127.0.0.1", "-o",
                       dir.path() + "/nutcracker.log"});
  bool up = false;
  for (int attempt = 0; attempt < 100 && !up; ++attempt) {
    up = cli(proxy_port, "SET probe 1") == "OK\n";
    if (!up) std::this_thread::sleep_for(50ms);
  }
  BOOST_TEST_REQUIRE(up, "nutcracker did not come up");
  write_keys(proxy_port, 0, 10000);
  BOOST_TEST(count_readable(proxy_port, 10000) == 10000);  // MGET split by the proxy

  std::set<std::string> all;
  std::size_t total = 0;
  for (const auto& shard : shards) {
    resp_client c(shard->port());
    std::set<std::string> mine;
    std::string cursor = "0";
    do {
      const reply r = c.call({"SCAN", cursor, "MATCH", "key:*", "COUNT", "1000"});
      cursor = r.elements.at(0).text;
      for (const auto& k : r.elements.at(1).elements) mine.insert(k.text);
    } while (cursor != "0");
    BOOST_TEST(mine.size() > 1000u, "a shard holds " << mine.size() << " of 10000 keys");
    total += mine.size();
    all.insert(mine.begin(), mine.end());
  }
  BOOST_TEST(total == 10000u);
  BOOST_TEST(all.size() == 10000u);
  proxy.kill(SIGTERM);
  for (auto& shard : shards) BOOST_TEST(shard->stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
