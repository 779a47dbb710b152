// Injectable time source (ARCHITECTURE.md, "Time is injected").
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace codeq {

/// Gives the current time as epoch milliseconds (UTC).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;
  int64_t NowSeconds() const { return NowMs() / 1000; }
};

/// The wall clock.
class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

/// A clock that only moves when told to; for tests of leases, delays and backoff.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'767'225'600'000) : now_(start_ms) {}  // 2026-01-01
  int64_t NowMs() const override { return now_.load(); }
  void Set(int64_t ms) { now_.store(ms); }
  void Advance(int64_t ms) { now_.fetch_add(ms); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace codeq
