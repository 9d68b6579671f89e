// PolicyEngine: the stateful side of policy — the one object the core asks
// "may this request be signed?". It combines the current Policy with the
// budget Ledger, the RateLimiter, the agents' History, the RiskScorer and
// the TriggerMonitor.
//
// Per signing request the core calls, in order:
//   auto a = engine.Authorize(facts);            // decides; reserves on allow
//   if (!a.ok())  -> unavailable (ledger journal not writable): sign nothing
//   switch (a->decision.effect) {
//     case allow:  sign; append audit record; engine.MakeDurable(id) (a
//                  no-op unless the ledger defers its syncs); release the
//                  signature; engine.Commit(*a->reservation)
//                  (on any failure before the signature leaves:
//                   engine.Release(*a->reservation))
//     case require_approval: hold (ApprovalBook); when approved at quorum:
//                  id = engine.ReserveApproved(a->decision) (ResourceExhausted:
//                  a deny budget is full now, refuse); sign; Commit(id)
//     case deny:   refuse with DecisionToJson(a->decision)
//   }
//   act on a->triggers (suspend agent, lockdown, alert).
// Explain(facts) is the dry run (`sigil policy explain`, `sigil_explain`):
// same decision, nothing reserved, no rate-limit slot used, nothing recorded.
//
// Facts must come from the core's own decoding of the bytes it will sign.
// The engine fills facts.time from its clock when empty and facts.risk_score
// from the RiskScorer when empty.
//
// Thread-safety: all methods are safe to call concurrently; SetPolicy swaps
// the policy atomically (a request in flight finishes under the policy it
// started with). The Ledger and Clock are borrowed and must outlive the
// engine.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/clock.h"
#include "policy/decision.h"
#include "policy/facts.h"
#include "policy/history.h"
#include "policy/ledger.h"
#include "policy/policy.h"
#include "policy/rate_limiter.h"
#include "policy/risk.h"
#include "policy/trigger_monitor.h"

namespace sigil::policy {

struct Authorization {
  Decision decision;
  // Set exactly when decision.effect is allow: the caller must Commit it
  // after the signature left, or Release it if nothing was signed.
  std::optional<ReservationId> reservation;
  std::vector<TriggerEvent> triggers;
};

class PolicyEngine {
 public:
  struct Options {
    RiskScorer::Options risk;
    History::Options history;
  };

  // REQUIRES: policy is not null.
  PolicyEngine(std::shared_ptr<const Policy> policy, Ledger& ledger, const Clock& clock)
      : PolicyEngine(std::move(policy), ledger, clock, Options{}) {}
  PolicyEngine(std::shared_ptr<const Policy> policy, Ledger& ledger, const Clock& clock, Options options);

  // Replaces the policy for requests that start after this call.
  // REQUIRES: policy is not null.
  void SetPolicy(std::shared_ptr<const Policy> policy);
  std::shared_ptr<const Policy> policy() const;

  // Decides, and on allow reserves every budget charge atomically. Counts the
  // request against rate limits, records it in the history and observes
  // triggers. Unavailable if the ledger journal cannot record the
  // reservation (nothing was reserved; refuse the request).
  [[nodiscard]] absl::StatusOr<Authorization> Authorize(const Facts& facts);

  // The decision Authorize would make now, changing nothing.
  Decision Explain(const Facts& facts);
  // The current policy's budgets for this key and agent (Policy::Budgets).
  std::vector<BudgetStatus> Budgets(const std::string& key, const std::string& agent);

  // After a held request was approved: records its charges over any
  // require_approval budget (the approvers accepted going over it), but
  // within every on_exceed deny budget, checked atomically as Authorize
  // does. Same protocol as Authorize's reservation. ResourceExhausted (the
  // message names the budget; nothing reserved) if a deny budget has no room
  // for it now: refuse the request as denied. InvalidArgument unless
  // decision.effect is require_approval; Unavailable as Authorize.
  [[nodiscard]] absl::StatusOr<ReservationId> ReserveApproved(const Decision& decision);

  [[nodiscard]] absl::Status MakeDurable(ReservationId id) { return ledger_.MakeDurable(id); }
  [[nodiscard]] absl::Status Commit(ReservationId id) { return ledger_.Commit(id); }
  [[nodiscard]] absl::Status Release(ReservationId id) { return ledger_.Release(id); }

  History& history() { return history_; }
  Ledger& ledger() { return ledger_; }

 private:
  Facts Prepare(const Facts& facts, std::shared_ptr<const Policy>& policy, RiskAssessment& risk);

  Ledger& ledger_;
  const Clock& clock_;
  RiskScorer scorer_;
  History history_;
  RateLimiter limiter_;
  TriggerMonitor triggers_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Policy> policy_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::policy
