// tests/corruption/damage.hpp — one random piece of damage to one file of
// the reference db: 1-3 flipped bits, a truncation, a zeroed 4 KiB range or
// appended garbage. pick_damage() is a pure function of the random
// generator's state, so a trial's seed reproduces its damage exactly.
//
// Offsets go to hot spots (fragment headers, block padding, the last
// record; a table's footer and metadata blocks) one time in eight, and in a
// log file with a long zero tail (a WAL after synced writes holds up to
// 1 MiB of zeros) to its records three times out of four otherwise, so that
// most trials hit data rather than zeros. A zeroed range always
// changes at least one byte (else the trial is a bit flip instead).
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "file_layout.hpp"
#include "reference_db.hpp"

namespace strata::corruption {

enum class damage_kind { bit_flips, truncation, zeroed_range, appended_garbage };

// How often each kind of file is picked, in parts.
struct file_weights {
  int wal = 35, table = 35, manifest = 20, current = 10;
  int of(file_kind k) const {
    switch (k) {
      case file_kind::wal:
        return wal;
      case file_kind::table:
        return table;
      case file_kind::manifest:
        return manifest;
      case file_kind::current:
        return current;
    }
    return 0;
  }
};

struct damage {
  static constexpr std::uint64_t zeroed_bytes = 4096;

  damage_kind kind{};
  std::size_t file = 0;                              // index in reference_db::files
  std::vector<std::pair<std::uint64_t, int>> flips;  // byte offset, bit
  std::uint64_t offset = 0;                          // truncation: new size; zeroed range: first byte
  std::string garbage;                               // appended

  std::string apply(std::string bytes) const {
    switch (kind) {
      case damage_kind::bit_flips:
        for (const auto& [at, bit] : flips) bytes[at] = static_cast<char>(bytes[at] ^ (1 << bit));
        break;
      case damage_kind::truncation:
        bytes.resize(offset);
        break;
      case damage_kind::zeroed_range:
        std::fill_n(bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                    std::min<std::uint64_t>(zeroed_bytes, bytes.size() - offset), '\0');
        break;
      case damage_kind::appended_garbage:
        bytes += garbage;
        break;
    }
    return bytes;
  }

  // The bytes of the original file that no longer read the same (removed
  // or changed); appended bytes change none.
  std::vector<byte_range> changed(const std::string& original) const {
    std::vector<byte_range> out;
    if (kind == damage_kind::truncation) return {{offset, original.size()}};
    const std::string after = apply(original);
    for (std::uint64_t i = 0; i < original.size(); ++i) {
      if (after[i] == original[i]) continue;
      if (!out.empty() && out.back().end == i) {
        ++out.back().end;
      } else {
        out.push_back({i, i + 1});
      }
    }
    return out;
  }

  // Where the damage is, in the terms of the file's format (for reports).
  std::string region(const reference_file& f) const {
    const auto region_of = [&](std::uint64_t at) -> std::string {
      if (f.log) return f.log->region_of(at);
      if (f.table) return f.table->region_of(at);
      return "contents";
    };
    switch (kind) {
      case damage_kind::bit_flips: {
        std::set<std::string> names;
        for (const auto& [at, bit] : flips) names.insert(region_of(at));
        std::string out;
        for (const auto& n : names) out += (out.empty() ? "" : " + ") + n;
        return "flip in " + out;
      }
      case damage_kind::truncation:
        return "truncated in " + region_of(offset);
      case damage_kind::zeroed_range:
        return "zeroed from " + region_of(offset);
      case damage_kind::appended_garbage:
        return "garbage appended";
    }
    return "?";
  }

  std::string describe(const reference_file& f) const {
    std::string out;
    switch (kind) {
      case damage_kind::bit_flips:
        out = "bit flips in " + f.name + " (" + std::to_string(f.bytes.size()) + " bytes) at";
        for (const auto& [at, bit] : flips) out += " " + std::to_string(at) + ":bit" + std::to_string(bit);
        break;
      case damage_kind::truncation:
        out = "truncated " + f.name + " from " + std::to_string(f.bytes.size()) + " to " + std::to_string(offset) +
              " bytes";
        break;
      case damage_kind::zeroed_range:
        out = "zeroed " + f.name + " bytes [" + std::to_string(offset) + ", " +
              std::to_string(std::min<std::uint64_t>(offset + zeroed_bytes, f.bytes.size())) + ")";
        break;
      case damage_kind::appended_garbage:
        out = "appended " + std::to_string(garbage.size()) + " garbage bytes to " + f.name + " (" +
              std::to_string(f.bytes.size()) + " bytes)";
        break;
    }
    return out + " [" + region(f) + "]";
  }
};

namespace damage_detail {

template <typename T>
T uniform(std::mt19937_64& rng, T lo, T hi) {  // inclusive
  return std::uniform_int_distribution<T>(lo, hi)(rng);
}

// Parts of a file that uniform offsets rarely reach: fragment headers,
// block padding and the last record of a log; the footer and the
// metadata blocks of a table. Grouped so that each group is as likely.
inline std::vector<std::vector<byte_range>> hot_spots(const reference_file& f) {
  std::vector<std::vector<byte_range>> groups;
  if (f.log && !f.log->fragments.empty()) {
    const log_layout& log = *f.log;
    std::vector<byte_range> headers, padding, last;
    std::uint64_t previous_end = 0;
    for (const auto& fr : log.fragments) {
      headers.push_back({fr.bytes.begin, fr.bytes.begin + log_layout::header_size});
      if (fr.bytes.begin > previous_end) padding.push_back({previous_end, fr.bytes.begin});
      previous_end = fr.bytes.end;
      if (fr.record + 1 == log.records.size()) last.push_back(fr.bytes);
    }
    for (auto* g : {&headers, &padding, &last}) {
      if (!g->empty()) groups.push_back(std::move(*g));
    }
  } else if (f.table) {
    const table_layout& t = *f.table;
    groups.push_back({{t.file_size - table_layout::footer_size, t.file_size}});
    for (const auto& r : {t.filter, t.index, t.properties}) {
      if (r.end > r.begin) groups.push_back({r});
    }
  }
  return groups;
}

// An offset in [0, size): one time in eight in a hot spot; else, in a log
// with a zero tail, in its records three times out of four; else uniform.
inline std::uint64_t pick_offset(const reference_file& f, std::mt19937_64& rng) {
  const std::uint64_t size = f.bytes.size();
  if (uniform(rng, 0, 7) == 0) {
    const auto groups = hot_spots(f);
    if (!groups.empty()) {
      const auto& group = groups[uniform<std::size_t>(rng, 0, groups.size() - 1)];
      const byte_range r = group[uniform<std::size_t>(rng, 0, group.size() - 1)];
      return uniform<std::uint64_t>(rng, r.begin, r.end - 1);
    }
  }
  if (f.log && f.log->records_end > 0 && f.log->records_end < size && uniform(rng, 0, 3) > 0)
    return uniform<std::uint64_t>(rng, 0, f.log->records_end - 1);
  return uniform<std::uint64_t>(rng, 0, size - 1);
}

}  // namespace damage_detail

inline damage pick_damage(const reference_db& ref, const file_weights& weights, std::mt19937_64& rng) {
  using namespace damage_detail;
  damage d;
  const int kind_roll = uniform(rng, 0, 99);
  d.kind = kind_roll < 70   ? damage_kind::bit_flips
           : kind_roll < 80 ? damage_kind::truncation
           : kind_roll < 90 ? damage_kind::zeroed_range
                            : damage_kind::appended_garbage;
  // A kind of file by weight, then one of its files; only garbage can be
  // appended to an empty file.
  std::vector<std::size_t> candidates;
  for (int attempt = 0; candidates.empty(); ++attempt) {
    if (attempt > 100) throw std::runtime_error("no file to damage");
    int total = 0;
    for (const file_kind k : {file_kind::wal, file_kind::table, file_kind::manifest, file_kind::current})
      total += weights.of(k);
    int roll = uniform(rng, 0, total - 1);
    file_kind chosen = file_kind::current;
    for (const file_kind k : {file_kind::wal, file_kind::table, file_kind::manifest, file_kind::current}) {
      if (roll < weights.of(k)) {
        chosen = k;
        break;
      }
      roll -= weights.of(k);
    }
    for (std::size_t i = 0; i < ref.files.size(); ++i) {
      const auto& f = ref.files[i];
      if (f.kind == chosen && (!f.bytes.empty() || d.kind == damage_kind::appended_garbage)) candidates.push_back(i);
    }
  }
  d.file = candidates[uniform<std::size_t>(rng, 0, candidates.size() - 1)];
  const reference_file& f = ref.files[d.file];

  if (d.kind == damage_kind::zeroed_range) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      d.offset = pick_offset(f, rng);
      const std::string_view range = std::string_view(f.bytes).substr(d.offset, damage::zeroed_bytes);
      if (range.find_first_not_of('\0') != std::string_view::npos) return d;
    }
    d.kind = damage_kind::bit_flips;  // only zeros near every pick
  }
  switch (d.kind) {
    case damage_kind::bit_flips: {
      const int n = uniform(rng, 1, 3);
      for (int i = 0; i < n; ++i) d.flips.emplace_back(pick_offset(f, rng), uniform(rng, 0, 7));
      // Two flips of one bit would cancel out.
      std::sort(d.flips.begin(), d.flips.end());
      d.flips.erase(std::unique(d.flips.begin(), d.flips.end()), d.flips.end());
      break;
    }
    case damage_kind::truncation:
      d.offset = pick_offset(f, rng);
      break;
    case damage_kind::appended_garbage: {
      const auto n = uniform<std::size_t>(rng, 1, 4096);
      for (std::size_t i = 0; i < n; ++i) d.garbage.push_back(static_cast<char>(uniform(rng, 0, 255)));
      break;
    }
    case damage_kind::zeroed_range:
      break;
  }
  return d;
}

}  // namespace strata::corruption
