#include "policy/decision.h"

#include "policy/duration_text.h"

namespace sigil::policy {

std::string ApprovalText(const ApprovalRequirement& a) {
  std::string out = std::to_string(a.quorum) + (a.quorum == 1 ? " approval" : " approvals") + " by role \"" + a.role +
                    "\"";
  if (a.second_factor == SecondFactor::kTotp) out += " with TOTP";
  out += ", within " + FormatDurationText(a.expires);
  return out;
}

nlohmann::json BudgetStatusToJson(const BudgetStatus& b) {
  nlohmann::json j = {{"rule", b.rule_id},
                      {"window", b.window},
                      {"measure", b.measure},
                      {"scope", b.scope},
                      {"limit", b.limit.ToDecimal()},
                      {"spent", b.spent.ToDecimal()},
                      {"requested", b.requested.ToDecimal()},
                      {"remaining", b.remaining.ToDecimal()},
                      {"exceeded", b.exceeded},
                      {"on_exceed", std::string(EffectName(b.on_exceed))}};
  if (!b.unit.empty()) j["unit"] = b.unit;
  if (!b.token.empty()) j["token"] = b.token;
  if (!b.unbounded.empty()) j["unbounded"] = b.unbounded;
  return j;
}

nlohmann::json DecisionToJson(const Decision& d) {
  nlohmann::json j;
  j["decision"] = std::string(EffectName(d.effect));
  j["rule"] = d.rule_id;
  j["reason"] = d.reason;
  j["matched_rules"] = d.matched_rules;
  nlohmann::json budgets = nlohmann::json::array();
  for (const BudgetStatus& b : d.budgets) {
    budgets.push_back(BudgetStatusToJson(b));
    if (b.exceeded && !j.contains("budget")) j["budget"] = BudgetStatusToJson(b);
  }
  j["budgets"] = std::move(budgets);
  if (d.approval) {
    j["approval"] = {{"rule", d.approval->rule_id},
                     {"quorum", d.approval->quorum},
                     {"role", d.approval->role},
                     {"second_factor", std::string(SecondFactorName(d.approval->second_factor))},
                     {"expires", FormatDurationText(d.approval->expires)},
                     {"expires_in_seconds", absl::ToInt64Seconds(d.approval->expires)}};
  }
  if (d.rate_limited) j["retry_after_ms"] = d.retry_after_ms;
  if (d.risk_score) {
    nlohmann::json factors = nlohmann::json::array();
    for (const RiskFactor& f : d.risk_factors) {
      factors.push_back({{"name", f.name}, {"points", f.points}, {"detail", f.detail}});
    }
    j["risk"] = {{"score", *d.risk_score}, {"factors", std::move(factors)}};
  }
  j["policy"] = {{"version", d.policy_version}, {"hash", d.policy_hash}};
  return j;
}

}  // namespace sigil::policy
