#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>

#include "service/ready_signal.h"

namespace codeq {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(ReadySignal, NotifyWakesMatchingWaiterEarly) {
  asio::io_context ioc;
  ReadySignal signal;
  auto strand = asio::make_strand(ioc);
  auto fut = asio::co_spawn(strand, [&]() -> asio::awaitable<std::pair<bool, double>> {
    std::vector<std::string> commands{"Render"};  // (GCC 12: no braced lists inside coroutines)
    auto w = signal.Register(co_await asio::this_coro::executor, "acme", commands);
    auto start = std::chrono::steady_clock::now();
    bool woke = co_await w->Wait(5000ms);
    co_return std::make_pair(woke, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }, asio::use_future);
  std::thread t([&] { ioc.run(); });
  while (signal.WaiterCount() == 0) std::this_thread::sleep_for(1ms);
  signal.Notify("other", "render");  // another tenant: no effect
  signal.Notify("acme", "RENDER");   // same command, any case
  auto [woke, seconds] = fut.get();
  t.join();
  EXPECT_TRUE(woke);
  EXPECT_LT(seconds, 1.0);
  EXPECT_EQ(signal.WaiterCount(), 0u);  // unregistered on destruction
}

TEST(ReadySignal, TimesOutWithoutNotification) {
  asio::io_context ioc;
  ReadySignal signal;
  auto fut = asio::co_spawn(asio::make_strand(ioc), [&]() -> asio::awaitable<bool> {
    std::vector<std::string> commands{"a"};
    auto w = signal.Register(co_await asio::this_coro::executor, "", commands);
    co_return co_await w->Wait(50ms);
  }, asio::use_future);
  ioc.run();
  EXPECT_FALSE(fut.get());
}

TEST(ReadySignal, NotificationBeforeWaitIsNotLost) {
  asio::io_context ioc;
  ReadySignal signal;
  auto fut = asio::co_spawn(asio::make_strand(ioc), [&]() -> asio::awaitable<bool> {
    std::vector<std::string> commands{"a"};
    auto w = signal.Register(co_await asio::this_coro::executor, "", commands);
    signal.Notify("", "a");
    co_return co_await w->Wait(10s);
  }, asio::use_future);
  ioc.run();
  EXPECT_TRUE(fut.get());
}

}  // namespace
}  // namespace codeq
