// libFuzzer target: arbitrary bytes as what a client sends the RESP server.
// The parser must never crash or read outside its input, every argument it
// returns must lie inside the bytes of its command, and parsing must not
// depend on how the bytes were split into reads: the commands found when
// the input arrives whole and when it arrives in pieces (sizes drawn from
// the first byte) must be the same, up to the same protocol error.
//
// Build: CXX=clang++ meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined
// Run:   build-fuzz/tests/fuzz/resp_parser_fuzz tests/fuzz/corpus/resp -max_total_time=300
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "resp_parser.hpp"

namespace {

using strata::resp::parse_status;

struct outcome {
  std::vector<std::vector<std::string>> commands;
  std::string error;  // empty: none
  bool operator==(const outcome&) const = default;
};

outcome parse_in_pieces(std::string_view input, std::size_t step) {
  // Small limits, so that the fuzzer reaches them.
  strata::resp::request_parser parser({.max_bulk_bytes = 64, .max_arguments = 8, .max_inline_bytes = 32});
  outcome out;
  std::string buffer;
  for (std::size_t fed = 0; fed < input.size(); fed += step) {
    buffer.append(input.substr(fed, step));
    while (!buffer.empty()) {
      const auto status = parser.parse(buffer);
      if (status == parse_status::error) {
        out.error = parser.message();
        return out;
      }
      if (status == parse_status::need_more) break;
      if (parser.consumed() == 0 || parser.consumed() > buffer.size()) __builtin_trap();
      std::vector<std::string> args;
      for (const std::string_view a : parser.arguments()) {
        if (a.data() < buffer.data() || a.data() + a.size() > buffer.data() + parser.consumed()) __builtin_trap();
        args.emplace_back(a);
      }
      out.commands.push_back(std::move(args));
      buffer.erase(0, parser.consumed());
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = data[0] % 16 + 1;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const outcome whole = parse_in_pieces(input, input.size() + 1);
  const outcome pieces = parse_in_pieces(input, step);
  if (!(whole == pieces)) __builtin_trap();
  return 0;
}
