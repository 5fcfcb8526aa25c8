// wal/log_encoder.hpp — turns logical records into log-format bytes.
//
// Pure and synchronous: add_record() appends the fragments of one record to
// a caller's buffer, tracking where in its 32 KiB block the log currently
// ends. The WAL writer encodes a whole commit group into one buffer with it.
// Not thread-safe (one encoder per log file, used by its single writer).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/checksum.hpp"

namespace strata::wal {

class log_encoder {
 public:
  // `file_offset`: where the file ends now (0 for a new file).
  explicit log_encoder(std::uint64_t file_offset = 0);

  void add_record(std::string_view payload, std::string& out);
  // Bytes add_record would append for a payload of this size.
  std::size_t encoded_size(std::size_t payload_size) const noexcept;
  void reset(std::uint64_t file_offset) noexcept;

 private:
  std::size_t block_offset_;
  checksum_stream checksum_;
};

}  // namespace strata::wal
