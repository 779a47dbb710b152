#include "service/backoff.h"

#include <algorithm>
#include <random>

namespace codeq {

RandomInt DefaultRandom() {
  return [](int64_t lo, int64_t hi) {
    thread_local std::mt19937_64 gen{std::random_device{}()};
    return std::uniform_int_distribution<int64_t>(lo, hi)(gen);
  };
}

namespace {
// min(floor(b × 2^a), m) without overflow.
int64_t CappedExponential(int64_t b, int64_t m, int a) {
  int64_t d = b;
  for (int i = 0; i < a && d < m; ++i) d *= 2;
  return std::min(d, m);
}
}  // namespace

int64_t ComputeBackoffSeconds(const BackoffPolicy& p, int attempts, const RandomInt& rnd) {
  int64_t b = p.base_seconds <= 0 ? 1 : p.base_seconds;
  int64_t m = p.max_seconds <= 0 ? b : p.max_seconds;
  int a = attempts < 0 ? 0 : attempts;
  if (p.policy == "fixed") return std::min(b, m);
  if (p.policy == "linear") return std::min(b * std::max(1, a), m);
  int64_t d = CappedExponential(b, m, a);
  if (p.policy == "exponential") return d;
  if (p.policy == "exp_equal_jitter") {
    int64_t h = d / 2;
    return h + rnd(0, h);
  }
  return d <= 0 ? 0 : rnd(0, d);  // exp_full_jitter and unknown names
}

}  // namespace codeq
