#include <gtest/gtest.h>

#include "service/backoff.h"

namespace codeq {
namespace {

// Returns the upper bound, so jitter policies are checked at their maximum.
RandomInt MaxRandom() {
  return [](int64_t, int64_t hi) { return hi; };
}
RandomInt MinRandom() {
  return [](int64_t lo, int64_t) { return lo; };
}

TEST(Backoff, ExponentialMatchesSpecExamples) {
  BackoffPolicy p{"exponential", 5, 1000};
  EXPECT_EQ(ComputeBackoffSeconds(p, 0, MaxRandom()), 5);
  EXPECT_EQ(ComputeBackoffSeconds(p, 1, MaxRandom()), 10);
  EXPECT_EQ(ComputeBackoffSeconds(p, 2, MaxRandom()), 20);
  EXPECT_EQ(ComputeBackoffSeconds(p, 3, MaxRandom()), 40);
  EXPECT_EQ(ComputeBackoffSeconds(p, 20, MaxRandom()), 1000);
}

TEST(Backoff, ExponentialSaturatesForHugeAttempts) {
  BackoffPolicy p{"exponential", 5, 900};
  EXPECT_EQ(ComputeBackoffSeconds(p, 1'000'000, MaxRandom()), 900);
  EXPECT_EQ(ComputeBackoffSeconds(p, -4, MaxRandom()), 5);
}

TEST(Backoff, LinearAndFixed) {
  BackoffPolicy lin{"linear", 5, 1000};
  EXPECT_EQ(ComputeBackoffSeconds(lin, 0, MaxRandom()), 5);
  EXPECT_EQ(ComputeBackoffSeconds(lin, 2, MaxRandom()), 10);
  EXPECT_EQ(ComputeBackoffSeconds(lin, 500, MaxRandom()), 1000);
  BackoffPolicy fixed{"fixed", 7, 3};
  EXPECT_EQ(ComputeBackoffSeconds(fixed, 9, MaxRandom()), 3);
}

TEST(Backoff, JitterRanges) {
  BackoffPolicy full{"exp_full_jitter", 5, 1000};
  EXPECT_EQ(ComputeBackoffSeconds(full, 2, MaxRandom()), 20);
  EXPECT_EQ(ComputeBackoffSeconds(full, 2, MinRandom()), 0);
  BackoffPolicy equal{"exp_equal_jitter", 5, 1000};
  EXPECT_EQ(ComputeBackoffSeconds(equal, 2, MinRandom()), 10);
  EXPECT_EQ(ComputeBackoffSeconds(equal, 2, MaxRandom()), 20);
  BackoffPolicy unknown{"nonsense", 5, 1000};
  EXPECT_EQ(ComputeBackoffSeconds(unknown, 1, MaxRandom()), 10);
}

TEST(Backoff, NonPositiveBaseAndMax) {
  BackoffPolicy p{"exponential", 0, 0};  // base → 1, max → base
  EXPECT_EQ(ComputeBackoffSeconds(p, 5, MaxRandom()), 1);
  BackoffPolicy q{"exponential", 3, -1};
  EXPECT_EQ(ComputeBackoffSeconds(q, 5, MaxRandom()), 3);
}

TEST(Backoff, DefaultRandomStaysInRange) {
  auto rnd = DefaultRandom();
  for (int i = 0; i < 1000; ++i) {
    int64_t v = rnd(3, 7);
    ASSERT_GE(v, 3);
    ASSERT_LE(v, 7);
  }
}

}  // namespace
}  // namespace codeq
