// Writes the seed corpora (run once; the seeds are committed):
//   make_wal_seeds <wal dir> [<block dir> [<bloom dir> [<table dir> [<manifest dir>]]]]
// wal: valid logs of write batches, multi-block records, a torn tail, a
// flipped bit, zero padding. block: SST blocks at several restart intervals.
#include <fstream>
#include <string>

#include "db/version_edit.hpp"
#include "sst/block_builder.hpp"
#include "sst/bloom_filter.hpp"
#include "sst/internal_key.hpp"
#include "sst/table_builder.hpp"
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
  if (argc > 2) {
    const std::string blocks = argv[2];
    for (int interval : {1, 4, 16}) {
      strata::sst::block_builder builder(interval);
      for (int i = 0; i < 40; ++i) {
        builder.add(strata::sst::make_internal_key("key" + std::to_string(100 + i), 1000 - i,
                                                   i % 5 ? strata::value_type::value : strata::value_type::deletion),
                    std::string(static_cast<std::size_t>(i % 7), 'v'));
      }
      write(blocks, "block_interval_" + std::to_string(interval), std::string(builder.finish()));
    }
    strata::sst::block_builder empty_block;
    write(blocks, "block_empty", std::string(empty_block.finish()));
  }
  if (argc > 3) {
    const std::string blooms = argv[3];
    for (int keys : {0, 1, 100}) {
      strata::sst::bloom_filter_builder b(10);
      for (int i = 0; i < keys; ++i) b.add_key("key" + std::to_string(i));
      write(blooms, "bloom_" + std::to_string(keys), b.finish());
    }
  }
  if (argc > 4) {
    const std::string tables = argv[4];
    for (const auto c :
         {strata::sst::compression::none, strata::sst::compression::lz4, strata::sst::compression::zstd}) {
      strata::sst::table_builder t({.block_size = 256, .data_compression = c});
      for (int i = 0; i < 60; ++i) {
        t.add(strata::sst::make_internal_key("key" + std::to_string(1000 + i), 500 - i, strata::value_type::value),
              std::string(20, static_cast<char>('a' + i % 3)));
      }
      t.finish();
      write(tables, std::string("table_") + strata::sst::compression_name(c), t.take_output());
    }
  }
  if (argc > 5) {
    using namespace strata::db_internal;
    const std::string manifests = argv[5];
    version_edit first;
    first.format_name = std::string(manifest_format_name);
    first.log_number = 3;
    first.next_file_number = 9;
    first.last_sequence = 100;
    version_edit add;
    for (std::uint64_t n : {5, 6}) {
      table_file f{n,
                   4096,
                   strata::sst::make_internal_key("a" + std::to_string(n), 9, strata::value_type::value),
                   strata::sst::make_internal_key("b" + std::to_string(n), 2, strata::value_type::value),
                   2,
                   9};
      add.added.emplace_back(n == 5 ? 0 : 1, f);
    }
    version_edit del;
    del.deleted = {{0, 5}};
    std::string e1, e2, e3;
    first.encode(e1);
    add.encode(e2);
    del.encode(e3);
    const std::string manifest = log_of({e1, e2, e3});
    write(manifests, "manifest_three_edits", manifest);
    write(manifests, "manifest_torn", manifest.substr(0, manifest.size() - 4));
    write(manifests, "manifest_snapshot_only", log_of({e1}));
  }
  return 0;
}
