// examples/strata_cli/sst_inspect.hpp — reading one SSTable file read-only
// for dump-sst and verify, with the library's own readers (lib/sst): its
// framing (footer and index, for display), the table through
// sst::table_reader, and every entry in order through its iterator, which
// reads every data block and verifies its XXH3 checksum. Any damage comes
// back as errc::corruption with a message naming the file and offset.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "io/file.hpp"
#include "io/io_engine.hpp"
#include "sst/format.hpp"
#include "sst/internal_key.hpp"
#include "sst/table_reader.hpp"

namespace strata_cli {

// A table's framing: the footer, and the data blocks its index lists
// (footer and index block checksums verified).
struct table_layout {
  std::uint64_t file_size = 0;
  strata::sst::footer footer;
  std::vector<strata::sst::block_handle> data_blocks;
};
// Blocking reads (pread); for the command line only.
std::error_code read_table_layout(const std::string& path, table_layout& out, std::string& message);

// A table opened through sst::table_reader (footer, index, filter and
// properties blocks read and verified). The reader refers to the file:
// members are destroyed reader first.
struct opened_table {
  std::unique_ptr<strata::io::file> file;
  std::unique_ptr<strata::sst::table_reader> reader;
  std::uint64_t size = 0;
  std::error_code error;
  std::string message;
};
boost::asio::awaitable<opened_table> open_table(strata::io::io_engine& engine, std::string path);

// What a walk over every entry found.
struct table_walk {
  std::uint64_t entries = 0;
  std::uint64_t deletions = 0;
  std::string smallest, largest;  // internal keys
  strata::sequence_number smallest_sequence = 0, largest_sequence = 0;
  std::error_code error;  // corruption or an I/O error; the walk stopped there
  std::string message;
};
// Called per entry, in order; views are valid during the call only.
using entry_visitor = std::function<void(const strata::sst::parsed_internal_key& key, std::string_view value)>;

// Reads every entry in internal-key order (every data block is read and
// its checksum verified), checking that each key parses and that keys
// strictly ascend. `visit` may be null.
boost::asio::awaitable<table_walk> walk_table(const opened_table& table, const entry_visitor* visit);

// Where the table's properties block disagrees with what a complete walk
// found and with the number of data blocks in the index; "" if nowhere.
std::string check_properties(const strata::sst::table_properties& p, const table_walk& w, std::uint64_t data_blocks);

}  // namespace strata_cli
