#include "policy/trigger_monitor.h"

namespace sigil::policy {

std::vector<TriggerEvent> TriggerMonitor::Observe(std::span<const TriggerSpec> triggers, const Facts& facts,
                                                  const Decision& decision) {
  std::vector<TriggerEvent> out;
  if (triggers.empty()) return out;
  const int64_t now = absl::ToUnixNanos(facts.time.value_or(absl::UnixEpoch()));
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < triggers.size(); ++i) {
    const TriggerSpec& t = triggers[i];
    TriggerEvent e{t.action, i, facts.agent, facts.key, ""};
    if (t.on == TriggerSpec::On::kRiskScore) {
      if (decision.risk_score && *decision.risk_score >= t.score_gte) {
        e.reason = "request by agent \"" + facts.agent + "\" scored risk " + std::to_string(*decision.risk_score) +
                   " (threshold " + std::to_string(t.score_gte) + ")";
        out.push_back(std::move(e));
      }
      continue;
    }
    if (decision.effect != Effect::kDeny) continue;
    const std::string id = std::to_string(t.count) + "/" + t.within_text + "|" + facts.agent;
    std::deque<int64_t>& times = denials_[id];
    times.push_back(now);
    const int64_t cutoff = now - absl::ToInt64Nanoseconds(t.within);
    while (!times.empty() && times.front() <= cutoff) times.pop_front();
    if (times.size() >= t.count) {
      e.reason = "agent \"" + facts.agent + "\" was denied " + std::to_string(times.size()) + " times within " +
                 t.within_text;
      out.push_back(std::move(e));
      times.clear();
    }
  }
  // Bound memory: drop agents with no recent denials once the map grows.
  if (denials_.size() > 100000) {
    for (auto it = denials_.begin(); it != denials_.end();) {
      if (it->second.empty()) {
        denials_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  return out;
}

}  // namespace sigil::policy
