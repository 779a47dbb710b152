// Contract: a claim whose client went away (SPEC §2.4: "If the client disconnects during a long
// poll, the request is abandoned"). The HTTP server signals that as a terminal cancellation of the
// request coroutine (http::RequestContext); here the Scheduler gets that cancellation directly,
// over every backend.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "contract_fixture.h"
#include "domain/clock.h"
#include "metrics/metrics.h"
#include "service/scheduler.h"

namespace codeq::contract {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

class ClaimCancelTest : public StoreContract {
 protected:
  static constexpr std::chrono::milliseconds kBeforeStart{-1};

  // A long-poll claim (wait 5 s) of one task as worker "gone", cancelled (terminal) after
  // `cancel_after` of io_context time; as soon as the claim's first store call is in flight when
  // zero; before the claim starts with kBeforeStart. Runs as the HTTP server does:
  // throw_if_cancelled off.
  Result<std::vector<Task>> CancelledClaim(const std::string& command, std::chrono::milliseconds cancel_after) {
    Scheduler& scheduler = GetScheduler();
    asio::io_context ctx;
    asio::cancellation_signal signal;
    auto claim = [&]() -> asio::awaitable<std::optional<Result<std::vector<Task>>>> {
      co_await asio::this_coro::throw_if_cancelled(false);
      if (cancel_after == kBeforeStart) signal.emit(asio::cancellation_type::terminal);
      std::vector<std::string> commands{command};  // named: GCC 12 and braced temporaries in co_await
      auto r = co_await scheduler.ClaimBatch("gone", "", std::move(commands), 30, /*wait_seconds=*/5, 1);
      co_return std::move(r);
    };
    auto fut = asio::co_spawn(ctx, claim(), asio::bind_cancellation_slot(signal.slot(), asio::use_future));
    asio::steady_timer timer(ctx, cancel_after);
    if (cancel_after == kBeforeStart) {
      // emitted by the claim coroutine itself
    } else if (cancel_after.count() == 0) {
      asio::post(ctx, [&] { signal.emit(asio::cancellation_type::terminal); });
    } else {
      timer.async_wait([&](auto) { signal.emit(asio::cancellation_type::terminal); });
    }
    ctx.run();
    return std::move(*fut.get());
  }

  // One scheduler per test. Claim-time repair runs at most once an hour, so after WarmUp the
  // first store call of a claim is the claim itself (the cancellation can be aimed at it).
  Scheduler& GetScheduler() {
    if (!scheduler_) {
      std::shared_ptr<Store> store(&this->store(), [](Store*) {});  // not owned
      SchedulerOptions o;
      o.repair_interval = std::chrono::hours(1);
      scheduler_ = std::make_unique<Scheduler>(store, clock_, metrics_, o);
    }
    return *scheduler_;
  }

  // A claim of `command` without waiting, on an empty queue: it takes the repair turn.
  void WarmUp(const std::string& command) {
    std::vector<std::string> commands{command};
    auto r = Await(GetScheduler().ClaimBatch("warm", "", std::move(commands), 30, 0, 1));
    ASSERT_TRUE(r.ok() && r->empty());
  }

  void TearDown() override {
    scheduler_.reset();
    StoreContract::TearDown();
  }

  SystemClock clock_;
  Metrics metrics_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_P(ClaimCancelTest, CancelledLongPollStopsWaitingAndClaimsNothing) {
  auto start = Clock::now();
  auto r = CancelledClaim("cc-empty", std::chrono::milliseconds(200));
  auto waited = Clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->empty());
  EXPECT_LT(waited, std::chrono::seconds(2)) << "the 5 s wait should end at the cancellation (200 ms)";
  // A task created afterwards goes to a worker still listening.
  Task t = Create("cc-empty");
  EXPECT_EQ(ClaimOne("w2", "", {"cc-empty"}).id, t.id);
}

TEST_P(ClaimCancelTest, TaskClaimedForAClientThatWentAwayIsAbandoned) {
  WarmUp("cc-ready");
  Task t = Create("cc-ready");
  Create("cc-ready");
  // The cancellation lands while the claim is in the store (the claim's first store call after
  // the warm-up): it succeeds, is handed back, and no further claim is made for the gone client.
  auto r = CancelledClaim("cc-ready", std::chrono::milliseconds(0));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(metrics_.Render(std::nullopt).find("codeq_task_claimed_total{command=\"cc-ready\"}"), std::string::npos)
      << "a claim nobody received counted as claimed";
  auto back = Await(store().GetTask("", t.id));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->status, "PENDING");
  EXPECT_EQ(back->worker_id, "");
  EXPECT_EQ(back->attempts, 1);  // the claim counted (D2); abandon leaves attempts as they are
  // Immediately claimable again, not after the 30 s lease; the second task was never claimed.
  Task other = ClaimOne("w2", "", {"cc-ready"});
  EXPECT_EQ(other.attempts, 1) << "the untouched task comes first now: the abandoned one queues behind it";
  EXPECT_NE(other.id, t.id);
  EXPECT_EQ(ClaimOne("w2", "", {"cc-ready"}).id, t.id);
}

TEST_P(ClaimCancelTest, ClientGoneBeforeTheClaimStartsGetsNothingClaimed) {
  Task t = Create("cc-early");
  auto r = CancelledClaim("cc-early", kBeforeStart);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->empty());
  auto same = Await(store().GetTask("", t.id));
  ASSERT_TRUE(same.ok()) << same.status().message();
  EXPECT_EQ(same->status, "PENDING");
  EXPECT_EQ(same->attempts, 0) << "nothing was delivered, so nothing may be counted";
}

// ClientCheck: `over_wait` (the HTTP layer arms its disconnect watch there) runs only once a claim
// has to wait: never for a task there at once, exactly once for a long poll however often it
// wakes, and a cancellation it emits ends the wait at once. `now` runs after each store call that
// claimed something; a cancellation it emits has those tasks abandoned, as a gone client's.
class ClientCheckTest : public ClaimCancelTest {
 protected:
  struct Calls {
    int now = 0, over_wait = 0;
  };
  Result<std::vector<Task>> ClaimWith(const std::string& command, int64_t wait_seconds, Calls& calls,
                                      bool gone_at_now, bool gone_at_wait) {
    Scheduler& scheduler = GetScheduler();
    asio::io_context ctx;
    asio::cancellation_signal signal;
    auto body = [&]() -> asio::awaitable<std::optional<Result<std::vector<Task>>>> {
      co_await asio::this_coro::throw_if_cancelled(false);
      std::vector<std::string> commands{command};
      ClientCheck client;
      client.now = [&] {
        ++calls.now;
        if (gone_at_now) signal.emit(asio::cancellation_type::terminal);
      };
      client.over_wait = [&] {
        ++calls.over_wait;
        if (gone_at_wait) signal.emit(asio::cancellation_type::terminal);
      };
      auto r = co_await scheduler.ClaimBatch("w", "", std::move(commands), 30, wait_seconds, 1, std::move(client));
      co_return std::move(r);
    };
    auto fut = asio::co_spawn(ctx, body(), asio::bind_cancellation_slot(signal.slot(), asio::use_future));
    ctx.run();
    return std::move(*fut.get());
  }
};

TEST_P(ClientCheckTest, OverWaitRunsOnlyWhenTheClaimHasToWait) {
  Task t = Create("bw-ready");
  Calls calls;
  auto r = ClaimWith("bw-ready", 5, calls, false, false);
  ASSERT_TRUE(r.ok() && r->size() == 1) << r.status().message();
  EXPECT_EQ(r->front().id, t.id);
  EXPECT_EQ(calls.over_wait, 0) << "a task there at once needs no watch";
  EXPECT_EQ(calls.now, 1);

  calls = {};
  auto start = Clock::now();
  r = ClaimWith("bw-empty", 1, calls, false, false);  // waits its whole second (several poll rounds)
  ASSERT_TRUE(r.ok() && r->empty()) << r.status().message();
  EXPECT_EQ(calls.over_wait, 1);
  EXPECT_EQ(calls.now, 0) << "nothing was claimed";
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(900));

  calls = {};
  start = Clock::now();
  r = ClaimWith("bw-empty", 5, calls, false, true);  // the watch finds the client gone
  ASSERT_TRUE(r.ok() && r->empty()) << r.status().message();
  EXPECT_EQ(calls.over_wait, 1);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2)) << "the 5 s wait should not start";
}

TEST_P(ClientCheckTest, ClientGoneRightAfterTheClaimHasItsTaskAbandoned) {
  WarmUp("bw-gone");
  Task t = Create("bw-gone");
  Calls calls;
  auto r = ClaimWith("bw-gone", 5, calls, true, false);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->empty()) << "nobody is there to take it";
  EXPECT_EQ(calls.now, 1);
  EXPECT_EQ(calls.over_wait, 0);
  EXPECT_EQ(metrics_.Render(std::nullopt).find("codeq_task_claimed_total{command=\"bw-gone\"}"), std::string::npos)
      << "a claim nobody received counted as claimed";
  auto back = Await(store().GetTask("", t.id));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->status, "PENDING") << "back at once, not after the 30 s lease";
  EXPECT_EQ(back->worker_id, "");
  EXPECT_EQ(ClaimOne("w2", "", {"bw-gone"}).id, t.id);
}

INSTANTIATE_TEST_SUITE_P(Backends, ClientCheckTest, ::testing::ValuesIn(AllBackends()),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Embedded, ClientCheckTest, ::testing::ValuesIn(EmbeddedBackends()),
                         [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(Backends, ClaimCancelTest, ::testing::ValuesIn(AllBackends()),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Embedded, ClaimCancelTest, ::testing::ValuesIn(EmbeddedBackends()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace codeq::contract
