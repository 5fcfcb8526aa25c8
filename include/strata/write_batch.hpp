// strata/write_batch.hpp — an ordered group of puts and erases applied
// atomically: all or nothing, visible at once.
//
// Encoding (also the payload of one WAL record, see docs/wal_format.md):
//   sequence  fixed64   first sequence number (assigned at commit)
//   count     fixed32   number of operations
//   then per operation:
//     type    byte      1 put, 0 erase
//     key     varint32 length + bytes
//     value   varint32 length + bytes (puts only)
// A batch owns its bytes (one std::string). Not thread-safe; copyable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "strata/error.hpp"

namespace strata {

class write_batch {
 public:
  static constexpr std::size_t header_size = 12;

  write_batch() { clear(); }

  void put(std::string_view key, std::string_view value);
  void erase(std::string_view key);
  void clear();

  std::uint32_t count() const noexcept;
  std::uint64_t sequence() const noexcept;
  void set_sequence(std::uint64_t seq) noexcept;
  bool empty() const noexcept { return count() == 0; }
  std::size_t byte_size() const noexcept { return rep_.size(); }
  const std::string& rep() const noexcept { return rep_; }

  // Adopts encoded bytes (from a WAL record). errc::corruption if they do
  // not parse completely with exactly count() operations.
  static std::error_code decode(std::string_view bytes, write_batch& out);

  // Calls f(is_put, key, value) for each operation in order. Views point
  // into the batch. errc::corruption on malformed bytes (after calling f for
  // the operations before the damage).
  template <typename F>
  std::error_code for_each(F&& f) const;

 private:
  static std::error_code validate(std::string_view bytes);
  // Decodes one operation from the front of `in`; false if malformed.
  static bool next_op(std::string_view& in, bool& is_put, std::string_view& key, std::string_view& value);

  std::string rep_;
};

template <typename F>
std::error_code write_batch::for_each(F&& f) const {
  std::string_view in(rep_);
  if (in.size() < header_size) return errc::corruption;
  in.remove_prefix(header_size);
  const std::uint32_t n = count();
  for (std::uint32_t i = 0; i < n; ++i) {
    bool is_put = false;
    std::string_view key, value;
    if (!next_op(in, is_put, key, value)) return errc::corruption;
    f(is_put, key, value);
  }
  return in.empty() ? std::error_code{} : std::error_code(errc::corruption);
}

}  // namespace strata
