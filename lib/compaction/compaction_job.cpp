#include "compaction/compaction_job.hpp"

#include <fmt/format.h>

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

  // LevelDB's ShouldStopBefore: the grandparents wholly before `user_key`
  // count towards the current output's overlap once it has a first key.
  std::size_t grandparent_index = 0;
  std::uint64_t grandparent_overlap = 0;
  bool seen_key = false;
  auto overlaps_too_much_before = [&](std::string_view user_key) {
    const auto& grandparents = plan.grandparents;
    while (grandparent_index < grandparents.size() &&
           user_key > sst::user_key_of(grandparents[grandparent_index].largest)) {
      if (seen_key) grandparent_overlap += grandparents[grandparent_index].size;
      ++grandparent_index;
    }
    seen_key = true;
    if (options.max_grandparent_overlap_bytes == 0 || grandparent_overlap <= options.max_grandparent_overlap_bytes) {
      return false;
    }
    grandparent_overlap = 0;
    return true;
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
      const bool stop_for_grandparents = overlaps_too_much_before(parsed.user_key);
      if (out && (stop_for_grandparents || out->writer->builder().file_size() >= options.target_file_bytes)) {
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
