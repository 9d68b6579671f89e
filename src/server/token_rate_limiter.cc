#include "server/token_rate_limiter.h"

#include <algorithm>

namespace sigil::server {

TokenRateLimiter::Result TokenRateLimiter::Acquire(std::string_view token_id, const tokens::TokenRate& rate,
                                                   uint64_t cost) {
  cost = std::max<uint64_t>(cost, 1);
  const int64_t period = absl::ToInt64Nanoseconds(rate.per);
  if (rate.count == 0 || period <= 0) return {};  // no limit
  if (cost > rate.count) return {false, rate.per};
  // Emission interval per request; the burst tolerance lets `count` through at once.
  const int64_t interval = std::max<int64_t>(1, period / static_cast<int64_t>(rate.count));
  const int64_t tolerance = period - interval;
  const int64_t now = absl::ToUnixNanos(clock_.Now());

  absl::MutexLock lock(&mu_);
  if (++calls_ % 4096 == 0) {
    // A bucket whose TAT has passed is the same as no bucket.
    absl::erase_if(buckets_, [now](const auto& kv) { return kv.second.tat_ns <= now; });
  }
  Bucket& b = buckets_[std::string(token_id)];
  b.period_ns = period;
  const int64_t tat = std::max(b.tat_ns, now);
  const int64_t new_tat = tat + interval * static_cast<int64_t>(cost);
  const int64_t allow_at = new_tat - interval - tolerance;  // earliest time this request conforms
  if (allow_at > now) return {false, absl::Nanoseconds(allow_at - now)};
  b.tat_ns = new_tat;
  return {};
}

}  // namespace sigil::server
