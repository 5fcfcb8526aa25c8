#include "args.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

#include <fmt/format.h>

namespace strata_cli {

namespace {

const option_spec* find_option(const command& cmd, std::string_view name) {
  const auto it =
      std::find_if(cmd.options.begin(), cmd.options.end(), [name](const option_spec& o) { return o.name == name; });
  return it == cmd.options.end() ? nullptr : &*it;
}

}  // namespace

parsed_args parse_args(const command& cmd, std::span<const char* const> argv) {
  parsed_args out;
  bool options_done = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string_view arg = argv[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      out.positional.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      out.help = true;
      return out;
    }
    if (!arg.starts_with("--")) {
      throw usage_error(fmt::format("unknown option '{}' (put -- before arguments that start with '-')", arg));
    }
    const auto eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    const option_spec* spec = find_option(cmd, name);
    if (spec == nullptr) {
      throw usage_error(fmt::format("unknown option '{}' (put -- before arguments that start with '-')", name));
    }
    if (spec->value_name.empty()) {
      if (eq != std::string_view::npos) throw usage_error(fmt::format("{} takes no value", name));
      out.flags.emplace(name);
      continue;
    }
    if (eq != std::string_view::npos) {
      out.values[std::string(name)] = std::string(arg.substr(eq + 1));
    } else if (i + 1 < argv.size()) {
      out.values[std::string(name)] = argv[++i];
    } else {
      throw usage_error(fmt::format("{} needs a value ({} {})", name, name, spec->value_name));
    }
  }
  if (out.positional.size() < cmd.positionals.size()) {
    throw usage_error(fmt::format("missing {}", cmd.positionals[out.positional.size()]));
  }
  if (out.positional.size() > cmd.positionals.size()) {
    throw usage_error(fmt::format("unexpected argument '{}'", out.positional[cmd.positionals.size()]));
  }
  return out;
}

std::string usage_line(const command& cmd) {
  std::string out = fmt::format("strata {}", cmd.name);
  for (const auto p : cmd.positionals) fmt::format_to(std::back_inserter(out), " {}", p);
  for (const auto& o : cmd.options) {
    if (o.value_name.empty()) {
      fmt::format_to(std::back_inserter(out), " [{}]", o.name);
    } else {
      fmt::format_to(std::back_inserter(out), " [{} {}]", o.name, o.value_name);
    }
  }
  return out;
}

std::string help_text(const command& cmd) {
  std::string out = fmt::format("usage: {}\n\n{}\n", usage_line(cmd), cmd.description);
  if (!cmd.options.empty()) out += "\noptions:\n";
  for (const auto& o : cmd.options) {
    const std::string left = o.value_name.empty() ? std::string(o.name) : fmt::format("{} {}", o.name, o.value_name);
    fmt::format_to(std::back_inserter(out), "  {:<16} {}\n", left, o.help);
  }
  fmt::format_to(std::back_inserter(out), "  {:<16} {}\n", "-h, --help", "show this help");
  return out;
}

std::uint64_t parse_count(std::string_view option, std::string_view text) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    throw usage_error(fmt::format("{} wants a non-negative number, not '{}'", option, text));
  }
  return n;
}

}  // namespace strata_cli
