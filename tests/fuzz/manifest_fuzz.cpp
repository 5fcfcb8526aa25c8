// libFuzzer target: arbitrary bytes as a MANIFEST, replayed the way
// version_set::recover does (log records, each decoded as a version edit
// and applied to the version so far). Never a crash; every edit that
// decodes must encode back to bytes that decode to the same edit; a refused
// edit leaves the version as it was.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "db/version.hpp"
#include "db/version_edit.hpp"
#include "wal/log_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace strata::db_internal;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  strata::wal::log_reader reader(bytes, "MANIFEST-fuzz", {});
  version v;
  std::string_view record;
  std::size_t edits = 0;
  while (reader.next(record) == strata::wal::log_reader::status::record && edits++ < 1000) {
    version_edit e;
    std::string why;
    if (version_edit::decode(record, e, why)) continue;
    std::string again;
    e.encode(again);
    version_edit back;
    if (version_edit::decode(again, back, why) || !(back == e)) __builtin_trap();
    const std::size_t before = v.file_count();
    if (version::apply(v, e, v, why) && v.file_count() != before) __builtin_trap();
  }
  // The raw bytes as one edit, too.
  strata::db_internal::version_edit e;
  std::string why;
  (void)strata::db_internal::version_edit::decode(bytes, e, why);
  return 0;
}
