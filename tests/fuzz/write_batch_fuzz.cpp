// libFuzzer target: arbitrary bytes as a write batch (a WAL record's
// payload), decoded the way recovery does. Never a crash; a batch that
// decodes walks exactly count() operations without error, and rebuilding
// it op by op with put()/erase() gives a batch that decodes to the same
// operations (the bytes may differ: decode accepts over-long varints).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "strata/write_batch.hpp"

namespace {
using op = std::tuple<bool, std::string, std::string>;

bool operations(const strata::write_batch& b, std::vector<op>& out) {
  const auto ec = b.for_each([&](bool is_put, std::string_view key, std::string_view value) {
    out.emplace_back(is_put, std::string(key), std::string(value));
  });
  return !ec && out.size() == b.count();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  strata::write_batch batch;
  if (strata::write_batch::decode(bytes, batch)) return 0;
  std::vector<op> ops;
  if (!operations(batch, ops)) __builtin_trap();
  strata::write_batch rebuilt;
  rebuilt.set_sequence(batch.sequence());
  for (const auto& [is_put, key, value] : ops) {
    if (is_put) {
      rebuilt.put(key, value);
    } else {
      rebuilt.erase(key);
    }
  }
  strata::write_batch again;
  std::vector<op> ops_again;
  if (strata::write_batch::decode(rebuilt.rep(), again) || !operations(again, ops_again) || ops_again != ops ||
      again.sequence() != batch.sequence())
    __builtin_trap();
  return 0;
}
