// tests/metamorphic/option_sets.hpp — the db configurations a metamorphic
// run compares, and what each must be seen doing.
//
// Every set must give the same transcript (the model's): options change
// how data is laid out (memtable size, block size, compression, filters,
// cache, I/O engine, compaction picking and splitting), never what a read
// returns. Each set names the activity it exists for (background flushes,
// compactions reaching deeper levels, subcompactions, bloom filter hits,
// cache misses); the test checks that activity really happened, since a
// set whose options never take effect proves nothing.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "strata/db.hpp"

namespace strata::metamorphic {

struct expected_activity {
  bool automatic_flushes = false;
  bool automatic_compactions = false;
  bool subcompactions = false;
  bool bloom_useful = false;
  bool block_cache_misses = false;
  std::size_t min_deepest_level = 0;
};

struct option_set {
  std::string name;
  options opts;
  expected_activity expected;
};

// Level sizes small enough that a run of ~1500 operations (some hundreds
// of KB written) fills levels 1 and 2 and compaction really runs.
inline options small_levels(options o) {
  o.level0_compaction_trigger = 2;
  o.max_bytes_for_level_base = 64 << 10;
  o.max_bytes_for_level_multiplier = 4;
  o.target_file_bytes = 16 << 10;
  return o;
}

inline std::vector<option_set> all_option_sets() {
  std::vector<option_set> sets;

  // Everything as shipped: data stays in the 64 MiB memtable until an
  // explicit flush or compaction, and reopens replay it from the WAL.
  sets.push_back({"defaults", options{}, {}});

  {
    options o = small_levels(options{});
    o.memtable_bytes = 4 << 10;
    o.block_size = 256;
    o.bits_per_key = 0;
    o.block_cache_bytes = 8 << 10;
    sets.push_back({"tiny-memtable-small-blocks-no-bloom",
                    o,
                    {.automatic_flushes = true,
                     .automatic_compactions = true,
                     .subcompactions = false,
                     .bloom_useful = false,
                     .block_cache_misses = true,
                     .min_deepest_level = 2}});
  }
  {
    options o = small_levels(options{});
    o.memtable_bytes = 8 << 10;
    o.compress_tables = true;
    o.force_io_fallback = true;
    o.compaction_round_robin = true;
    o.background_threads = 1;
    o.max_immutable_memtables = 1;
    sets.push_back({"small-memtable-lz4-io-fallback-round-robin",
                    o,
                    {.automatic_flushes = true,
                     .automatic_compactions = true,
                     .subcompactions = false,
                     .bloom_useful = true,
                     .block_cache_misses = false,
                     .min_deepest_level = 2}});
  }
  {
    // Blocks larger than the whole cache.
    options o = small_levels(options{});
    o.memtable_bytes = 64 << 10;
    o.block_size = 16384;
    o.compress_tables = true;
    o.block_cache_bytes = 8 << 10;
    o.target_file_bytes = 32 << 10;
    sets.push_back({"medium-memtable-16k-blocks-tiny-cache",
                    o,
                    {.automatic_flushes = true,
                     .automatic_compactions = true,
                     .subcompactions = false,
                     .bloom_useful = true,
                     .block_cache_misses = true,
                     .min_deepest_level = 1}});
  }
  {
    options o = small_levels(options{});
    o.memtable_bytes = 16 << 10;
    o.subcompactions = 4;
    o.target_file_bytes = 4 << 10;
    o.max_concurrent_compactions = 2;
    o.compaction_readahead_bytes = 0;
    o.compress_tables = true;
    sets.push_back({"subcompactions-4-small-outputs",
                    o,
                    {.automatic_flushes = true,
                     .automatic_compactions = true,
                     .subcompactions = true,
                     .bloom_useful = true,
                     .block_cache_misses = false,
                     .min_deepest_level = 2}});
  }
  {
    options o = small_levels(options{});
    o.memtable_bytes = 4 << 10;
    o.block_size = 256;
    o.bits_per_key = 0;
    o.block_cache_bytes = 8 << 10;
    o.compaction_round_robin = true;
    o.force_io_fallback = true;
    o.subcompactions = 4;
    o.target_file_bytes = 4 << 10;
    sets.push_back({"round-robin-subcompactions-io-fallback-small-blocks",
                    o,
                    {.automatic_flushes = true,
                     .automatic_compactions = true,
                     .subcompactions = true,
                     .bloom_useful = false,
                     .block_cache_misses = true,
                     .min_deepest_level = 2}});
  }
  {
    // Default level sizes: level 0 fills to 4 tables, then moves to level 1.
    options o;
    o.memtable_bytes = 64 << 10;
    sets.push_back({"medium-memtable-default-levels",
                    o,
                    {.automatic_flushes = true,
                     .automatic_compactions = false,
                     .subcompactions = false,
                     .bloom_useful = true,
                     .block_cache_misses = false,
                     .min_deepest_level = 1}});
  }
  {
    // Writers slowed and stopped by a level 0 that one thread drains.
    options o = small_levels(options{});
    o.memtable_bytes = 8 << 10;
    o.level0_slowdown_writes_trigger = 3;
    o.level0_stop_writes_trigger = 4;
    o.max_immutable_memtables = 1;
    o.background_threads = 1;
    sets.push_back({"small-memtable-write-stalls",
                    o,
                    {.automatic_flushes = true,
                     .automatic_compactions = true,
                     .subcompactions = false,
                     .bloom_useful = true,
                     .block_cache_misses = false,
                     .min_deepest_level = 2}});
  }
  return sets;
}

// The options that differ from the defaults, "name=value" each.
inline std::string describe_options(const options& o) {
  const options d;
  std::string out;
  const auto field = [&out](const char* name, auto value, auto default_value) {
    if (value == default_value) return;
    if (!out.empty()) out += " ";
    if constexpr (std::is_same_v<decltype(value), bool>) {
      out += std::string(name) + "=" + (value ? "true" : "false");
    } else {
      out += std::string(name) + "=" + std::to_string(value);
    }
  };
  field("memtable_bytes", o.memtable_bytes, d.memtable_bytes);
  field("max_immutable_memtables", o.max_immutable_memtables, d.max_immutable_memtables);
  field("background_threads", o.background_threads, d.background_threads);
  field("block_size", o.block_size, d.block_size);
  field("bits_per_key", o.bits_per_key, d.bits_per_key);
  field("compress_tables", o.compress_tables, d.compress_tables);
  field("block_cache_bytes", o.block_cache_bytes, d.block_cache_bytes);
  field("level0_compaction_trigger", o.level0_compaction_trigger, d.level0_compaction_trigger);
  field("level0_slowdown_writes_trigger", o.level0_slowdown_writes_trigger, d.level0_slowdown_writes_trigger);
  field("level0_stop_writes_trigger", o.level0_stop_writes_trigger, d.level0_stop_writes_trigger);
  field("max_bytes_for_level_base", o.max_bytes_for_level_base, d.max_bytes_for_level_base);
  field("max_bytes_for_level_multiplier", o.max_bytes_for_level_multiplier, d.max_bytes_for_level_multiplier);
  field("target_file_bytes", o.target_file_bytes, d.target_file_bytes);
  field("max_concurrent_compactions", o.max_concurrent_compactions, d.max_concurrent_compactions);
  field("compaction_round_robin", o.compaction_round_robin, d.compaction_round_robin);
  field("compaction_readahead_bytes", o.compaction_readahead_bytes, d.compaction_readahead_bytes);
  field("subcompactions", o.subcompactions, d.subcompactions);
  field("force_io_fallback", o.force_io_fallback, d.force_io_fallback);
  return out.empty() ? std::string("all defaults") : out;
}

}  // namespace strata::metamorphic
