// strata/error.hpp — the error codes every Strata API reports.
//
// Errors travel as std::error_code in strata's own category, so they compose
// with Asio's completion tokens (as_tuple, redirect_error) and with
// std::system_error when thrown. The category object is a process-wide
// singleton; all functions here are thread-safe.
#pragma once

#include <string>
#include <system_error>

namespace strata {

enum class errc : int {
  ok = 0,
  invalid_argument = 1,  // a key, value, option or call that can never succeed as given
  not_found = 2,         // only where an API says it returns it
  corruption = 3,        // bytes on disk failed a checksum or a format check
  io_error = 4,          // the kernel reported an I/O failure
  busy = 5,              // the resource is held by someone else (e.g. the db LOCK)
  closed = 6,            // the object was closed or shut down
  no_space = 7,          // ENOSPC / EDQUOT
  sealed = 8,            // a memtable no longer accepts writes
  out_of_memory = 9,     // a configured hard memory limit would be exceeded
  not_supported = 10,    // the operation exists but is not available here
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

// Short stable name of a code ("corruption"), for logs and test output.
const char* errc_name(errc e) noexcept;

}  // namespace strata

template <>
struct std::is_error_code_enum<strata::errc> : std::true_type {};
