// libFuzzer target: arbitrary bytes as an SST block. Iterating, seeking and
// stepping back must never crash, read out of bounds, or loop forever.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sst/block_reader.hpp"
#include "sst/internal_key.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const strata::sst::block_reader reader(bytes);
  auto it = reader.new_iterator();
  std::size_t steps = 0;
  for (it.seek_to_first(); it.valid(); it.next()) {
    if (++steps > size) __builtin_trap();  // each entry takes at least 3 bytes: no cycles
  }
  steps = 0;
  for (it.seek_to_last(); it.valid(); it.prev()) {
    if (++steps > size) __builtin_trap();
  }
  const std::string target = strata::sst::make_internal_key(bytes.substr(0, size / 3), 42, strata::value_type::value);
  it.seek(target);
  if (it.valid() && strata::sst::compare_internal_keys(it.key(), target) < 0) __builtin_trap();
  return 0;
}
