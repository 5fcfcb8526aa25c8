// sst/block_reader.hpp — reads a block written by block_builder.
//
// The bytes come from disk and are checked, never trusted: the trailer is
// validated at construction (restart count and increasing offsets inside
// the block), and every entry is bounds-checked as it is decoded. A bad
// block or entry makes the iterator invalid with corrupted() set; it never
// reads outside the block and never returns a half-decoded key.
//
// The reader views `contents` (no copy): the bytes must outlive it and its
// iterators. A reader over immutable bytes may be shared between threads;
// each iterator belongs to one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace strata::sst {

class block_reader {
 public:
  explicit block_reader(std::string_view contents);

  bool valid() const noexcept { return valid_; }
  std::uint32_t restart_count() const noexcept { return num_restarts_; }

  class iterator {
   public:
    bool valid() const noexcept { return current_ < limit_ && !corrupted_; }
    bool corrupted() const noexcept { return corrupted_; }
    void seek_to_first();
    void seek_to_last();
    // First entry whose key is >= target in internal-key order.
    void seek(std::string_view target);
    void next();
    void prev();
    // Whether the current entry is the block's first / last (valid() only).
    bool at_first() const noexcept { return current_ == 0; }
    bool at_last() const noexcept { return next_ >= limit_; }
    std::string_view key() const noexcept { return key_; }
    std::string_view value() const noexcept { return value_; }

   private:
    friend class block_reader;
    explicit iterator(const block_reader& block);
    std::uint32_t restart_offset(std::uint32_t index) const noexcept;
    // Decodes the entry at `offset` on top of key_; false (and corrupted_) if malformed.
    bool decode_at(std::uint32_t offset);
    void seek_to_restart(std::uint32_t index);
    // The key of restart entry `index`, viewed in place; false if malformed.
    bool restart_key(std::uint32_t index, std::string_view& key) const noexcept;
    void mark_corrupted() noexcept;

    std::string_view data_;    // the block
    std::uint32_t limit_ = 0;  // where entries end (start of the restart array)
    std::uint32_t num_restarts_ = 0;
    std::uint32_t current_ = 0;        // offset of the current entry (limit_ when not positioned)
    std::uint32_t next_ = 0;           // offset just past it
    std::uint32_t restart_index_ = 0;  // restart interval holding current_
    std::string key_;
    std::string_view value_;
    bool corrupted_ = false;
  };

  // An unpositioned iterator; corrupted() at once if the block is invalid.
  iterator new_iterator() const { return iterator(*this); }

 private:
  std::string_view data_;
  std::uint32_t limit_ = 0;
  std::uint32_t num_restarts_ = 0;
  bool valid_ = false;
};

}  // namespace strata::sst
