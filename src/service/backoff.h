// Retry delay policies of SPEC.md §5.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace codeq {

/// A backoff policy: fixed, linear, exponential, exp_equal_jitter or exp_full_jitter (the default,
/// also used for unknown names). Delays are whole seconds.
struct BackoffPolicy {
  std::string policy = "exp_full_jitter";
  int64_t base_seconds = 5;   // ≤ 0 → 1
  int64_t max_seconds = 900;  // ≤ 0 → base
};

/// Uniform integer in [lo, hi] (inclusive); injectable for tests.
using RandomInt = std::function<int64_t(int64_t lo, int64_t hi)>;

/// A thread-safe uniform RandomInt backed by a per-thread Mersenne twister.
RandomInt DefaultRandom();

/// The delay for a retry after `attempts` deliveries (SPEC §5 with D2: a = attempts so far,
/// negative → 0). 2^a saturates instead of overflowing (§10 point 20).
int64_t ComputeBackoffSeconds(const BackoffPolicy& p, int attempts, const RandomInt& rnd);

}  // namespace codeq
