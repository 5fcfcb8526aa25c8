// sst/table_index.hpp — an SSTable's index block, decoded once at open.
//
// The index block (one separator key and block handle per data block) is
// parsed into flat arrays when a table is opened, so that a point lookup's
// binary search runs over a dense array of 8-byte key prefixes (a 1M-entry
// table's 32K prefixes fit in 256 KiB, mostly in cache) instead of decoding
// entries scattered over the block. The prefixes are taken after the
// user-key bytes that the table's separators share (keys such as
// "user:00001234" or zero-padded numbers share long heads, which would make
// every 8-byte prefix equal), so that they usually tell the separators
// apart; the last separator, usually a short successor that shares no
// head, is left out and compared in full. Full separator keys are
// otherwise compared only when two prefixes are equal. Decoding checks everything a lookup will
// rely on (each entry well formed, separators ascending, handles decodable),
// so a damaged index is found at open, not in the middle of a read.
//
// The arrays live in one allocation, backed by huge pages when it is large
// (util/huge_pages.hpp): a lookup's binary search and handle fetch then
// cost no page walks.
//
// Immutable after decode(): safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sst/format.hpp"
#include "util/huge_pages.hpp"

namespace strata::sst {

class table_index {
 public:
  // Parses the decoded contents of an index block. False with `message` if
  // it is malformed; `out` is then unusable.
  static bool decode(std::string_view block, table_index& out, std::string& message);

  std::size_t size() const noexcept { return size_; }
  // The first entry whose separator is >= target in internal-key order, or
  // size() when target is past the last separator (then it is in no block).
  std::size_t seek(std::string_view target) const noexcept;
  std::string_view separator(std::size_t i) const noexcept {
    return {keys_ + key_offsets_[i], key_offsets_[i + 1] - key_offsets_[i]};
  }
  const block_handle& handle(std::size_t i) const noexcept { return handles_[i]; }

  // The first 8 bytes of a user key (or of what follows a shared head) as a
  // big-endian number, zero-padded: a < b as numbers implies a < b as
  // user keys (bytewise).
  static std::uint64_t prefix_of(std::string_view user_key) noexcept;

 private:
  // memory_ holds, in this order: prefixes_[size_], handles_[size_],
  // key_offsets_[size_ + 1], keys_[key_offsets_[size_]].
  util::huge_buffer memory_;
  std::size_t size_ = 0;
  const std::uint64_t* prefixes_ = nullptr;  // prefix_of(user key of separator i, after common_prefix_)
  const block_handle* handles_ = nullptr;
  const std::uint32_t* key_offsets_ = nullptr;  // separator i is keys_[key_offsets_[i], key_offsets_[i + 1])
  const char* keys_ = nullptr;
  std::string_view common_prefix_;  // the user-key head all separators but the last share (in keys_)
};

}  // namespace strata::sst
