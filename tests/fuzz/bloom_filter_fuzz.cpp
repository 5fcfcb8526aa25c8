// libFuzzer target: arbitrary bytes as a serialized bloom filter. The reader
// must never crash or read outside the bytes; an invalid filter filters nothing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sst/bloom_filter.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const strata::sst::bloom_filter_reader reader(bytes);
  for (std::size_t i = 0; i <= size && i < 64; i += 7) {
    const bool maybe = reader.may_contain(bytes.substr(0, i));
    if (!reader.valid() && !maybe) __builtin_trap();  // an unusable filter must never claim absence
  }
  return 0;
}
