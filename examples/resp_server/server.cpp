#include "server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "command_engine.hpp"
#include "resp_writer.hpp"
#include "strata/db.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;

namespace strata::resp {

namespace {

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t read_chunk = 64u << 10;
// A pipeline is run in slices of at most this many commands, so that one
// huge read cannot make the reply buffer grow without bound.
constexpr std::size_t max_pipeline = 1024;

class connection;

// What every connection shares. Owns nothing a connection needs after
// shutdown: the engine outlives every connection (see run_server).
struct shared_state {
  const server_options& options;
  command_engine& engine;
  server_counters& counters;
  std::mutex mu;
  std::unordered_set<std::shared_ptr<connection>> open;  // guarded by mu: closed at shutdown
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tcp::socket socket, shared_state& shared)
      : socket_(std::move(socket)),
        idle_timer_(socket_.get_executor()),
        shared_(shared),
        parser_(shared.options.limits),
        authenticated_(shared.options.requirepass.empty()) {}

  asio::awaitable<void> run() {
    if (shared_.options.idle_timeout.count() > 0)
      asio::co_spawn(socket_.get_executor(), watch_idle(shared_from_this()), asio::detached);
    bool open = true;
    while (open) {
      make_room();
      auto [ec, n] =
          co_await socket_.async_read_some(asio::buffer(in_.data() + used_, in_.size() - used_), as_tuple_awaitable);
      if (ec) break;
      used_ += n;
      last_activity_ = std::chrono::steady_clock::now();
      open = co_await serve_buffered();
      last_activity_ = std::chrono::steady_clock::now();
    }
    close();
  }

  // From any thread: ends the connection (its coroutines finish on their own).
  void close_from_anywhere() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

 private:
  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    idle_timer_.cancel();
  }

  void make_room() {
    if (start_ == used_) start_ = used_ = 0;
    if (in_.size() - used_ >= read_chunk / 4) return;
    if (start_ > 0) {  // move the unparsed tail to the front
      std::memmove(in_.data(), in_.data() + start_, used_ - start_);
      used_ -= start_;
      start_ = 0;
    }
    if (in_.size() - used_ < read_chunk / 4) in_.resize(std::max(in_.size() * 2, used_ + read_chunk));
  }

  // Runs every whole command buffered; false when the connection must close.
  asio::awaitable<bool> serve_buffered() {
    for (;;) {
      parsed_ = 0;
      std::size_t pos = start_;
      bool protocol_error = false;
      while (parsed_ < max_pipeline) {
        const auto status = parser_.parse(std::string_view(in_.data() + pos, used_ - pos));
        if (status == parse_status::need_more) break;
        if (status == parse_status::error) {
          protocol_error = true;
          break;
        }
        pos += parser_.consumed();
        if (parser_.arguments().empty()) continue;
        // Into a vector kept from earlier pipelines: no allocation per command.
        if (parsed_ == commands_.size()) commands_.emplace_back();
        commands_[parsed_++].assign(parser_.arguments().begin(), parser_.arguments().end());
      }
      const bool keep_open = co_await run_commands();
      start_ = pos;
      if (protocol_error) {
        shared_.counters.protocol_errors.fetch_add(1, std::memory_order_relaxed);
        error(out_, "ERR " + parser_.message());
      }
      if (!out_.empty()) {
        auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(out_), as_tuple_awaitable);
        out_.clear();
        if (ec) co_return false;
      }
      if (!keep_open || protocol_error) co_return false;
      if (parsed_ < max_pipeline) co_return true;  // all whole commands done: read more
    }
  }

  // The engine runs spans of commands; AUTH and QUIT (and anything before
  // AUTH, when a password is set) are the connection's own.
  asio::awaitable<bool> run_commands() {
    const std::span<const command> commands(commands_.data(), parsed_);
    std::size_t from = 0;
    for (std::size_t i = 0; i < commands.size(); ++i) {
      const command& c = commands[i];
      const bool quit = iequals(c[0], "QUIT");
      const bool auth = iequals(c[0], "AUTH");
      if (!quit && !auth && authenticated_) continue;
      if (i > from) co_await shared_.engine.execute(commands.subspan(from, i - from), out_);
      from = i + 1;
      if (quit) {
        ok(out_);
        co_return false;
      }
      if (auth) {
        authenticate(c);
      } else {
        error(out_, "NOAUTH Authentication required.");
      }
    }
    if (commands.size() > from) co_await shared_.engine.execute(commands.subspan(from), out_);
    co_return true;
  }

  void authenticate(const command& c) {
    const std::string& password = shared_.options.requirepass;
    // AUTH password, or AUTH username password (Redis 6) with user "default".
    const bool arity_ok = c.size() == 2 || (c.size() == 3 && c[1] == "default");
    if (!arity_ok) {
      error(out_, "ERR wrong number of arguments for 'auth' command");
    } else if (password.empty()) {
      error(out_, "ERR AUTH <password> called without any password configured for the default user.");
    } else if (c.back() == password) {
      authenticated_ = true;
      ok(out_);
    } else {
      error(out_, "WRONGPASS invalid username-password pair or user is disabled.");
    }
  }

  static asio::awaitable<void> watch_idle(std::shared_ptr<connection> self) {
    const auto timeout = self->shared_.options.idle_timeout;
    while (!self->closed_) {
      self->idle_timer_.expires_at(self->last_activity_ + timeout);
      co_await self->idle_timer_.async_wait(as_tuple_awaitable);
      if (self->closed_) break;
      if (std::chrono::steady_clock::now() >= self->last_activity_ + timeout) {
        self->shared_.counters.idle_timeouts.fetch_add(1, std::memory_order_relaxed);
        self->close();
      }
    }
  }

  tcp::socket socket_;
  asio::steady_timer idle_timer_;
  shared_state& shared_;
  request_parser parser_;
  bool authenticated_;
  bool closed_ = false;
  std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
  std::string in_;
  std::size_t start_ = 0, used_ = 0;  // in_[start_, used_) is received and not yet parsed
  std::vector<command> commands_;     // [0, parsed_) is the pipeline being served
  std::size_t parsed_ = 0;
  std::string out_;
};

asio::awaitable<void> serve_connection(tcp::socket socket, shared_state& shared) {
  auto conn = std::make_shared<connection>(std::move(socket), shared);
  {
    std::lock_guard lock(shared.mu);
    shared.open.insert(conn);
  }
  shared.counters.connected_clients.fetch_add(1, std::memory_order_relaxed);
  co_await conn->run();
  shared.counters.connected_clients.fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard lock(shared.mu);
  shared.open.erase(conn);
}

asio::awaitable<void> refuse(tcp::socket socket) {
  const std::string reply = "-ERR max number of clients reached\r\n";
  co_await asio::async_write(socket, asio::buffer(reply), as_tuple_awaitable);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::vector<std::unique_ptr<asio::io_context>>& contexts,
                                  shared_state& shared) {
  std::size_t next = 0;
  for (;;) {
    asio::io_context& target = *contexts[next++ % contexts.size()];
    auto [ec, socket] = co_await acceptor.async_accept(target.get_executor(), as_tuple_awaitable);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;  // e.g. the client gave up before we accepted: not ours to stop for
    shared.counters.total_connections.fetch_add(1, std::memory_order_relaxed);
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (shared.counters.connected_clients.load(std::memory_order_relaxed) >= shared.options.max_clients) {
      shared.counters.rejected_connections.fetch_add(1, std::memory_order_relaxed);
      asio::co_spawn(target, refuse(std::move(socket)), asio::detached);
      continue;
    }
    asio::co_spawn(target, serve_connection(std::move(socket), shared), asio::detached);
  }
}

// Prometheus' text format from INFO's numeric fields: "strata_<name> <value>".
std::string metrics_text(const command_engine& engine) {
  const std::string info = engine.info();
  std::string text;
  std::size_t from = 0;
  while (from < info.size()) {
    std::size_t end = info.find("\r\n", from);
    if (end == std::string::npos) end = info.size();
    const std::string_view line = std::string_view(info).substr(from, end - from);
    from = end + 2;
    const auto colon = line.find(':');
    if (line.empty() || line[0] == '#' || colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon), value = line.substr(colon + 1);
    if (value.empty() || value.find_first_not_of("0123456789.-") != std::string_view::npos) continue;
    fmt::format_to(std::back_inserter(text), "strata_{} {}\n", name, value);
  }
  return text;
}

asio::awaitable<void> serve_metrics(tcp::socket socket, const command_engine& engine) {
  // Read the request head (any path serves the metrics), then answer.
  std::string request(8192, '\0');
  std::size_t used = 0;
  while (used < request.size() && std::string_view(request.data(), used).find("\r\n\r\n") == std::string_view::npos) {
    auto [ec, n] =
        co_await socket.async_read_some(asio::buffer(request.data() + used, request.size() - used), as_tuple_awaitable);
    if (ec) co_return;
    used += n;
  }
  const std::string body = metrics_text(engine);
  const std::string reply = fmt::format(
      "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
      body.size(), body);
  co_await asio::async_write(socket, asio::buffer(reply), as_tuple_awaitable);
}

asio::awaitable<void> metrics_loop(tcp::acceptor& acceptor, const command_engine& engine) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(as_tuple_awaitable);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;
    asio::co_spawn(acceptor.get_executor(), serve_metrics(std::move(socket), engine), asio::detached);
  }
}

bool open_acceptor(tcp::acceptor& acceptor, const std::string& address, std::uint16_t port, std::string& why) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) {
    why = fmt::format("bad bind address '{}': {}", address, ec.message());
    return false;
  }
  const tcp::endpoint endpoint(ip, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    why = fmt::format("cannot listen on {}:{}: {}", address, port, ec.message());
    return false;
  }
  return true;
}

}  // namespace

int run_server(const server_options& options) {
  // Declared first, destroyed last: every coroutine that refers to these
  // lives in the contexts below, which are destroyed before them.
  server_counters counters;
  std::shared_ptr<db> store;
  std::unique_ptr<command_engine> engine;
  std::unique_ptr<shared_state> shared;
  int exit_code = 0;

  std::vector<std::unique_ptr<asio::io_context>> contexts;
  for (unsigned i = 0; i < std::max(1u, options.threads); ++i)
    contexts.push_back(std::make_unique<asio::io_context>(1));
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  for (auto& c : contexts) keep_running.push_back(asio::make_work_guard(*c));

  asio::io_context& main = *contexts[0];
  tcp::acceptor acceptor(main), metrics(main);
  asio::signal_set signals(main, SIGINT, SIGTERM);

  auto stop_everything = [&] {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    metrics.close(ignored);
    signals.cancel();
    if (shared) {
      std::lock_guard lock(shared->mu);
      for (const auto& c : shared->open) c->close_from_anywhere();
    }
  };

  auto start = [&]() -> asio::awaitable<void> {
    strata::options db_options;
    db_options.memtable_bytes = options.memtable_bytes;
    auto [ec, opened] = co_await db::open(main.get_executor(), options.dir, db_options, as_tuple_awaitable);
    if (ec) {
      fmt::print(stderr, "resp_server: cannot open the db in {}: {}\n", options.dir, ec.message());
      exit_code = 1;
      keep_running.clear();
      stop_everything();
      co_return;
    }
    store = opened;
    engine = std::make_unique<command_engine>(
        store, counters, engine_options{.sync = options.sync, .max_scan_cursors = 16384, .max_batch_commands = 1024});
    shared = std::make_unique<shared_state>(options, *engine, counters);
    std::string why;
    bool ok = open_acceptor(acceptor, options.bind, options.port, why);
    if (ok && options.metrics_port >= 0)
      ok = open_acceptor(metrics, options.bind, static_cast<std::uint16_t>(options.metrics_port), why);
    if (!ok) {
      fmt::print(stderr, "resp_server: {}\n", why);
      exit_code = 1;
    } else {
      fmt::print("listening on {}:{}\n", options.bind, acceptor.local_endpoint().port());
      if (metrics.is_open()) fmt::print("metrics on {}:{}\n", options.bind, metrics.local_endpoint().port());
      std::fflush(stdout);
      asio::co_spawn(main, accept_loop(acceptor, contexts, *shared), asio::detached);
      if (metrics.is_open()) asio::co_spawn(main, metrics_loop(metrics, *engine), asio::detached);
      auto [sec, signal] = co_await signals.async_wait(as_tuple_awaitable);
      (void)sec;
      (void)signal;
    }
    // Shutdown: no new connections, the open ones closed (each finishes the
    // command it is running), then the db closed: its WAL is synced, so even
    // writes acknowledged without --sync survive a power cut after this.
    stop_everything();
    auto [cec] = co_await store->close(as_tuple_awaitable);
    if (cec) {
      fmt::print(stderr, "resp_server: closing the db: {}\n", cec.message());
      exit_code = 1;
    }
    keep_running.clear();  // each context returns once its connections are gone
  };
  asio::co_spawn(main, start(), asio::detached);

  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < contexts.size(); ++i) threads.emplace_back([&c = *contexts[i]] { c.run(); });
  main.run();
  for (auto& t : threads) t.join();
  return exit_code;
}

}  // namespace strata::resp
