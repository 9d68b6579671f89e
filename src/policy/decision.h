// Decision: what the policy says about one request, and why, in words a
// language model (or a person) can act on.
//
// A plain value; DecisionToJson gives the `data` object of a refused
// JSON-RPC call (INTERFACE.md "Refusals are structured").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "base/uint256.h"
#include "policy/effect.h"
#include "policy/ledger.h"
#include "policy/second_factor.h"

namespace sigil::policy {


// What a held request needs before it may be signed.
struct ApprovalRequirement {
  std::string rule_id;  // the rule whose approval block applies
  int quorum = 1;       // distinct approvers
  std::string role = "approver";
  SecondFactor second_factor = SecondFactor::kNone;
  absl::Duration expires = absl::Hours(1);  // the hold lapses after this
};

// "2 approvals by role \"approver\" with TOTP, within 1h".
std::string ApprovalText(const ApprovalRequirement& a);

// One budget the request touches, as it stood when the decision was made.
struct BudgetStatus {
  std::string rule_id;
  std::string window;  // as written: "24h"
  absl::Duration window_duration;
  // "value" (wei sent), "spend" (wei sent plus the most the fees can be),
  // "amount" (token base units) or "count".
  std::string measure;
  std::string unit;     // for "value" and "spend": "wei" or "lamports"
  std::string token;    // for "amount": the token contract or mint
  std::string scope;    // "rule+key", "rule+agent", "rule", "key", "agent"
  Uint256 limit;
  Uint256 spent;      // inside the window, before this request
  Uint256 requested;  // this request
  Uint256 remaining;  // limit - spent (0 when overspent)
  bool exceeded = false;
  Effect on_exceed = Effect::kDeny;
  size_t charge_index = 0;  // into Decision::charges
  // Set when what this request would spend cannot be bounded ("spend": an
  // eth_tx without a gas limit or fee cap, or whose worst case passes
  // 2^256-1 wei): why. `requested` is then 2^256-1, the budget counts as
  // exceeded, and the request is denied whatever on_exceed says (nobody can
  // approve an amount nobody knows, and the charge could not be recorded).
  std::string unbounded;
};

struct RiskFactor {
  std::string name;  // "new_counterparty", "amount_outlier", "velocity", "unusual_hour"
  int points = 0;
  std::string detail;
};

struct Decision {
  Effect effect = Effect::kDeny;
  std::string rule_id;  // the rule that decided; empty when no rule matched
  std::string reason;
  std::vector<std::string> matched_rules;  // every rule whose conditions held, in order
  std::vector<BudgetStatus> budgets;
  std::optional<ApprovalRequirement> approval;  // set when effect is require_approval
  // What the request spends, one per distinct account; Authorize reserves
  // these (with limits) on allow, ReserveApproved after approval (with the
  // deny budgets' limits, without the require_approval ones).
  std::vector<BudgetCharge> charges;
  bool rate_limited = false;
  int64_t retry_after_ms = 0;
  std::optional<int> risk_score;
  std::vector<RiskFactor> risk_factors;
  uint64_t policy_version = 0;
  std::string policy_hash;  // hex SHA-256 of the canonical policy document
};

// {"decision", "rule", "reason", "matched_rules", "budgets": [...],
//  "budget": <the first exceeded budget, if any>, "approval": {...},
//  "retry_after_ms", "risk": {"score", "factors"}, "policy": {"version", "hash"}}.
// Amounts are decimal strings; a "value" or "spend" budget names its "unit"
// ("wei" or "lamports"). A budget whose request cannot be bounded
// carries "unbounded": "<why>".
nlohmann::json DecisionToJson(const Decision& decision);
nlohmann::json BudgetStatusToJson(const BudgetStatus& budget);

}  // namespace sigil::policy
