// util/checksum.hpp — block and record checksums on XXH3 (libxxhash).
//
// checksum32 is the low 32 bits of XXH3-64 ("XXH3-32" in the format docs);
// it is what WAL records and SST blocks store. checksum64 is the full hash.
// checksum_stream hashes data that arrives in pieces (a type byte followed by
// a payload, say) without concatenating it; the result equals the one-shot
// hash of the concatenation. Free functions are thread-safe; a
// checksum_stream object is not (use one per thread).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

namespace strata {

std::uint64_t checksum64(std::string_view data) noexcept;
std::uint32_t checksum32(std::string_view data) noexcept;

class checksum_stream {
 public:
  checksum_stream();
  ~checksum_stream();
  checksum_stream(const checksum_stream&) = delete;
  checksum_stream& operator=(const checksum_stream&) = delete;

  checksum_stream& update(std::string_view data) noexcept;
  std::uint64_t digest64() const noexcept;
  std::uint32_t digest32() const noexcept { return static_cast<std::uint32_t>(digest64()); }
  void reset() noexcept;

 private:
  struct state;  // XXH3_state_t, kept out of this header
  std::unique_ptr<state> state_;
};

}  // namespace strata
