// Awaiting blocking work that runs on a thread pool (the embedded store's RocksDB calls).
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

namespace codeq::embedded {

/// Runs `work()` (blocking, returns R) on `pool` and resumes the awaiting coroutine on its own
/// executor with the value. The work is posted to the pool, not the coroutine: with a plain
/// `co_await post(pool, use_awaitable)` Asio would hand the continuation back to the coroutine's
/// executor and the blocking call would run there. The caller's executor counts as busy
/// meanwhile, so an io_context does not return from run(). O(1) besides `work`.
template <typename R, typename F>
boost::asio::awaitable<R> OnPool(boost::asio::thread_pool& pool, F work) {
  auto initiation = [&pool](auto handler, F fn) {
    auto caller = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                      boost::asio::execution::outstanding_work.tracked);
    boost::asio::post(pool, [handler = std::move(handler), fn = std::move(fn),
                             caller = std::move(caller)]() mutable {
      R value = fn();
      boost::asio::dispatch(caller, [handler = std::move(handler), value = std::move(value)]() mutable {
        std::move(handler)(std::move(value));
      });
    });
  };
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(R)>(
      std::move(initiation), boost::asio::use_awaitable, std::move(work));
}

}  // namespace codeq::embedded
