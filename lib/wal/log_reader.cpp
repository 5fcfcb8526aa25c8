#include "wal/log_reader.hpp"

#include <fmt/format.h>

#include "util/coding.hpp"

namespace strata::wal {

log_reader::log_reader(std::string_view contents, std::string file_name, log_reader_options options)
    : data_(contents), file_name_(std::move(file_name)), options_(options) {}

bool log_reader::intact_fragment_at(std::uint64_t offset) {
  const std::uint64_t in_block = offset % block_size;
  if (block_size - in_block < header_size || offset + header_size > data_.size()) return false;
  const char* h = data_.data() + offset;
  const auto type = static_cast<std::uint8_t>(h[6]);
  if (type < 1 || type > 4) return false;
  const std::uint16_t length = coding::decode_fixed16(h + 4);
  if (in_block + header_size + length > block_size || offset + header_size + length > data_.size()) return false;
  checksum_.reset();
  checksum_.update({h + 6, 1}).update({h + header_size, length});
  return checksum_.digest32() == coding::decode_fixed32(h);
}

std::uint64_t log_reader::find_intact_from(std::uint64_t from) {
  // Every byte offset: damage may run on into the next block and break the
  // fragment that starts it, so block starts alone could miss intact
  // fragments further in. Cheap: most offsets fail the type or length test
  // before any checksum is computed, and this runs only on damage.
  for (std::uint64_t p = from; p < data_.size(); ++p) {
    if (intact_fragment_at(p)) return p;
  }
  return 0;
}

log_reader::status log_reader::on_damage(std::uint64_t offset, std::uint64_t search_from, const char* why, bool cut) {
  in_record_ = false;
  const std::uint64_t resume = find_intact_from(search_from);
  if (resume == 0 && options_.last_file && (cut || !options_.tail_must_be_cut)) {
    torn_tail_ = true;  // nothing intact follows: the tail of an interrupted append
    done_ = true;
    return status::end;
  }
  if (options_.skip_corruption) {
    const std::uint64_t stop = resume == 0 ? data_.size() : resume;
    dropped_bytes_ += stop - offset;
    pos_ = stop;
    if (resume == 0) {
      done_ = true;
      return status::end;
    }
    return status::record;  // keep reading at `resume`
  }
  error_ = fmt::format("corruption in {} at offset {}: {}", file_name_, offset, why);
  done_ = true;
  return status::corruption;
}

log_reader::fragment_status log_reader::read_fragment(fragment_type& type, std::string_view& data,
                                                      std::uint64_t& offset, const char*& why) {
  for (;;) {
    const std::uint64_t left_in_block = block_size - pos_ % block_size;
    if (left_in_block < header_size) {  // block trailer
      pos_ += left_in_block;
      continue;
    }
    offset = pos_;
    cut_short_ = false;
    if (pos_ >= data_.size()) return fragment_status::eof;
    if (data_.size() - pos_ < header_size) {
      if (zero_tail()) return fragment_status::eof;
      why = "truncated fragment header";
      cut_short_ = true;
      return fragment_status::bad;
    }
    const char* h = data_.data() + pos_;
    const std::uint32_t expected = coding::decode_fixed32(h);
    const std::uint16_t length = coding::decode_fixed16(h + 4);
    const auto raw_type = static_cast<std::uint8_t>(h[6]);
    if (raw_type == 0 && length == 0 && expected == 0) {
      if (zero_tail()) return fragment_status::eof;  // zeros with data after them are damage
      why = "zero-filled space";
      return fragment_status::bad;
    }
    if (raw_type < 1 || raw_type > 4) {
      why = "unknown fragment type";
      return fragment_status::bad;
    }
    if (header_size + length > left_in_block) {
      why = "fragment crosses a block boundary";
      return fragment_status::bad;
    }
    if (data_.size() - pos_ - header_size < length) {
      why = "truncated fragment";
      cut_short_ = true;
      return fragment_status::bad;
    }
    checksum_.reset();
    checksum_.update({h + 6, 1}).update({h + header_size, length});
    if (checksum_.digest32() != expected) {
      why = "checksum mismatch";
      return fragment_status::bad;
    }
    type = static_cast<fragment_type>(raw_type);
    data = {h + header_size, length};
    pos_ += header_size + length;
    return fragment_status::ok;
  }
}

log_reader::status log_reader::next(std::string_view& record) {
  while (!done_) {
    fragment_type type{};
    std::string_view data;
    std::uint64_t offset = 0;
    const char* why = "";
    const auto fs = read_fragment(type, data, offset, why);
    if (fs == fragment_status::eof) {
      if (in_record_) {  // the file ends inside a fragmented record
        const auto st = on_damage(record_start_, data_.size(), "record cut short at end of file", true);
        if (st != status::record) return st;
        continue;
      }
      done_ = true;
      return status::end;
    }
    if (fs == fragment_status::bad) {
      const auto st = on_damage(in_record_ ? record_start_ : offset, offset + 1, why, cut_short_);
      if (st != status::record) return st;
      continue;  // skipped damaged bytes
    }
    const bool starts_record = type == fragment_type::full || type == fragment_type::first;
    if (starts_record == in_record_) {  // a new record inside one, or a continuation outside one
      const auto st = starts_record ? on_damage(record_start_, offset, "record without its last fragment", false)
                                    : on_damage(offset, offset + 1, "fragment without a first fragment", false);
      if (st != status::record) return st;
      continue;
    }
    switch (type) {
      case fragment_type::full:
        record = data;
        record_offset_ = offset;
        valid_end_ = pos_;
        return status::record;
      case fragment_type::first:
        in_record_ = true;
        record_start_ = offset;
        scratch_.assign(data);
        break;
      case fragment_type::middle:
      case fragment_type::last:
        scratch_.append(data);
        if (type == fragment_type::last) {
          in_record_ = false;
          record = scratch_;
          record_offset_ = record_start_;
          valid_end_ = pos_;
          return status::record;
        }
        break;
      case fragment_type::zero:
        break;  // unreachable: read_fragment rejects type 0
    }
  }
  return status::end;
}

}  // namespace strata::wal
