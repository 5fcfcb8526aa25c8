// compaction/internal_iterator.hpp — one sorted source of internal keys.
//
// What merging_iterator merges: a table (table_child) or a memtable
// (memtable_child), both yielding internal keys (user key + sequence/type
// tag) in internal-key order, in both directions. Moves are awaitable (a
// table may read its next block); try_next()/try_prev() move without
// suspending when they can, and return false when the move needs a read:
// the caller then calls next()/prev(), which finishes it (a child may have
// done part of a forward step; try_prev() refuses without moving; read
// nothing from it in between). One coroutine at a time; what a child reads
// must outlive it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "sst/table_reader.hpp"
#include "strata/memtable.hpp"

namespace strata::compaction {

class internal_iterator {
 public:
  virtual ~internal_iterator() = default;
  virtual bool valid() const noexcept = 0;
  virtual std::string_view key() const noexcept = 0;  // an internal key; valid() only
  virtual std::string_view value() const noexcept = 0;
  virtual std::error_code error() const noexcept = 0;
  virtual const std::string& message() const noexcept = 0;
  virtual boost::asio::awaitable<void> seek_to_first() = 0;
  virtual boost::asio::awaitable<void> seek_to_last() = 0;
  // First entry >= target in internal-key order.
  virtual boost::asio::awaitable<void> seek(std::string_view target) = 0;
  virtual boost::asio::awaitable<void> next() = 0;
  virtual boost::asio::awaitable<void> prev() = 0;
  virtual bool try_next() = 0;
  virtual bool try_prev() = 0;
  // seek() without suspending; false: it needs a read, co_await seek()
  // (which starts over). Unlike seek(), `target` must not view into this
  // child's own key (the merging iterator passes its own copy).
  virtual bool try_seek(std::string_view target) = 0;
};

// A table's entries (all versions, tombstones included).
std::unique_ptr<internal_iterator> table_child(sst::table_iterator it);

// A memtable's versions at or below `snapshot` (tombstones included), as
// internal keys. Holds the memtable alive.
std::unique_ptr<internal_iterator> memtable_child(std::shared_ptr<const memtable> mem, sequence_number snapshot);

}  // namespace strata::compaction
