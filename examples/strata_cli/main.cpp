// examples/strata_cli/main.cpp — the `strata` command-line tool: picks the
// subcommand, parses its arguments, prints help, and maps failures to exit
// codes (0 ok, 1 runtime failure, 2 bad command line). docs/cli.md.
#include <cstdio>
#include <exception>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "args.hpp"
#include "commands.hpp"

#ifndef STRATA_CLI_VERSION
#define STRATA_CLI_VERSION "unknown"
#endif

namespace {

using namespace strata_cli;

const std::vector<command>& all_commands() {
  static const std::vector<command> all = [] {
    std::vector<command> v;
    for (auto&& part : {db_commands(), file_commands(), verify_commands()}) v.insert(v.end(), part.begin(), part.end());
    return v;
  }();
  return all;
}

const command* find_command(std::string_view name) {
  for (const auto& c : all_commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

void print_overview(std::FILE* out) {
  fmt::print(out,
             "usage: strata COMMAND [ARGS...]\n\n"
             "Inspect and edit a Strata db from the shell (like RocksDB's ldb and sst_dump).\n\n"
             "commands:\n");
  for (const auto& c : all_commands()) fmt::print(out, "  {:<12} {}\n", c.name, c.summary);
  fmt::print(out,
             "\nget, put, delete, scan, stats and compact open the db (taking its LOCK; opening replays\n"
             "its write-ahead log into a table, so even get changes files). dump-sst, dump-wal and\n"
             "verify only read files, and work while the db is open elsewhere.\n"
             "\nRun 'strata COMMAND --help' for a command's arguments.\n"
             "Exit codes: 0 success, 1 failure (not found, damaged, I/O error), 2 bad command line.\n");
}

int usage_failure(const command& cmd, std::string_view problem) {
  fmt::print(stderr, "strata {}: {}\nusage: {}\nRun 'strata {} --help' for details.\n", cmd.name, problem,
             usage_line(cmd), cmd.name);
  return exit_usage;
}

int run(std::span<const char* const> argv) {
  if (argv.size() < 2) {
    print_overview(stderr);
    return exit_usage;
  }
  const std::string_view name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    if (name == "help" && argv.size() > 2) {
      if (const command* c = find_command(argv[2])) {
        fmt::print("{}", help_text(*c));
        return exit_ok;
      }
      fmt::print(stderr, "strata help: unknown command '{}'\n", argv[2]);
      return exit_usage;
    }
    print_overview(stdout);
    return exit_ok;
  }
  if (name == "--version") {
    fmt::print("strata {}\n", STRATA_CLI_VERSION);
    return exit_ok;
  }
  const command* cmd = find_command(name);
  if (cmd == nullptr) {
    fmt::print(stderr, "strata: unknown command '{}'\nRun 'strata --help' for the list of commands.\n", name);
    return exit_usage;
  }
  parsed_args args;
  try {
    args = parse_args(*cmd, argv.subspan(2));
  } catch (const usage_error& e) {
    return usage_failure(*cmd, e.what());
  }
  if (args.help) {
    fmt::print("{}", help_text(*cmd));
    return exit_ok;
  }
  try {
    return cmd->run(args);
  } catch (const usage_error& e) {
    return usage_failure(*cmd, e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  int code = exit_failure;
  try {
    code = run(std::span<const char* const>(argv, static_cast<std::size_t>(argc)));
  } catch (const std::exception& e) {
    fmt::print(stderr, "strata: error: {}\n", e.what());
    code = exit_failure;
  }
  // Output that could not be written (a full disk, a closed pipe) is a failure too.
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    fmt::print(stderr, "strata: error: writing to standard output failed\n");
    if (code == exit_ok) code = exit_failure;
  }
  return code;
}
