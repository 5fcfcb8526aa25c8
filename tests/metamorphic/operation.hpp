// tests/metamorphic/operation.hpp — one step of a metamorphic run (a put, a
// scan, a reopen, ...) and its readable text.
//
// An operation is plain data: the generator makes them, and every runner
// (the std::map model and the db under each option set) executes the same
// list. describe() renders an operation for failure reports; show_key() and
// show_value() render keys and values the same way everywhere (printable,
// escaped, long ones summarized with their length and a hash so that two
// different values never print alike).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace strata::metamorphic {

enum class op_kind {
  put,
  erase,
  write_batch,
  get,
  get_many,
  take_snapshot,
  release_snapshot,
  scan,
  flush,
  compact,
  compact_range,
  reopen,
};
inline constexpr int op_kind_count = 12;

// How a scan moves its iterator.
enum class scan_kind {
  forward_all,              // seek_to_first, then next to the end
  backward_all,             // seek_to_last, then prev to the start
  seek_then_next,           // seek(target), then up to `steps` next
  seek_for_prev_then_prev,  // seek_for_prev(target), then up to `steps` prev
  walk,                     // seek(target), then `moves` ('n' next, 'p' prev), turning around
};

struct batch_entry {
  bool is_put = true;
  std::string key;
  std::string value;
};

struct scan_spec {
  scan_kind kind = scan_kind::forward_all;
  std::string target;  // seek targets
  std::size_t steps = 0;
  std::string moves;          // walk: 'n' and 'p'
  bool use_try_next = false;  // forward steps through try_next() first
  std::optional<std::string> lower_bound, upper_bound, prefix;
};

struct operation {
  op_kind kind = op_kind::get;
  std::string key;    // put, erase, get
  std::string value;  // put
  bool sync = false;  // writes: write_options::sync
  std::vector<batch_entry> batch;
  std::vector<std::string> keys;  // get_many
  // take/release: the slot; reads: the snapshot slot read at, -1 = newest state.
  int snapshot_slot = -1;
  scan_spec scan;
  std::optional<std::string> range_begin, range_end;  // compact_range
};

// FNV-1a, to tell long values apart in reports.
inline std::uint32_t fnv1a(const std::string& s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

inline std::string escaped(const std::string& s, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// Short strings in full; longer ones as their start, length and hash.
inline std::string show_bytes(const std::string& s, std::size_t full_limit, std::size_t head) {
  if (s.size() <= full_limit) return "\"" + escaped(s, s.size()) + "\"";
  char tail[48];
  std::snprintf(tail, sizeof tail, "...\"(%zu bytes, fnv %08x)", s.size(), fnv1a(s));
  return "\"" + escaped(s, head) + tail;
}
inline std::string show_key(const std::string& k) { return show_bytes(k, 40, 24); }
inline std::string show_value(const std::string& v) { return show_bytes(v, 20, 12); }
inline std::string show_optional_key(const std::optional<std::string>& k) { return k ? show_key(*k) : "none"; }

inline std::string show_read_at(int snapshot_slot) {
  return snapshot_slot < 0 ? std::string() : " @snapshot" + std::to_string(snapshot_slot);
}

// After positioning, a scan moves up to scan_move_limit() times (stopping
// early once the iterator is invalid), the i-th move being scan_move(i):
// 'n' next, 'p' prev. Scans to the end stop after a cap far above the key
// space, so an iterator that never ends shows as a difference, not a hang.
inline constexpr std::size_t scan_to_end_cap = 10000;
inline std::size_t scan_move_limit(const scan_spec& s) {
  switch (s.kind) {
    case scan_kind::forward_all:
    case scan_kind::backward_all:
      return scan_to_end_cap;
    case scan_kind::seek_then_next:
    case scan_kind::seek_for_prev_then_prev:
      return s.steps;
    case scan_kind::walk:
      return s.moves.size();
  }
  return 0;
}
inline char scan_move(const scan_spec& s, std::size_t i) {
  switch (s.kind) {
    case scan_kind::forward_all:
    case scan_kind::seek_then_next:
      return 'n';
    case scan_kind::backward_all:
    case scan_kind::seek_for_prev_then_prev:
      return 'p';
    case scan_kind::walk:
      return s.moves[i];
  }
  return 'n';
}

inline std::string describe_scan(const scan_spec& s) {
  std::string out = "scan";
  if (s.lower_bound) out += " lower=" + show_key(*s.lower_bound);
  if (s.upper_bound) out += " upper=" + show_key(*s.upper_bound);
  if (s.prefix) out += " prefix=" + show_key(*s.prefix);
  switch (s.kind) {
    case scan_kind::forward_all:
      out += ": seek_to_first, next to the end";
      break;
    case scan_kind::backward_all:
      out += ": seek_to_last, prev to the start";
      break;
    case scan_kind::seek_then_next:
      out += ": seek(" + show_key(s.target) + "), next x" + std::to_string(s.steps);
      break;
    case scan_kind::seek_for_prev_then_prev:
      out += ": seek_for_prev(" + show_key(s.target) + "), prev x" + std::to_string(s.steps);
      break;
    case scan_kind::walk:
      out += ": seek(" + show_key(s.target) + "), moves " + s.moves;
      break;
  }
  if (s.use_try_next) out += " (try_next)";
  return out;
}

inline std::string describe(const operation& op) {
  const std::string sync = op.sync ? " (sync)" : "";
  switch (op.kind) {
    case op_kind::put:
      return "put " + show_key(op.key) + " = " + show_value(op.value) + sync;
    case op_kind::erase:
      return "erase " + show_key(op.key) + sync;
    case op_kind::write_batch: {
      std::string out = "write_batch" + sync + " {";
      for (const auto& e : op.batch) {
        out +=
            e.is_put ? " put " + show_key(e.key) + "=" + show_value(e.value) + ";" : " erase " + show_key(e.key) + ";";
      }
      return out + " }";
    }
    case op_kind::get:
      return "get " + show_key(op.key) + show_read_at(op.snapshot_slot);
    case op_kind::get_many: {
      std::string out = "get_many [";
      for (std::size_t i = 0; i < op.keys.size(); ++i) out += (i ? ", " : "") + show_key(op.keys[i]);
      return out + "]" + show_read_at(op.snapshot_slot);
    }
    case op_kind::take_snapshot:
      return "snapshot -> slot " + std::to_string(op.snapshot_slot);
    case op_kind::release_snapshot:
      return "release snapshot slot " + std::to_string(op.snapshot_slot);
    case op_kind::scan:
      return describe_scan(op.scan) + show_read_at(op.snapshot_slot);
    case op_kind::flush:
      return "flush";
    case op_kind::compact:
      return "compact";
    case op_kind::compact_range:
      return "compact_range [" + show_optional_key(op.range_begin) + ", " + show_optional_key(op.range_end) + "]";
    case op_kind::reopen:
      return "reopen (close, drop snapshots, open)";
  }
  return "?";
}

}  // namespace strata::metamorphic
