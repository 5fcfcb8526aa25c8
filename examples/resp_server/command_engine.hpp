// resp_server/command_engine.hpp — runs Redis commands against a Strata db.
//
// A connection hands the engine each pipeline it has read (every whole
// command in one read, in order) and gets the replies appended, in the same
// order. Pipelines are where the speed is: a run of consecutive plain SETs
// (and MSETs) becomes one write_batch, one WAL append, one acknowledgement;
// a run of consecutive GETs becomes one get_many at one snapshot. A run is
// atomic, which is stronger than Redis (which runs them one by one) and
// never weaker; a command after the run sees all of it.
//
// Atomic read-modify-write commands (INCR/DECR/INCRBY/DECRBY, SET NX/XX/
// GET, DEL) hold their keys' stripes of key_locks exclusively from their
// read to their acknowledged write; plain writes hold theirs shared (see
// key_locks.hpp for why that is enough). With engine_options::sync every
// write is acknowledged only once on disk (group-committed fsync).
//
// Supported: PING ECHO GET SET MGET MSET DEL EXISTS INCR DECR INCRBY
// DECRBY SCAN DBSIZE INFO COMMAND CONFIG(GET, stub) SELECT(0). Not: expiry
// (EX/PX/EXPIRE), FLUSHDB/FLUSHALL (Strata has no atomic range delete: a
// flush racing writes could leave a mix), data types other than strings.
// docs/resp_server.md has the details.
//
// Thread safety: one engine is shared by every connection on every thread.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "key_locks.hpp"
#include "strata/db.hpp"

namespace strata::resp {

using command = std::vector<std::string_view>;

// Counters the server keeps about itself, shown by INFO and the metrics
// endpoint. Relaxed atomics: statistics, nothing is published by them.
struct server_counters {
  std::atomic<std::uint64_t> connected_clients{0};
  std::atomic<std::uint64_t> total_connections{0};
  std::atomic<std::uint64_t> rejected_connections{0};
  std::atomic<std::uint64_t> total_commands{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> idle_timeouts{0};
};

struct engine_options {
  bool sync = false;                      // durable write acknowledgements
  std::size_t max_scan_cursors = 16384;   // live SCAN cursors kept (oldest forgotten first)
  std::size_t max_batch_commands = 1024;  // a pipeline's write run is cut at this many commands
};

class command_engine {
 public:
  command_engine(std::shared_ptr<db> store, server_counters& counters, engine_options options);
  ~command_engine();
  command_engine(const command_engine&) = delete;
  command_engine& operator=(const command_engine&) = delete;

  // Runs the commands in order, appending one reply each to `out`. The
  // arguments must stay valid until it completes. Never throws for a bad
  // command or a store error: those are error replies.
  boost::asio::awaitable<void> execute(std::span<const command> commands, std::string& out);

  // The INFO text (all sections), also the source of the metrics endpoint.
  std::string info() const;

 private:
  using handler = boost::asio::awaitable<void> (command_engine::*)(const command&, std::string&);
  struct cursor_table;

  boost::asio::awaitable<void> run_one(const command& c, std::string& out);
  boost::asio::awaitable<void> write_run(std::span<const command> run, std::string& out);
  boost::asio::awaitable<void> get_run(std::span<const command> run, std::string& out);
  // db::try_get for every GET of a run, in order; false as soon as one needs a read.
  bool answer_from_memory(std::span<const command> run, std::vector<std::optional<db::cached_get>>& answers);

  boost::asio::awaitable<void> ping(const command& c, std::string& out);
  boost::asio::awaitable<void> echo(const command& c, std::string& out);
  boost::asio::awaitable<void> get(const command& c, std::string& out);
  boost::asio::awaitable<void> set(const command& c, std::string& out);
  boost::asio::awaitable<void> mget(const command& c, std::string& out);
  boost::asio::awaitable<void> mset(const command& c, std::string& out);
  boost::asio::awaitable<void> del(const command& c, std::string& out);
  boost::asio::awaitable<void> exists(const command& c, std::string& out);
  boost::asio::awaitable<void> incr(const command& c, std::string& out);
  boost::asio::awaitable<void> decr(const command& c, std::string& out);
  boost::asio::awaitable<void> incrby(const command& c, std::string& out);
  boost::asio::awaitable<void> decrby(const command& c, std::string& out);
  boost::asio::awaitable<void> scan(const command& c, std::string& out);
  boost::asio::awaitable<void> dbsize(const command& c, std::string& out);
  boost::asio::awaitable<void> info_command(const command& c, std::string& out);
  boost::asio::awaitable<void> command_command(const command& c, std::string& out);
  boost::asio::awaitable<void> config(const command& c, std::string& out);
  boost::asio::awaitable<void> select(const command& c, std::string& out);

  boost::asio::awaitable<void> add_to(std::string_view key, std::int64_t delta, std::string& out);
  write_options write_opts() const noexcept { return {.sync = options_.sync}; }

  std::shared_ptr<db> db_;
  server_counters& counters_;
  engine_options options_;
  key_locks locks_;
  std::unordered_map<std::string, handler> handlers_;
  std::unique_ptr<cursor_table> cursors_;
};

// "set" -> "SET": command names are case-insensitive.
std::string upper_case(std::string_view name);
// Whether a equals b ignoring ASCII case, without allocating (the per-command test).
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace strata::resp
