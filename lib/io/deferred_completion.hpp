// io/deferred_completion.hpp — a type-erased, move-only completion handler
// for void(std::error_code) that is always completed by posting it to its
// own associated executor (never inline, never on an engine thread).
//
// Asio 1.81's any_completion_handler cannot be posted (its executor type does
// not support blocking.never), so queues of waiting operations hold these.
// The handler's executor is kept busy (outstanding work) until completion.
// Not thread-safe itself; complete() is called once, from any thread.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>
#include <memory>
#include <system_error>
#include <utility>

namespace strata::io {

class deferred_completion {
 public:
  deferred_completion() = default;
  template <typename Handler>
  explicit deferred_completion(Handler&& handler)
      : impl_(std::make_unique<model<std::decay_t<Handler>>>(std::forward<Handler>(handler))) {}

  explicit operator bool() const noexcept { return impl_ != nullptr; }

  void complete(std::error_code ec) {
    auto impl = std::move(impl_);
    impl->post(ec);
  }

 private:
  struct concept_t {
    virtual ~concept_t() = default;
    virtual void post(std::error_code ec) = 0;
  };
  template <typename Handler>
  struct model final : concept_t {
    using executor_type = boost::asio::associated_executor_t<Handler, boost::asio::system_executor>;
    explicit model(Handler&& h)
        : handler(std::move(h)), work(boost::asio::get_associated_executor(handler, boost::asio::system_executor())) {}
    void post(std::error_code ec) override {
      auto ex = work.get_executor();
      boost::asio::post(ex, [h = std::move(handler), ec]() mutable { std::move(h)(ec); });
      work.reset();
    }
    Handler handler;
    boost::asio::executor_work_guard<executor_type> work;
  };
  std::unique_ptr<concept_t> impl_;
};

}  // namespace strata::io
