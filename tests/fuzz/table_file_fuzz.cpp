// libFuzzer target: arbitrary bytes as a whole SSTable file, parsed the way
// table_reader::open and get do (footer, block trailers and checksums,
// decompression, index entries and handles, filter, properties), minus the
// I/O: the reader itself is a coroutine, which clang 14 cannot compile with
// sanitizers, so this target drives the same pure decoding steps.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sst/block_reader.hpp"
#include "sst/bloom_filter.hpp"
#include "sst/format.hpp"
#include "sst/internal_key.hpp"
#include "sst/table_index.hpp"

namespace {
using namespace strata::sst;

// The stored bytes of `h` if they lie inside the file body, else empty.
bool slice(std::string_view body, const block_handle& h, std::string_view& out) {
  if (h.offset > body.size() || h.size > body.size() - h.offset ||
      block_trailer_size > body.size() - h.offset - h.size) {
    return false;
  }
  out = body.substr(h.offset, h.size + block_trailer_size);
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view file(reinterpret_cast<const char*>(data), size);
  if (size < footer_size) return 0;
  footer f;
  std::string message;
  if (decode_footer(file.substr(size - footer_size), f, message)) return 0;
  const std::string_view body = file.substr(0, size - footer_size);
  std::string contents;
  std::string_view stored;
  if (slice(body, f.properties, stored) && !decode_block(stored, f.properties, "fuzz.sst", contents, message)) {
    table_properties p;
    decode_properties(contents, p);
  }
  if (slice(body, f.filter, stored) && !decode_block(stored, f.filter, "fuzz.sst", contents, message)) {
    const bloom_filter_reader filter{std::string_view(contents)};
    filter.may_contain("key");
  }
  if (!slice(body, f.index, stored) || decode_block(stored, f.index, "fuzz.sst", contents, message)) return 0;
  const std::string index_bytes = contents;
  table_index index;
  if (!table_index::decode(index_bytes, index, message)) return 0;
  // Seeks land in range, on the first separator >= the target.
  for (const std::string_view user_key : {std::string_view("key"), std::string_view(), std::string_view("\xff\xff")}) {
    const lookup_key target(user_key, 7);
    const std::size_t i = index.seek(target.internal_key());
    if (i > index.size()) __builtin_trap();
    if (i < index.size() && compare_internal_keys(index.separator(i), target.internal_key()) < 0) __builtin_trap();
    if (i > 0 && compare_internal_keys(index.separator(i - 1), target.internal_key()) >= 0) __builtin_trap();
  }
  for (std::size_t blocks = 0; blocks < index.size() && blocks < 64; ++blocks) {
    const block_handle h = index.handle(blocks);
    if (!slice(body, h, stored)) continue;
    if (decode_block(stored, h, "fuzz.sst", contents, message)) continue;
    const block_reader block(contents);
    auto b = block.new_iterator();
    std::size_t steps = 0;
    for (b.seek_to_first(); b.valid(); b.next()) {
      if (++steps > contents.size()) __builtin_trap();
    }
  }
  return 0;
}
