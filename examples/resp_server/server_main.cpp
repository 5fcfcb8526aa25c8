// resp_server/server_main.cpp — the resp_server program: command-line
// options into server_options, then run_server(). See docs/resp_server.md.
#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "server.hpp"

namespace {

constexpr std::string_view usage = R"(usage: resp_server --dir PATH [options]

Serves a Strata db over the Redis protocol (RESP2).

  --dir PATH           the db directory (created if missing)           [required]
  --port N             TCP port; 0 picks a free one (printed)          [6380]
  --bind ADDR          address to listen on                            [127.0.0.1]
  --threads N          io_contexts, one thread each                    [1]
  --sync               acknowledge writes only once on disk (group-committed fsync)
  --requirepass PASS   clients must AUTH PASS first (use it when binding beyond loopback)
  --metrics-port N     Prometheus text metrics over HTTP on this port  [off]
  --max-clients N      connections at once; more are refused           [10000]
  --timeout SECONDS    close connections idle this long; 0: never      [300]
  --max-bulk BYTES     largest key or value a command may carry        [67108864]
  --max-args N         most arguments in one command                   [1048576]
  --memtable-mb N      the db's write buffer                           [64]
  --help               this text
)";

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

[[noreturn]] void bad_usage(const std::string& why) {
  fmt::print(stderr, "resp_server: {}\n(resp_server --help lists the options)\n", why);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  strata::resp::server_options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      fmt::print("{}", usage);
      return 0;
    }
    if (arg == "--sync") {
      o.sync = true;
      continue;
    }
    if (i + 1 >= argc) bad_usage(fmt::format("unknown option or missing value: {}", arg));
    const std::string_view value = argv[++i];
    auto number = [&](auto& out) {
      if (!parse_number(value, out)) bad_usage(fmt::format("{} needs a number, got '{}'", arg, value));
    };
    unsigned long long seconds = 0, memtable_mb = 0;
    if (arg == "--dir") {
      o.dir = value;
    } else if (arg == "--port") {
      number(o.port);
    } else if (arg == "--bind") {
      o.bind = value;
    } else if (arg == "--threads") {
      number(o.threads);
      if (o.threads == 0 || o.threads > 256) bad_usage("--threads must be 1..256");
    } else if (arg == "--requirepass") {
      o.requirepass = value;
    } else if (arg == "--metrics-port") {
      number(o.metrics_port);
      if (o.metrics_port < 0 || o.metrics_port > 65535) bad_usage("--metrics-port must be 0..65535");
    } else if (arg == "--max-clients") {
      number(o.max_clients);
    } else if (arg == "--timeout") {
      number(seconds);
      o.idle_timeout = std::chrono::seconds(seconds);
    } else if (arg == "--max-bulk") {
      number(o.limits.max_bulk_bytes);
      if (o.limits.max_bulk_bytes > (std::size_t{256} << 20))
        bad_usage("--max-bulk is at most 268435456 (a Strata value's limit)");
    } else if (arg == "--max-args") {
      number(o.limits.max_arguments);
    } else if (arg == "--memtable-mb") {
      number(memtable_mb);
      if (memtable_mb == 0 || memtable_mb > 4096) bad_usage("--memtable-mb must be 1..4096");
      o.memtable_bytes = static_cast<std::size_t>(memtable_mb) << 20;
    } else {
      bad_usage(fmt::format("unknown option: {}", arg));
    }
  }
  if (o.dir.empty()) bad_usage("--dir PATH is required");
  return strata::resp::run_server(o);
}
