#include "resp_parser.hpp"

#include <charconv>
#include <utility>

namespace strata::resp {

namespace {

// The line that starts at `from`: its end (the '\r' of "\r\n"), or npos if
// "\r\n" has not arrived yet.
std::size_t line_end(std::string_view input, std::size_t from) {
  const std::size_t cr = input.find('\r', from);
  if (cr == std::string_view::npos || cr + 1 >= input.size()) return std::string_view::npos;
  return cr;
}

// A header's number ("*3", "$10"): digits only, with an optional leading
// '-' (for "-1", which a client never needs but Redis accepts as null).
bool parse_number(std::string_view text, std::int64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

}  // namespace

// Whether the header line at `start` is longer than a header may be. The
// same answer whether or not its end has arrived (`end`: its '\r', or
// npos), so that how the bytes were split into reads never changes the
// outcome: what is known of the line is all of it before its first '\r'.
bool request_parser::header_too_long(std::string_view input, std::size_t start, std::size_t end) const {
  std::size_t known = end;
  if (known == std::string_view::npos) {
    known = input.find('\r', start);
    if (known == std::string_view::npos) known = input.size();
  }
  return known - start > limits_.max_inline_bytes;
}

parse_status request_parser::fail(std::string message) {
  message_ = std::move(message);
  return parse_status::error;
}

void request_parser::finish(std::string_view input, std::size_t end) {
  arguments_.clear();
  for (const span& s : spans_) arguments_.push_back(input.substr(s.offset, s.size));
  consumed_ = end;
  position_ = 0;
  expected_ = -1;
  spans_.clear();
}

parse_status request_parser::parse(std::string_view input) {
  if (input.empty()) return parse_status::need_more;
  return input[0] == '*' ? parse_array(input) : parse_inline(input);
}

parse_status request_parser::parse_array(std::string_view input) {
  if (expected_ < 0) {
    const std::size_t end = line_end(input, 1);
    if (header_too_long(input, 0, end)) return fail("Protocol error: too big mbulk count string");
    if (end == std::string_view::npos) return parse_status::need_more;
    if (input[end + 1] != '\n') return fail("Protocol error: expected '\\n' after the array length");
    std::int64_t count = 0;
    if (!parse_number(input.substr(1, end - 1), count) || count > static_cast<std::int64_t>(limits_.max_arguments))
      return fail("Protocol error: invalid multibulk length");
    position_ = end + 2;
    if (count <= 0) {  // "*0" and "*-1": an empty command, as Redis reads them
      finish(input, position_);
      return parse_status::complete;
    }
    expected_ = count;
    spans_.reserve(static_cast<std::size_t>(count < 1024 ? count : 1024));
  }
  while (static_cast<std::int64_t>(spans_.size()) < expected_) {
    if (position_ >= input.size()) return parse_status::need_more;
    if (input[position_] != '$')
      return fail(std::string("Protocol error: expected '$', got '") + input[position_] + "'");
    const std::size_t end = line_end(input, position_ + 1);
    if (header_too_long(input, position_, end)) return fail("Protocol error: too big bulk count string");
    if (end == std::string_view::npos) return parse_status::need_more;
    if (input[end + 1] != '\n') return fail("Protocol error: expected '\\n' after the bulk length");
    std::int64_t length = 0;
    if (!parse_number(input.substr(position_ + 1, end - position_ - 1), length) || length < 0 ||
        static_cast<std::uint64_t>(length) > limits_.max_bulk_bytes)
      return fail("Protocol error: invalid bulk length");
    const std::size_t data = end + 2;
    const auto size = static_cast<std::size_t>(length);
    if (input.size() - data < size + 2) return parse_status::need_more;  // the header is read again next time
    if (input[data + size] != '\r' || input[data + size + 1] != '\n')
      return fail("Protocol error: expected '\\r\\n' after the bulk string");
    spans_.push_back({data, size});
    position_ = data + size + 2;
  }
  finish(input, position_);
  return parse_status::complete;
}

parse_status request_parser::parse_inline(std::string_view input) {
  const std::size_t newline = input.find('\n');
  if (newline == std::string_view::npos) {
    if (input.size() > limits_.max_inline_bytes) return fail("Protocol error: too big inline request");
    return parse_status::need_more;
  }
  if (newline > limits_.max_inline_bytes) return fail("Protocol error: too big inline request");
  std::size_t end = newline;
  if (end > 0 && input[end - 1] == '\r') --end;
  // Space-separated words. (Redis also reads quoted words here; clients
  // that need arbitrary bytes use the array form, which every client
  // library does.)
  spans_.clear();
  std::size_t i = 0;
  while (i < end) {
    while (i < end && is_space(input[i])) ++i;
    const std::size_t start = i;
    while (i < end && !is_space(input[i])) ++i;
    if (i > start) {
      if (spans_.size() == limits_.max_arguments) return fail("Protocol error: invalid multibulk length");
      spans_.push_back({start, i - start});
    }
  }
  finish(input, newline + 1);
  return parse_status::complete;
}

}  // namespace strata::resp
