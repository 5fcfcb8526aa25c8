// strata/detail/posted_handler.hpp — a type-erased, move-only completion
// handler that is always completed by posting it to its own associated
// executor (never inline in the initiating call, never on a Strata thread).
//
// The db's templates wrap the caller's handler in one of these and hand it
// to the non-template implementation. The handler's executor counts as busy
// (outstanding work) until completion, so io_context::run() does not return
// while a db operation is in flight. complete() is called exactly once, from
// any thread.
//
// complete_all() completes many handlers with one post per executor instead
// of one post each: the db acknowledges a whole WAL group that way, so a
// group of N writes from one thread costs that thread one wake-up and the
// posting thread one allocation, not N.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>
#include <memory>
#include <tuple>
#include <typeinfo>
#include <utility>
#include <vector>

namespace strata::detail {

template <typename... Args>
class posted_handler {
 public:
  posted_handler() = default;
  template <typename Handler>
  explicit posted_handler(Handler&& handler)
      : impl_(std::make_unique<model<std::decay_t<Handler>>>(std::forward<Handler>(handler))) {}

  explicit operator bool() const noexcept { return impl_ != nullptr; }

  void complete(Args... args) {
    auto impl = std::move(impl_);
    impl->post(std::move(args)...);
  }

  // Completes every handler in `handlers` (and empties it) with the same
  // arguments, in order within each executor. Handlers whose executors
  // compare equal run one after the other in a single posted function; the
  // arguments must therefore be copyable.
  static void complete_all(std::vector<posted_handler>& handlers, const Args&... args) {
    std::vector<std::unique_ptr<concept_t>> run;
    for (std::size_t i = 0; i < handlers.size(); ++i) {
      auto impl = std::move(handlers[i].impl_);
      if (!impl) continue;
      if (!run.empty() && !run.front()->same_executor(*impl)) {
        post_run(std::move(run), args...);
        run.clear();
      }
      run.push_back(std::move(impl));
    }
    if (!run.empty()) post_run(std::move(run), args...);
    handlers.clear();
  }

 private:
  struct concept_t {
    virtual ~concept_t() = default;
    virtual void post(Args... args) = 0;
    // Calls the handler here and now (the caller is running on its executor).
    virtual void invoke(Args... args) = 0;
    virtual bool same_executor(const concept_t& other) const = 0;
    // Posts a function to this handler's executor (which every handler in
    // `run` shares) that invokes each of them.
    virtual void post_all(std::vector<std::unique_ptr<concept_t>> run, const Args&... args) = 0;
  };
  static void post_run(std::vector<std::unique_ptr<concept_t>> run, const Args&... args) {
    if (run.size() == 1) return run.front()->post(args...);
    auto* first = run.front().get();
    first->post_all(std::move(run), args...);
  }
  template <typename Handler>
  struct model final : concept_t {
    using executor_type = boost::asio::associated_executor_t<Handler, boost::asio::system_executor>;
    explicit model(Handler&& h)
        : handler(std::move(h)), work(boost::asio::get_associated_executor(handler, boost::asio::system_executor())) {}
    void post(Args... args) override {
      auto ex = work.get_executor();
      boost::asio::post(ex, [h = std::move(handler), t = std::make_tuple(std::move(args)...)]() mutable {
        std::apply(std::move(h), std::move(t));
      });
      work.reset();
    }
    void invoke(Args... args) override {
      auto guard = std::move(work);  // outstanding until the handler has run
      std::move(handler)(std::move(args)...);
    }
    bool same_executor(const concept_t& other) const override {
      if (typeid(other) != typeid(model)) return false;
      return static_cast<const model&>(other).work.get_executor() == work.get_executor();
    }
    void post_all(std::vector<std::unique_ptr<concept_t>> run, const Args&... args) override {
      auto ex = work.get_executor();
      boost::asio::post(ex, [run = std::move(run), t = std::make_tuple(args...)]() mutable {
        std::size_t next = 0;
        try {
          for (; next < run.size(); ++next) {
            auto impl = std::move(run[next]);
            std::apply([&](const auto&... a) { impl->invoke(a...); }, t);
          }
        } catch (...) {
          // A handler threw out of run(): the rest still complete, each
          // posted on its own, and the exception goes on to the caller of
          // run() as it would have for a single posted handler.
          for (++next; next < run.size(); ++next) std::apply([&](const auto&... a) { run[next]->post(a...); }, t);
          throw;
        }
      });
    }
    Handler handler;
    boost::asio::executor_work_guard<executor_type> work;
  };
  std::unique_ptr<concept_t> impl_;
};

}  // namespace strata::detail
