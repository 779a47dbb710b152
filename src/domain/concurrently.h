// Running independent store calls of one request side by side (issue 7: batch endpoints).
#pragma once

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <cstddef>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace codeq {

/// Awaits `fn(i)` (an awaitable<void>) for every i in [0, n): `max_parallel` at a time (0 = all at
/// once), started on the caller's executor; returns when every one has finished. Items must write
/// their outcome into their own slot: they may run on different threads of the executor.
/// Concurrent store calls share work in the backend (one fsync for many embedded writes, several
/// Redis connections), which is where a batch gains over n single requests. Rethrows the first
/// exception an item threw. O(n).
template <typename F>
boost::asio::awaitable<void> ForEachConcurrently(size_t n, F fn, size_t max_parallel = 0) {
  namespace asio = boost::asio;
  if (n == 0) co_return;
  if (n == 1) {
    size_t only = 0;  // a named local: GCC 12 mishandles braced temporaries in co_await
    co_await fn(only);
    co_return;
  }
  if (max_parallel == 0) max_parallel = n;
  auto executor = co_await asio::this_coro::executor;
  using Op = decltype(asio::co_spawn(executor, fn(size_t{0}), asio::deferred));
  for (size_t first = 0; first < n; first += max_parallel) {
    size_t count = std::min(max_parallel, n - first);
    std::vector<Op> ops;
    ops.reserve(count);
    for (size_t i = first; i < first + count; ++i) ops.push_back(asio::co_spawn(executor, fn(i), asio::deferred));
    auto group = asio::experimental::make_parallel_group(std::move(ops));
    // Shielded from the caller's cancellation (a client gone, see http::RequestContext): every
    // item runs to its end, so no outcome it produced (a claimed task) goes unreported.
    auto shielded = asio::bind_cancellation_slot(asio::cancellation_slot(), asio::use_awaitable);
    auto [order, errors] = co_await group.async_wait(asio::experimental::wait_for_all(), shielded);
    for (const auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
  }
}

/// Awaits `op` and stores its value in `*slot`: one item of ForEachConcurrently or RunInWaves
/// writing its own outcome. A named coroutine, so nothing it uses lives in a closure.
template <typename T>
boost::asio::awaitable<void> AwaitInto(boost::asio::awaitable<T> op, std::optional<T>* slot) {
  *slot = co_await std::move(op);
}

/// The values of slots that every item filled, in order. O(n).
template <typename T>
std::vector<T> TakeSlots(std::vector<std::optional<T>>& slots) {
  std::vector<T> out;
  out.reserve(slots.size());
  for (auto& slot : slots) out.push_back(std::move(*slot));
  return out;
}

/// Items of one batch request in flight at once (RunInWaves' default).
inline constexpr size_t kBatchParallelism = 64;

/// Runs `run(i)` (awaitable<void>) for the items `valid` concurrently, except that items sharing a
/// non-empty `keys[i]` keep their order in `valid`: the first occurrence of every key runs in wave
/// 0, the second in wave 1, and so on, each wave after the previous one. So a batch answers as if
/// its items ran one by one (an earlier item with the same idempotency key or task id wins), while
/// independent items share fsyncs and store round trips. `keys` is indexed like the items (the
/// values of `valid`). O(n log n).
template <typename F>
boost::asio::awaitable<void> RunInWaves(const std::vector<size_t>& valid, const std::vector<std::string>& keys,
                                        F run, size_t max_parallel = kBatchParallelism) {
  std::map<std::string_view, size_t> seen;
  std::vector<std::vector<size_t>> waves;
  for (size_t i : valid) {
    size_t wave = keys[i].empty() ? 0 : seen[keys[i]]++;
    if (waves.size() <= wave) waves.resize(wave + 1);
    waves[wave].push_back(i);
  }
  for (const auto& wave : waves) {
    co_await ForEachConcurrently(wave.size(), [&](size_t k) { return run(wave[k]); }, max_parallel);
  }
}

}  // namespace codeq
