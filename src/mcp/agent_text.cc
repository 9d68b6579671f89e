#include "mcp/agent_text.h"

#include <algorithm>
#include <cctype>

#include "absl/time/time.h"
#include "mcp/quantity.h"

namespace sigil::mcp {
namespace {

using nlohmann::json;

std::string Str(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer() || it->is_number_unsigned()) return it->dump();
  return "";
}

std::optional<Uint256> Amount(const json& obj, const char* key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  if (it->is_number_unsigned()) return Uint256(it->get<uint64_t>());
  if (it->is_number_integer() && it->get<int64_t>() >= 0) return Uint256(static_cast<uint64_t>(it->get<int64_t>()));
  if (!it->is_string()) return std::nullopt;
  absl::StatusOr<Uint256> v = Uint256::ParseInteger(it->get<std::string>());
  if (!v.ok()) return std::nullopt;
  return *v;
}

std::optional<int64_t> Int(const json& obj, const char* key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  if (it->is_number_integer() || it->is_number_unsigned()) return it->get<int64_t>();
  return std::nullopt;
}

std::string Measure(const json& budget) {
  std::string m = Str(budget, "measure");
  return m.empty() ? "value" : m;
}

std::string RuleOf(const json& obj) {
  std::string r = Str(obj, "rule");
  return r.empty() ? Str(obj, "rule_id") : r;
}

// The exceeded budget: data.budget, else the first budgets[] entry marked
// exceeded.
const json* ExceededBudget(const json& data) {
  if (!data.is_object()) return nullptr;
  if (auto it = data.find("budget"); it != data.end() && it->is_object()) return &*it;
  if (auto it = data.find("budgets"); it != data.end() && it->is_array()) {
    for (const json& b : *it) {
      if (b.is_object() && b.value("exceeded", false)) return &b;
    }
  }
  return nullptr;
}

std::string Sentence(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '.')) s.pop_back();
  return s + ".";
}

std::string DescribeDenied(const RpcError& e) {
  const json& d = e.data;
  const std::string rule = Str(d, "rule");
  std::string reason = Str(d, "reason");
  if (reason.empty()) reason = e.message;
  std::string text = rule.empty() ? Sentence("Denied by policy: " + reason) : Sentence("Denied by rule " + rule + ": " + reason);

  if (const json* b = ExceededBudget(d)) {
    const std::string window = Str(*b, "window");
    const std::string measure = Measure(*b);
    const std::string in_window = window.empty() ? "in the budget window" : "in the " + window + " window";
    std::optional<Uint256> remaining = BudgetRemaining(*b);
    std::optional<Uint256> requested = Amount(*b, "requested");
    if (remaining && !remaining->IsZero()) {
      if (measure == "count") {
        text += " At most " + BudgetAmountInWords(*remaining, *b) + " remain " + in_window +
                "; wait, or ask a human to raise the limit.";
      } else {
        text += " At most " + BudgetAmountInWords(*remaining, *b) + " remains " + in_window;
        if (requested) text += " (this request asked for " + BudgetAmountInWords(*requested, *b) + ")";
        text += "; retry with a smaller " + std::string(measure == "amount" ? "amount" : "value") +
                " or ask a human to raise the limit.";
      }
    } else if (remaining) {
      text += " Nothing remains " + in_window +
              "; wait until earlier spending leaves the window, or ask a human to raise the limit.";
    } else {
      text += " A budget is exhausted; call get_budget to see what remains, or ask a human to raise the limit.";
    }
    return text;
  }
  return text + " Do not resend the same request. Call explain with the same arguments to see which rule decides and "
                "what budgets remain, or get_policy to see what is allowed; ask a human if the policy should change.";
}

std::string DescribeApproval(const RpcError& e) {
  const json& d = e.data;
  const std::string id = Str(d, "approval_id");
  std::string text = id.empty() ? "Held for approval" : "Held for approval " + id;
  std::optional<int64_t> quorum = Int(d, "quorum");
  std::string within;
  if (d.is_object() && d.contains("approval")) {
    const json& a = d["approval"];
    if (!quorum) quorum = Int(a, "quorum");
    within = Str(a, "expires");
  }
  std::string expires_at = TimeInWords(d.is_object() && d.contains("expires_at") ? d["expires_at"] : json());
  text += ": ";
  if (quorum) {
    text += std::to_string(*quorum) + (*quorum == 1 ? " approver must approve" : " approvers must approve");
  } else {
    text += "approvers must approve";
  }
  if (!within.empty()) text += " within " + within;
  if (!expires_at.empty()) text += (within.empty() ? " before " : " (by ") + expires_at + (within.empty() ? "" : ")");
  int64_t so_far = 0;
  if (d.is_object() && d.contains("approvals")) {
    if (d["approvals"].is_array()) so_far = static_cast<int64_t>(d["approvals"].size());
    if (auto n = Int(d, "approvals")) so_far = *n;
    text += " (" + std::to_string(so_far) + " so far)";
  }
  const std::string rule = Str(d, "rule");
  const std::string reason = Str(d, "reason");
  if (!rule.empty()) text += "; rule " + rule + (reason.empty() ? "" : ": " + reason);
  text += ". Nothing has been signed yet. ";
  text += id.empty() ? "Call approval_status with the approval id to collect the signature once it is approved; "
                     : "Call approval_status with approval_id \"" + id +
                           "\" to collect the signature once it is approved; ";
  text += "do not resend the request.";
  return text;
}

}  // namespace

std::string TimeInWords(const nlohmann::json& time) {
  if (time.is_string()) return time.get<std::string>();
  if (!(time.is_number_integer() || time.is_number_unsigned())) return "";
  int64_t t = time.get<int64_t>();
  if (t > 100000000000LL) t /= 1000;  // milliseconds
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(t), absl::UTCTimeZone());
}

std::optional<Uint256> BudgetRemaining(const nlohmann::json& budget) {
  if (auto r = Amount(budget, "remaining")) return r;
  std::optional<Uint256> limit = Amount(budget, "limit");
  std::optional<Uint256> spent = Amount(budget, "spent");
  if (limit && spent) return limit->SaturatingSub(*spent);
  return std::nullopt;
}

std::string MeasureInWords(const Uint256& amount, const std::string& measure) {
  if (measure == "count") return amount.ToDecimal() + (amount == Uint256(1) ? " request" : " requests");
  if (measure == "amount") return amount.ToDecimal() + " token units";
  return WeiInWords(amount);
}

std::string BudgetAmountInWords(const Uint256& amount, const nlohmann::json& budget) {
  if (Str(budget, "unit") == "lamports") return amount.ToDecimal() + " lamports";
  return MeasureInWords(amount, Measure(budget));
}

std::string DescribeBudget(const nlohmann::json& budget) {
  const std::string measure = Measure(budget);
  std::string text = RuleOf(budget);
  const std::string window = Str(budget, "window");
  if (!window.empty()) text += (text.empty() ? "" : " ") + window;
  text += (text.empty() ? "" : " ") + measure + ":";
  std::optional<Uint256> limit = Amount(budget, "limit");
  std::optional<Uint256> spent = Amount(budget, "spent");
  if (spent && limit) {
    text += " " + BudgetAmountInWords(*spent, budget) + " of " + BudgetAmountInWords(*limit, budget) + " used";
  } else if (limit) {
    text += " limit " + BudgetAmountInWords(*limit, budget);
  }
  if (std::optional<Uint256> rem = BudgetRemaining(budget)) text += ", " + BudgetAmountInWords(*rem, budget) + " left";
  if (budget.is_object() && budget.value("exceeded", false)) {
    std::string on_exceed = Str(budget, "on_exceed");
    text += " (exceeded" + (on_exceed.empty() ? std::string() : ": " + on_exceed) + ")";
  }
  return text;
}

std::string DescribeRefusal(const RpcError& e) {
  const json& d = e.data;
  std::string reason = Str(d, "reason");
  switch (e.code) {
    case kDeniedByPolicy:
      return DescribeDenied(e);
    case kApprovalRequired:
      return DescribeApproval(e);
    case kLockdown: {
      // The daemon's message often starts with the same words.
      std::string why = reason.empty() ? e.message : reason;
      constexpr std::string_view kSame = "lockdown in force";
      if (why.size() >= kSame.size() &&
          std::equal(kSame.begin(), kSame.end(), why.begin(),
                     [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
        why = why.substr(kSame.size());
        while (!why.empty() && (why[0] == ':' || why[0] == ' ')) why.erase(0, 1);
      }
      return Sentence("Lockdown in force" + (why.empty() ? "" : ": " + why)) +
             " No key can sign until an administrator lifts the lockdown; do not retry, ask a human.";
    }
    case kRateLimited: {
      std::string text = "Rate limited";
      const std::string rule = Str(d, "rule");
      if (!rule.empty()) text += " by rule " + rule;
      if (!reason.empty()) text += ": " + reason;
      text = Sentence(text);
      if (std::optional<int64_t> ms = Int(d, "retry_after_ms")) {
        text += " Retry after " + std::to_string(*ms) + " ms";
        if (*ms >= 2000) text += " (about " + std::to_string((*ms + 999) / 1000) + " s)";
        text += ".";
      } else {
        text += " Wait a little before retrying.";
      }
      return text;
    }
    case kUnauthenticated:
      return Sentence("Not authorized: " + e.message) +
             " This agent's token may not do this (wrong role, or the key is not one of its keys). Call "
             "list_accounts to see the keys you may use, or ask a human to grant access.";
    case kUnavailable:
      return Sentence("Sigil is unavailable: " + e.message) + " Nothing was signed; retry later.";
    case kUpstreamError:
      if (Str(d, "outcome") == "unknown") {
        return Sentence("The outcome is unknown: " + e.message) +
               " The request may have been signed (and sent). Do not simply retry: check get_budget, approval_status "
               "or the transaction on chain first, or ask a human.";
      }
      return Sentence("Sigil returned error " + std::to_string(e.code) + ": " + e.message);
    case kInvalidParams:
      return Sentence("Invalid arguments: " + e.message) + " Fix the arguments and call the tool again.";
    case kMethodNotFound:
      return Sentence("The Sigil daemon does not offer this operation (" + e.message + ")") +
             " It may be an older version; ask a human.";
    default:
      return Sentence("Sigil returned error " + std::to_string(e.code) + ": " + e.message);
  }
}

nlohmann::json RefusalContent(const RpcError& e) {
  json out = json::object();
  if (e.data.is_object()) {
    for (auto it = e.data.begin(); it != e.data.end(); ++it) {
      if (!it->is_null()) out[it.key()] = it.value();
    }
  } else if (!e.data.is_null()) {
    out["data"] = e.data;
  }
  out["code"] = e.code;
  out["message"] = e.message;
  return out;
}

std::string DescribeApprovalStatus(const nlohmann::json& s) {
  const std::string id = Str(s, "approval_id");
  const std::string name = id.empty() ? "The approval" : "Approval " + id;
  const std::string state = Str(s, "state");
  std::optional<int64_t> quorum = Int(s, "quorum");
  int64_t approvals = 0;
  if (s.is_object() && s.contains("approvals")) {
    if (s["approvals"].is_array()) approvals = static_cast<int64_t>(s["approvals"].size());
    if (auto n = Int(s, "approvals")) approvals = *n;
  }
  const std::string expires = TimeInWords(s.is_object() && s.contains("expires_at") ? s["expires_at"] : json());
  if (state == "pending") {
    std::string text = name + " is pending: " + std::to_string(approvals) + " of " +
                       (quorum ? std::to_string(*quorum) : std::string("the required")) + " approvals";
    if (!expires.empty()) text += ", expires at " + expires;
    return text + ". Nothing has been signed yet; call approval_status again later.";
  }
  // The requester's first poll after quorum carries the original request's
  // result; the daemon may report that poll as "approved" or already as
  // "consumed" (the approval is spent by collecting it).
  if (s.is_object() && s.contains("result") && !s["result"].is_null() && (state == "approved" || state == "consumed")) {
    const json& r = s["result"];
    return name + " was approved and the request has been carried out; result: " +
           (r.is_string() ? r.get<std::string>() : r.dump(-1, ' ', false, json::error_handler_t::replace)) +
           ". This result is returned once; keep it.";
  }
  if (s.is_object() && s.contains("refused") && s["refused"].is_object()) {
    const json& d = s["refused"];
    std::string why = Str(d, "reason");
    std::string rule = Str(d, "rule");
    return name + " was approved, but signing it was refused" + (rule.empty() ? "" : " by rule " + rule) +
           (why.empty() ? "" : ": " + why) + ". Nothing was signed; ask a human.";
  }
  if (state == "approved") {
    return name + " has been approved; call approval_status again (as the agent that made the request) to collect "
                  "the signature.";
  }
  if (state == "consumed") {
    return name + " was approved and its signature has already been collected; it cannot be used again.";
  }
  if (state == "rejected") {
    std::string by = Str(s, "rejected_by");
    std::string reason = Str(s, "reject_reason");
    if (reason.empty()) reason = Str(s, "reason");
    return name + " was rejected" + (by.empty() ? "" : " by " + by) + (reason.empty() ? "" : ": " + reason) +
           ". Do not resend the same request; ask a human why.";
  }
  if (state == "expired") {
    return name + " expired before enough approvers approved. Send the request again to open a new approval if it "
                  "is still needed.";
  }
  return name + " is in state \"" + state + "\".";
}

}  // namespace sigil::mcp
