// compaction/compaction_job.hpp — runs one compaction plan.
//
// Merges the plan's input tables (merging_iterator) and writes what
// survives to new tables of the output level:
//   * of each user key, the newest version is kept, and every older version
//     that a live snapshot may still read: an entry is dropped when a newer
//     entry of the same key is itself visible to the oldest snapshot
//     (LevelDB's rule);
//   * a tombstone is dropped when the output level is the bottom for the
//     plan's range and the oldest snapshot already sees it (nothing older
//     remains for it to hide);
//   * outputs are cut at target_file_bytes, but only between user keys, so
//     the output files' user-key ranges are disjoint (levels >= 1 need it);
//   * an output is also cut (between user keys) once the plan's grandparent
//     files it has passed over hold more than max_grandparent_overlap_bytes
//     (LevelDB's ShouldStopBefore): a later compaction of that output into
//     the next level then rewrites a bounded number of bytes there;
//   * with align_to_grandparents, an output also ends where a grandparent
//     file begins or ends once it holds (55 + 5 * boundaries it spans, at
//     most 90) % of target_file_bytes, and may grow to twice the target
//     while it waits for one (RocksDB 7.8's level_compaction_dynamic_file_size).
//     Compacting it later then takes whole files of the next level, not a
//     sliver of one at each end that would be rewritten again with its
//     neighbour (RocksDB measured about 12 % less compaction writing).
// With options.range, only that part of the inputs is merged (one
// subcompaction; see subcompaction.hpp). bytes_read is then 0: the caller
// counts the inputs once for all parts.
// Each output is written through the io layer and fdatasync'd; the caller
// makes the directory durable, logs the edit and deletes the inputs.
//
// Blocking in the sense of the db's pool: run it with run_here() on a
// background thread. Not thread-safe; the inputs must outlive the call.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "compaction/compaction_plan.hpp"
#include "compaction/internal_iterator.hpp"
#include "compaction/subcompaction.hpp"
#include "io/file.hpp"
#include "sst/table_builder.hpp"
#include "sst/table_reader.hpp"
#include "strata/memtable.hpp"

namespace strata::compaction {

struct job_options {
  sst::table_options table;
  std::uint64_t target_file_bytes = std::uint64_t{64} << 20;
  std::uint64_t max_grandparent_overlap_bytes = 0;  // 0: outputs are cut by size only
  // Prefer to end outputs where a grandparent file ends or begins (see the
  // top of this file); they may then grow to 2 * target_file_bytes.
  bool align_to_grandparents = false;
  sequence_number oldest_snapshot = 0;  // the oldest sequence any reader may still read at
  key_range range = {};                 // a subcompaction's part of the key space; default: all of it
};

// Creates the next output file: its number and the open (truncated) file,
// or an error with `message`.
using new_output_fn =
    std::function<std::error_code(std::uint64_t& number, std::unique_ptr<io::file>& file, std::string& message)>;

struct job_result {
  std::vector<db_internal::table_file> outputs;  // in key order
  std::uint64_t bytes_read = 0;                  // input file bytes
  std::uint64_t bytes_written = 0;               // output file bytes
  std::uint64_t entries_in = 0, entries_out = 0;
};

boost::asio::awaitable<std::error_code> run_compaction_job(const compaction_plan& plan,
                                                           std::vector<std::unique_ptr<internal_iterator>> inputs,
                                                           const job_options& options, const new_output_fn& new_output,
                                                           job_result& result, std::string& message);

}  // namespace strata::compaction
