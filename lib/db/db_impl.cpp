#include "db/db_impl.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "db/file_names.hpp"
#include "wal/wal_recovery.hpp"

namespace strata {

namespace asio = boost::asio;

namespace {

std::mutex open_error_mu;
std::string open_error;  // guarded by open_error_mu

boost::system::error_code to_boost(std::error_code ec) { return ec; }

// Any file a db would have written: a directory holding one is not empty.
bool has_db_files(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::uint64_t number = 0;
    const auto kind = db_internal::parse_file_name(entry.path().filename().string(), number);
    if (kind != db_internal::file_kind::unknown && kind != db_internal::file_kind::lock) return true;
  }
  return false;
}

std::vector<memtable::batch_op> ops_of(const write_batch& batch) {
  std::vector<memtable::batch_op> ops;
  ops.reserve(batch.count());
  batch.for_each([&](bool is_put, std::string_view key, std::string_view value) {
    ops.push_back({is_put ? value_type::value : value_type::deletion, key, value});
  });
  return ops;
}

}  // namespace

std::string to_string(const db_stats& s) {
  return fmt::format(
      "puts={}\nerases={}\nbatches={}\ngets={}\nget_hits={}\nuser_bytes_written={}\nwal_bytes_written={}\n"
      "wal_groups={}\nwal_syncs={}\nwal_mean_group_size={:.2f}\nlast_sequence={}\nmemtable_entries={}\n"
      "memtable_bytes={}\nrecovered_records={}\n",
      s.puts, s.erases, s.batches, s.gets, s.get_hits, s.user_bytes_written, s.wal_bytes_written, s.wal_groups,
      s.wal_syncs, s.wal_mean_group_size, s.last_sequence, s.memtable_entries, s.memtable_bytes, s.recovered_records);
}

std::string last_open_error() {
  std::lock_guard lock(open_error_mu);
  return open_error;
}

struct db_impl::pending_write {
  write_batch batch;
  error_handler handler;
  sequence_number first = 0;  // 0 until reserved
};

db_impl::db_impl(std::string path, options opts)
    : path_(std::move(path)),
      options_(opts),
      engine_(io::make_io_engine({.force_fallback = opts.force_io_fallback})),
      background_(opts.background_threads == 0 ? 1 : opts.background_threads),
      versions_(path_) {}

db_impl::~db_impl() {
  wal_.reset();  // no append may be in flight: db.hpp requires close() or quiescence first
  background_.join();
}

std::error_code db_impl::recover(std::string& message) {
  std::error_code fs_ec;
  const bool existed = std::filesystem::is_directory(path_, fs_ec);
  if (!existed) {
    if (!options_.create_if_missing) {
      message = fmt::format("{}: no such db (create_if_missing is off)", path_);
      return errc::invalid_argument;
    }
    std::filesystem::create_directories(path_, fs_ec);
    if (fs_ec) {
      message = fmt::format("create directory {}: {}", path_, fs_ec.message());
      return io::errno_to_error(fs_ec.value());
    }
  }
  if (auto ec = lock_.acquire(path_, message)) return ec;
  auto ec = versions_.recover(message);
  if (ec == errc::not_found) {
    if (has_db_files(path_)) {
      message = fmt::format("{}: holds db files but no CURRENT (damaged db; not opening it)", path_);
      return errc::corruption;
    }
    if (!options_.create_if_missing) {
      message = fmt::format("{}: not a strata db (create_if_missing is off)", path_);
      return errc::invalid_argument;
    }
    ec = versions_.create(message);
    if (ec) return ec;
  } else if (ec) {
    return ec;
  } else if (options_.error_if_exists) {
    message = fmt::format("{}: db exists (error_if_exists is on)", path_);
    return errc::invalid_argument;
  }

  memtable::options mo;
  mo.huge_pages = false;
  mem_ = memtable::create(mo);
  // Replay every log from the recorded log number on, oldest first.
  auto logs = wal::list_logs(path_, ec);
  if (ec) {
    message = fmt::format("list {}: {}", path_, ec.message());
    return ec;
  }
  std::vector<std::uint64_t> live;
  for (const auto n : logs) {
    versions_.mark_file_number_used(n);
    if (n >= versions_.log_number()) live.push_back(n);
  }
  sequence_number last = versions_.last_sequence();
  wal::replay_result replayed;
  const auto on_record = [&](std::string_view record, std::uint64_t log_number) -> std::error_code {
    write_batch batch;
    if (auto dec = write_batch::decode(record, batch)) {
      message = fmt::format("corruption in {}: a record that passed its checksum is not a write batch",
                            wal::log_file_name(path_, log_number));
      return dec;
    }
    if (batch.count() == 0) return {};
    const auto ops = ops_of(batch);
    if (auto ins = mem_->insert_batch(batch.sequence(), ops)) {
      message = fmt::format("replaying {}: {}", wal::log_file_name(path_, log_number), ins.message());
      return ins;
    }
    last = std::max<sequence_number>(last, batch.sequence() + batch.count() - 1);
    return {};
  };
  ec = wal::replay_logs(path_, live, {.skip_corruption = !options_.error_on_corrupt_wal}, on_record, replayed);
  if (ec) {
    if (message.empty()) message = replayed.error;
    return ec;
  }
  recovered_records_ = replayed.records;
  versions_.set_last_sequence(last);
  mem_->publish(last);
  sequences_ = std::make_unique<detail::sequence_publisher>(last + 1);
  if (options_.wal) {
    const std::uint64_t number = versions_.new_file_number();
    wal_ = wal::wal_writer::create(*engine_, background_.get_executor(), path_, number,
                                   {.max_file_bytes = options_.wal_file_bytes}, ec);
    if (ec) {
      message = fmt::format("create {}: {}", wal::log_file_name(path_, number), ec.message());
      return ec;
    }
  }
  return {};
}

void db_impl::set_error(std::string message) {
  std::lock_guard lock(mu_);
  last_error_ = std::move(message);
}

std::string db_impl::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void db_impl::write(write_batch batch, write_options wo, asio::any_io_executor caller, error_handler handler) {
  std::error_code invalid;
  std::uint64_t puts = 0, erases = 0, bytes = 0;
  const auto malformed = batch.for_each([&](bool is_put, std::string_view key, std::string_view value) {
    if (key.size() > db::max_key_bytes || value.size() > db::max_value_bytes) invalid = errc::invalid_argument;
    (is_put ? puts : erases) += 1;
    bytes += key.size() + value.size();
  });
  if (malformed || invalid) {
    set_error(malformed ? "malformed write batch"
                        : fmt::format("key over {} bytes or value over {} bytes", db::max_key_bytes,
                                      db::max_value_bytes));
    handler.complete(to_boost(errc::invalid_argument));
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (closing_ || closed_) {
      handler.complete(to_boost(errc::closed));
      return;
    }
    if (mem_->memory_usage() >= options_.memtable_bytes) {
      last_error_ = fmt::format("memtable full ({} bytes) and flushing is not implemented yet", mem_->memory_usage());
      handler.complete(to_boost(errc::out_of_memory));
      return;
    }
    ++writes_in_flight_;
  }
  puts_.fetch_add(puts, std::memory_order_relaxed);
  erases_.fetch_add(erases, std::memory_order_relaxed);
  batches_.fetch_add(1, std::memory_order_relaxed);
  user_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  if (batch.count() == 0) {
    handler.complete({});
    finish_write();
    return;
  }
  auto w = std::make_shared<pending_write>(pending_write{std::move(batch), std::move(handler)});
  if (!wal_) {
    w->first = sequences_->reserve(w->batch.count());
    w->batch.set_sequence(w->first);
    apply(w, {});
    return;
  }
  // The continuation runs on the caller's executor (the WAL's group loop
  // then runs there too: a lone writer pays two thread hops, not four).
  if (!caller) caller = background_.get_executor();
  auto* raw = w.get();
  wal_->async_append_prepared(
      raw->batch.rep(), wo.sync,
      [this, raw] {
        raw->first = sequences_->reserve(raw->batch.count());
        raw->batch.set_sequence(raw->first);  // in place: the queued payload view stays valid
      },
      asio::bind_executor(std::move(caller), [this, w](std::error_code ec) { apply(w, ec); }));
}

void db_impl::apply(const std::shared_ptr<pending_write>& w, std::error_code ec) {
  const std::uint32_t count = w->batch.count();
  if (!ec) {
    const auto ops = ops_of(w->batch);
    ec = mem_->insert_batch(w->first, ops);  // validated and room checked: only a bug fails here
  }
  if (w->first != 0) {
    // Complete the range even on failure (abandoned), or later ranges
    // would never become visible.
    sequences_->complete(w->first, count);
    mem_->publish(sequences_->published());
  }
  if (ec) set_error(fmt::format("write failed: {}", wal_ ? wal_->last_error() : ec.message()));
  w->handler.complete(to_boost(ec));
  finish_write();
}

void db_impl::finish_write() {
  bool close_now = false;
  {
    std::lock_guard lock(mu_);
    --writes_in_flight_;
    close_now = closing_ && writes_in_flight_ == 0 && !closed_;
  }
  if (close_now) asio::post(background_, [this] { finish_close(); });
}

void db_impl::get(std::string key, read_options, get_handler handler) {
  {
    std::lock_guard lock(mu_);
    if (closing_ || closed_) {
      handler.complete(to_boost(errc::closed), std::nullopt);
      return;
    }
  }
  gets_.fetch_add(1, std::memory_order_relaxed);
  const auto found = mem_->get(key, sequences_->published());
  std::optional<std::string> value;
  if (found.found()) {
    get_hits_.fetch_add(1, std::memory_order_relaxed);
    value.emplace(found.value);
  }
  handler.complete({}, std::move(value));
}

void db_impl::close(error_handler handler) {
  bool now = false;
  {
    std::lock_guard lock(mu_);
    if (closing_ || closed_) {
      handler.complete(to_boost(errc::closed));
      return;
    }
    closing_ = true;
    close_handler_ = std::move(handler);
    now = writes_in_flight_ == 0;
  }
  if (now) asio::post(background_, [this] { finish_close(); });
}

void db_impl::finish_close() {
  if (wal_) {
    // No write is in flight: one last fdatasync makes every acknowledged
    // write durable; the log is closed when it completes.
    wal_->async_flush(asio::bind_executor(background_.get_executor(), [this](std::error_code ec) {
      wal_.reset();
      close_done(ec);
    }));
    return;
  }
  close_done({});
}

void db_impl::close_done(std::error_code ec) {
  lock_.release();
  error_handler handler;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    handler = std::move(close_handler_);
    if (ec) last_error_ = fmt::format("closing: final WAL sync failed: {}", ec.message());
  }
  handler.complete(to_boost(ec));
}

db_stats db_impl::stats() const {
  db_stats s;
  s.puts = puts_.load(std::memory_order_relaxed);
  s.erases = erases_.load(std::memory_order_relaxed);
  s.batches = batches_.load(std::memory_order_relaxed);
  s.gets = gets_.load(std::memory_order_relaxed);
  s.get_hits = get_hits_.load(std::memory_order_relaxed);
  s.user_bytes_written = user_bytes_.load(std::memory_order_relaxed);
  if (wal_) {
    const auto w = wal_->stats();
    s.wal_bytes_written = w.bytes;
    s.wal_groups = w.groups;
    s.wal_syncs = w.syncs;
    s.wal_mean_group_size = w.mean_group_size();
  }
  s.last_sequence = sequences_ ? sequences_->published() : 0;
  if (mem_) {
    s.memtable_entries = mem_->size();
    s.memtable_bytes = mem_->memory_usage();
  }
  s.recovered_records = recovered_records_;
  return s;
}

// ---- strata::db: the non-template halves of its templates ----

db::db(std::unique_ptr<db_impl> impl) : impl_(std::move(impl)) {}
db::~db() = default;

void db::start_open(executor_type, std::string path, options opts,
                    detail::posted_handler<boost::system::error_code, std::shared_ptr<db>> handler) {
  auto impl = std::make_unique<db_impl>(std::move(path), opts);
  auto* raw = impl.get();
  // Recovery reads and writes files with blocking calls: the db's own pool.
  asio::post(raw->background_executor(), [impl = std::move(impl), handler = std::move(handler)]() mutable {
    std::string message;
    if (auto ec = impl->recover(message)) {
      {
        std::lock_guard lock(open_error_mu);
        open_error = message.empty() ? ec.message() : message;
      }
      // The impl owns the pool we are running on: let it go elsewhere.
      auto* doomed = impl.release();
      std::thread([doomed] { delete doomed; }).detach();
      handler.complete(to_boost(ec), nullptr);
      return;
    }
    handler.complete({}, std::shared_ptr<db>(new db(std::move(impl))));
  });
}

void db::start_write(write_batch batch, write_options wo, detail::posted_handler<boost::system::error_code> handler) {
  impl_->write(std::move(batch), wo, {}, std::move(handler));
}

void db::start_get(std::string key, read_options ro,
                   detail::posted_handler<boost::system::error_code, std::optional<std::string>> handler) {
  impl_->get(std::move(key), ro, std::move(handler));
}

void db::start_close(detail::posted_handler<boost::system::error_code> handler) { impl_->close(std::move(handler)); }

void db::start_flush(detail::posted_handler<boost::system::error_code> handler) {
  handler.complete(to_boost(errc::not_supported));
}

db_stats db::stats() const { return impl_->stats(); }
const std::string& db::path() const noexcept { return impl_->path(); }
std::string db::last_error() const { return impl_->last_error(); }

}  // namespace strata
