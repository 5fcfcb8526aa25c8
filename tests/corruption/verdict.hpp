// tests/corruption/verdict.hpp — judges what a damaged db did (open result,
// every get, one full forward scan) against the expectation for its damage
// (expectation.hpp), and sorts the trial into one outcome.
//
// A trial fails (a problem is recorded) on: an open that fails where it
// must not, or with a code other than corruption, or whose message does not
// name the damaged file; an open that succeeds where it must fail; a read
// error other than corruption, where none is allowed, or whose message
// lacks the file or an offset; a scan out of order; and any value, missing
// key or extra key that no allowed state explains. Reads that fail are
// excused from the comparison; a scan that ends with corruption must agree
// with an allowed state up to where it stopped (no gap before the error).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "expectation.hpp"
#include "reference_db.hpp"
#include "strata/error.hpp"

namespace strata::corruption {

enum class outcome { open_failed, reads_failed, intact, data_dropped, failed };
constexpr std::size_t outcome_count = 5;

struct key_read {
  std::string key;
  std::error_code error;
  std::optional<std::string> value;
  std::string message;  // db::last_error() after a failed read
};

struct scan_read {
  std::vector<std::pair<std::string, std::string>> entries;
  std::error_code error;
  std::string message;
};

struct observation {
  std::error_code open_error;
  std::string open_message;
  std::uint64_t recovered_records = 0;  // WAL records the open replayed
  std::vector<key_read> gets;           // when open succeeded
  scan_read scan;
};

struct verdict {
  outcome result = outcome::failed;
  std::vector<std::string> problems;
  std::string state;  // the allowed state the reads matched
};

namespace verdict_detail {

inline std::string shown(const std::optional<std::string>& v) {
  if (!v) return "(absent)";
  return "'" + (v->size() > 28 ? v->substr(0, 28) + "...'" : *v + "'");
}

// The first few differences between what was read and `state`; empty if
// they agree.
inline std::vector<std::string> differences(const observation& o, const db_state& state) {
  std::vector<std::string> out;
  const auto note = [&](std::string s) {
    if (out.size() < 4) out.push_back(std::move(s));
  };
  for (const auto& g : o.gets) {
    if (g.error) continue;
    const auto it = state.find(g.key);
    const std::optional<std::string> want = it == state.end() ? std::nullopt : std::optional<std::string>(it->second);
    if (g.value != want) note("get(" + g.key + ") = " + shown(g.value) + ", expected " + shown(want));
  }
  auto want = state.begin();
  for (std::size_t i = 0; i < o.scan.entries.size(); ++i, ++want) {
    const auto& [k, v] = o.scan.entries[i];
    if (want == state.end()) {
      note("scan entry " + std::to_string(i) + " " + k + " past the expected " + std::to_string(state.size()));
      break;
    }
    if (want->first != k || want->second != v) {
      note("scan entry " + std::to_string(i) + ": " + k + " = " + shown(v) + ", expected " + want->first + " = " +
           shown(want->second));
      break;
    }
  }
  if (!o.scan.error && o.scan.entries.size() < state.size())
    note("scan ended without error after " + std::to_string(o.scan.entries.size()) + " of " +
         std::to_string(state.size()) + " entries");
  return out;
}

inline bool names(const std::string& message, const std::string& file) {
  return message.find(file) != std::string::npos;
}

}  // namespace verdict_detail

inline verdict judge(const expectation& e, const reference_file& damaged, const observation& o) {
  using namespace verdict_detail;
  verdict v;
  if (o.open_error) {
    if (!e.open_may_fail) v.problems.push_back("open failed where it must not (" + e.rule + "): " + o.open_message);
    if (o.open_error != errc::corruption)
      v.problems.push_back(std::string("open failed with ") + o.open_error.message() +
                           ", not corruption: " + o.open_message);
    if (!e.known_gap && !names(o.open_message, damaged.name))
      v.problems.push_back("open error does not name " + damaged.name + ": " + o.open_message);
    v.result = v.problems.empty() ? outcome::open_failed : outcome::failed;
    return v;
  }
  if (e.open_must_fail) v.problems.push_back("open succeeded where it must fail (" + e.rule + ")");

  bool read_errors = false;
  const auto check_error = [&](const std::string& what, const std::error_code& ec, const std::string& message) {
    read_errors = true;
    if (!e.reads_may_fail) v.problems.push_back(what + " failed where no read may fail: " + message);
    if (ec != errc::corruption)
      v.problems.push_back(what + " failed with " + ec.message() + ", not corruption: " + message);
    if (!e.known_gap && (!names(message, damaged.name) || message.find("offset") == std::string::npos))
      v.problems.push_back(what + ": the error does not name " + damaged.name + " and an offset: " + message);
  };
  std::size_t failed_gets = 0;
  for (const auto& g : o.gets) {
    if (!g.error) continue;
    if (failed_gets++ < 3) check_error("get(" + g.key + ")", g.error, g.message);
  }
  if (o.scan.error) check_error("the scan", o.scan.error, o.scan.message);
  for (std::size_t i = 1; i < o.scan.entries.size(); ++i) {
    if (o.scan.entries[i - 1].first >= o.scan.entries[i].first) {
      v.problems.push_back("scan out of order at entry " + std::to_string(i) + ": " + o.scan.entries[i - 1].first +
                           " then " + o.scan.entries[i].first);
      break;
    }
  }

  if (e.known_gap) {  // any contents: report what happened, judge only the errors and the scan order
    v.state = "known gap: " + e.rule;
    v.result = !v.problems.empty() ? outcome::failed : read_errors ? outcome::reads_failed : outcome::data_dropped;
    return v;
  }
  const allowed_state* matched = nullptr;
  for (const auto& s : e.states) {
    if (differences(o, s.contents).empty()) {
      matched = &s;
      break;
    }
  }
  if (matched == nullptr) {
    if (e.states.empty()) {
      v.problems.push_back("the db opened anyway, replaying " + std::to_string(o.recovered_records) +
                           " WAL records; what it holds:");
      for (const auto& d : differences(o, e.full_history)) v.problems.push_back("vs the full history: " + d);
    }
    for (const auto& s : e.states) {
      for (const auto& d : differences(o, s.contents)) v.problems.push_back("vs " + s.name + ": " + d);
    }
  } else {
    v.state = matched->name;
  }
  if (matched != nullptr && matched->full && !read_errors && e.hits_checked_bytes)
    v.problems.push_back("damage to checksummed bytes went unnoticed: open and every read succeeded (" + e.rule + ")");

  if (!v.problems.empty()) {
    v.result = outcome::failed;
  } else if (read_errors) {
    v.result = outcome::reads_failed;
  } else {
    v.result = matched->full ? outcome::intact : outcome::data_dropped;
  }
  return v;
}

}  // namespace strata::corruption
