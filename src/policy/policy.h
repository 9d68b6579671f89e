// Policy: a parsed, validated policy document (doc/policy.md), and the pure
// evaluation of a request's Facts against it.
//
// Built only by Policy::Parse, so a live Policy is always valid. An invalid
// document is rejected whole: every problem is reported with its field path
// ("rules[3].match.value.lte") and, where the text allows, line and column.
//
// Identity: version() is the document's own "version" counter (a positive
// integer the author bumps); hash_hex() is the SHA-256 of the canonical form
// of the document (keys sorted, no insignificant whitespace), which the core
// records in the audit log with every decision.
//
// Evaluation (Evaluate) is a pure function of the policy, the facts and the
// amounts already spent (read from a Ledger when one is given): deny beats
// require_approval beats allow; a request no rule matches is denied; every
// budget of every matching allow / require_approval rule applies, and an
// exceeded budget turns into its on_exceed effect. Facts with several values
// (condition.h): a deny rule matches on ANY value; an allow or
// require_approval rule makes the request signable only on EVERY value; a
// require_approval rule also holds a signable request on ANY value. Rate limits, risk scoring
// and reservations are the PolicyEngine's job (policy_engine.h).
//
// Thread-safety: immutable after Parse; const methods may be called from any
// number of threads (Evaluate's Ledger is itself thread-safe).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/uint256.h"
#include "policy/condition.h"
#include "policy/decision.h"
#include "policy/effect.h"
#include "policy/facts.h"
#include "policy/ledger.h"

namespace sigil::policy {

// Limits on untrusted policy documents.
inline constexpr size_t kMaxPolicyBytes = 32 << 20;
inline constexpr size_t kMaxRules = 100000;
inline constexpr size_t kMaxListEntries = 2000000;  // over all lists
inline constexpr int kMaxPolicyDepth = 32;

enum class BudgetScope : uint8_t { kRuleKey, kRuleAgent, kRule, kKey, kAgent };
std::string_view BudgetScopeName(BudgetScope scope);  // "rule+key", ...

struct BudgetSpec {
  std::string window_text;  // as written, "24h"
  absl::Duration window;
  // Native value sent: wei for eth_tx, lamports for solana_tx, each unit in
  // its own ledger account (a rule may not match both, except kStored).
  std::optional<Uint256> max_value;
  // Wei an eth_tx can take from the key: value + gas_limit x fee cap
  // (max_fee_per_gas, or gas_price). Only in rules limited to kind eth_tx.
  std::optional<Uint256> max_spend;
  std::optional<Uint256> max_amount;  // token base units, per token
  std::optional<uint64_t> max_count;  // requests
  std::optional<std::string> token;   // restricts max_amount to one token
  BudgetScope scope = BudgetScope::kRuleKey;
  Effect on_exceed = Effect::kDeny;
};

struct RateLimitSpec {
  enum class Scope : uint8_t { kAgent, kKey };
  Scope scope = Scope::kAgent;
  std::shared_ptr<const StringSet> keys;    // null: every key
  std::shared_ptr<const StringSet> agents;  // null: every agent
  std::string per_text;
  absl::Duration per;
  uint64_t max = 0;  // requests per `per`, also the burst size
};

enum class TriggerAction : uint8_t { kSuspendAgent, kLockdown, kAlert };
std::string_view TriggerActionName(TriggerAction a);  // "suspend_agent", "lockdown", "alert"

struct TriggerSpec {
  enum class On : uint8_t { kDenials, kRiskScore };
  On on = On::kDenials;
  uint32_t count = 0;  // kDenials: this many denials of one agent ...
  absl::Duration within;  // ... within this window
  std::string within_text;
  int score_gte = 0;  // kRiskScore: a request scored at least this
  TriggerAction action = TriggerAction::kAlert;
};

struct Rule {
  size_t index = 0;
  std::string id;
  Effect effect = Effect::kDeny;
  std::string reason;
  std::string description;
  std::shared_ptr<const StringSet> keys;    // null: any key
  std::shared_ptr<const StringSet> agents;  // null: any agent
  uint32_t kinds = 0;          // bit per Kind the rule applies to
  bool kinds_named = false;    // the rule names its kinds (needed for raw_digest)
  bool allow_no_chain_id = false;
  std::vector<std::unique_ptr<Condition>> conditions;
  std::optional<ApprovalRequirement> approval;
  std::vector<BudgetSpec> budgets;
};

// How strictly Policy::Parse judges a document.
enum class ParseMode : uint8_t {
  // A document being applied or tested: every check.
  kStrict,
  // A document applied earlier and kept by the store, parsed again at start:
  // also accepts what earlier releases accepted and kStrict now refuses (a
  // max_value budget in a rule that matches both eth_tx and solana_tx, an
  // Ethereum unit in a Solana max_value), so a stored history still loads.
  // Evaluation keeps wei and lamports apart in either mode.
  kStored,
};

struct PolicyError {
  std::string path;     // "rules[3].match.value.lte"; empty for the whole document
  std::string message;
  int line = 0;         // 0 when unknown
  int column = 0;
  std::string ToString() const;  // "rules[3].match.value.lte (line 12, column 30): ..."
};

class Policy {
 public:
  // Parses and validates a policy document. On failure returns
  // InvalidArgument whose message lists the problems (one per line, at most
  // 20), and fills `errors` (if given) with all of them.
  static absl::StatusOr<Policy> Parse(std::string_view json_text, std::vector<PolicyError>* errors = nullptr,
                                      ParseMode mode = ParseMode::kStrict);

  Policy(Policy&&) = default;
  Policy& operator=(Policy&&) = default;

  uint64_t version() const { return version_; }
  const std::string& hash_hex() const { return hash_hex_; }
  const std::string& canonical_json() const { return canonical_; }
  std::span<const Rule> rules() const { return rules_; }
  std::span<const RateLimitSpec> rate_limits() const { return rate_limits_; }
  std::span<const TriggerSpec> triggers() const { return triggers_; }
  // A named list, or null.
  const StringSet* list(std::string_view name) const;

  // The decision for `facts`. Budgets are read from `ledger` (nothing
  // reserved); without a ledger nothing counts as spent. When facts.time is
  // empty, time-window conditions do not hold.
  Decision Evaluate(const Facts& facts, Ledger* ledger = nullptr) const;

  // Every budget of every permissive rule scoped to this key and agent
  // (rules that name neither apply to all), whatever else the rule matches
  // on, with what is spent now: what an agent may still spend. Budgets over
  // any token (max_amount without a token) are not listed (they exist per
  // token once spent). `requested` is 0.
  std::vector<BudgetStatus> Budgets(const std::string& key, const std::string& agent, Ledger* ledger) const;

  // Re-decides `decision`, made by this policy's Evaluate, as if each of its
  // charges had `spent` (one per charge) spent already. The engine uses it
  // when a reservation finds a budget was spent meanwhile by a concurrent
  // request. A decision made by a deny rule is left as it is.
  void ApplySpent(Decision& decision, std::span<const Uint256> spent) const;

  // The rule with this id, or null.
  const Rule* rule(std::string_view id) const;

 private:
  friend class PolicyParser;
  Policy() = default;
  void Resolve(Decision& d, std::span<const Rule* const> matched, std::span<const Uint256> spent) const;

  uint64_t version_ = 0;
  std::string hash_hex_;
  std::string canonical_;
  absl::flat_hash_map<std::string, std::shared_ptr<const StringSet>> lists_;
  std::vector<Rule> rules_;
  absl::flat_hash_map<std::string, size_t> rule_index_;
  std::vector<RateLimitSpec> rate_limits_;
  std::vector<TriggerSpec> triggers_;
};

// Facts with address-like fields in the form the policy compares
// (NormalizeAddress): lower-case Ethereum hex. Policy::Evaluate applies it.
Facts NormalizeFacts(const Facts& facts);

}  // namespace sigil::policy
