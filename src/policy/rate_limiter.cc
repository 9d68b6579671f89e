#include "policy/rate_limiter.h"

#include <algorithm>
#include <vector>

#include "policy/duration_text.h"

namespace sigil::policy {

RateLimiter::Result RateLimiter::Acquire(std::span<const RateLimitSpec> limits, std::string_view key,
                                         std::string_view agent, bool consume) {
  Result result;
  if (limits.empty()) return result;
  struct Hit {
    std::string bucket;
    int64_t interval;
  };
  std::vector<Hit> hits;
  absl::MutexLock lock(&mu_);
  const int64_t now = absl::ToUnixNanos(clock_.Now());
  for (const RateLimitSpec& spec : limits) {
    if (spec.keys && !SetContains(*spec.keys, key)) continue;
    if (spec.agents && !SetContains(*spec.agents, agent)) continue;
    const bool by_agent = spec.scope == RateLimitSpec::Scope::kAgent;
    const std::string_view who = by_agent ? agent : key;
    const int64_t per = absl::ToInt64Nanoseconds(spec.per);
    const int64_t interval = std::max<int64_t>(1, per / static_cast<int64_t>(spec.max));
    const int64_t tolerance = per - interval;
    std::string bucket = (by_agent ? "agent:" : "key:") + std::string(who) + "|" + std::to_string(per) + "|" +
                         std::to_string(spec.max);
    auto it = tat_.find(bucket);
    const int64_t tat = it == tat_.end() ? now : std::max(it->second, now);
    if (tat - tolerance > now) {
      const int64_t wait_ns = tat - tolerance - now;
      result.allowed = false;
      result.retry_after_ms = std::max<int64_t>(1, (wait_ns + 999999) / 1000000);
      result.reason = "rate limit exceeded: at most " + std::to_string(spec.max) + " requests per " + spec.per_text +
                      " for " + (by_agent ? "agent" : "key") + " \"" + std::string(who) + "\"; retry after " +
                      std::to_string(result.retry_after_ms) + " ms";
      return result;
    }
    hits.push_back(Hit{std::move(bucket), interval});
  }
  if (!consume) return result;
  for (Hit& h : hits) {
    auto [it, inserted] = tat_.try_emplace(h.bucket, now);
    it->second = std::max(it->second, now) + h.interval;
  }
  // Forget buckets that are back to full: their TAT is in the past.
  if (++ops_ % 4096 == 0) {
    for (auto it = tat_.begin(); it != tat_.end();) {
      if (it->second <= now) {
        tat_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  return result;
}

}  // namespace sigil::policy
