// resp_server/server.hpp — a Redis-protocol (RESP2) TCP server over one
// Strata db, on Boost.Asio coroutines.
//
// One io_context per thread; the db and the command engine are shared.
// The acceptor hands connections round-robin to the threads' contexts, and
// each connection is a coroutine on its context: it reads, parses every
// whole command in what it read (pipelining), runs them through the engine
// in order, and writes the replies in one write. A second coroutine per
// connection closes it after `idle_timeout` without traffic.
//
// Limits per connection: parser_limits (argument size and count: a command
// over them is a protocol error), and idle_timeout; per server:
// max_clients (beyond it a new connection gets "-ERR max number of clients
// reached" and is closed). Malformed input gets "-ERR Protocol error: ..."
// after the replies to the commands before it, and the connection closes.
// With requirepass set, a connection must AUTH before anything but QUIT.
//
// run() blocks until SIGINT or SIGTERM, then stops accepting, closes the
// connections, closes the db (its WAL synced) and returns 0; it returns 1
// if the db or a port could not be opened (with the reason on stderr).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "resp_parser.hpp"

namespace strata::resp {

struct server_options {
  std::string dir;                 // the db directory (created if missing)
  std::string bind = "127.0.0.1";  // loopback unless told otherwise
  std::uint16_t port = 6380;       // 0: any free port (printed)
  int metrics_port = -1;           // Prometheus text on this port; -1: off, 0: any free port
  unsigned threads = 1;            // io_contexts, one thread each (see docs/resp_server.md)
  bool sync = false;               // acknowledge writes once on disk
  std::string requirepass;         // empty: no AUTH needed
  std::size_t max_clients = 10000;
  std::chrono::seconds idle_timeout{300};  // 0: never
  parser_limits limits;
  std::size_t memtable_bytes = std::size_t{64} << 20;
};

// Serves until SIGINT/SIGTERM. Prints "listening on ADDRESS:PORT" (and
// "metrics on ADDRESS:PORT") on stdout once it accepts connections.
int run_server(const server_options& options);

}  // namespace strata::resp
