// resp_server/resp_writer.hpp — appends RESP2 replies to an output buffer.
//
// Each function appends one reply (or, for array_header, the header of an
// array whose elements the caller appends next). Error messages must not
// contain "\r" or "\n" (they are one line); error() replaces them with
// spaces so that a message from the store can never break the framing.
// Stateless free functions: safe anywhere.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata::resp {

inline void simple(std::string& out, std::string_view s) {
  out += '+';
  out += s;
  out += "\r\n";
}

inline void ok(std::string& out) { out += "+OK\r\n"; }

// `message` starts with the error's kind, as Redis does ("ERR ...", "NOAUTH ...").
inline void error(std::string& out, std::string_view message) {
  out += '-';
  for (const char c : message) out += (c == '\r' || c == '\n') ? ' ' : c;
  out += "\r\n";
}

// "<type><n>\r\n": the header of integers, bulk strings and arrays. By hand
// rather than with fmt: it is on every reply's path.
inline void header(std::string& out, char type, std::int64_t n) {
  char text[24];
  text[0] = type;
  const auto end = std::to_chars(text + 1, text + sizeof text - 2, n).ptr;
  end[0] = '\r';
  end[1] = '\n';
  out.append(text, static_cast<std::size_t>(end + 2 - text));
}

inline void integer(std::string& out, std::int64_t n) { header(out, ':', n); }

inline void bulk(std::string& out, std::string_view s) {
  header(out, '$', static_cast<std::int64_t>(s.size()));
  out += s;
  out += "\r\n";
}

inline void null_bulk(std::string& out) { out += "$-1\r\n"; }

// A value that may be absent (a GET's answer): bulk string or null.
inline void optional_bulk(std::string& out, const std::optional<std::string>& value) {
  if (value) {
    bulk(out, *value);
  } else {
    null_bulk(out);
  }
}

inline void array_header(std::string& out, std::size_t n) { header(out, '*', static_cast<std::int64_t>(n)); }

}  // namespace strata::resp
