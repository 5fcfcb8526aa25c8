#include "wal/wal_writer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <span>
#include <thread>

#include "io/file_ops.hpp"

namespace strata::wal {

namespace asio = boost::asio;

std::string log_file_name(const std::string& dir, std::uint64_t number) {
  return fmt::format("{}/{:06}.log", dir, number);
}

wal_writer::wal_writer(io::io_engine& engine, asio::any_io_executor executor, std::string dir, writer_options options)
    : engine_(engine), executor_(std::move(executor)), dir_(std::move(dir)), options_(options) {}

wal_writer::~wal_writer() = default;

std::shared_ptr<wal_writer> wal_writer::create(io::io_engine& engine, asio::any_io_executor executor, std::string dir,
                                               std::uint64_t number, writer_options options, std::error_code& ec) {
  std::shared_ptr<wal_writer> w(new wal_writer(engine, std::move(executor), std::move(dir), options));
  w->file_ = io::file::open(engine, log_file_name(w->dir_, number), {.create = true, .exclusive = true}, ec);
  if (ec) return nullptr;
  w->number_ = number;
  w->stats_.files = 1;
  return w;
}

writer_stats wal_writer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::uint64_t wal_writer::current_number() const {
  std::lock_guard lock(mu_);
  return number_;
}

std::string wal_writer::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

namespace {
// The most zeros one synced group writes (prezero_bytes is capped at it).
constexpr std::uint64_t max_prezero = 4u << 20;
// calloc of this size maps fresh zero pages: no memory until read.
const char* zero_bytes() {
  static const char* const zeros = static_cast<const char*>(std::calloc(max_prezero, 1));
  return zeros;
}
}  // namespace

void wal_writer::finish_on_loop(pending& p, std::error_code ec) {
  if (p.written) {
    auto written = std::move(p.written);
    written(ec);
  } else {
    p.handler.complete(ec);  // on its own associated executor, never inline here
  }
}

void wal_writer::finish_from_outside(pending p, std::error_code ec) {
  if (p.written) {
    asio::post(executor_, [written = std::move(p.written), ec] { written(ec); });
  } else {
    p.handler.complete(ec);
  }
}

void wal_writer::push(pending p) {
  auto nothing = [] {};
  push(std::move(p), nothing);
}

void wal_writer::fail(std::vector<pending>& group, std::error_code ec, std::string message) {
  {
    std::lock_guard lock(mu_);
    failed_ = ec;
    last_error_ = std::move(message);
    for (auto& p : queue_) group.push_back(std::move(p));
    queue_.clear();
    loop_running_ = false;
  }
  for (auto& p : group) finish_on_loop(p, ec);
  group.clear();
}

asio::awaitable<std::error_code> wal_writer::open_next_file() {
  std::error_code ec;
  auto next = io::file::open(engine_, log_file_name(dir_, number_ + 1), {.create = true, .exclusive = true}, ec);
  if (ec) co_return ec;
  std::lock_guard lock(mu_);
  file_ = std::move(next);
  ++number_;
  ++stats_.files;
  co_return std::error_code{};
}

asio::awaitable<std::error_code> wal_writer::rotate() {
  if (unsynced_) {  // every log but the newest is complete and durable
    auto [ec, n] = co_await io::async_sync(*file_, true, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return ec;
    std::lock_guard lock(mu_);
    ++stats_.syncs;
  }
  // Opening is a blocking syscall: run it on the loop's own executor (a db's WAL thread), never a caller's.
  if (auto ec = co_await asio::co_spawn(executor_, open_next_file(), asio::use_awaitable)) co_return ec;
  file_offset_ = 0;
  unsynced_ = false;
  zeroed_until_ = 0;
  encoder_.reset(0);
  co_return std::error_code{};
}

asio::awaitable<void> wal_writer::run_groups(std::shared_ptr<wal_writer> w) {
  std::vector<pending> group;
  for (;;) {
    group.clear();
    {
      std::lock_guard lock(w->mu_);
      if (w->queue_.empty() || w->failed_) {
        w->loop_running_ = false;
        co_return;
      }
      group.swap(w->queue_);
    }
    bool sync = false;
    std::size_t records = 0;
    std::chrono::steady_clock::duration sync_time{};  // of a synced write, for regrouping
    std::size_t queued_behind = 0;                    // appends that arrived during it
    auto encode = [&] {
      w->buffer_.clear();
      records = 0;
      for (const auto& p : group) {
        sync = sync || p.sync;
        if (p.flush_only) continue;
        w->encoder_.add_record(p.payload, w->buffer_);
        ++records;
      }
    };
    encode();
    if (w->file_offset_ > 0 && w->file_offset_ + w->buffer_.size() > w->options_.max_file_bytes) {
      if (auto ec = co_await w->rotate()) {
        w->fail(group, ec, fmt::format("rotating {}: {}", log_file_name(w->dir_, w->number_), ec.message()));
        co_return;
      }
      encode();  // block offsets restart in the new file
    }
    std::error_code ec;
    if (!w->buffer_.empty() && !sync) {
      // Page cache only: a direct pwritev on this (background) thread. The
      // ring would hand a buffered ext4 write to an io-wq worker and back,
      // two wake-ups (~50 us here) around a copy of a few microseconds.
      const std::string_view parts[] = {w->buffer_};
      ec = w->file_->write_now(w->file_offset_, parts, false);
    } else if (!w->buffer_.empty()) {
      // Synced: the write, then fdatasync, on this thread (as above: the
      // ring would add four hand-offs). Past the zero-filled space, zeros
      // follow the records in the same write (prezero_bytes).
      const std::uint64_t end = w->file_offset_ + w->buffer_.size();
      std::size_t zeros = 0;
      if (end > w->zeroed_until_ && w->options_.prezero_bytes > 0 && end < w->options_.max_file_bytes &&
          zero_bytes() != nullptr) {
        zeros = static_cast<std::size_t>(
            std::min({w->options_.prezero_bytes, max_prezero, w->options_.max_file_bytes - end}));
      }
      const std::string_view parts[] = {w->buffer_, {zero_bytes(), zeros}};
      const auto started = std::chrono::steady_clock::now();
      ec = w->file_->write_now(w->file_offset_, parts, true);
      sync_time = std::chrono::steady_clock::now() - started;
      if (!ec && zeros) w->zeroed_until_ = end + zeros;
    } else if (sync && w->unsynced_) {
      auto [sec, n] = co_await io::async_sync(*w->file_, true, asio::as_tuple(asio::use_awaitable));
      ec = sec;
    }
    if (ec) {
      w->fail(group, ec, w->file_->last_error());
      co_return;
    }
    {
      std::lock_guard lock(w->mu_);
      w->file_offset_ += w->buffer_.size();
      if (!w->buffer_.empty()) w->unsynced_ = !sync;
      if (sync) w->unsynced_ = false;
      w->stats_.records += records;
      w->stats_.bytes += w->buffer_.size();
      if (!w->buffer_.empty()) ++w->stats_.groups;
      if (sync) ++w->stats_.syncs;
      queued_behind = w->queue_.size();
    }
    // The db's members (on_written) run right here: their memtable inserts
    // cost no post and no wake-up each. Handlers go to their executors.
    for (auto& p : group) finish_on_loop(p, {});
    if (w->options_.on_group_end) w->options_.on_group_end();
    if (records > 1 && sync_time.count() > 0 && w->options_.regroup_wait_factor > 0) {
      if (w->regroup_skips_ > 0) {
        --w->regroup_skips_;
      } else if (!co_await w->wait_for_regroup(queued_behind, records, sync_time)) {
        // Most writers did not come back in time (they think between
        // writes): waiting only delays the queued ones. Try again later.
        w->regroup_skips_ = 8;
      }
    }
    // Let the members just completed run first: on the loop's own thread
    // they append again before we look at the queue, so they join the next
    // group instead of waiting one whole group behind it. Without this,
    // N writers on one thread settle into two alternating groups of N/2
    // and each write carries half of them. defer, not post: the loop goes
    // behind them on the pool's queue without waking another pool thread to
    // take it over (a post from a pool thread wakes an idle one; with two
    // threads that made every group a hand-off between them).
    co_await asio::defer(w->executor_, asio::use_awaitable);
  }
}

asio::awaitable<bool> wal_writer::wait_for_regroup(std::size_t queued_behind, std::size_t returning,
                                                   std::chrono::steady_clock::duration sync_time) {
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(sync_time * options_.regroup_wait_factor);
  for (;;) {
    std::size_t queued = 0;
    {
      std::lock_guard lock(mu_);
      if (failed_) co_return true;
      queued = queue_.size();
    }
    if (queued >= queued_behind + returning) co_return true;
    if (std::chrono::steady_clock::now() >= deadline) co_return queued >= queued_behind + returning / 2;
    // The writers come back on their own threads: give up the core (this
    // machine may have as few as two), then let this thread's other
    // handlers run, writers included when they share it.
    std::this_thread::yield();
    co_await asio::post(executor_, asio::use_awaitable);
  }
}

void wal_writer::start_loop() {
  // Posted, never run inline: co_spawn dispatches, and the db appends while
  // holding its own mutex, which the loop's on_written callbacks take.
  asio::post(executor_, [w = shared_from_this()]() mutable {
    auto ex = w->executor_;
    asio::co_spawn(ex, run_groups(std::move(w)), asio::detached);
  });
}

}  // namespace strata::wal
