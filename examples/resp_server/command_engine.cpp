#include "command_engine.hpp"

#include <unistd.h>
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "glob_match.hpp"
#include "resp_writer.hpp"

namespace asio = boost::asio;

namespace strata::resp {

namespace {

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

bool key_fits(std::string_view key) noexcept { return key.size() <= db::max_key_bytes; }
bool value_fits(std::string_view value) noexcept { return value.size() <= db::max_value_bytes; }

// SET k v, and MSET k v [k v ...], with sizes the store accepts: these can
// share one batch with their neighbours. Anything else runs on its own
// (and a size the store refuses gets its own error reply).
bool is_plain_write(const command& c) noexcept {
  if (c.empty()) return false;
  const bool set = c.size() == 3 && iequals(c[0], "SET");
  const bool mset = c.size() >= 3 && c.size() % 2 == 1 && iequals(c[0], "MSET");
  if (!set && !mset) return false;
  for (std::size_t i = 1; i + 1 < c.size(); i += 2) {
    if (!key_fits(c[i]) || !value_fits(c[i + 1])) return false;
  }
  return true;
}

bool is_plain_get(const command& c) noexcept { return c.size() == 2 && iequals(c[0], "GET"); }

void wrong_arity(std::string& out, std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char ch) { return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch; });
  error(out, fmt::format("ERR wrong number of arguments for '{}' command", lower));
}

void store_error(std::string& out, const boost::system::error_code& ec) { error(out, "ERR " + ec.message()); }

bool parse_int64(std::string_view text, std::int64_t& out) {
  if (text.empty() || text.size() > 20 || text[0] == '+') return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'a' && x <= 'z' ? x - 32 : x) == (y >= 'a' && y <= 'z' ? y - 32 : y);
         });
}

std::string upper_case(std::string_view name) {
  std::string upper(name);
  for (char& ch : upper) {
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 32);
  }
  return upper;
}

// SCAN's cursors: a number the client hands back, naming the key to go on
// from. Kept here, not encoded in the number, because keys are arbitrary
// bytes and clients parse cursors as integers. The oldest are forgotten
// first; a forgotten cursor is an error, never a silent restart.
struct command_engine::cursor_table {
  std::mutex mu;
  std::unordered_map<std::uint64_t, std::string> resume_keys;
  std::deque<std::uint64_t> order;
  std::uint64_t next_id = 1;
};

command_engine::command_engine(std::shared_ptr<db> store, server_counters& counters, engine_options options)
    : db_(std::move(store)), counters_(counters), options_(options), cursors_(std::make_unique<cursor_table>()) {
  handlers_ = {
      {"PING", &command_engine::ping},         {"ECHO", &command_engine::echo},
      {"GET", &command_engine::get},           {"SET", &command_engine::set},
      {"MGET", &command_engine::mget},         {"MSET", &command_engine::mset},
      {"DEL", &command_engine::del},           {"EXISTS", &command_engine::exists},
      {"INCR", &command_engine::incr},         {"DECR", &command_engine::decr},
      {"INCRBY", &command_engine::incrby},     {"DECRBY", &command_engine::decrby},
      {"SCAN", &command_engine::scan},         {"DBSIZE", &command_engine::dbsize},
      {"INFO", &command_engine::info_command}, {"COMMAND", &command_engine::command_command},
      {"CONFIG", &command_engine::config},     {"SELECT", &command_engine::select},
  };
}

command_engine::~command_engine() = default;

asio::awaitable<void> command_engine::execute(std::span<const command> commands, std::string& out) {
  counters_.total_commands.fetch_add(commands.size(), std::memory_order_relaxed);
  std::size_t i = 0;
  while (i < commands.size()) {
    const command& c = commands[i];
    std::size_t j = i + 1;
    if (is_plain_write(c)) {
      while (j < commands.size() && j - i < options_.max_batch_commands && is_plain_write(commands[j])) ++j;
      co_await write_run(commands.subspan(i, j - i), out);
    } else if (is_plain_get(c)) {
      while (j < commands.size() && j - i < options_.max_batch_commands && is_plain_get(commands[j])) ++j;
      co_await get_run(commands.subspan(i, j - i), out);
    } else {
      co_await run_one(c, out);
    }
    i = j;
  }
}

asio::awaitable<void> command_engine::run_one(const command& c, std::string& out) {
  if (c.empty()) co_return;  // an empty line: no reply, as in Redis
  const auto h = handlers_.find(upper_case(c[0]));
  if (h == handlers_.end()) {
    std::string args;
    for (std::size_t i = 1; i < c.size() && i <= 3; ++i) args += fmt::format("'{}' ", c[i].substr(0, 64));
    error(out, fmt::format("ERR unknown command '{}', with args beginning with: {}", c[0].substr(0, 64), args));
    co_return;
  }
  co_await (this->*(h->second))(c, out);
}

asio::awaitable<void> command_engine::write_run(std::span<const command> run, std::string& out) {
  lock_set locks(locks_);
  write_batch batch;
  for (const command& c : run) {
    for (std::size_t i = 1; i + 1 < c.size(); i += 2) {
      locks.add(c[i]);
      batch.put(c[i], c[i + 1]);
    }
  }
  co_await locks.acquire(lock_mode::shared);
  auto [ec] = co_await db_->write(std::move(batch), write_opts(), as_tuple_awaitable);
  for (std::size_t i = 0; i < run.size(); ++i) {
    if (ec) {
      store_error(out, ec);
    } else {
      ok(out);
    }
  }
}

asio::awaitable<void> command_engine::get_run(std::span<const command> run, std::string& out) {
  if (run.size() == 1) {
    co_await get(run[0], out);
    co_return;
  }
  // Most runs are answered from memory: then no suspension at all. If any
  // key needs a disk read, the whole run goes through get_many.
  if (std::vector<std::optional<db::cached_get>> answers; answer_from_memory(run, answers)) {
    for (const auto& a : answers) {
      if (a->error) {
        store_error(out, a->error);
      } else {
        optional_bulk(out, a->value);
      }
    }
    co_return;
  }
  std::vector<std::string> keys;
  keys.reserve(run.size());
  for (const command& c : run) keys.emplace_back(c[1]);
  const read_options ro;
  auto [ec, values] = co_await db_->get_many(std::move(keys), ro, as_tuple_awaitable);
  for (std::size_t i = 0; i < run.size(); ++i) {
    if (ec) {
      store_error(out, ec);
    } else {
      optional_bulk(out, values[i]);
    }
  }
}

asio::awaitable<void> command_engine::ping(const command& c, std::string& out) {
  if (c.size() > 2) {
    wrong_arity(out, c[0]);
  } else if (c.size() == 2) {
    bulk(out, c[1]);
  } else {
    simple(out, "PONG");
  }
  co_return;
}

asio::awaitable<void> command_engine::echo(const command& c, std::string& out) {
  if (c.size() != 2) {
    wrong_arity(out, c[0]);
  } else {
    bulk(out, c[1]);
  }
  co_return;
}

asio::awaitable<void> command_engine::get(const command& c, std::string& out) {
  if (c.size() != 2) {
    wrong_arity(out, c[0]);
    co_return;
  }
  const read_options ro;
  if (const auto answer = db_->try_get(c[1], ro)) {  // from memory, without suspending
    if (answer->error) {
      store_error(out, answer->error);
    } else {
      optional_bulk(out, answer->value);
    }
    co_return;
  }
  auto [ec, value] = co_await db_->get(c[1], ro, as_tuple_awaitable);
  if (ec) {
    store_error(out, ec);
  } else {
    optional_bulk(out, value);
  }
}

bool command_engine::answer_from_memory(std::span<const command> run,
                                        std::vector<std::optional<db::cached_get>>& answers) {
  answers.reserve(run.size());
  const read_options ro;
  for (const command& c : run) {
    answers.push_back(db_->try_get(c[1], ro));
    if (!answers.back()) return false;
  }
  return true;
}

asio::awaitable<void> command_engine::set(const command& c, std::string& out) {
  if (c.size() < 3) {
    wrong_arity(out, c[0]);
    co_return;
  }
  bool nx = false, xx = false, want_old = false;
  for (std::size_t i = 3; i < c.size(); ++i) {
    if (iequals(c[i], "NX")) {
      nx = true;
    } else if (iequals(c[i], "XX")) {
      xx = true;
    } else if (iequals(c[i], "GET")) {
      want_old = true;
    } else if (iequals(c[i], "KEEPTTL")) {
      // Nothing to keep: keys never expire here.
    } else if (iequals(c[i], "EX") || iequals(c[i], "PX") || iequals(c[i], "EXAT") || iequals(c[i], "PXAT")) {
      error(out, "ERR expiry is not supported by this server (Strata keys do not expire)");
      co_return;
    } else {
      error(out, "ERR syntax error");
      co_return;
    }
  }
  if (nx && xx) {
    error(out, "ERR syntax error");
    co_return;
  }
  const std::string_view key = c[1], value = c[2];
  lock_set locks(locks_);
  locks.add(key);
  const bool conditional = nx || xx || want_old;
  co_await locks.acquire(conditional ? lock_mode::exclusive : lock_mode::shared);
  std::optional<std::string> old;
  if (conditional) {
    const read_options ro;
    auto [ec, current] = co_await db_->get(key, ro, as_tuple_awaitable);
    if (ec) {
      store_error(out, ec);
      co_return;
    }
    old = std::move(current);
  }
  const bool write = !(nx && old) && !(xx && !old);
  if (write) {
    write_batch batch;
    batch.put(key, value);
    auto [ec] = co_await db_->write(std::move(batch), write_opts(), as_tuple_awaitable);
    if (ec) {
      store_error(out, ec);
      co_return;
    }
  }
  if (want_old) {
    optional_bulk(out, old);
  } else if (write) {
    ok(out);
  } else {
    null_bulk(out);
  }
}

asio::awaitable<void> command_engine::mget(const command& c, std::string& out) {
  if (c.size() < 2) {
    wrong_arity(out, c[0]);
    co_return;
  }
  std::vector<std::string> keys(c.begin() + 1, c.end());
  const read_options ro;
  auto [ec, values] = co_await db_->get_many(std::move(keys), ro, as_tuple_awaitable);
  if (ec) {
    store_error(out, ec);
    co_return;
  }
  array_header(out, values.size());
  for (const auto& v : values) optional_bulk(out, v);
}

asio::awaitable<void> command_engine::mset(const command& c, std::string& out) {
  if (c.size() < 3 || c.size() % 2 == 0) {
    wrong_arity(out, c[0]);
    co_return;
  }
  // Only here when a key or value is too large (else it is a plain write):
  // let the store say which and why.
  write_batch batch;
  for (std::size_t i = 1; i + 1 < c.size(); i += 2) batch.put(c[i], c[i + 1]);
  auto [ec] = co_await db_->write(std::move(batch), write_opts(), as_tuple_awaitable);
  if (ec) {
    store_error(out, ec);
  } else {
    ok(out);
  }
}

asio::awaitable<void> command_engine::del(const command& c, std::string& out) {
  if (c.size() < 2) {
    wrong_arity(out, c[0]);
    co_return;
  }
  std::vector<std::string> keys(c.begin() + 1, c.end());
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());  // DEL k k removes one key
  lock_set locks(locks_);
  for (const auto& k : keys) locks.add(k);
  co_await locks.acquire(lock_mode::exclusive);
  const read_options ro;
  auto [ec, values] = co_await db_->get_many(keys, ro, as_tuple_awaitable);
  if (ec) {
    store_error(out, ec);
    co_return;
  }
  write_batch batch;
  std::int64_t removed = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!values[i]) continue;
    batch.erase(keys[i]);
    ++removed;
  }
  if (removed > 0) {
    auto [wec] = co_await db_->write(std::move(batch), write_opts(), as_tuple_awaitable);
    if (wec) {
      store_error(out, wec);
      co_return;
    }
  }
  integer(out, removed);
}

asio::awaitable<void> command_engine::exists(const command& c, std::string& out) {
  if (c.size() < 2) {
    wrong_arity(out, c[0]);
    co_return;
  }
  std::vector<std::string> keys(c.begin() + 1, c.end());
  const read_options ro;
  auto [ec, values] = co_await db_->get_many(std::move(keys), ro, as_tuple_awaitable);
  if (ec) {
    store_error(out, ec);
    co_return;
  }
  integer(out, std::count_if(values.begin(), values.end(), [](const auto& v) { return v.has_value(); }));
}

asio::awaitable<void> command_engine::add_to(std::string_view key, std::int64_t delta, std::string& out) {
  lock_set locks(locks_);
  locks.add(key);
  co_await locks.acquire(lock_mode::exclusive);
  const read_options ro;
  auto [ec, current] = co_await db_->get(key, ro, as_tuple_awaitable);
  if (ec) {
    store_error(out, ec);
    co_return;
  }
  std::int64_t value = 0;
  if (current && !parse_int64(*current, value)) {
    error(out, "ERR value is not an integer or out of range");
    co_return;
  }
  if ((delta > 0 && value > std::numeric_limits<std::int64_t>::max() - delta) ||
      (delta < 0 && value < std::numeric_limits<std::int64_t>::min() - delta)) {
    error(out, "ERR increment or decrement would overflow");
    co_return;
  }
  value += delta;
  write_batch batch;
  batch.put(key, std::to_string(value));
  auto [wec] = co_await db_->write(std::move(batch), write_opts(), as_tuple_awaitable);
  if (wec) {
    store_error(out, wec);
  } else {
    integer(out, value);
  }
}

asio::awaitable<void> command_engine::incr(const command& c, std::string& out) {
  if (c.size() != 2) {
    wrong_arity(out, c[0]);
    co_return;
  }
  co_await add_to(c[1], 1, out);
}

asio::awaitable<void> command_engine::decr(const command& c, std::string& out) {
  if (c.size() != 2) {
    wrong_arity(out, c[0]);
    co_return;
  }
  co_await add_to(c[1], -1, out);
}

asio::awaitable<void> command_engine::incrby(const command& c, std::string& out) {
  std::int64_t delta = 0;
  if (c.size() != 3) {
    wrong_arity(out, c[0]);
  } else if (!parse_int64(c[2], delta)) {
    error(out, "ERR value is not an integer or out of range");
  } else {
    co_await add_to(c[1], delta, out);
  }
}

asio::awaitable<void> command_engine::decrby(const command& c, std::string& out) {
  std::int64_t delta = 0;
  if (c.size() != 3) {
    wrong_arity(out, c[0]);
  } else if (!parse_int64(c[2], delta) || delta == std::numeric_limits<std::int64_t>::min()) {
    error(out, "ERR value is not an integer or out of range");
  } else {
    co_await add_to(c[1], -delta, out);
  }
}

asio::awaitable<void> command_engine::scan(const command& c, std::string& out) {
  if (c.size() < 2 || c.size() % 2 == 1) {
    wrong_arity(out, c[0]);
    co_return;
  }
  std::uint64_t cursor = 0;
  {
    const auto [end, ec] = std::from_chars(c[1].data(), c[1].data() + c[1].size(), cursor);
    if (ec != std::errc{} || end != c[1].data() + c[1].size()) {
      error(out, "ERR invalid cursor");
      co_return;
    }
  }
  std::string_view pattern = "*";
  std::int64_t count = 10;
  bool strings = true;
  for (std::size_t i = 2; i + 1 < c.size(); i += 2) {
    if (iequals(c[i], "MATCH")) {
      pattern = c[i + 1];
    } else if (iequals(c[i], "COUNT")) {
      if (!parse_int64(c[i + 1], count) || count < 1) {
        error(out, "ERR syntax error");
        co_return;
      }
    } else if (iequals(c[i], "TYPE")) {
      strings = iequals(c[i + 1], "string");  // every key here is a string
    } else {
      error(out, "ERR syntax error");
      co_return;
    }
  }
  const std::string prefix = literal_prefix(pattern);
  std::string start = prefix;
  if (cursor != 0) {
    std::lock_guard lock(cursors_->mu);
    const auto found = cursors_->resume_keys.find(cursor);
    if (found == cursors_->resume_keys.end()) {
      error(out, "ERR invalid cursor (unknown, or expired: the server keeps the newest cursors only)");
      co_return;
    }
    start = std::max(start, found->second);
  }
  read_options ro;
  if (!prefix.empty()) ro.prefix = prefix;
  auto it = db_->scan(ro);
  co_await it->seek(start);
  std::vector<std::string> keys;
  for (std::int64_t examined = 0; examined < count && it->valid(); ++examined) {
    if (strings && glob_match(pattern, it->key())) keys.emplace_back(it->key());
    co_await it->next();
  }
  if (it->error()) {
    error(out, "ERR " + it->message());
    co_return;
  }
  std::uint64_t next = 0;
  if (it->valid()) {
    std::lock_guard lock(cursors_->mu);
    next = cursors_->next_id++;
    cursors_->resume_keys.emplace(next, std::string(it->key()));
    cursors_->order.push_back(next);
    while (cursors_->order.size() > options_.max_scan_cursors) {
      cursors_->resume_keys.erase(cursors_->order.front());
      cursors_->order.pop_front();
    }
  }
  array_header(out, 2);
  bulk(out, std::to_string(next));
  array_header(out, keys.size());
  for (const auto& k : keys) bulk(out, k);
}

asio::awaitable<void> command_engine::dbsize(const command& c, std::string& out) {
  if (c.size() != 1) {
    wrong_arity(out, c[0]);
  } else {
    integer(out, static_cast<std::int64_t>(db_->stats().estimated_keys));
  }
  co_return;
}

std::string command_engine::info() const {
  const db_stats s = db_->stats();
  std::string text;
  auto line = [&text](std::string_view name, auto value) {
    fmt::format_to(std::back_inserter(text), "{}:{}\r\n", name, value);
  };
  text += "# Server\r\n";
  line("redis_version", "7.0.0");  // the protocol it speaks, for clients that check
  line("strata_version", "0.1.0");
  line("process_id", ::getpid());
  text += "\r\n# Clients\r\n";
  line("connected_clients", counters_.connected_clients.load(std::memory_order_relaxed));
  text += "\r\n# Stats\r\n";
  line("total_connections_received", counters_.total_connections.load(std::memory_order_relaxed));
  line("total_commands_processed", counters_.total_commands.load(std::memory_order_relaxed));
  line("rejected_connections", counters_.rejected_connections.load(std::memory_order_relaxed));
  line("protocol_errors", counters_.protocol_errors.load(std::memory_order_relaxed));
  line("idle_timeouts", counters_.idle_timeouts.load(std::memory_order_relaxed));
  text += "\r\n# Persistence\r\n";
  line("sync_writes", options_.sync ? 1 : 0);
  text += "\r\n# Keyspace\r\n";
  fmt::format_to(std::back_inserter(text), "db0:keys={},expires=0,avg_ttl=0\r\n", s.estimated_keys);
  text += "\r\n# Strata\r\n";
  const std::string stats = to_string(s);  // name=value lines
  std::size_t from = 0;
  while (from < stats.size()) {
    std::size_t end = stats.find('\n', from);
    if (end == std::string::npos) end = stats.size();
    std::string entry = stats.substr(from, end - from);
    if (const auto eq = entry.find('='); eq != std::string::npos) entry[eq] = ':';
    text += entry;
    text += "\r\n";
    from = end + 1;
  }
  return text;
}

asio::awaitable<void> command_engine::info_command(const command& c, std::string& out) {
  std::string text = info();
  if (c.size() >= 2 && !iequals(c[1], "all") && !iequals(c[1], "everything") && !iequals(c[1], "default")) {
    // Only the sections named (INFO keyspace, INFO strata ...).
    std::string selected;
    std::size_t from = 0;
    while (from < text.size()) {
      std::size_t end = text.find("\r\n\r\n", from);
      end = end == std::string::npos ? text.size() : end + 4;
      const std::string_view section = std::string_view(text).substr(from, end - from);
      const std::string_view title = section.substr(2, section.find("\r\n") - 2);
      for (std::size_t i = 1; i < c.size(); ++i) {
        if (iequals(title, c[i])) selected += section;
      }
      from = end;
    }
    text = std::move(selected);
  }
  bulk(out, text);
  co_return;
}

asio::awaitable<void> command_engine::command_command(const command&, std::string& out) {
  // redis-cli asks for COMMAND DOCS to offer hints; an empty answer is valid.
  array_header(out, 0);
  co_return;
}

asio::awaitable<void> command_engine::config(const command& c, std::string& out) {
  if (c.size() >= 2 && iequals(c[1], "GET")) {
    array_header(out, 0);  // no settable parameters; redis-benchmark asks, and copes
  } else {
    error(out, "ERR CONFIG: only CONFIG GET is supported, and it knows no parameters");
  }
  co_return;
}

asio::awaitable<void> command_engine::select(const command& c, std::string& out) {
  if (c.size() != 2) {
    wrong_arity(out, c[0]);
  } else if (c[1] == "0") {
    ok(out);
  } else {
    error(out, "ERR DB index is out of range");
  }
  co_return;
}

}  // namespace strata::resp
