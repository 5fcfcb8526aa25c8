// compaction/level_iterator.hpp — one sorted run of tables read as one source.
//
// A level >= 1 holds tables with disjoint key ranges in ascending order, so
// at most one of them can hold any given key. Merging them as one child
// (instead of one child per table) keeps a merge's heap as small as the
// number of levels, and a seek touches one table (a binary search over the
// tables' largest keys) instead of reading a block of every table in the
// level. The iterator opens a table iterator on the table it is in and moves
// to the next table when that one runs out.
//
// Ownership: the readers are not owned; whoever builds the child keeps them
// open (the db pins its open tables, a compaction job holds its inputs).
// One coroutine at a time.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "compaction/internal_iterator.hpp"
#include "db/version_edit.hpp"
#include "sst/table_reader.hpp"

namespace strata::compaction {

struct run_table {
  std::string_view largest;  // the table's largest internal key (kept alive by the caller, e.g. in its version)
  const sst::table_reader* reader = nullptr;
};

// `tables` in ascending, non-overlapping key order. fill_cache and
// readahead as in table_reader::new_iterator.
std::unique_ptr<internal_iterator> level_child(std::vector<run_table> tables, bool fill_cache = true,
                                               std::size_t readahead = 0);
// The same over a shared list, built once and used by many children (the
// db keeps one per level of each version for its scans).
std::unique_ptr<internal_iterator> level_child(std::shared_ptr<const std::vector<run_table>> tables,
                                               bool fill_cache = true, std::size_t readahead = 0);

// The sources for `files`, the tables of one level, appended to `out`: a
// child per table in level 0 (their ranges overlap), one level_child for a
// deeper level. reader_of(i) reads files[i] (null: left out). The files
// must outlive the children (level children view their largest keys).
void add_level_children(int level, const std::vector<db_internal::table_file>& files,
                        const std::function<const sst::table_reader*(std::size_t)>& reader_of, bool fill_cache,
                        std::size_t readahead, std::vector<std::unique_ptr<internal_iterator>>& out);

}  // namespace strata::compaction
