// tests/metamorphic/model_runner.hpp — the reference: the operations run
// against a std::map, giving the transcript every db run must reproduce.
//
// A snapshot is a copy of the map taken when it is made (the key space is
// small, so copies are cheap). Structural operations (flush, compaction,
// reopen) change nothing a reader can see, so the model only answers "ok"
// for them (a reopen drops every snapshot). A scan is the sorted entries
// that pass the read options' bounds and prefix, walked by index.
#pragma once

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "operation.hpp"
#include "operation_generator.hpp"
#include "transcript.hpp"

namespace strata::metamorphic {

class model_runner {
 public:
  transcript run(const std::vector<operation>& ops) {
    transcript out;
    out.reserve(ops.size());
    for (const auto& op : ops) out.push_back(apply(op));
    return out;
  }

 private:
  using state = std::map<std::string, std::string>;

  const state& read_state(int snapshot_slot) const {
    return snapshot_slot < 0 ? current_ : *snapshots_[static_cast<std::size_t>(snapshot_slot)];
  }

  static std::optional<std::string> lookup(const state& s, const std::string& key) {
    const auto it = s.find(key);
    if (it == s.end()) return std::nullopt;
    return it->second;
  }

  static bool in_view(const scan_spec& spec, const std::string& key) {
    if (spec.lower_bound && key < *spec.lower_bound) return false;
    if (spec.upper_bound && key >= *spec.upper_bound) return false;
    return !spec.prefix || key.starts_with(*spec.prefix);
  }

  static std::string scan(const state& s, const scan_spec& spec) {
    std::vector<std::pair<std::string, std::string>> view;
    for (const auto& [k, v] : s) {
      if (in_view(spec, k)) view.emplace_back(k, v);
    }
    const auto size = static_cast<std::ptrdiff_t>(view.size());
    const auto key_less = [](const auto& entry, const std::string& key) { return entry.first < key; };
    const auto key_greater = [](const std::string& key, const auto& entry) { return key < entry.first; };
    std::ptrdiff_t pos = 0;
    switch (spec.kind) {
      case scan_kind::forward_all:
        pos = 0;
        break;
      case scan_kind::backward_all:
        pos = size - 1;
        break;
      case scan_kind::seek_then_next:
      case scan_kind::walk:
        pos = std::lower_bound(view.begin(), view.end(), spec.target, key_less) - view.begin();
        break;
      case scan_kind::seek_for_prev_then_prev:
        pos = std::upper_bound(view.begin(), view.end(), spec.target, key_greater) - view.begin() - 1;
        break;
    }
    const auto valid = [&] { return pos >= 0 && pos < size; };
    const auto item = [&] {
      return valid() ? show_entry(view[static_cast<std::size_t>(pos)].first, view[static_cast<std::size_t>(pos)].second)
                     : end_item;
    };
    std::string out = item();
    const std::size_t limit = scan_move_limit(spec);
    for (std::size_t i = 0; i < limit && valid(); ++i) {
      pos += scan_move(spec, i) == 'n' ? 1 : -1;
      out += "\n" + item();
    }
    return out;
  }

  std::string apply(const operation& op) {
    switch (op.kind) {
      case op_kind::put:
        current_[op.key] = op.value;
        return ok_result;
      case op_kind::erase:
        current_.erase(op.key);
        return ok_result;
      case op_kind::write_batch:
        for (const auto& e : op.batch) {
          if (e.is_put) {
            current_[e.key] = e.value;
          } else {
            current_.erase(e.key);
          }
        }
        return ok_result;
      case op_kind::get:
        return show_lookup(lookup(read_state(op.snapshot_slot), op.key));
      case op_kind::get_many: {
        std::string out;
        for (std::size_t i = 0; i < op.keys.size(); ++i) {
          out += (i ? "\n" : "") + show_lookup(lookup(read_state(op.snapshot_slot), op.keys[i]));
        }
        return out;
      }
      case op_kind::take_snapshot:
        snapshots_[static_cast<std::size_t>(op.snapshot_slot)] = current_;
        return ok_result;
      case op_kind::release_snapshot:
        snapshots_[static_cast<std::size_t>(op.snapshot_slot)].reset();
        return ok_result;
      case op_kind::scan:
        return scan(read_state(op.snapshot_slot), op.scan);
      case op_kind::reopen:
        for (auto& s : snapshots_) s.reset();
        return ok_result;
      case op_kind::flush:
      case op_kind::compact:
      case op_kind::compact_range:
        return ok_result;
    }
    return ok_result;
  }

  state current_;
  std::array<std::optional<state>, snapshot_slots> snapshots_;
};

inline transcript run_model(const std::vector<operation>& ops) { return model_runner().run(ops); }

}  // namespace strata::metamorphic
