// examples/strata_cli/command.hpp — what a subcommand of the `strata` tool
// is: its name, its arguments and options (from which the parser and the
// help text are made), and the function that runs it; plus the tool's exit
// codes. Each *_commands.cpp file contributes a list of these (commands.hpp).
#pragma once

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace strata_cli {

// Exit codes: 0 success; 1 a runtime failure (damage, missing db, I/O error,
// a key not found); 2 the command line was wrong.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

// A bad command line: the message names the problem (exit code 2).
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One --option. An empty value_name makes it a flag (no value).
struct option_spec {
  std::string_view name;        // "--limit"
  std::string_view value_name;  // "N", or "" for a flag
  std::string_view help;
};

// A command line after parsing against a command's specs.
struct parsed_args {
  std::vector<std::string> positional;
  std::map<std::string, std::string, std::less<>> values;  // options with a value, by name
  std::set<std::string, std::less<>> flags;                // flags that were given
  bool help = false;                                       // -h / --help

  bool has(std::string_view flag) const { return flags.contains(flag); }
  // The option's value, or nullptr if it was not given.
  const std::string* value(std::string_view name) const {
    const auto it = values.find(name);
    return it == values.end() ? nullptr : &it->second;
  }
};

struct command {
  std::string_view name;
  std::string_view summary;                   // one line, for `strata --help`
  std::vector<std::string_view> positionals;  // all required, in order ("DIR", "KEY")
  std::vector<option_spec> options;
  std::string_view description;  // paragraphs for `strata NAME --help`
  // Returns the exit code; throws usage_error for bad argument values.
  int (*run)(const parsed_args& args);
};

}  // namespace strata_cli
