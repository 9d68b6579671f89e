#include "policy/policy_cases.h"

#include <algorithm>

#include "base/clock.h"
#include "base/json_bounds.h"
#include "base/status.h"
#include "policy/duration_text.h"
#include "policy/facts_json.h"
#include "policy/ledger.h"
#include "policy/policy_engine.h"

namespace sigil::policy {

using nlohmann::json;

namespace {

constexpr int64_t kDefaultCaseTime = 1767614400;  // 2026-01-05T12:00:00Z, a Monday

absl::Status Bad(const std::string& path, const std::string& why) {
  return absl::InvalidArgumentError(path + ": " + why);
}

absl::StatusOr<PolicyCase> ParseCase(const json& j, const std::string& path) {
  if (!j.is_object()) return Bad(path, "expected an object");
  PolicyCase c;
  ASSIGN_OR_RETURN(c.facts, FactsFromJson(j, path, {"name", "before", "expect", "rule", "reason_contains"}));
  if (!c.facts.time) c.facts.time = absl::FromUnixSeconds(kDefaultCaseTime);
  if (auto it = j.find("name"); it != j.end() && it->is_string()) {
    c.name = it->get<std::string>();
  } else {
    c.name = path;
  }
  auto expect = j.find("expect");
  if (expect == j.end() || !expect->is_string()) return Bad(path + ".expect", "missing (allow, deny or require_approval)");
  auto effect = ParseEffect(expect->get<std::string>());
  if (!effect) return Bad(path + ".expect", "\"" + expect->get<std::string>() + "\" is not allow, deny or require_approval");
  c.expect = *effect;
  if (auto it = j.find("rule"); it != j.end()) {
    if (!it->is_string()) return Bad(path + ".rule", "expected a rule id");
    c.rule = it->get<std::string>();
  }
  if (auto it = j.find("reason_contains"); it != j.end()) {
    if (!it->is_string()) return Bad(path + ".reason_contains", "expected a string");
    c.reason_contains = it->get<std::string>();
  }
  if (auto it = j.find("before"); it != j.end()) {
    if (!it->is_array()) return Bad(path + ".before", "expected an array");
    size_t total = 0;
    for (size_t i = 0; i < it->size(); ++i) {
      const std::string ppath = path + ".before[" + std::to_string(i) + "]";
      json p = (*it)[i];
      if (!p.is_object()) return Bad(ppath, "expected an object");
      PolicyCase::Prior prior;
      if (auto a = p.find("ago"); a != p.end()) {
        if (!a->is_string()) return Bad(ppath + ".ago", "expected a duration such as \"2h\"");
        auto d = ParseDurationText(a->get<std::string>());
        if (!d.ok()) return Bad(ppath + ".ago", std::string(d.status().message()));
        prior.ago = *d;
        p.erase("ago");
      }
      if (auto n = p.find("count"); n != p.end()) {
        if (!n->is_number_unsigned() || n->get<uint64_t>() == 0 || n->get<uint64_t>() > kMaxPriorRequests) {
          return Bad(ppath + ".count", "expected a whole number 1.." + std::to_string(kMaxPriorRequests));
        }
        prior.count = static_cast<uint32_t>(n->get<uint64_t>());
        p.erase("count");
      }
      if (auto a = p.find("approved"); a != p.end()) {
        if (!a->is_boolean()) return Bad(ppath + ".approved", "expected true or false");
        prior.approved = a->get<bool>();
        p.erase("approved");
      }
      total += prior.count;
      if (total > kMaxPriorRequests) return Bad(ppath, "too many prior requests");
      if (!p.contains("kind")) p["kind"] = std::string(KindName(c.facts.kind));
      if (!p.contains("key")) p["key"] = c.facts.key;
      if (!p.contains("agent")) p["agent"] = c.facts.agent;
      if (p.contains("time")) return Bad(ppath + ".time", "prior requests are placed with \"ago\"");
      ASSIGN_OR_RETURN(prior.facts, FactsFromJson(p, ppath));
      c.before.push_back(std::move(prior));
    }
    std::stable_sort(c.before.begin(), c.before.end(),
                     [](const PolicyCase::Prior& a, const PolicyCase::Prior& b) { return a.ago > b.ago; });
  }
  return c;
}

CaseResult RunOne(const std::shared_ptr<const Policy>& policy, const PolicyCase& c) {
  CaseResult r;
  r.name = c.name;
  r.expected = c.expect;
  FakeClock clock(*c.facts.time);
  MemoryLedgerJournal journal;
  auto ledger = Ledger::Open(journal, clock);
  if (!ledger.ok()) {
    r.failure = "could not open a ledger: " + std::string(ledger.status().message());
    return r;
  }
  PolicyEngine engine(policy, **ledger, clock);
  for (const PolicyCase::Prior& p : c.before) {
    clock.Set(*c.facts.time - p.ago);
    for (uint32_t i = 0; i < p.count; ++i) {
      auto a = engine.Authorize(p.facts);
      if (!a.ok()) {
        r.failure = "a prior request failed: " + std::string(a.status().message());
        return r;
      }
      if (a->reservation) {
        (void)engine.Commit(*a->reservation);
      } else if (p.approved && a->decision.effect == Effect::kRequireApproval) {
        auto id = engine.ReserveApproved(a->decision);
        if (id.ok()) (void)engine.Commit(*id);
      }
    }
  }
  clock.Set(*c.facts.time);
  auto a = engine.Authorize(c.facts);
  if (!a.ok()) {
    r.failure = "the request failed: " + std::string(a.status().message());
    return r;
  }
  if (a->reservation) (void)engine.Release(*a->reservation);
  r.decision = std::move(a->decision);
  std::string failure;
  if (r.decision.effect != c.expect) {
    failure = "expected " + std::string(EffectName(c.expect)) + ", got " + std::string(EffectName(r.decision.effect));
  }
  if (c.rule && r.decision.rule_id != *c.rule) {
    failure += (failure.empty() ? "" : "; ") + std::string("expected rule \"") + *c.rule + "\", got \"" +
               r.decision.rule_id + "\"";
  }
  if (c.reason_contains && r.decision.reason.find(*c.reason_contains) == std::string::npos) {
    failure += (failure.empty() ? "" : "; ") + std::string("reason does not contain \"") + *c.reason_contains + "\"";
  }
  if (!failure.empty()) failure += " (reason: " + r.decision.reason + ")";
  r.failure = std::move(failure);
  r.passed = r.failure.empty();
  return r;
}

}  // namespace

absl::StatusOr<std::vector<PolicyCase>> ParsePolicyCases(std::string_view text) {
  // The parse itself is iterative, but copying a case recurses: a file
  // nested 200,000 deep took `sigil policy test` down with the stack.
  RETURN_IF_ERROR(CheckJsonBounds(text, {kMaxPolicyCasesBytes, 64}));
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError("cases file is not valid JSON");
  const json* list = &doc;
  if (doc.is_object()) {
    auto it = doc.find("cases");
    if (it == doc.end()) return absl::InvalidArgumentError("cases file: expected an array or {\"cases\": [...]}");
    list = &*it;
  }
  if (!list->is_array()) return absl::InvalidArgumentError("cases file: expected an array of cases");
  if (list->size() > kMaxCases) return absl::InvalidArgumentError("cases file: more than 100000 cases");
  std::vector<PolicyCase> out;
  out.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    ASSIGN_OR_RETURN(PolicyCase c, ParseCase((*list)[i], "cases[" + std::to_string(i) + "]"));
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<CaseResult> RunCases(const Policy& policy, std::span<const PolicyCase> cases) {
  // Borrowed, not owned: the engine only lives inside this call.
  std::shared_ptr<const Policy> borrowed(std::shared_ptr<const Policy>(), &policy);
  std::vector<CaseResult> out;
  out.reserve(cases.size());
  for (const PolicyCase& c : cases) out.push_back(RunOne(borrowed, c));
  return out;
}

json CaseResultsToJson(std::span<const CaseResult> results) {
  json list = json::array();
  size_t passed = 0;
  for (const CaseResult& r : results) {
    passed += r.passed;
    json j = {{"name", r.name},
              {"passed", r.passed},
              {"expected", std::string(EffectName(r.expected))},
              {"decision", std::string(EffectName(r.decision.effect))},
              {"rule", r.decision.rule_id},
              {"reason", r.decision.reason}};
    if (!r.passed) j["failure"] = r.failure;
    list.push_back(std::move(j));
  }
  return {{"passed", passed}, {"failed", results.size() - passed}, {"results", std::move(list)}};
}

}  // namespace sigil::policy
