// Writes the seed corpus for wal_reader_fuzz (run once; the seeds are
// committed): valid logs of write batches, multi-block records, a torn
// tail, a flipped bit, zero padding.
#include <fstream>
#include <string>

#include "strata/write_batch.hpp"
#include "wal/log_encoder.hpp"

namespace {
void write(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}
std::string log_of(std::initializer_list<std::string> records) {
  strata::wal::log_encoder enc;
  std::string out;
  for (const auto& r : records) enc.add_record(r, out);
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : ".";
  strata::write_batch a, b;
  a.put("key", "value");
  a.erase("old");
  a.set_sequence(1);
  b.put(std::string(40000, 'k'), std::string(30000, 'v'));  // spans blocks
  b.set_sequence(3);
  const std::string two = log_of({a.rep(), "", a.rep()});
  write(dir, "small_batches", two);
  write(dir, "multi_block", log_of({a.rep(), b.rep(), a.rep()}));
  write(dir, "torn_tail", two.substr(0, two.size() - 5));
  std::string flipped = two;
  flipped[9] = static_cast<char>(flipped[9] ^ 0x10);
  write(dir, "flipped_bit", flipped);
  write(dir, "zero_tail", two + std::string(100, '\0'));
  write(dir, "empty", "");
  return 0;
}
