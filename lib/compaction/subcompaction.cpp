#include "compaction/subcompaction.hpp"

#include <algorithm>
#include <utility>

#include "sst/internal_key.hpp"

namespace strata::compaction {

std::vector<key_range> split_for_subcompactions(const compaction_plan& plan, unsigned max_parts,
                                                std::uint64_t min_bytes) {
  std::vector<key_range> out(1);
  const std::uint64_t total = plan.input_bytes();
  if (max_parts <= 1 || total < min_bytes || total == 0) return out;
  // Candidate cuts: each input file ends at its largest user key; the bytes
  // of all files ending at or before a key approximate the input below it.
  std::vector<std::pair<std::string, std::uint64_t>> ends;
  for (const auto& side : plan.inputs)
    for (const auto& f : side) ends.emplace_back(std::string(sst::user_key_of(f.largest)), f.size);
  std::sort(ends.begin(), ends.end());
  std::vector<std::string> cuts;
  std::uint64_t below = 0;
  for (const auto& [key, bytes] : ends) {
    below += bytes;
    const std::uint64_t wanted = total * (cuts.size() + 1) / max_parts;
    if (cuts.size() + 1 >= max_parts) break;
    if (below < wanted) continue;
    // A cut at `key` puts `key` itself in the next part ([begin, end)),
    // which is fine: all its versions go together. Equal cuts collapse.
    if (cuts.empty() || key > cuts.back()) cuts.push_back(key);
  }
  // A cut at the largest key of all would leave the last part that one key.
  if (!cuts.empty() && cuts.back() == ends.back().first) cuts.pop_back();
  if (cuts.empty()) return out;
  out.clear();
  std::optional<std::string> begin;
  for (auto& cut : cuts) {
    out.push_back({begin, cut});
    begin = std::move(cut);
  }
  out.push_back({std::move(begin), std::nullopt});
  return out;
}

}  // namespace strata::compaction
