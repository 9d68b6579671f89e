#include "server/token_rate_limiter.h"

#include <gtest/gtest.h>

namespace sigil::server {
namespace {

TEST(TokenRateLimiterTest, BurstThenOnePerInterval) {
  FakeClock clock;
  TokenRateLimiter limiter(clock);
  const tokens::TokenRate rate{10, absl::Seconds(1)};
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.Acquire("tok_a", rate).allowed) << i;
  auto refused = limiter.Acquire("tok_a", rate);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, absl::Milliseconds(100));
  // Refusals consume nothing: after the advertised wait exactly one passes.
  clock.Advance(absl::Milliseconds(99));
  EXPECT_FALSE(limiter.Acquire("tok_a", rate).allowed);
  clock.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(limiter.Acquire("tok_a", rate).allowed);
  EXPECT_FALSE(limiter.Acquire("tok_a", rate).allowed);
}

TEST(TokenRateLimiterTest, TokensAreIndependent) {
  FakeClock clock;
  TokenRateLimiter limiter(clock);
  const tokens::TokenRate rate{1, absl::Minutes(1)};
  EXPECT_TRUE(limiter.Acquire("tok_a", rate).allowed);
  EXPECT_FALSE(limiter.Acquire("tok_a", rate).allowed);
  EXPECT_TRUE(limiter.Acquire("tok_b", rate).allowed);
  clock.Advance(absl::Minutes(1));
  EXPECT_TRUE(limiter.Acquire("tok_a", rate).allowed);
}

TEST(TokenRateLimiterTest, CostCountsSeveralAndAboveBurstIsRefused) {
  FakeClock clock;
  TokenRateLimiter limiter(clock);
  const tokens::TokenRate rate{5, absl::Seconds(5)};
  EXPECT_TRUE(limiter.Acquire("tok_a", rate, 3).allowed);
  EXPECT_FALSE(limiter.Acquire("tok_a", rate, 3).allowed);
  EXPECT_TRUE(limiter.Acquire("tok_a", rate, 2).allowed);
  auto big = limiter.Acquire("tok_b", rate, 6);
  EXPECT_FALSE(big.allowed);
  EXPECT_EQ(big.retry_after, absl::Seconds(5));
}

TEST(TokenRateLimiterTest, IdleBucketsAreSwept) {
  FakeClock clock;
  TokenRateLimiter limiter(clock);
  const tokens::TokenRate rate{1, absl::Seconds(1)};
  for (int i = 0; i < 10000; ++i) {
    EXPECT_TRUE(limiter.Acquire("tok_" + std::to_string(i), rate).allowed);
    clock.Advance(absl::Milliseconds(10));
  }
  // Still exact after sweeps: a fresh token has its full burst.
  EXPECT_TRUE(limiter.Acquire("tok_fresh", rate).allowed);
  EXPECT_FALSE(limiter.Acquire("tok_fresh", rate).allowed);
}

}  // namespace
}  // namespace sigil::server
