// TokenRateLimiter: per-token request rates at the front (issue #6), a
// generic cell rate algorithm per token id: a rate of N per P lets N
// requests through at once, then one every P/N. A request may cost more
// than one (a JSON-RPC batch costs its number of calls).
//
// A refused request consumes nothing and gets the time after which the same
// request would pass (retry_after).
//
// State: one int64 per token seen within its period; idle entries are swept
// every 4096 calls. Integer nanoseconds, no floating point.
//
// Thread-safety: thread-safe (one mutex, held for a hash lookup).
// Ownership: borrows `clock`, which must outlive the limiter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "tokens/token_rate.h"

namespace sigil::server {

class TokenRateLimiter {
 public:
  explicit TokenRateLimiter(const Clock& clock) : clock_(clock) {}

  struct Result {
    bool allowed = true;
    absl::Duration retry_after = absl::ZeroDuration();  // > 0 when refused
  };

  // Counts `cost` requests (>= 1) for `token_id` against `rate`. A cost above
  // the burst is refused with retry_after = one full period.
  Result Acquire(std::string_view token_id, const tokens::TokenRate& rate, uint64_t cost = 1);

 private:
  struct Bucket {
    int64_t tat_ns = 0;  // theoretical arrival time
    int64_t period_ns = 0;
  };
  const Clock& clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
  uint64_t calls_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sigil::server
