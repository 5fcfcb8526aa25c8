// resp_server/resp_writer.hpp — appends RESP2 replies to an output buffer.
//
// Each function appends one reply (or, for array_header, the header of an
// array whose elements the caller appends next). Error messages must not
// contain "\r" or "\n" (they are one line); error() replaces them with
// spaces so that a message from the store can never break the framing.
// Stateless free functions: safe anywhere.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

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

inline void integer(std::string& out, std::int64_t n) { fmt::format_to(std::back_inserter(out), ":{}\r\n", n); }

inline void bulk(std::string& out, std::string_view s) {
  fmt::format_to(std::back_inserter(out), "${}\r\n", s.size());
  out += s;
  out += "\r\n";
}

inline void null_bulk(std::string& out) { out += "$-1\r\n"; }

inline void array_header(std::string& out, std::size_t n) { fmt::format_to(std::back_inserter(out), "*{}\r\n", n); }

}  // namespace strata::resp
