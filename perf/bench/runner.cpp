// perf/bench/runner.cpp — threads, coroutines, progress and merging.
#include "bench/runner.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace strata::bench {

namespace asio = boost::asio;

const char* op_name(op_type t) {
  switch (t) {
    case op_type::read:
      return "read";
    case op_type::write:
      return "write";
    case op_type::erase:
      return "delete";
    case op_type::seek:
      return "seek";
    case op_type::scan:
      return "scan";
    case op_type::update:
      return "update";
    case op_type::insert:
      return "insert";
    case op_type::read_modify_write:
      return "rmw";
    case op_type::count:
      break;
  }
  return "?";
}

value_source::value_source(std::uint64_t seed) {
  uniform_generator random(seed);
  constexpr std::size_t piece = 100, size = std::size_t{1} << 20;
  while (data_.size() < size) {
    std::string half(piece / 2, ' ');
    for (auto& c : half) c = static_cast<char>(' ' + random.next(95));
    data_ += half;
    data_ += half;
  }
}

std::string_view value_source::next(std::size_t size, std::size_t& position) const {
  if (size > data_.size()) size = data_.size();  // values over 1 MiB repeat nothing new; cap
  if (position + size > data_.size()) position = 0;
  const std::string_view v(data_.data() + position, size);
  position += size;
  return v;
}

namespace {

// Prints "label: N ops, R/s" every 2 s until stopped; erases it at the end.
class progress_line {
 public:
  progress_line(bool on, std::string label, shared_work& work) {
    if (!on) return;
    thread_ = std::thread([this, label = std::move(label), &work] {
      const auto start = worker::clock::now();
      std::unique_lock lock(mu_);
      while (!cv_.wait_for(lock, std::chrono::seconds(2), [this] { return stopped_; })) {
        const double secs = std::chrono::duration<double>(worker::clock::now() - start).count();
        const auto done = work.done.load(std::memory_order_relaxed);
        std::fprintf(stderr, "\r%s: %llu of %llu ops, %.0f ops/s   ", label.c_str(),
                     static_cast<unsigned long long>(done), static_cast<unsigned long long>(work.total),
                     static_cast<double>(done) / secs);
        std::fflush(stderr);
        printed_ = true;
      }
      if (printed_) std::fprintf(stderr, "\r%*s\r", 100, "");
    });
  }
  ~progress_line() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false, printed_ = false;
  std::thread thread_;
};

}  // namespace

run_outcome run_workers(const run_shape& shape, shared_work& work, const worker_body& body,
                        const worker_body& background) {
  std::vector<std::unique_ptr<worker>> workers, writers;
  for (unsigned i = 0; i < shape.threads * shape.coroutines; ++i)
    workers.push_back(std::make_unique<worker>(i, shape.seed + 1 + i, work));
  for (unsigned i = 0; background && i < shape.background_coroutines; ++i)
    writers.push_back(std::make_unique<worker>(100000 + i, shape.seed + 100001 + i, work));

  std::mutex error_mu;
  std::exception_ptr error;
  auto on_done = [&](std::exception_ptr e) {
    if (!e) return;
    work.stop.store(true, std::memory_order_relaxed);
    std::lock_guard lock(error_mu);
    if (!error) error = e;
  };
  // Spawns `bodies` on one io_context and runs it: one OS thread's share.
  auto run_thread = [&](std::vector<worker*> mine, const worker_body& b) {
    asio::io_context ctx(1);
    for (auto* w : mine) asio::co_spawn(ctx, b(*w), on_done);
    ctx.run();
  };

  run_outcome out;
  {
    progress_line progress(shape.progress, shape.progress_label, work);
    const auto start = worker::clock::now();
    std::thread writer_thread;
    if (!writers.empty()) {
      std::vector<worker*> mine;
      for (auto& w : writers) mine.push_back(w.get());
      writer_thread = std::thread(run_thread, mine, std::cref(background));
    }
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < shape.threads; ++t) {
      std::vector<worker*> mine;
      for (unsigned c = 0; c < shape.coroutines; ++c) mine.push_back(workers[t * shape.coroutines + c].get());
      if (t + 1 == shape.threads) {
        run_thread(mine, body);  // the last share on this thread
      } else {
        threads.emplace_back(run_thread, mine, std::cref(body));
      }
    }
    for (auto& t : threads) t.join();
    out.seconds = std::chrono::duration<double>(worker::clock::now() - start).count();
    work.stop.store(true, std::memory_order_relaxed);  // the background writers finish their operation and end
    if (writer_thread.joinable()) writer_thread.join();
  }
  if (error) std::rethrow_exception(error);

  for (auto* group : {&workers, &writers}) {
    for (auto& w : *group) {
      out.bytes += w->bytes;
      out.found += w->found;
      out.reads += w->reads;
      out.background_ops += w->background_ops;
      if (group == &workers)
        for (std::size_t i = 0; i < out.latency.size(); ++i) out.latency[i].merge(w->latency[i]);
    }
  }
  for (const auto& h : out.latency) out.ops += h.count();
  return out;
}

}  // namespace strata::bench
