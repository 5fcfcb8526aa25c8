// wal/wal_writer.hpp — the write-ahead log writer, with group commit.
//
// Any number of writers (coroutines on one thread or many threads) call
// async_append(payload, sync). Appends that arrive while a write is in
// flight join the next group; one loop on the WAL's executor encodes a whole
// group into one buffer and writes it with one pwritev on the loop's thread,
// followed by an fdatasync if any member asked for sync. Not through
// io_uring: on ext4 the ring hands buffered writes and fdatasync to io-wq
// workers, so it would add four thread hand-offs to every group commit
// (docs/io.md has the measurements). The executor must therefore be a
// background one, never a caller's. Every member completes when its bytes are
// where it asked: in the page cache, or on disk for sync. If the write or
// the sync fails, every member of the group gets the error, and the writer
// stays failed (its file may hold a partial group): later appends fail too.
//
// Files are <dir>/<number>.log (6+ digits). When a file passes
// max_file_bytes the writer syncs it and continues in the next number, so
// every log but the newest is complete and durable.
//
// Thread safety: async_append from any thread. The payload must stay valid
// until the append completes. Lifetime: the writer is shared; a running
// group loop holds a reference, so dropping the last outside reference
// after the final append (or async_flush) completed is safe even while the
// loop is still winding down. The io_engine must outlive the loop.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "io/deferred_completion.hpp"
#include "io/file.hpp"
#include "wal/log_encoder.hpp"

namespace strata::wal {

struct writer_options {
  std::uint64_t max_file_bytes = 64u << 20;
  // Once a group asks for sync, a synced group that would write past the
  // file's zero-filled space writes this many zero bytes after its records
  // in the same write. Later synced groups then overwrite allocated blocks
  // within the file's size, and their fdatasync writes data only, not the
  // file system's journal: 89 us against 207 us for a synced append here
  // (docs/wal_format.md). Readers take a zero tail as the end of the log.
  // 0: never; at most 4 MiB.
  std::uint64_t prezero_bytes = 1u << 20;
  // After a synced group of n appends, the loop waits for its n writers to
  // append again before it starts the next group, for at most this multiple
  // of the group's own write+sync time. Writers that wait on their sync come
  // back within tens of microseconds, but on another thread: without the
  // wait, N of them settle into two alternating groups of N/2, and each
  // sync carries half of them. When most do not come back in time (writers
  // that think between writes), the loop stops waiting for the next 8
  // groups. 0: never wait.
  double regroup_wait_factor = 1.0;
  // Called on the group loop's thread after every member of a successful
  // group has been completed (after the last on_written). The db
  // acknowledges the group's writes there in one batch. Must not block.
  std::function<void()> on_group_end = nullptr;
};

struct writer_stats {
  std::uint64_t records = 0;
  std::uint64_t groups = 0;  // write submissions
  std::uint64_t syncs = 0;   // groups written with fdatasync (+ rotations)
  std::uint64_t bytes = 0;   // log bytes written, framing included
  std::uint64_t files = 0;   // log files opened
  double mean_group_size() const noexcept { return groups ? static_cast<double>(records) / groups : 0.0; }
  // Totals over several logs (files is left alone: it counts one writer's files).
  writer_stats& operator+=(const writer_stats& o) noexcept {
    records += o.records;
    groups += o.groups;
    syncs += o.syncs;
    bytes += o.bytes;
    return *this;
  }
};

std::string log_file_name(const std::string& dir, std::uint64_t number);

class wal_writer : public std::enable_shared_from_this<wal_writer> {
 public:
  using append_handler = io::deferred_completion;

  // Creates <dir>/<number>.log (blocking: call from a background executor).
  // The group loop runs on `executor`.
  static std::shared_ptr<wal_writer> create(io::io_engine& engine, boost::asio::any_io_executor executor,
                                            std::string dir, std::uint64_t number, writer_options options,
                                            std::error_code& ec);
  ~wal_writer();

  template <typename Token>
  auto async_append(std::string_view payload, bool sync, Token&& token) {
    return boost::asio::async_initiate<Token, void(std::error_code)>(
        [this, payload, sync](auto handler) {
          push({payload, sync, false, append_handler(std::move(handler)), {}});
        },
        token);
  }

  // For the db: an append that calls prepare() under the writer's queue
  // lock, just before the record is queued (and not at all if the writer
  // has failed), and then on_written(ec) on the group loop's own thread as
  // soon as the group's write finished: no post, no wake-up per member. The
  // db assigns a batch's sequence numbers in prepare, so that log order and
  // sequence order always agree, and inserts into the memtable in
  // on_written. prepare must be quick and must not throw or call into the
  // writer; it may rewrite the payload's bytes in place. on_written must
  // not block; it may append again. If the writer has already failed,
  // on_written is posted to the WAL's executor instead (the caller of
  // append_prepared may hold its own locks).
  template <typename Prepare>
  void append_prepared(std::string_view payload, bool sync, Prepare prepare,
                       std::function<void(std::error_code)> on_written) {
    push({payload, sync, false, {}, std::move(on_written)}, prepare);
  }

  // Completes once every append queued before it completed, after an
  // fdatasync of the current file.
  template <typename Token>
  auto async_flush(Token&& token) {
    return boost::asio::async_initiate<Token, void(std::error_code)>(
        [this](auto handler) {
          push({{}, true, true, append_handler(std::move(handler)), {}});
        },
        token);
  }

  writer_stats stats() const;
  std::uint64_t current_number() const;
  // Last failure with its file name ("write /d/000003.log: No space ..."), or "".
  std::string last_error() const;

 private:
  struct pending {
    std::string_view payload;
    bool sync = false;
    bool flush_only = false;
    append_handler handler;                        // posted to its executor, or:
    std::function<void(std::error_code)> written;  // run on the loop's thread
  };

  wal_writer(io::io_engine& engine, boost::asio::any_io_executor executor, std::string dir, writer_options options);

  void push(pending p);
  template <typename Prepare>
  void push(pending p, Prepare& prepare) {
    std::unique_lock lock(mu_);
    if (failed_) {
      const auto ec = failed_;
      lock.unlock();
      finish_from_outside(std::move(p), ec);
      return;
    }
    prepare();
    queue_.push_back(std::move(p));
    if (loop_running_) return;  // the running loop will pick it up
    loop_running_ = true;
    lock.unlock();
    start_loop();
  }
  void start_loop();
  // Completes a member from the group loop (on_written inline) or from
  // anywhere else (on_written posted to executor_).
  static void finish_on_loop(pending& p, std::error_code ec);
  void finish_from_outside(pending p, std::error_code ec);
  // The group-commit loop; one runs at a time (loop_running_).
  static boost::asio::awaitable<void> run_groups(std::shared_ptr<wal_writer> w);
  // Fails `group` and every queued append with ec; the writer stays failed.
  void fail(std::vector<pending>& group, std::error_code ec, std::string message);
  // Syncs the current file if needed and switches to the next number
  // (the open runs on executor_, the loop's own executor, never a caller's).
  boost::asio::awaitable<std::error_code> rotate();
  // After a synced group: returns once the `returning` writers just
  // completed have appended again behind the `queued_behind` appends that
  // were already queued, or at the deadline (regroup_wait_factor); false
  // when by then fewer than half of them had.
  boost::asio::awaitable<bool> wait_for_regroup(std::size_t queued_behind, std::size_t returning,
                                                std::chrono::steady_clock::duration sync_time);
  boost::asio::awaitable<std::error_code> open_next_file();

  io::io_engine& engine_;
  boost::asio::any_io_executor executor_;
  const std::string dir_;
  const writer_options options_;

  mutable std::mutex mu_;  // guards everything below
  std::vector<pending> queue_;
  bool loop_running_ = false;
  std::error_code failed_;  // sticky
  std::string last_error_;
  writer_stats stats_;
  std::unique_ptr<io::file> file_;
  std::uint64_t number_ = 0;
  std::uint64_t file_offset_ = 0;  // only the group loop touches these four
  bool unsynced_ = false;
  std::uint64_t zeroed_until_ = 0;  // bytes [file_offset_, zeroed_until_) are zeros on disk
  int regroup_skips_ = 0;           // synced groups left that do not wait_for_regroup
  log_encoder encoder_;
  std::string buffer_;
};

}  // namespace strata::wal
