// tests/metamorphic/operation_generator.hpp — a random but reproducible list
// of operations from a seed.
//
// Guarantees: the same seed and count give the same list on every platform
// (own splitmix64 generator, no std:: distributions); every snapshot read
// or release names a slot that holds a live snapshot at that point (a
// reopen empties every slot). Keys come from a small skewed key space (a
// few hot keys, so overwrites, erases of live keys and versions that meet
// in compactions are common), in four prefix groups, with a few long keys,
// the empty key and keys with 0xff bytes; values range from empty to 4 KiB.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "operation.hpp"

namespace strata::metamorphic {

inline constexpr int snapshot_slots = 4;

class operation_generator {
 public:
  explicit operation_generator(std::uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ull + 0x1234567ull) {}

  std::vector<operation> generate(std::size_t count) {
    std::vector<operation> ops;
    ops.reserve(count);
    for (std::size_t i = 0; i < count; ++i) ops.push_back(next_operation(i));
    return ops;
  }

 private:
  std::uint64_t next_u64() {  // splitmix64
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next_u64() % n); }
  bool percent(std::size_t p) { return below(100) < p; }

  // The key of index i: group letter, two digits, and for some indexes a
  // long suffix, so that keys are prefixes of other keys and some keys
  // span much of a small block.
  static std::string key_of(std::size_t i) {
    std::string k(1, "abcd"[i % 4]);
    const std::size_t n = i / 4;
    k += static_cast<char>('0' + n / 10 % 10);
    k += static_cast<char>('0' + n % 10);
    if (i % 9 == 0) k += "/" + std::string(20 + i % 40, static_cast<char>('a' + i % 26));
    if (i % 31 == 30) k += "/" + std::string(1500, 'L');
    return k;
  }

  std::string pick_key() {
    const std::size_t r = below(1000);
    if (r < 4) return "";
    if (r < 12) {
      std::string k = "\xff";
      k += static_cast<char>('0' + below(4));
      if (percent(50)) k += "\xff";
      return k;
    }
    // The smaller of two draws: low indexes (the hot keys) come far more often.
    return key_of(std::min(below(key_space_), below(key_space_)));
  }

  // Bounds and seek targets: keys, but also strings between and around them.
  std::string pick_bound() {
    switch (below(6)) {
      case 0:
        return std::string(1, "abcde"[below(5)]);
      case 1: {
        std::string b(1, "abcd"[below(4)]);
        b += static_cast<char>('0' + below(10));
        return b;
      }
      case 2:
        return below(4) == 0 ? std::string() : std::string("\xff");
      default:
        return pick_key();
    }
  }

  std::string pick_prefix() {
    static const std::array<const char*, 10> prefixes = {"a", "b", "c1", "d0", "a00", "b0", "a00/", "e", "", "\xff"};
    return prefixes[below(prefixes.size())];
  }

  // Empty, short, medium, and up to 4 KiB; half repetitive (so lz4 has
  // something to compress), half not. Each starts with the writer's
  // operation index and entry number, so every written value is distinct.
  std::string make_value(std::size_t op_index, std::size_t entry) {
    const std::size_t r = below(100);
    std::size_t size = 0;
    if (r < 10) {
      size = 0;
    } else if (r < 50) {
      size = 1 + below(32);
    } else if (r < 85) {
      size = 33 + below(480);
    } else {
      size = 1024 + below(3073);
    }
    std::string v = "v" + std::to_string(op_index) + "." + std::to_string(entry) + "|";
    if (size <= v.size()) return v.substr(0, size);
    const bool repetitive = percent(50);
    v.reserve(size);
    while (v.size() < size) {
      v += repetitive ? static_cast<char>('a' + (v.size() / 7) % 26) : static_cast<char>(' ' + below(95));
    }
    return v;
  }

  int live_slot() {
    std::vector<int> live;
    for (int s = 0; s < snapshot_slots; ++s) {
      if (live_[static_cast<std::size_t>(s)]) live.push_back(s);
    }
    return live.empty() ? -1 : live[below(live.size())];
  }
  // Reads are at a snapshot a third of the time when one is alive.
  int read_slot() { return percent(33) ? live_slot() : -1; }

  void fill_scan(scan_spec& s) {
    const std::size_t bounds = below(100);
    if (bounds >= 40 && bounds < 55) s.lower_bound = pick_bound();
    if (bounds >= 55 && bounds < 70) s.upper_bound = pick_bound();
    if (bounds >= 70 && bounds < 85) {
      s.lower_bound = pick_bound();
      s.upper_bound = pick_bound();
    }
    if (bounds >= 85) {
      s.prefix = pick_prefix();
      if (percent(35)) s.lower_bound = pick_bound();
      if (percent(35)) s.upper_bound = pick_bound();
    }
    s.use_try_next = percent(50);
    switch (below(5)) {
      case 0:
        s.kind = scan_kind::forward_all;
        break;
      case 1:
        s.kind = scan_kind::backward_all;
        break;
      case 2:
        s.kind = scan_kind::seek_then_next;
        s.target = pick_bound();
        s.steps = below(30);
        break;
      case 3:
        s.kind = scan_kind::seek_for_prev_then_prev;
        s.target = pick_bound();
        s.steps = below(30);
        break;
      default:
        s.kind = scan_kind::walk;
        s.target = pick_bound();
        for (std::size_t n = 5 + below(30); n > 0; --n) s.moves += percent(60) ? 'n' : 'p';
        break;
    }
  }

  // Weights per mille: writes dominate so that tables form; reads check
  // them; the structural operations are rare but frequent enough to
  // happen many times in a run.
  struct weighted {
    op_kind kind;
    std::size_t weight;
  };
  static constexpr std::array<weighted, op_kind_count> weights_ = {{
      {op_kind::put, 300},
      {op_kind::erase, 80},
      {op_kind::write_batch, 100},
      {op_kind::get, 150},
      {op_kind::get_many, 60},
      {op_kind::take_snapshot, 30},
      {op_kind::release_snapshot, 20},
      {op_kind::scan, 200},
      {op_kind::flush, 12},
      {op_kind::compact, 5},
      {op_kind::compact_range, 10},
      {op_kind::reopen, 10},
  }};
  static bool structural(op_kind k) {
    return k == op_kind::flush || k == op_kind::compact || k == op_kind::compact_range || k == op_kind::reopen;
  }

  // The run alternates between mixed phases and quiet ones without flushes,
  // compactions or reopens, long enough (100-300 operations, some 40-120
  // KB written) for a medium memtable to fill and flush on its own.
  op_kind pick_kind() {
    if (phase_left_ == 0) {
      phase_left_ = 100 + below(201);
      quiet_ = ++phases_ % 3 == 0;  // every third phase: an even mix in every run
    }
    --phase_left_;
    std::size_t total = 0;
    for (const auto& w : weights_) total += quiet_ && structural(w.kind) ? 0 : w.weight;
    std::size_t r = below(total);
    for (const auto& w : weights_) {
      const std::size_t weight = quiet_ && structural(w.kind) ? 0 : w.weight;
      if (r < weight) return w.kind;
      r -= weight;
    }
    return op_kind::get;
  }

  operation next_operation(std::size_t index) {
    operation op;
    op.kind = pick_kind();
    if (op.kind == op_kind::release_snapshot && live_slot() < 0) op.kind = op_kind::take_snapshot;
    switch (op.kind) {
      case op_kind::put:
        op.key = pick_key();
        op.value = make_value(index, 0);
        op.sync = percent(2);
        break;
      case op_kind::erase:
        op.key = pick_key();
        op.sync = percent(2);
        break;
      case op_kind::write_batch: {
        const std::size_t n = percent(3) ? 0 : 2 + below(11);
        for (std::size_t e = 0; e < n; ++e) {
          batch_entry entry;
          entry.is_put = percent(70);
          // Sometimes a key this batch already wrote: the later entry wins.
          entry.key = e > 0 && percent(25) ? op.batch[below(e)].key : pick_key();
          if (entry.is_put) entry.value = make_value(index, e);
          op.batch.push_back(std::move(entry));
        }
        op.sync = percent(2);
        break;
      }
      case op_kind::get:
        op.key = pick_key();
        op.snapshot_slot = read_slot();
        break;
      case op_kind::get_many:
        for (std::size_t n = 1 + below(10); n > 0; --n) {
          op.keys.push_back(!op.keys.empty() && percent(20) ? op.keys[below(op.keys.size())] : pick_key());
        }
        op.snapshot_slot = read_slot();
        break;
      case op_kind::take_snapshot:
        op.snapshot_slot = static_cast<int>(below(snapshot_slots));
        live_[static_cast<std::size_t>(op.snapshot_slot)] = true;
        break;
      case op_kind::release_snapshot:
        op.snapshot_slot = live_slot();
        live_[static_cast<std::size_t>(op.snapshot_slot)] = false;
        break;
      case op_kind::scan:
        fill_scan(op.scan);
        op.snapshot_slot = read_slot();
        break;
      case op_kind::compact_range:
        if (percent(85)) op.range_begin = pick_bound();
        if (percent(85)) op.range_end = pick_bound();
        break;
      case op_kind::reopen:
        live_.fill(false);
        break;
      case op_kind::flush:
      case op_kind::compact:
        break;
    }
    return op;
  }

  static constexpr std::size_t key_space_ = 256;
  std::uint64_t state_;
  std::size_t phase_left_ = 0;
  bool quiet_ = false;
  std::size_t phases_ = 0;
  std::array<bool, snapshot_slots> live_{};
};

inline std::vector<operation> generate_operations(std::uint64_t seed, std::size_t count) {
  return operation_generator(seed).generate(count);
}

}  // namespace strata::metamorphic
