#include "sst_inspect.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "escape.hpp"
#include "sst/table_index.hpp"
#include "strata/error.hpp"

namespace strata_cli {

namespace asio = boost::asio;
namespace sst = strata::sst;

namespace {

// Reads exactly out.size() bytes at `offset`; false (with `message`) on an
// error or a short read.
bool read_exactly(int fd, const std::string& path, std::uint64_t offset, std::string& out, std::string& message) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      message = fmt::format("read {}: {}", path, std::strerror(errno));
      return false;
    }
    if (n == 0) {
      message = fmt::format("corruption in {} at offset {}: file ends early", path, offset + done);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

class fd_closer {
 public:
  explicit fd_closer(int fd) : fd_(fd) {}
  ~fd_closer() { ::close(fd_); }
  fd_closer(const fd_closer&) = delete;
  fd_closer& operator=(const fd_closer&) = delete;

 private:
  int fd_;
};

}  // namespace

std::error_code read_table_layout(const std::string& path, table_layout& out, std::string& message) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    message = fmt::format("open {}: {}", path, std::strerror(errno));
    return strata::io::errno_to_error(errno);
  }
  const fd_closer closer(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    message = fmt::format("stat {}: {}", path, std::strerror(errno));
    return strata::io::errno_to_error(errno);
  }
  out.file_size = static_cast<std::uint64_t>(st.st_size);
  if (out.file_size < sst::footer_size) {
    message = fmt::format("{}: not an SSTable (only {} bytes)", path, out.file_size);
    return strata::errc::corruption;
  }
  std::string foot(sst::footer_size, '\0');
  if (!read_exactly(fd, path, out.file_size - sst::footer_size, foot, message)) return strata::errc::corruption;
  if (auto ec = sst::decode_footer(foot, out.footer, message)) {
    message = fmt::format("{}: {}", path, message);
    return ec;
  }
  const sst::block_handle& index = out.footer.index;
  const std::uint64_t limit = out.file_size - sst::footer_size;
  if (index.offset > limit || index.size + sst::block_trailer_size > limit - index.offset) {
    message = fmt::format("corruption in {}: footer points outside the file", path);
    return strata::errc::corruption;
  }
  std::string stored(index.size + sst::block_trailer_size, '\0');
  if (!read_exactly(fd, path, index.offset, stored, message)) return strata::errc::corruption;
  std::string contents;
  if (auto ec = sst::decode_block(stored, index, path, contents, message)) return ec;
  sst::table_index decoded;
  if (std::string why; !sst::table_index::decode(contents, decoded, why)) {
    message = fmt::format("corruption in {} at block offset {}: {}", path, index.offset, why);
    return strata::errc::corruption;
  }
  out.data_blocks.clear();
  for (std::size_t i = 0; i < decoded.size(); ++i) out.data_blocks.push_back(decoded.handle(i));
  return {};
}

asio::awaitable<opened_table> open_table(strata::io::io_engine& engine, std::string path) {
  opened_table t;
  strata::io::open_options o;
  o.read_only = true;
  t.file = strata::io::file::open(engine, path, o, t.error);
  if (t.error) {
    t.message = fmt::format("open {}: {}", path, t.error.message());
    co_return t;
  }
  if ((t.error = t.file->size(t.size))) {
    t.message = t.file->last_error();
    co_return t;
  }
  auto opened = co_await sst::table_reader::open(*t.file, t.size, nullptr);
  if (opened.error) {
    t.error = opened.error;
    t.message = std::move(opened.message);
    co_return t;
  }
  t.reader = std::move(opened.table);
  co_return t;
}

asio::awaitable<table_walk> walk_table(const opened_table& table, const entry_visitor* visit) {
  table_walk w;
  const std::string& path = table.file->path();
  // No block cache and no readahead: every block is read from the file once.
  auto it = table.reader->new_iterator(/*fill_cache=*/false, /*readahead=*/0);
  co_await it.seek_to_first();
  std::string previous;
  while (it.valid()) {
    sst::parsed_internal_key key;
    if (!sst::parse_internal_key(it.key(), key)) {
      w.error = strata::errc::corruption;
      w.message = fmt::format("corruption in {}: entry {} has a malformed internal key", path, w.entries);
      co_return w;
    }
    if (w.entries > 0 && sst::compare_internal_keys(previous, it.key()) >= 0) {
      w.error = strata::errc::corruption;
      w.message = fmt::format("corruption in {}: entry {} is not above the entry before it", path, w.entries);
      co_return w;
    }
    if (w.entries == 0) {
      w.smallest.assign(it.key());
      w.smallest_sequence = key.sequence;
      w.largest_sequence = key.sequence;
    }
    w.smallest_sequence = std::min(w.smallest_sequence, key.sequence);
    w.largest_sequence = std::max(w.largest_sequence, key.sequence);
    ++w.entries;
    if (key.type == strata::value_type::deletion) ++w.deletions;
    previous.assign(it.key());
    if (visit != nullptr) (*visit)(key, it.value());
    if (!it.try_next()) co_await it.next();
  }
  if (it.error()) {
    w.error = it.error();
    w.message = it.message();
  }
  w.largest = previous;
  co_return w;
}

std::string check_properties(const sst::table_properties& p, const table_walk& w, std::uint64_t data_blocks) {
  std::string why;
  auto differ = [&why](std::string_view what, auto in_properties, auto found) {
    if (in_properties == found) return;
    if (!why.empty()) why += "; ";
    why += fmt::format("properties say {} {}, the table holds {}", what, in_properties, found);
  };
  differ("entries", p.entries, w.entries);
  differ("deletions", p.deletions, w.deletions);
  differ("data blocks", p.data_blocks, data_blocks);
  if (w.entries > 0) {
    differ("smallest sequence", p.smallest_sequence, w.smallest_sequence);
    differ("largest sequence", p.largest_sequence, w.largest_sequence);
    differ("smallest key", escape(p.smallest_user_key), escape(sst::user_key_of(w.smallest)));
    differ("largest key", escape(p.largest_user_key), escape(sst::user_key_of(w.largest)));
  }
  return why;
}

}  // namespace strata_cli
