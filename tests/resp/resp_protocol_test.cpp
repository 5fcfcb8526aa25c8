// Tests of the RESP server's pure pieces: the request parser (every split
// of the input, limits, malformed frames), the reply writer and the glob
// matcher of SCAN MATCH.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "glob_match.hpp"
#include "resp_parser.hpp"
#include "resp_writer.hpp"

using namespace strata::resp;

namespace {

// Parses `input` fed in pieces of `step` bytes, the way reads deliver it;
// returns the commands, or throws on a protocol error.
std::vector<std::vector<std::string>> parse_all(const std::string& input, std::size_t step, parser_limits limits = {}) {
  request_parser parser(limits);
  std::vector<std::vector<std::string>> commands;
  std::string buffer;
  for (std::size_t fed = 0; fed < input.size(); fed += step) {
    buffer += input.substr(fed, step);
    while (!buffer.empty()) {
      const auto status = parser.parse(buffer);
      if (status == parse_status::error) throw std::runtime_error(parser.message());
      if (status == parse_status::need_more) break;
      commands.emplace_back(parser.arguments().begin(), parser.arguments().end());
      buffer.erase(0, parser.consumed());  // the next command is now at the front
    }
  }
  if (!buffer.empty()) throw std::runtime_error("input ends inside a command");
  return commands;
}

std::string error_of(const std::string& input, parser_limits limits = {}) {
  request_parser parser(limits);
  std::string_view rest = input;
  for (;;) {
    const auto status = parser.parse(rest);
    if (status == parse_status::error) return parser.message();
    if (status == parse_status::need_more) return "need_more";
    rest.remove_prefix(parser.consumed());
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(resp_protocol)

BOOST_AUTO_TEST_CASE(array_commands_parse_whatever_the_read_sizes) {
  const std::string binary("a\0\r\nb", 5);
  const std::string input = "*3\r\n$3\r\nSET\r\n$5\r\n" + binary + "\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n";
  for (std::size_t step = 1; step <= input.size(); ++step) {
    const auto commands = parse_all(input, step);
    BOOST_TEST_REQUIRE(commands.size() == 2u, "step " << step);
    BOOST_TEST((commands[0] == std::vector<std::string>{"SET", binary, ""}));
    BOOST_TEST((commands[1] == std::vector<std::string>{"PING"}));
  }
}

BOOST_AUTO_TEST_CASE(inline_commands_split_on_spaces) {
  const auto commands = parse_all("GET  key\r\nPING\n\r\nSET a b\r\n", 3);
  BOOST_TEST_REQUIRE(commands.size() == 4u);
  BOOST_TEST((commands[0] == std::vector<std::string>{"GET", "key"}));
  BOOST_TEST((commands[1] == std::vector<std::string>{"PING"}));
  BOOST_TEST(commands[2].empty());  // an empty line: no arguments, no reply
  BOOST_TEST((commands[3] == std::vector<std::string>{"SET", "a", "b"}));
}

BOOST_AUTO_TEST_CASE(a_prefix_asks_for_more_and_keeps_its_progress) {
  request_parser parser;
  std::string input = "*2\r\n$3\r\nGET\r\n$10\r\n01234";
  BOOST_TEST((parser.parse(input) == parse_status::need_more));
  input += "56789\r";
  BOOST_TEST((parser.parse(input) == parse_status::need_more));
  input += "\n";
  BOOST_TEST_REQUIRE((parser.parse(input) == parse_status::complete));
  BOOST_TEST(parser.consumed() == input.size());
  BOOST_TEST(parser.arguments()[1] == "0123456789");
}

BOOST_AUTO_TEST_CASE(malformed_frames_are_errors) {
  BOOST_TEST(error_of("*x\r\n") == "Protocol error: invalid multibulk length");
  BOOST_TEST(error_of("*2\r\n:1\r\n") == "Protocol error: expected '$', got ':'");
  BOOST_TEST(error_of("*1\r\n$-5\r\n") == "Protocol error: invalid bulk length");
  BOOST_TEST(error_of("*1\r\n$3\r\nabcd\r\n") == "Protocol error: expected '\\r\\n' after the bulk string");
  BOOST_TEST(error_of("*1\r\n$99999999999999999999\r\n") == "Protocol error: invalid bulk length");
  BOOST_TEST(error_of("*1\rx") == "Protocol error: expected '\\n' after the array length");
}

BOOST_AUTO_TEST_CASE(limits_are_enforced_before_the_bytes_arrive) {
  parser_limits small{.max_bulk_bytes = 8, .max_arguments = 3, .max_inline_bytes = 16};
  BOOST_TEST(error_of("*1\r\n$9\r\n", small) == "Protocol error: invalid bulk length");
  BOOST_TEST(error_of("*1\r\n$8\r\n", small) == "need_more");
  BOOST_TEST(error_of("*4\r\n", small) == "Protocol error: invalid multibulk length");
  BOOST_TEST(error_of(std::string(17, 'a'), small) == "Protocol error: too big inline request");
  BOOST_TEST(error_of("a b c d\r\n", small) == "Protocol error: invalid multibulk length");
  BOOST_TEST(error_of("*1\r\n$1" + std::string(20, '0'), small) == "Protocol error: too big bulk count string");
}

BOOST_AUTO_TEST_CASE(empty_arrays_are_empty_commands) {
  const auto commands = parse_all("*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", 64);
  BOOST_TEST_REQUIRE(commands.size() == 3u);
  BOOST_TEST(commands[0].empty());
  BOOST_TEST(commands[1].empty());
}

BOOST_AUTO_TEST_CASE(replies_are_framed) {
  std::string out;
  ok(out);
  error(out, "ERR bad\r\nthing");
  integer(out, -42);
  bulk(out, std::string("a\0b", 3));
  null_bulk(out);
  array_header(out, 2);
  using namespace std::string_literals;
  BOOST_TEST(out == "+OK\r\n-ERR bad  thing\r\n:-42\r\n$3\r\na\0b\r\n$-1\r\n*2\r\n"s);
}

BOOST_AUTO_TEST_CASE(glob_patterns_match_like_redis) {
  BOOST_TEST(glob_match("*", ""));
  BOOST_TEST(glob_match("user:*", "user:1"));
  BOOST_TEST(!glob_match("user:*", "use"));
  BOOST_TEST(glob_match("h?llo", "hello"));
  BOOST_TEST(!glob_match("h?llo", "hllo"));
  BOOST_TEST(glob_match("h[ae]llo", "hallo"));
  BOOST_TEST(!glob_match("h[ae]llo", "hillo"));
  BOOST_TEST(glob_match("h[^e]llo", "hallo"));
  BOOST_TEST(!glob_match("h[^e]llo", "hello"));
  BOOST_TEST(glob_match("h[a-c]llo", "hbllo"));
  BOOST_TEST(glob_match("a\\*b", "a*b"));
  BOOST_TEST(!glob_match("a\\*b", "axb"));
  BOOST_TEST(glob_match("*a*b*c*", "xxaxxbxxcxx"));
  BOOST_TEST(!glob_match("*a*b*c*", "xxaxxcxxbxx"));
  BOOST_TEST(glob_match(std::string("k\0*", 3), std::string("k\0z", 3)));
  // No pattern blows up: a long run of stars against a long miss.
  BOOST_TEST(!glob_match(std::string(200, '*') + "b", std::string(5000, 'a')));
}

BOOST_AUTO_TEST_CASE(literal_prefix_is_what_every_match_starts_with) {
  BOOST_TEST(literal_prefix("user:*") == "user:");
  BOOST_TEST(literal_prefix("a\\*b*") == "a*b");
  BOOST_TEST(literal_prefix("*x") == "");
  BOOST_TEST(literal_prefix("ab?") == "ab");
  BOOST_TEST(literal_prefix("ab[cd]") == "ab");
  BOOST_TEST(literal_prefix("exact") == "exact");
}

BOOST_AUTO_TEST_SUITE_END()
