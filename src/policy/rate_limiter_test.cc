#include "policy/rate_limiter.h"

#include "gtest/gtest.h"

namespace sigil::policy {
namespace {

Policy MustParse(const std::string& text) { return Policy::Parse(text).value(); }

TEST(RateLimiterTest, BurstThenSteadyRate) {
  FakeClock clock;
  RateLimiter limiter(clock);
  Policy p = MustParse(R"({"version": 1, "rules": [], "rate_limits": [{"scope": "key", "per": "1s", "max": 5}]})");
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Acquire(p.rate_limits(), "k", "a", true).allowed) << i;
  auto refused = limiter.Acquire(p.rate_limits(), "k", "a", true);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_ms, 200);
  clock.Advance(absl::Milliseconds(199));
  EXPECT_FALSE(limiter.Acquire(p.rate_limits(), "k", "a", true).allowed);
  clock.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(limiter.Acquire(p.rate_limits(), "k", "a", true).allowed);
  EXPECT_FALSE(limiter.Acquire(p.rate_limits(), "k", "a", true).allowed);
  // A refused request uses no slot: after a full period the bucket is full again.
  clock.Advance(absl::Seconds(1));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Acquire(p.rate_limits(), "k", "a", true).allowed) << i;
}

TEST(RateLimiterTest, ScopesAndFilters) {
  FakeClock clock;
  RateLimiter limiter(clock);
  Policy p = MustParse(R"({"version": 1, "rules": [], "rate_limits": [
      {"scope": "agent", "agents": ["slow"], "per": "1h", "max": 1},
      {"scope": "key", "keys": ["cold"], "per": "1d", "max": 2}]})");
  EXPECT_TRUE(limiter.Acquire(p.rate_limits(), "hot", "slow", true).allowed);
  EXPECT_FALSE(limiter.Acquire(p.rate_limits(), "hot", "slow", true).allowed);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.Acquire(p.rate_limits(), "hot", "fast", true).allowed);
  EXPECT_TRUE(limiter.Acquire(p.rate_limits(), "cold", "fast", true).allowed);
  EXPECT_TRUE(limiter.Acquire(p.rate_limits(), "cold", "other", true).allowed);
  auto r = limiter.Acquire(p.rate_limits(), "cold", "fast", true);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.retry_after_ms, 12 * 3600 * 1000);
  EXPECT_NE(r.reason.find("key \"cold\""), std::string::npos);
}

TEST(RateLimiterTest, DryRunConsumesNothingAndRefusalIsAllOrNothing) {
  FakeClock clock;
  RateLimiter limiter(clock);
  Policy p = MustParse(R"({"version": 1, "rules": [], "rate_limits": [
      {"scope": "agent", "per": "1m", "max": 2}, {"scope": "key", "per": "1m", "max": 1}]})");
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.Acquire(p.rate_limits(), "k", "a", false).allowed);
  EXPECT_TRUE(limiter.Acquire(p.rate_limits(), "k", "a", true).allowed);
  EXPECT_FALSE(limiter.Acquire(p.rate_limits(), "k", "a", true).allowed);  // key limit refuses ...
  EXPECT_TRUE(limiter.Acquire(p.rate_limits(), "k2", "a", true).allowed);   // ... and used no agent slot
  EXPECT_FALSE(limiter.Acquire(p.rate_limits(), "k3", "a", true).allowed);
}

}  // namespace
}  // namespace sigil::policy
