// tests/crash/round_options.hpp — the db options of one crash round, a pure
// function of the round's seed (the child and the parent's verification
// open with the same ones). Tiny memtables, tables and levels keep flush
// and compaction running all the time; the seed varies the code paths
// (lz4 or not, io_uring or the thread-pool fallback, subcompactions,
// concurrent compactions, filters, readahead).
#pragma once

#include <cstdint>
#include <string>

#include "strata/db.hpp"
#include "value_format.hpp"

namespace strata::crash {

inline options round_options(std::uint64_t seed) {
  std::uint64_t bits = mix64(seed ^ 0x0b7105);
  const auto pick = [&bits](std::uint64_t n) {
    const std::uint64_t r = bits % n;
    bits = mix64(bits);
    return r;
  };
  options o;
  o.memtable_bytes = (32u << 10) + pick(33) * 1024;
  o.max_immutable_memtables = 2;
  o.background_threads = 2;
  o.block_size = 1024;
  o.bits_per_key = pick(4) == 0 ? 0 : 10;
  o.compress_tables = pick(2) == 1;
  o.block_cache_bytes = 256u << 10;  // small: many reads go to the tables
  o.level0_compaction_trigger = 2;
  o.max_bytes_for_level_base = 256u << 10;
  o.max_bytes_for_level_multiplier = 4;
  o.target_file_bytes = 64u << 10;
  o.max_concurrent_compactions = 1 + static_cast<unsigned>(pick(2));
  o.compaction_round_robin = pick(4) == 0;
  o.compaction_readahead_bytes = pick(2) == 0 ? 0 : (64u << 10);
  o.subcompactions = 1 + static_cast<unsigned>(pick(2));
  o.force_io_fallback = pick(2) == 1;
  return o;
}

inline std::string describe_options(const options& o) {
  return "memtable=" + std::to_string(o.memtable_bytes) + " lz4=" + std::to_string(o.compress_tables) +
         " io=" + (o.force_io_fallback ? "pool" : "uring") + " subcompactions=" + std::to_string(o.subcompactions) +
         " concurrent_compactions=" + std::to_string(o.max_concurrent_compactions) +
         " bloom=" + std::to_string(o.bits_per_key) + " round_robin=" + std::to_string(o.compaction_round_robin) +
         " readahead=" + std::to_string(o.compaction_readahead_bytes);
}

}  // namespace strata::crash
