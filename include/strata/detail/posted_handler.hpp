// strata/detail/posted_handler.hpp — a type-erased, move-only completion
// handler that is always completed by posting it to its own associated
// executor (never inline in the initiating call, never on a Strata thread).
//
// The db's templates wrap the caller's handler in one of these and hand it
// to the non-template implementation. The handler's executor counts as busy
// (outstanding work) until completion, so io_context::run() does not return
// while a db operation is in flight. complete() is called exactly once, from
// any thread.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>
#include <memory>
#include <tuple>
#include <utility>

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

 private:
  struct concept_t {
    virtual ~concept_t() = default;
    virtual void post(Args... args) = 0;
  };
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
    Handler handler;
    boost::asio::executor_work_guard<executor_type> work;
  };
  std::unique_ptr<concept_t> impl_;
};

}  // namespace strata::detail
