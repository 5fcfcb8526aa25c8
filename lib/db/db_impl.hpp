// db/db_impl.hpp — what strata::db does, behind its templates.
//
// Write path: validate → reserve sequence numbers and queue the batch in
// the WAL under the WAL's queue lock (so log order = sequence order; see
// wal_writer::async_append_prepared) → group commit → insert into the
// memtable → complete the range in the sequence publisher, which makes it
// visible once every lower range is in (a reader never sees half a batch,
// nor a batch before an earlier one) → complete the caller.
// Read path: the memtable at the published sequence.
// Open: lock, MANIFEST (version_set), replay every WAL at or after the
// recorded log number into the memtable, start a new WAL.
//
// Thread safety: every public member may be called from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>

#include "db/db_lock.hpp"
#include "db/version_set.hpp"
#include "io/io_engine.hpp"
#include "memtable/publication.hpp"
#include "strata/db.hpp"
#include "strata/memtable.hpp"
#include "wal/wal_writer.hpp"

namespace strata {

class db_impl {
 public:
  using error_handler = detail::posted_handler<boost::system::error_code>;
  using get_handler = detail::posted_handler<boost::system::error_code, std::optional<std::string>>;
  using open_handler = detail::posted_handler<boost::system::error_code, std::shared_ptr<db>>;

  db_impl(std::string path, options opts);
  ~db_impl();

  // Blocking: runs on the background pool.
  std::error_code recover(std::string& message);

  void write(write_batch batch, write_options wo, boost::asio::any_io_executor caller, error_handler handler);
  void get(std::string key, read_options ro, get_handler handler);
  void close(error_handler handler);

  db_stats stats() const;
  std::string last_error() const;
  const std::string& path() const noexcept { return path_; }
  boost::asio::any_io_executor background_executor() { return background_.get_executor(); }

 private:
  struct pending_write;
  void apply(const std::shared_ptr<pending_write>& w, std::error_code ec);
  void set_error(std::string message);
  void finish_write();  // one fewer write in flight; finishes a pending close
  void finish_close();
  void close_done(std::error_code ec);

  const std::string path_;
  const options options_;
  std::unique_ptr<io::io_engine> engine_;
  boost::asio::thread_pool background_;
  db_internal::db_lock lock_;
  db_internal::version_set versions_;
  std::shared_ptr<memtable> mem_;
  std::unique_ptr<detail::sequence_publisher> sequences_;
  std::shared_ptr<wal::wal_writer> wal_;

  mutable std::mutex mu_;  // guards the members below
  bool closing_ = false;
  bool closed_ = false;
  std::uint64_t writes_in_flight_ = 0;
  error_handler close_handler_;
  std::string last_error_;

  // Relaxed counters: statistics only.
  std::atomic<std::uint64_t> puts_{0}, erases_{0}, batches_{0}, gets_{0}, get_hits_{0}, user_bytes_{0};
  std::uint64_t recovered_records_ = 0;  // written once, in recover()
};

}  // namespace strata
