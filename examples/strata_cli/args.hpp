// examples/strata_cli/args.hpp — the command line of one subcommand:
// parsing it against the command's specs, the usage and help texts made
// from those specs, and parsing option values.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "command.hpp"

namespace strata_cli {

// Parses the arguments after the subcommand's name. `--` ends the options
// (so keys may start with '-'); `--name=value` and `--name value` are both
// accepted. Throws usage_error naming the problem: an unknown option, a
// missing value, missing or extra positional arguments. With -h/--help
// anywhere before `--`, returns at once with help set.
parsed_args parse_args(const command& cmd, std::span<const char* const> argv);

// "strata scan DIR [--prefix P] [--limit N] [--keys-only]"
std::string usage_line(const command& cmd);
// The usage line, the description and one line per option.
std::string help_text(const command& cmd);

// A count option's value ("--limit", "10") as a number; usage_error if it is not one.
std::uint64_t parse_count(std::string_view option, std::string_view text);

}  // namespace strata_cli
