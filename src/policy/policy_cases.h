// Policy test cases: `sigil policy test FILE --cases CASES` checks a policy
// offline against requests with expected decisions.
//
// A cases file is a JSON array (or {"cases": [...]}) of objects:
//
//   {"name": "small payment to a friend",
//    <the request's facts, as in facts_json.h: "kind", "key", "agent", ...>,
//    "time": "2026-01-05T12:00:00Z",        optional; default Monday 2026-01-05 12:00 UTC
//    "before": [                            optional: requests made earlier
//      {"ago": "2h", "count": 3, <facts>}   each inherits kind, key and agent from the case
//    ],
//    "expect": "allow" | "deny" | "require_approval",
//    "rule": "small-payments",              optional: the rule that must decide
//    "reason_contains": "24h budget"}       optional: a substring of the reason
//
// Every case runs alone, on a fresh engine (empty ledger, rate limiter and
// history) with a clock set to the case's time; `before` requests go through
// the same engine first (allowed ones are committed; held ones are approved
// and committed when the entry says "approved": true), oldest first. A
// case without "risk_score" is scored from that history.
//
// Stateless functions; thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "policy/decision.h"
#include "policy/effect.h"
#include "policy/facts.h"
#include "policy/policy.h"

namespace sigil::policy {

inline constexpr size_t kMaxCases = 100000;
// A cases file: at most 16 MiB, nested at most 64 deep (InvalidArgument beyond).
inline constexpr size_t kMaxPolicyCasesBytes = 16 << 20;
inline constexpr size_t kMaxPriorRequests = 100000;  // per case, counting `count`

struct PolicyCase {
  struct Prior {
    Facts facts;
    absl::Duration ago;  // before the case's time
    uint32_t count = 1;
    bool approved = false;  // a held request is approved and signed
  };
  std::string name;
  Facts facts;  // time always set
  std::vector<Prior> before;
  Effect expect = Effect::kDeny;
  std::optional<std::string> rule;
  std::optional<std::string> reason_contains;
};

struct CaseResult {
  std::string name;
  bool passed = false;
  Effect expected = Effect::kDeny;
  Decision decision;
  std::string failure;  // empty when passed: what differed
};

// InvalidArgument naming the case index and field on any problem.
absl::StatusOr<std::vector<PolicyCase>> ParsePolicyCases(std::string_view json_text);

std::vector<CaseResult> RunCases(const Policy& policy, std::span<const PolicyCase> cases);

// {"passed": N, "failed": M, "results": [{"name", "passed", "expected",
//  "decision", "rule", "reason", "failure"}]}
nlohmann::json CaseResultsToJson(std::span<const CaseResult> results);

}  // namespace sigil::policy
