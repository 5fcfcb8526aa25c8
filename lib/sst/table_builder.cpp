#include "sst/table_builder.hpp"

#include <chrono>

#include "sst/internal_key.hpp"

namespace strata::sst {

namespace {
// The smallest internal key of a user key: the largest tag.
std::string smallest_internal_key_of(std::string_view user_key) {
  std::string k(user_key);
  coding::put_fixed64(k, pack_tag(max_sequence_number, value_type::value));
  return k;
}
}  // namespace

std::string index_separator(std::string_view a, std::string_view b) {
  const std::string_view ua = user_key_of(a);
  if (b.empty()) {
    // Short successor: bump the first byte that is not 0xff and cut there.
    for (std::size_t i = 0; i < ua.size(); ++i) {
      const auto c = static_cast<unsigned char>(ua[i]);
      if (c != 0xff) {
        std::string s(ua.substr(0, i + 1));
        s[i] = static_cast<char>(c + 1);
        return smallest_internal_key_of(s);
      }
    }
    return std::string(a);
  }
  const std::string_view ub = user_key_of(b);
  std::size_t common = 0;
  while (common < ua.size() && common < ub.size() && ua[common] == ub[common]) ++common;
  if (common < ua.size() && common < ub.size()) {
    const auto ca = static_cast<unsigned char>(ua[common]);
    const auto cb = static_cast<unsigned char>(ub[common]);
    if (ca != 0xff && ca + 1 < cb) {
      std::string s(ua.substr(0, common + 1));
      s[common] = static_cast<char>(ca + 1);  // ua < s < ub, and shorter than ua
      return smallest_internal_key_of(s);
    }
  }
  return std::string(a);
}

table_builder::table_builder(const table_options& options)
    : options_(options),
      data_(options.restart_interval),
      index_(1),  // index entries are few and binary-searched: a restart at every one
      filter_(options.bits_per_key > 0 ? options.bits_per_key : 10) {
  properties_.data_compression = options.data_compression;
  properties_.created_unix_seconds = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

bool table_builder::add(std::string_view internal_key, std::string_view value) {
  parsed_internal_key parsed;
  if (finished_ || !parse_internal_key(internal_key, parsed)) return false;
  if (properties_.entries > 0 && compare_internal_keys(last_key_, internal_key) >= 0) return false;
  if (pending_index_entry_) {
    std::string handle;
    encode_handle(pending_handle_, handle);
    index_.add(index_separator(last_key_, internal_key), handle);
    pending_index_entry_ = false;
  }
  if (options_.bits_per_key > 0 && (properties_.entries == 0 || parsed.user_key != last_user_key_)) {
    filter_.add_key(parsed.user_key);
  }
  if (properties_.entries == 0) {
    properties_.smallest_user_key.assign(parsed.user_key);
    properties_.smallest_sequence = parsed.sequence;
  }
  properties_.largest_user_key.assign(parsed.user_key);
  properties_.smallest_sequence = std::min(properties_.smallest_sequence, parsed.sequence);
  properties_.largest_sequence = std::max(properties_.largest_sequence, parsed.sequence);
  ++properties_.entries;
  if (parsed.type == value_type::deletion) ++properties_.deletions;
  properties_.raw_key_bytes += internal_key.size();
  properties_.raw_value_bytes += value.size();
  last_key_.assign(internal_key);
  last_user_key_.assign(parsed.user_key);
  data_.add(internal_key, value);
  if (data_.size_estimate() >= options_.block_size) flush_data_block();
  return true;
}

block_handle table_builder::emit(std::string_view contents, compression c) {
  const std::size_t before = output_.size();
  encode_block(contents, c, output_);
  const block_handle h{offset_, output_.size() - before - block_trailer_size};
  offset_ += output_.size() - before;
  return h;
}

void table_builder::flush_data_block() {
  if (data_.empty()) return;
  const std::uint64_t start = offset_;
  pending_handle_ = emit(data_.finish(), options_.data_compression);
  properties_.data_bytes += offset_ - start;
  ++properties_.data_blocks;
  pending_index_entry_ = true;
  data_.reset();
}

void table_builder::finish() {
  if (finished_) return;
  flush_data_block();
  if (pending_index_entry_) {
    std::string handle;
    encode_handle(pending_handle_, handle);
    index_.add(index_separator(last_key_, {}), handle);
    pending_index_entry_ = false;
  }
  footer f;
  if (options_.bits_per_key > 0) f.filter = emit(filter_.finish(), compression::none);
  f.index = emit(index_.finish(), compression::none);
  f.properties = emit(encode_properties(properties_), compression::none);
  const std::string foot = encode_footer(f);
  output_.append(foot);
  offset_ += foot.size();
  finished_ = true;
}

std::string table_builder::take_output() {
  std::string out;
  out.swap(output_);
  return out;
}

}  // namespace strata::sst
