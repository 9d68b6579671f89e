// TriggerMonitor: the policy's `triggers` — automatic reactions the core
// carries out (suspend the agent's token, lock down all signing, alert):
//
//   {"on": "denials", "count": 5, "within": "10m", "action": "suspend_agent"}
//       fires when one agent collects `count` denials within `within`;
//       the agent's count starts again after it fires.
//   {"on": "risk_score", "gte": 80, "action": "lockdown"}
//       fires for every request whose risk score is at least `gte`.
//
// Observe() returns the events; acting on them is the core's job.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "policy/decision.h"
#include "policy/facts.h"
#include "policy/policy.h"

namespace sigil::policy {

struct TriggerEvent {
  TriggerAction action = TriggerAction::kAlert;
  size_t trigger_index = 0;  // into Policy::triggers()
  std::string agent;
  std::string key;
  std::string reason;  // "agent bot-1 was denied 5 times within 10m"
};

class TriggerMonitor {
 public:
  // Records `decision` for the request `facts` (time must be set) and
  // returns the triggers that fire.
  std::vector<TriggerEvent> Observe(std::span<const TriggerSpec> triggers, const Facts& facts,
                                    const Decision& decision);

 private:
  absl::Mutex mu_;
  // (trigger definition, agent) -> denial times, unix nanos.
  absl::flat_hash_map<std::string, std::deque<int64_t>> denials_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::policy
