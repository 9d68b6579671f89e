#include "policy/policy_engine.h"

#include "base/status.h"

namespace sigil::policy {
namespace {

void AttachRisk(Decision& d, const Facts& f, const RiskAssessment& risk) {
  d.risk_score = f.risk_score;
  d.risk_factors = risk.factors;
}

Decision RateLimited(const Policy& policy, const RateLimiter::Result& r) {
  Decision d;
  d.effect = Effect::kDeny;
  d.reason = r.reason;
  d.rate_limited = true;
  d.retry_after_ms = r.retry_after_ms;
  d.policy_version = policy.version();
  d.policy_hash = policy.hash_hex();
  return d;
}

}  // namespace

PolicyEngine::PolicyEngine(std::shared_ptr<const Policy> policy, Ledger& ledger, const Clock& clock, Options options)
    : ledger_(ledger), clock_(clock), scorer_(options.risk), history_(options.history), limiter_(clock),
      policy_(std::move(policy)) {}

void PolicyEngine::SetPolicy(std::shared_ptr<const Policy> policy) {
  absl::MutexLock lock(&mu_);
  policy_ = std::move(policy);
}

std::shared_ptr<const Policy> PolicyEngine::policy() const {
  absl::MutexLock lock(&mu_);
  return policy_;
}

Facts PolicyEngine::Prepare(const Facts& facts, std::shared_ptr<const Policy>& policy, RiskAssessment& risk) {
  policy = this->policy();
  Facts f = NormalizeFacts(facts);
  if (!f.time) f.time = clock_.Now();
  if (!f.risk_score) {
    risk = scorer_.Score(f, history_, *f.time);
    f.risk_score = risk.score;
  }
  return f;
}

Decision PolicyEngine::Explain(const Facts& facts) {
  std::shared_ptr<const Policy> policy;
  RiskAssessment risk;
  Facts f = Prepare(facts, policy, risk);
  RateLimiter::Result rl = limiter_.Acquire(policy->rate_limits(), f.key, f.agent, /*consume=*/false);
  Decision d = rl.allowed ? policy->Evaluate(f, &ledger_) : RateLimited(*policy, rl);
  AttachRisk(d, f, risk);
  return d;
}

std::vector<BudgetStatus> PolicyEngine::Budgets(const std::string& key, const std::string& agent) {
  return policy()->Budgets(key, agent, &ledger_);
}

absl::StatusOr<Authorization> PolicyEngine::Authorize(const Facts& facts) {
  std::shared_ptr<const Policy> policy;
  RiskAssessment risk;
  Facts f = Prepare(facts, policy, risk);
  Authorization out;
  RateLimiter::Result rl = limiter_.Acquire(policy->rate_limits(), f.key, f.agent, /*consume=*/true);
  if (!rl.allowed) {
    out.decision = RateLimited(*policy, rl);
  } else {
    out.decision = policy->Evaluate(f, &ledger_);
    // Evaluate read the budgets; the reservation re-checks them under the
    // ledger's lock. If a concurrent request spent them meanwhile, decide
    // again on what the ledger saw.
    for (int attempt = 0; out.decision.effect == Effect::kAllow; ++attempt) {
      ASSIGN_OR_RETURN(ReserveOutcome outcome, ledger_.Reserve(out.decision.charges));
      if (outcome.id) {
        out.reservation = outcome.id;
        break;
      }
      policy->ApplySpent(out.decision, outcome.spent);
      if (out.decision.effect == Effect::kAllow && attempt >= 2) {
        // Cannot happen with a consistent ledger; fail closed.
        out.decision.effect = Effect::kDeny;
        out.decision.reason = "budgets changed while this request was being decided; try again";
      }
    }
  }
  AttachRisk(out.decision, f, risk);
  history_.Record(MakeHistoryEvent(f, out.decision.effect));
  out.triggers = triggers_.Observe(policy->triggers(), f, out.decision);
  return out;
}

absl::StatusOr<ReservationId> PolicyEngine::ReserveApproved(const Decision& decision) {
  if (decision.effect != Effect::kRequireApproval) {
    return absl::InvalidArgumentError("only a require_approval decision can be reserved after approval");
  }
  // The approvers accepted going over the require_approval budgets, never
  // over a deny one ("approval never overrides a deny"): each charge keeps
  // the lowest deny limit on it, so the ledger's atomic check refuses a
  // second approved request (or one racing Authorize) that no longer fits,
  // although the read-only Explain before it saw room for both.
  std::vector<BudgetCharge> charges = decision.charges;
  for (BudgetCharge& c : charges) c.limit.reset();
  for (const BudgetStatus& s : decision.budgets) {
    if (s.on_exceed != Effect::kDeny || s.charge_index >= charges.size()) continue;
    std::optional<Uint256>& limit = charges[s.charge_index].limit;
    if (!limit || s.limit < *limit) limit = s.limit;
  }
  ASSIGN_OR_RETURN(ReserveOutcome outcome, ledger_.Reserve(charges));
  if (outcome.id) return *outcome.id;
  // Say which budget, as a denial would: the decision again with what the
  // ledger saw. ApplySpent leaves the effect alone if the policy has changed
  // since (a rule of the decision is gone).
  Decision denied = decision;
  policy()->ApplySpent(denied, outcome.spent);
  std::string reason = denied.effect == Effect::kDeny ? denied.reason : "";
  if (reason.empty()) {
    for (const BudgetStatus& s : decision.budgets) {
      if (s.on_exceed == Effect::kDeny && s.charge_index == outcome.exceeded_index) {
        reason = "the " + s.window + " budget of rule " + s.rule_id + " has no room left for this request";
        break;
      }
    }
  }
  return absl::ResourceExhaustedError("approved, but " + reason +
                                      "; an approval never overrides a deny budget; nothing was reserved");
}

}  // namespace sigil::policy
