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
#include <cstring>
#include <string>
#include <string_view>

#include "util/coding.hpp"

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
    // Inline: a scan's step is a handful of instructions when the entry's
    // three lengths are one-byte varints (decode_at_slow handles the rest).
    void next() {
      if (!valid()) return;
      if (next_ >= limit_) {
        current_ = limit_;
        return;
      }
      if (restart_index_ + 1 < num_restarts_ && restart_offset(restart_index_ + 1) <= next_) ++restart_index_;
      decode_at(next_);
    }
    void prev();
    // Whether the current entry is the block's first / last (valid() only).
    bool at_first() const noexcept { return current_ == 0; }
    bool at_last() const noexcept { return next_ >= limit_; }
    std::string_view key() const noexcept { return {key_buffer(), key_size_}; }
    std::string_view value() const noexcept { return value_; }

   private:
    friend class block_reader;
    explicit iterator(const block_reader& block);
    std::uint32_t restart_offset(std::uint32_t index) const noexcept {
      return coding::decode_fixed32(data_.data() + limit_ + 4 * index);
    }
    // Decodes the entry at `offset` on top of the current key; false (and
    // corrupted_) if malformed.
    bool decode_at(std::uint32_t offset) {
      const auto* p = reinterpret_cast<const unsigned char*>(data_.data()) + offset;
      // Fast path: three one-byte lengths, all inside the entries.
      if (limit_ - offset >= 3 && ((p[0] | p[1] | p[2]) & 0x80) == 0) {
        const std::uint32_t shared = p[0], unshared = p[1], value_len = p[2];
        if (shared <= key_size_ && std::uint64_t{unshared} + value_len <= limit_ - offset - 3) {
          set_key(shared, reinterpret_cast<const char*>(p) + 3, unshared);
          value_ = std::string_view(reinterpret_cast<const char*>(p) + 3 + unshared, value_len);
          current_ = offset;
          next_ = offset + 3 + unshared + value_len;
          return true;
        }
      }
      return decode_at_slow(offset);
    }
    bool decode_at_slow(std::uint32_t offset);
    // Keeps the first `shared` bytes of the key and appends `n` bytes.
    void set_key(std::uint32_t shared, const char* bytes, std::uint32_t n) {
      const std::size_t size = std::size_t{shared} + n;
      if (size > key_capacity()) grow_key(size);
      copy_key_bytes(key_buffer() + shared, bytes, n);
      key_size_ = size;
    }
    // memcpy of [src, src + n) in fixed-size pieces (overlapping at the
    // end), touching no byte outside either range. Why not memcpy: with the
    // size bounded by the key capacity, g++ 12 inlines it as `rep movsb`,
    // whose start-up cost (tens of cycles) was about 40 % of a scan step's
    // samples for the few bytes a key delta usually holds.
    static void copy_key_bytes(char* dst, const char* src, std::size_t n) noexcept {
      if (n > 32) {
        copy_long(dst, src, n);
      } else if (n >= 16) {
        std::memcpy(dst, src, 16);
        std::memcpy(dst + n - 16, src + n - 16, 16);
      } else if (n >= 8) {
        std::memcpy(dst, src, 8);
        std::memcpy(dst + n - 8, src + n - 8, 8);
      } else if (n >= 4) {
        std::memcpy(dst, src, 4);
        std::memcpy(dst + n - 4, src + n - 4, 4);
      } else if (n > 0) {
        dst[0] = src[0];
        if (n > 1) dst[1] = src[1];
        if (n > 2) dst[2] = src[2];
      }
    }
    // Out of line, so that it stays a call to the library's memcpy.
    static void copy_long(char* dst, const char* src, std::size_t n) noexcept;
    // Keys up to inline_key_capacity bytes live in the iterator (a point
    // lookup's iterator must not allocate); longer ones in heap_key_, which
    // only grows. Computed, not stored, so that copies stay valid.
    static constexpr std::size_t inline_key_capacity = 48;
    char* key_buffer() noexcept { return heap_key_.empty() ? inline_key_ : heap_key_.data(); }
    const char* key_buffer() const noexcept { return heap_key_.empty() ? inline_key_ : heap_key_.data(); }
    std::size_t key_capacity() const noexcept { return heap_key_.empty() ? inline_key_capacity : heap_key_.size(); }
    void grow_key(std::size_t at_least);
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
    // The current key is key_buffer()[0, key_size_): a step copies only the
    // unshared bytes.
    char inline_key_[inline_key_capacity];
    std::string heap_key_;
    std::size_t key_size_ = 0;
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
