// libFuzzer target: arbitrary bytes as a WAL file. The reader, in every
// mode, must never crash, never read out of bounds, never loop forever, and
// every record it returns must have passed its checksum (so it is the
// writer's bytes; decoding them as a write batch must also be safe).
//
// Build: CXX=clang++ meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined
// Run:   build-fuzz/tests/fuzz/wal_reader_fuzz tests/fuzz/corpus/wal -max_total_time=300
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "strata/write_batch.hpp"
#include "wal/log_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (const bool skip : {false, true}) {
    for (const bool last : {false, true}) {
      strata::wal::log_reader reader(bytes, "fuzz.log", {.skip_corruption = skip, .last_file = last});
      std::string_view record;
      std::uint64_t previous_end = 0;
      while (reader.next(record) == strata::wal::log_reader::status::record) {
        if (reader.valid_end() < previous_end || reader.valid_end() > size) __builtin_trap();
        previous_end = reader.valid_end();
        strata::write_batch batch;
        if (!strata::write_batch::decode(record, batch)) {
          std::size_t ops = 0;
          if (batch.for_each([&](bool, std::string_view, std::string_view) { ++ops; })) __builtin_trap();
          if (ops != batch.count()) __builtin_trap();
        }
      }
      if (reader.dropped_bytes() > size) __builtin_trap();
    }
  }
  return 0;
}
