// resp_server/resp_parser.hpp — reads client commands in the Redis protocol
// (RESP2): arrays of bulk strings ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), and
// the "inline" form a person types into telnet ("GET k\r\n").
//
// The parser is incremental and resumable: it is handed the bytes received
// so far, starting at the first byte of the command not yet parsed, and
// either finds one whole command at their front, asks for more bytes, or
// reports a protocol error. When it asks for more, it remembers how far it
// got (as offsets from the command's first byte), so a large command that
// arrives in many reads is scanned once, not once per read; the caller may
// move or compact its buffer between calls as long as the command still
// starts at the front.
//
// Limits (parser_limits) bound what one command may make the caller hold
// in memory; a command over a limit is a protocol error, reported before
// its bytes arrive.
//
// Nothing here trusts the input: any bytes give complete, need_more or
// error, never a read outside the input (tests/fuzz/resp_parser_fuzz.cpp).
// Thread safety: one parser per connection; not shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::resp {

struct parser_limits {
  // One argument (a key or a value). Redis allows 512 MB; a Strata value is
  // at most 256 MiB and a connection buffers a whole command, so the
  // server's default is 64 MiB (--max-bulk).
  std::size_t max_bulk_bytes = std::size_t{64} << 20;
  // Arguments in one command (MSET k1 v1 k2 v2 ... counts 1 + 2n).
  std::size_t max_arguments = 1u << 20;
  // A line of the inline form, and any header line ("*N", "$N").
  std::size_t max_inline_bytes = 64u << 10;
};

enum class parse_status {
  complete,   // one command is at the front: arguments() and consumed()
  need_more,  // a prefix of a command: call again with more bytes
  error,      // a protocol error: message(); the connection should close
};

class request_parser {
 public:
  explicit request_parser(parser_limits limits = {}) : limits_(limits) {}

  // Looks for one command at the front of `input`. On complete, the
  // arguments view `input` (valid while it is) and consumed() is the
  // command's length; the parser is then ready for the next command. An
  // empty inline line is a complete command with no arguments (Redis
  // ignores those; so should the caller).
  parse_status parse(std::string_view input);

  const std::vector<std::string_view>& arguments() const noexcept { return arguments_; }
  std::size_t consumed() const noexcept { return consumed_; }
  const std::string& message() const noexcept { return message_; }

 private:
  struct span {
    std::size_t offset, size;
  };
  parse_status parse_array(std::string_view input);
  parse_status parse_inline(std::string_view input);
  parse_status fail(std::string message);
  bool header_too_long(std::string_view input, std::size_t start, std::size_t end) const;
  void finish(std::string_view input, std::size_t end);

  parser_limits limits_;
  // Progress through the command at the front, kept across need_more.
  std::size_t position_ = 0;    // bytes of it fully parsed so far
  std::int64_t expected_ = -1;  // its argument count, once its header is read
  std::vector<span> spans_;     // its arguments parsed so far
  std::vector<std::string_view> arguments_;
  std::size_t consumed_ = 0;
  std::string message_;
};

}  // namespace strata::resp
