#include "wal/log_encoder.hpp"

#include <algorithm>

#include "util/coding.hpp"
#include "wal/log_format.hpp"

namespace strata::wal {

log_encoder::log_encoder(std::uint64_t file_offset) : block_offset_(file_offset % block_size) {}

void log_encoder::reset(std::uint64_t file_offset) noexcept { block_offset_ = file_offset % block_size; }

std::size_t log_encoder::encoded_size(std::size_t payload_size) const noexcept {
  std::size_t offset = block_offset_;
  std::size_t total = 0;
  bool first = true;
  while (first || payload_size > 0) {
    if (block_size - offset < header_size) {
      total += block_size - offset;
      offset = 0;
    }
    const std::size_t fragment = std::min(payload_size, block_size - offset - header_size);
    total += header_size + fragment;
    offset += header_size + fragment;
    payload_size -= fragment;
    first = false;
  }
  return total;
}

void log_encoder::add_record(std::string_view payload, std::string& out) {
  bool begin = true;
  do {
    const std::size_t leftover = block_size - block_offset_;
    if (leftover < header_size) {  // too small for a header: pad to the next block
      out.append(leftover, '\0');
      block_offset_ = 0;
    }
    const std::size_t room = block_size - block_offset_ - header_size;
    const std::size_t length = std::min(payload.size(), room);
    const bool end = length == payload.size();
    const fragment_type type = begin && end ? fragment_type::full
                               : begin      ? fragment_type::first
                               : end        ? fragment_type::last
                                            : fragment_type::middle;
    const char type_byte = static_cast<char>(type);
    const std::string_view data = payload.substr(0, length);
    checksum_.reset();
    checksum_.update({&type_byte, 1}).update(data);
    char header[header_size];
    coding::encode_fixed32(header, checksum_.digest32());
    coding::encode_fixed16(header + 4, static_cast<std::uint16_t>(length));
    header[6] = type_byte;
    out.append(header, header_size);
    out.append(data);
    block_offset_ += header_size + length;
    payload.remove_prefix(length);
    begin = false;
  } while (!payload.empty());
}

}  // namespace strata::wal
