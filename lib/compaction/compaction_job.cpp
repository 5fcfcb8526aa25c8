#include "compaction/compaction_job.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "compaction/merging_iterator.hpp"
#include "sst/internal_key.hpp"
#include "sst/table_writer.hpp"
#include "strata/error.hpp"

namespace strata::compaction {

namespace asio = boost::asio;

namespace {

// One output table being written.
struct output {
  std::unique_ptr<io::file> file;
  std::unique_ptr<sst::table_file_writer> writer;
  db_internal::table_file meta;
};

}  // namespace

asio::awaitable<std::error_code> run_compaction_job(const compaction_plan& plan,
                                                    std::vector<std::unique_ptr<compaction::internal_iterator>> inputs,
                                                    const job_options& options, const new_output_fn& new_output,
                                                    job_result& result, std::string& message) {
  result = {};
  const bool whole = !options.range.begin && !options.range.end;
  if (whole) result.bytes_read = plan.input_bytes();
  merging_iterator merged(std::move(inputs));
  if (options.range.begin) {
    // The first internal key of the user key (the highest tag sorts first).
    const std::string first = sst::make_internal_key(*options.range.begin, max_sequence_number, value_type::value);
    co_await merged.seek(first);
  } else {
    co_await merged.seek_to_first();
  }

  std::unique_ptr<output> out;
  // Finishes the current output (if any) and records it.
  auto finish_output = [&]() -> asio::awaitable<std::error_code> {
    if (!out) co_return std::error_code{};
    if (auto ec = co_await out->writer->finish()) {
      message = fmt::format("writing {}: {}", out->file->path(),
                            out->file->last_error().empty() ? ec.message() : out->file->last_error());
      co_return ec;
    }
    if (auto ec = out->file->size(out->meta.size)) {
      message = out->file->last_error();
      co_return ec;
    }
    result.bytes_written += out->meta.size;
    result.outputs.push_back(std::move(out->meta));
    out.reset();
    co_return std::error_code{};
  };

  // Before returning an error: no write of the output may outlive its file.
  auto abandon_output = [&]() -> asio::awaitable<void> {
    if (out && out->writer) co_await out->writer->drain();
  };

  // Where the merge stands among the plan's grandparents: grandparent_index
  // is the first one not wholly before the current user key, and
  // inside_grandparent says the key falls within it. Every change of
  // (index, inside) between two user keys is a grandparent boundary: an
  // output ended there shares no grandparent with the next one.
  const auto& grandparents = plan.grandparents;
  std::size_t grandparent_index = 0;
  bool inside_grandparent = false;
  std::uint64_t grandparent_overlap = 0;  // LevelDB's ShouldStopBefore: bytes passed over by the current output
  std::size_t boundaries_in_output = 0;   // boundaries crossed since the current output began
  bool seen_key = false;
  // Moves to `user_key`; returns how many grandparent boundaries lie
  // between the previous user key and it (none for the first key).
  auto advance_grandparents = [&](std::string_view user_key) -> std::size_t {
    const std::size_t before = 2 * grandparent_index + (inside_grandparent ? 1 : 0);
    while (grandparent_index < grandparents.size() &&
           user_key > sst::user_key_of(grandparents[grandparent_index].largest)) {
      grandparent_overlap += grandparents[grandparent_index].size;
      ++grandparent_index;
    }
    inside_grandparent = grandparent_index < grandparents.size() &&
                         user_key >= sst::user_key_of(grandparents[grandparent_index].smallest);
    const std::size_t crossed = seen_key ? 2 * grandparent_index + (inside_grandparent ? 1 : 0) - before : 0;
    seen_key = true;
    return crossed;
  };
  // With alignment an output may grow to twice the target while it waits
  // for a boundary (RocksDB 7.8's level_compaction_dynamic_file_size).
  const bool align = options.align_to_grandparents && !grandparents.empty();
  const std::uint64_t max_file_bytes = align ? 2 * options.target_file_bytes : options.target_file_bytes;
  // Whether the current output ends before `user_key`, the next user key.
  auto should_stop_before = [&](std::string_view user_key) {
    const std::size_t crossed = advance_grandparents(user_key);
    if (!out) return false;
    boundaries_in_output += crossed;
    const std::uint64_t size = out->writer->builder().file_size();
    if (size >= max_file_bytes) return true;
    if (options.max_grandparent_overlap_bytes != 0 && grandparent_overlap > options.max_grandparent_overlap_bytes) {
      return true;
    }
    if (!align) return false;
    // At a boundary, an output past 55 % of the target ends; the more
    // boundaries it already spans (small grandparents), the fuller it must
    // be first, up to 90 % (RocksDB's rule, from its simulations).
    if (crossed == 0) return false;
    const std::uint64_t percent = 50 + 5 * std::min<std::size_t>(boundaries_in_output, 8);
    return size > options.target_file_bytes * percent / 100;
  };

  std::string current_user_key;
  bool has_current = false;
  sequence_number last_sequence_for_key = max_sequence_number;
  while (merged.valid()) {
    const std::string_view key = merged.key();
    sst::parsed_internal_key parsed;
    if (!sst::parse_internal_key(key, parsed)) {
      message = "compaction: an input holds a malformed internal key";
      co_await abandon_output();
      co_return std::error_code(errc::corruption);
    }
    if (options.range.end && parsed.user_key >= std::string_view(*options.range.end)) break;  // the next part's
    ++result.entries_in;
    const bool new_user_key = !has_current || parsed.user_key != current_user_key;
    if (new_user_key) {
      // A user key boundary: the only place an output may end.
      if (should_stop_before(parsed.user_key)) {
        if (auto ec = co_await finish_output()) co_return ec;
      }
      current_user_key.assign(parsed.user_key);
      has_current = true;
      last_sequence_for_key = max_sequence_number;
    }
    bool drop = false;
    if (last_sequence_for_key <= options.oldest_snapshot) {
      drop = true;  // a newer entry of this key is visible to every reader
    } else if (parsed.type == value_type::deletion && parsed.sequence <= options.oldest_snapshot && plan.bottommost) {
      drop = true;  // hides nothing below, and every reader sees it
    }
    last_sequence_for_key = parsed.sequence;

    if (!drop) {
      if (!out) {
        out = std::make_unique<output>();
        if (auto ec = new_output(out->meta.number, out->file, message)) co_return ec;
        out->writer = std::make_unique<sst::table_file_writer>(*out->file, options.table);
        grandparent_overlap = 0;  // the grandparents wholly before this key are not the new output's
        boundaries_in_output = 0;
        out->meta.smallest.assign(key);
        out->meta.smallest_sequence = parsed.sequence;
        out->meta.largest_sequence = parsed.sequence;
      }
      std::error_code ec = out->writer->append(key, merged.value());
      if (!ec && out->writer->should_write()) ec = co_await out->writer->write_pending();
      if (ec) {
        message = fmt::format("writing {}: {}", out->file->path(),
                              out->file->last_error().empty() ? ec.message() : out->file->last_error());
        co_await abandon_output();
        co_return ec;
      }
      out->meta.largest.assign(key);
      out->meta.smallest_sequence = std::min(out->meta.smallest_sequence, parsed.sequence);
      out->meta.largest_sequence = std::max(out->meta.largest_sequence, parsed.sequence);
      ++result.entries_out;
    }
    co_await merged.next();
  }
  if (merged.error()) {
    message = merged.message();
    co_await abandon_output();
    co_return merged.error();
  }
  co_return co_await finish_output();
}

}  // namespace strata::compaction
