// Runs blocking work on a thread pool and resumes the awaiting coroutine on its own executor
// (the stores' RocksDB and hiredis calls, the webhook sender's libcurl calls).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <utility>

namespace codeq {

/// Awaits `work()` (a blocking callable returning R) executed on `pool`; the awaiting coroutine
/// resumes on the executor it was awaited from, which is kept busy (outstanding work) meanwhile,
/// so an io_context does not run out of work while the call is in flight.
///
/// Why not `co_await post(pool, use_awaitable)`: Asio dispatches that completion to the
/// coroutine's own executor, so the code after it would still run on the caller's thread and the
/// blocking call would stall it. Here the work itself is posted to the pool and only its result
/// is handed back. O(1) besides `work`.
template <typename R, typename F>
boost::asio::awaitable<R> RunOnPool(boost::asio::thread_pool& pool, F work) {
  auto initiation = [&pool](auto handler, F fn) {
    auto caller = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                      boost::asio::execution::outstanding_work.tracked);
    boost::asio::post(pool, [handler = std::move(handler), fn = std::move(fn),
                             caller = std::move(caller)]() mutable {
      R result = fn();
      boost::asio::dispatch(caller, [handler = std::move(handler),
                                     result = std::move(result)]() mutable {
        std::move(handler)(std::move(result));
      });
    });
  };
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(R)>(
      std::move(initiation), boost::asio::use_awaitable, std::move(work));
}

}  // namespace codeq
