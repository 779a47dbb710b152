#include "store/embedded/background.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>

#include "store/embedded/engine.h"

namespace codeq::embedded {
namespace {
constexpr int kStepBudget = 1000;  // moves per critical section, so claims are not held up long
}

Background::Background(Engine& engine, const Clock& clock, int64_t interval_ms)
    : engine_(engine), clock_(clock), interval_ms_(std::max<int64_t>(1, interval_ms)) {}

Background::~Background() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Background::Start() { thread_ = std::thread([this] { Run(); }); }

void Background::SetReadyListener(Store::ReadyListener listener) {
  std::lock_guard lock(listeners_mu_);
  ready_ = std::move(listener);
}

void Background::SetRepair(BackoffFn backoff, int max_attempts_default,
                           EmbeddedStore::RepairListener on_repaired) {
  {
    std::lock_guard lock(listeners_mu_);
    backoff_ = std::move(backoff);
    max_attempts_default_ = max_attempts_default;
    on_repaired_ = std::move(on_repaired);
  }
  std::lock_guard lock(mu_);
  kick_due_ = INT64_MIN;  // look at the leases now
  cv_.notify_one();
}

void Background::Kick(int64_t due_ms) {
  if (due_ms >= next_wake_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(mu_);
  if (due_ms < kick_due_) {
    kick_due_ = due_ms;
    cv_.notify_one();
  }
}

int64_t Background::Step() {
  BackoffFn backoff;
  int max_attempts_default = 5;
  {
    std::lock_guard lock(listeners_mu_);
    backoff = backoff_;
    max_attempts_default = max_attempts_default_;
  }
  for (;;) {
    Engine::TickOutcome t = engine_.BackgroundTick(clock_.NowMs(), backoff, max_attempts_default, kStepBudget);
    {
      std::lock_guard lock(listeners_mu_);
      try {  // a throwing listener must not take the timer thread down
        if (on_repaired_ && !t.repaired.expired_commands.empty()) on_repaired_(t.repaired);
        if (ready_) {
          for (const auto& ev : t.ready) ready_(ev.tenant, ev.command);
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "codeq embedded store: background listener failed: %s\n", e.what());
      }
    }
    if (!t.more) return t.next_due_ms;
    std::lock_guard lock(mu_);
    if (stop_) return INT64_MAX;
  }
}

void Background::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    // Awake: every Kick from here on is recorded, so nothing added during the step is missed.
    next_wake_.store(INT64_MAX, std::memory_order_release);
    kick_due_ = INT64_MAX;
    lock.unlock();
    const int64_t next_due = Step();
    lock.lock();
    for (;;) {
      if (stop_) return;
      const int64_t target = std::min(next_due, kick_due_);
      const int64_t now = clock_.NowMs();
      int64_t wait = interval_ms_;
      if (target != INT64_MAX) wait = target <= now ? 0 : std::min<int64_t>(target - now, interval_ms_);
      if (wait <= 0) break;
      next_wake_.store(now + wait, std::memory_order_release);
      const int64_t seen = kick_due_;
      bool woken = cv_.wait_for(lock, std::chrono::milliseconds(wait),
                                [&] { return stop_ || kick_due_ < seen; });
      if (!woken) break;  // the planned time came
      // stopped, or an earlier due time arrived: re-plan
    }
  }
}

}  // namespace codeq::embedded
