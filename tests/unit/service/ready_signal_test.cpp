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

TEST(ReadySignal, NotifyWakesOneWaiterPerNotification) {
  ReadySignal signal;  // outlives the io_context, whose queued wake-ups hold waiters
  asio::io_context ioc;
  std::vector<std::shared_ptr<ReadySignal::Waiter>> waiters;
  const std::vector<std::string> commands{"a"};
  for (int i = 0; i < 3; ++i) waiters.push_back(signal.Register(ioc.get_executor(), "", commands));
  signal.Notify("", "a");
  EXPECT_TRUE(waiters[0]->Pending());  // oldest first
  EXPECT_FALSE(waiters[1]->Pending());
  signal.Notify("", "A");  // the next notification reaches another waiter
  EXPECT_TRUE(waiters[1]->Pending());
  EXPECT_FALSE(waiters[2]->Pending());
  signal.Notify("", "a", 5);  // at most the waiters there are
  EXPECT_TRUE(waiters[2]->Pending());
}

TEST(ReadySignal, OnePollTurnPerKeyAndInterval) {
  ReadySignal signal;  // outlives the io_context, whose queued wake-ups hold waiters
  asio::io_context ioc;
  const std::vector<std::string> ab{"a", "b"};
  const std::vector<std::string> b{"b"};
  const std::vector<std::string> c{"c"};
  auto w1 = signal.Register(ioc.get_executor(), "", ab);
  auto w2 = signal.Register(ioc.get_executor(), "", b);
  auto w3 = signal.Register(ioc.get_executor(), "", c);
  EXPECT_TRUE(signal.TakePollTurn(*w1, 10s));   // a and b re-checked now
  EXPECT_FALSE(signal.TakePollTurn(*w2, 10s));  // b was just re-checked
  EXPECT_TRUE(signal.TakePollTurn(*w3, 10s));   // c is another key
  EXPECT_TRUE(signal.TakePollTurn(*w2, 0ms));   // the interval has passed
}

}  // namespace
}  // namespace codeq
