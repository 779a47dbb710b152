// The embedded store's background timer: promotes due delayed tasks and, once enabled, repairs
// expired leases, then tells the ReadyListener which (tenant, command) queues got ready work.
//
// One thread. It sleeps until the earliest due time (delayed visible-at, and lease deadlines when
// repair is on) or the timer interval, whichever comes first; an operation that adds an earlier
// due time wakes it (Kick), so a waiting long-poll claim hears about a due task within
// milliseconds. Times come from the injected Clock (a ManualClock makes leases expire at once
// when advanced; the thread then acts at its next interval).
//
// Internal to store/embedded/.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "domain/clock.h"
#include "store/embedded/embedded_store.h"

namespace codeq::embedded {

class Engine;

class Background {
 public:
  Background(Engine& engine, const Clock& clock, int64_t interval_ms);
  /// Stops and joins the thread.
  ~Background();

  /// Starts the thread (after the engine's due hook points here). O(1).
  void Start();

  /// Thread-safe. Once these return, a previous listener is no longer called.
  void SetReadyListener(Store::ReadyListener listener);
  void SetRepair(BackoffFn backoff, int max_attempts_default, EmbeddedStore::RepairListener on_repaired);

  /// A delayed task or a lease now falls due at `due_ms`: wake earlier if needed. Called with the
  /// engine lock held; O(1), and lock-free unless it really moves the wake-up time.
  void Kick(int64_t due_ms);

 private:
  void Run();
  /// Runs background steps at the current time until no budget is left over; returns the earliest
  /// due time still pending.
  int64_t Step();

  Engine& engine_;
  const Clock& clock_;
  const int64_t interval_ms_;

  std::mutex mu_;  // guards stop_, kick_due_ and the sleeping
  std::condition_variable cv_;
  bool stop_ = false;
  int64_t kick_due_ = INT64_MAX;
  std::atomic<int64_t> next_wake_{INT64_MAX};  // INT64_MAX while awake: every Kick is recorded

  std::mutex listeners_mu_;  // held while listeners run, so a detach waits for running calls
  Store::ReadyListener ready_;
  BackoffFn backoff_;
  int max_attempts_default_ = 5;
  EmbeddedStore::RepairListener on_repaired_;

  std::thread thread_;
};

}  // namespace codeq::embedded
