// RateLimiter: the policy's `rate_limits` (requests per period, per agent or
// per key), enforced with the generic cell rate algorithm (a token bucket
// kept as one timestamp): `max` requests may come at once, then one per
// per/max.
//
// Integer nanoseconds throughout. State is keyed by the limit's definition
// and the agent or key name, so it survives a policy reload that keeps the
// limit unchanged. Buckets idle for longer than their period are dropped.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "base/clock.h"
#include "policy/policy.h"

namespace sigil::policy {

class RateLimiter {
 public:
  explicit RateLimiter(const Clock& clock) : clock_(clock) {}

  struct Result {
    bool allowed = true;
    int64_t retry_after_ms = 0;  // when refused: wait at least this long
    std::string reason;          // when refused: which limit, in words
  };

  // Checks every limit that applies to (key, agent). When all allow and
  // `consume` is true, one request is counted against each of them; a
  // refused request is counted against none. `consume` false is a dry run.
  Result Acquire(std::span<const RateLimitSpec> limits, std::string_view key, std::string_view agent, bool consume);

 private:
  const Clock& clock_;
  absl::Mutex mu_;
  // Bucket id -> theoretical arrival time (unix nanoseconds).
  absl::flat_hash_map<std::string, int64_t> tat_ ABSL_GUARDED_BY(mu_);
  uint64_t ops_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sigil::policy
