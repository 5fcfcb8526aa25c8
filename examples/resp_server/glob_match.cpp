#include "glob_match.hpp"

namespace strata::resp {

namespace {

// Matches the class that starts after '[' at pattern[i]; on return i is the
// index of its closing ']' (or the pattern's end if it has none, which
// Redis also treats as the end of the class).
bool class_matches(std::string_view pattern, std::size_t& i, unsigned char c) noexcept {
  bool negate = false;
  if (i < pattern.size() && pattern[i] == '^') {
    negate = true;
    ++i;
  }
  bool matched = false;
  while (i < pattern.size() && pattern[i] != ']') {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      ++i;
      matched |= static_cast<unsigned char>(pattern[i]) == c;
    } else if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      auto lo = static_cast<unsigned char>(pattern[i]);
      auto hi = static_cast<unsigned char>(pattern[i + 2]);
      if (lo > hi) std::swap(lo, hi);
      matched |= c >= lo && c <= hi;
      i += 2;
    } else {
      matched |= static_cast<unsigned char>(pattern[i]) == c;
    }
    ++i;
  }
  return matched != negate;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) noexcept {
  // Iterative, with one backtrack point (the last '*'): linear in practice
  // and never recursive, so no pattern can exhaust the stack.
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    bool advanced = false;
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        star = p++;
        star_text = t;
        continue;
      }
      const auto c = static_cast<unsigned char>(text[t]);
      if (pc == '?') {
        advanced = true;
        ++p;
      } else if (pc == '[') {
        std::size_t i = p + 1;
        if (class_matches(pattern, i, c)) {
          advanced = true;
          p = i < pattern.size() ? i + 1 : i;
        }
      } else if (pc == '\\' && p + 1 < pattern.size()) {
        if (static_cast<unsigned char>(pattern[p + 1]) == c) {
          advanced = true;
          p += 2;
        }
      } else if (static_cast<unsigned char>(pc) == c) {
        advanced = true;
        ++p;
      }
    }
    if (advanced) {
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;  // let the last '*' swallow one more byte
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string literal_prefix(std::string_view pattern) {
  std::string prefix;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '*' || c == '?' || c == '[') break;
    if (c == '\\') {
      if (i + 1 == pattern.size()) break;
      prefix += pattern[++i];
    } else {
      prefix += c;
    }
  }
  return prefix;
}

}  // namespace strata::resp
