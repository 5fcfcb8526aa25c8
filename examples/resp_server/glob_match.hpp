// resp_server/glob_match.hpp — the glob patterns of Redis's SCAN MATCH and
// KEYS: `*` any run of bytes, `?` one byte, `[abc]`, `[^a-z]` classes,
// `\x` the byte x literally. Matching is on bytes (keys are binary).
//
// literal_prefix() is what lets SCAN MATCH "user:*" seek straight to
// "user:" instead of examining every key: every key the pattern matches
// starts with it.
// Pure functions: safe anywhere.
#pragma once

#include <string>
#include <string_view>

namespace strata::resp {

bool glob_match(std::string_view pattern, std::string_view text) noexcept;

// The bytes every match starts with: the pattern up to its first special
// character, with escapes resolved.
std::string literal_prefix(std::string_view pattern);

}  // namespace strata::resp
