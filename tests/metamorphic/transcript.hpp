// tests/metamorphic/transcript.hpp — what a run observed: one result per
// operation, rendered the same way by the model and by every db run, so
// that runs compare as plain strings; and the report of the first place
// two transcripts differ.
//
// A result is one or more items joined by '\n' (items never hold a raw
// newline: keys and values are escaped), e.g. a scan's positions; the
// report names the first differing item, not just the whole line.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "operation.hpp"

namespace strata::metamorphic {

using transcript = std::vector<std::string>;

inline const std::string ok_result = "ok";
inline const std::string end_item = "(end)";

inline std::string show_lookup(const std::optional<std::string>& v) { return v ? show_value(*v) : "not found"; }
inline std::string show_entry(const std::string& key, const std::string& value) {
  return show_key(key) + "=" + show_value(value);
}

inline std::vector<std::string> split_items(const std::string& result) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const auto nl = result.find('\n', start);
    items.push_back(result.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) return items;
    start = nl + 1;
  }
}

// Both results, or for long ones the first differing item with a little
// context on each side.
inline std::string explain_difference(const std::string& expected, const std::string& actual) {
  const auto e = split_items(expected), a = split_items(actual);
  if (e.size() == 1 && a.size() == 1) return "  model: " + expected + "\n  db:    " + actual + "\n";
  std::size_t i = 0;
  while (i < e.size() && i < a.size() && e[i] == a[i]) ++i;
  const auto show_around = [i](const std::vector<std::string>& items) {
    std::string out;
    const std::size_t from = i >= 2 ? i - 2 : 0;
    for (std::size_t j = from; j < items.size() && j <= i + 2; ++j) {
      out += (j == i ? "    >> #" : "       #") + std::to_string(j) + " " + items[j] + "\n";
    }
    if (i >= items.size()) out += "    >> #" + std::to_string(i) + " (nothing: the result ends here)\n";
    return out;
  };
  return "  first difference at item #" + std::to_string(i) + " (model has " + std::to_string(e.size()) +
         " items, db " + std::to_string(a.size()) + ")\n  model:\n" + show_around(e) + "  db:\n" + show_around(a);
}

// The first operation whose results differ, or nullopt if none do.
inline std::optional<std::size_t> first_difference(const transcript& expected, const transcript& actual) {
  const std::size_t n = std::min(expected.size(), actual.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (expected[i] != actual[i]) return i;
  }
  if (expected.size() != actual.size()) return n;
  return std::nullopt;
}

}  // namespace strata::metamorphic
