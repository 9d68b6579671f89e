// Policy::Evaluate: the pure decision procedure (see policy.h for the rules
// of precedence and doc/policy.md for the language).
#include "policy/policy.h"

#include <algorithm>
#include <map>
#include <optional>

#include "policy/address_text.h"
#include "policy/amount_text.h"
#include "policy/duration_text.h"

namespace sigil::policy {
namespace {

// The named-kind gate: a dangerous kind (a bare hash, a transaction without
// a chain id) is signable only through a rule that names it. It restricts
// permissive matching only: deny and require_approval rules apply to every
// kind they match (a hold rule must not be sidestepped by an allow rule that
// names raw_digest). Evaluate still requires, before anything is held or
// allowed, that some permissive match (an allow or require_approval rule
// satisfied by every value) passes the gate.
bool NamedKindGateOpen(const Rule& rule, const Facts& f) {
  // Signing a bare hash needs a rule that names the kind.
  if (f.kind == Kind::kRawDigest && !rule.kinds_named) return false;
  // A transaction without a chain id (pre-EIP-155, replayable on every
  // chain) needs a rule that says allow_no_chain_id.
  if (f.kind == Kind::kEthTx && !f.chain_id && !rule.allow_no_chain_id) return false;
  return true;
}

// Whether the rule is written for this key and agent (no list: any).
bool InScope(const Rule& rule, const std::string& key, const std::string& agent) {
  return (!rule.keys || rule.keys->contains(key)) && (!rule.agents || rule.agents->contains(agent));
}

// Cheap filters before the conditions; false when the rule cannot apply.
bool Applies(const Rule& rule, const Facts& f) {
  if (!((rule.kinds >> static_cast<int>(f.kind)) & 1u)) return false;
  if (!InScope(rule, f.key, f.agent)) return false;
  if (rule.effect == Effect::kAllow && !NamedKindGateOpen(rule, f)) return false;
  return true;
}

bool ConditionsHold(const Rule& rule, const MatchContext& ctx) {
  for (const auto& c : rule.conditions) {
    if (!c->Matches(ctx)) return false;
  }
  return true;
}

// Why a permissive rule in the caller's key and agent scope did not match,
// and how close it came: rules that cover the request's kind rank before
// rules that do not; then fewer failed conditions; then rules that name
// keys or agents (they were written for this caller); then more conditions
// that held.
struct Miss {
  std::vector<std::string> failures;
  int scope_failures = 0;
  int targeted = 0;
  int held = 0;
  bool CloserThan(const Miss& o) const {
    if (scope_failures != o.scope_failures) return scope_failures < o.scope_failures;
    if (failures.size() != o.failures.size()) return failures.size() < o.failures.size();
    if (targeted != o.targeted) return targeted > o.targeted;
    return held > o.held;
  }
};

Miss Failures(const Rule& rule, const Facts& f, const MatchContext& ctx) {
  Miss m;
  if (!((rule.kinds >> static_cast<int>(f.kind)) & 1u)) {
    m.failures.push_back("the rule does not cover kind " + std::string(KindName(f.kind)));
    m.scope_failures += 2;
  } else if (f.kind == Kind::kRawDigest && !rule.kinds_named) {
    m.failures.push_back("raw_digest requests need a rule that names kind raw_digest");
    m.scope_failures += 2;
  }
  m.targeted = (rule.keys != nullptr) + (rule.agents != nullptr);
  if (f.kind == Kind::kEthTx && !f.chain_id && !rule.allow_no_chain_id) {
    m.failures.push_back("the transaction has no chain id (pre-EIP-155) and the rule does not set allow_no_chain_id");
  }
  for (const auto& c : rule.conditions) {
    if (c->Matches(ctx)) {
      ++m.held;
    } else {
      m.failures.push_back(c->Mismatch(ctx));
    }
  }
  return m;
}

Uint256 NativeValue(const Facts& f) {
  if (f.kind == Kind::kEthTx) return f.value.value_or(Uint256());
  if (f.kind == Kind::kSolanaTx) {
    if (f.value) return *f.value;
    Uint256 sum;
    if (f.solana) {
      for (const SolanaTransfer& t : f.solana->transfers) {
        if (!t.mint) sum = sum.SaturatingAdd(t.amount);
      }
    }
    return sum;
  }
  return Uint256();
}

// The most an eth_tx can take from the key: its value plus gas_limit times
// the highest price per gas it allows (max_fee_per_gas for EIP-1559,
// gas_price for legacy and EIP-2930; the larger if hand-written facts carry
// both). The base fee actually paid is lower and unused gas is refunded, but
// Sigil never sees the receipt, so the budget charges the bound. Without a
// gas limit or a price, or past 2^256-1 wei, there is no bound: `unbounded`
// says why, and the budget denies the request.
struct Spend {
  Uint256 amount;
  std::string unbounded;
};
Spend WorstCaseSpend(const Facts& f) {
  // Parse keeps max_spend to eth_tx rules; anything else has no wei bound.
  if (f.kind != Kind::kEthTx) return {Uint256::Max(), "max_spend counts only Ethereum transactions"};
  std::optional<Uint256> price = f.max_fee_per_gas;
  if (f.gas_price && (!price || *f.gas_price > *price)) price = f.gas_price;
  if (!f.gas_limit) {
    return {Uint256::Max(), "the transaction has no gas limit, so the most its fees can be is unknown"};
  }
  if (!price) {
    return {Uint256::Max(),
            "the transaction has no max_fee_per_gas or gas_price, so the most its fees can be is unknown"};
  }
  absl::StatusOr<Uint256> fees = f.gas_limit->Mul(*price);
  if (!fees.ok()) return {Uint256::Max(), "gas_limit x fee per gas is more than 2^256-1 wei"};
  absl::StatusOr<Uint256> total = fees->Add(f.value.value_or(Uint256()));
  if (!total.ok()) return {Uint256::Max(), "value + gas_limit x fee per gas is more than 2^256-1 wei"};
  return {*total, ""};
}

std::vector<std::pair<std::string, Uint256>> TokenAmounts(const Facts& f) {
  std::map<std::string, Uint256> by_token;
  if (f.erc20) {
    Uint256 a = f.erc20->unlimited ? Uint256::Max() : f.erc20->amount;
    by_token[f.erc20->token] = by_token[f.erc20->token].SaturatingAdd(a);
  }
  if (f.typed_data && f.typed_data->permit) {
    // Each entry of a Permit2 batch is charged to its own token.
    for (const PermitAllowance& p : f.typed_data->permit->allowances) {
      Uint256 a = p.unlimited ? Uint256::Max() : p.amount;
      by_token[p.token] = by_token[p.token].SaturatingAdd(a);
    }
  }
  if (f.solana) {
    for (const SolanaTransfer& t : f.solana->transfers) {
      if (t.mint) by_token[*t.mint] = by_token[*t.mint].SaturatingAdd(t.amount);
    }
  }
  return {by_token.begin(), by_token.end()};
}

std::string ScopePrefix(BudgetScope scope, const Rule& rule, const Facts& f) {
  switch (scope) {
    case BudgetScope::kRuleKey: return "rule:" + rule.id + "|key:" + f.key;
    case BudgetScope::kRuleAgent: return "rule:" + rule.id + "|agent:" + f.agent;
    case BudgetScope::kRule: return "rule:" + rule.id;
    case BudgetScope::kKey: return "key:" + f.key;
    case BudgetScope::kAgent: return "agent:" + f.agent;
  }
  return "rule:" + rule.id;
}

constexpr uint32_t KindBit(Kind k) { return 1u << static_cast<int>(k); }

// The unit of a request's native value: lamports for solana_tx, wei for
// everything else (kinds that move nothing charge 0 wei).
bool InLamports(Kind kind) { return kind == Kind::kSolanaTx; }

// The ledger account of a max_value budget for one unit. An account never
// holds two units: wei keep "<prefix>|value" (the name journals have always
// used), lamports go to "<prefix>|lamports", so a shared `key` or `agent`
// account used by an Ethereum rule and a Solana rule is two accounts. The
// exception keeps old journals meaningful: a rule-scoped budget of a rule
// that cannot match eth_tx has only ever held lamports under "|value".
std::string ValueAccount(const std::string& prefix, BudgetScope scope, const Rule& rule, bool lamports) {
  const bool own = scope == BudgetScope::kRuleKey || scope == BudgetScope::kRuleAgent || scope == BudgetScope::kRule;
  const bool lamports_apart = lamports && (!own || (rule.kinds & KindBit(Kind::kEthTx)) != 0);
  return prefix + (lamports_apart ? "|lamports" : "|value");
}

size_t AddCharge(std::vector<BudgetCharge>& charges, std::string account, absl::Duration window, const Uint256& amount,
                 const Uint256& limit) {
  for (size_t i = 0; i < charges.size(); ++i) {
    if (charges[i].account == account && charges[i].window == window) {
      if (limit < *charges[i].limit) charges[i].limit = limit;
      return i;
    }
  }
  charges.push_back(BudgetCharge{std::move(account), window, amount, limit});
  return charges.size() - 1;
}

// One budget of `rule` as a status line and its charge in `d`.
// `unit`: "wei" or "lamports" for value and spend, empty otherwise.
void AddBudget(Decision& d, const Rule& rule, const BudgetSpec& spec, std::string measure, std::string unit,
               std::string token, std::string account, const Uint256& amount, const Uint256& limit,
               std::string unbounded = "") {
  BudgetStatus s;
  s.rule_id = rule.id;
  s.window = spec.window_text;
  s.window_duration = spec.window;
  s.measure = std::move(measure);
  s.unit = std::move(unit);
  s.token = std::move(token);
  s.scope = std::string(BudgetScopeName(spec.scope));
  s.limit = limit;
  s.requested = amount;
  s.on_exceed = spec.on_exceed;
  s.unbounded = std::move(unbounded);
  s.charge_index = AddCharge(d.charges, std::move(account), spec.window, amount, limit);
  d.budgets.push_back(std::move(s));
}

std::string ShowAmount(const BudgetStatus& b, const Uint256& v) {
  if (b.unit == "lamports") return FormatScaled(v, 9) + " SOL";
  if (b.unit == "wei") return FormatWei(v);
  if (b.measure == "count") return v.ToDecimal() + (v == Uint256(1) ? " request" : " requests");
  return v.ToDecimal();
}

// What an exceeded budget does: an unbounded request is denied whatever
// on_exceed says (see BudgetStatus::unbounded).
Effect BudgetEffect(const BudgetStatus& b) { return b.unbounded.empty() ? b.on_exceed : Effect::kDeny; }

std::string BudgetReason(const BudgetStatus& b) {
  std::string what = b.window + " budget";
  if (b.measure == "count") what = b.window + " request-count budget";
  if (b.measure == "amount") what = b.window + " budget for token " + b.token;
  if (b.measure == "spend") what = b.window + " spend budget (value + gas_limit x fee cap)";
  if (!b.unbounded.empty()) {
    return what + " cannot bound this request: " + b.unbounded;
  }
  std::string out = what + " exceeded: limit " + ShowAmount(b, b.limit) + ", spent " + ShowAmount(b, b.spent) +
                    ", requested " + ShowAmount(b, b.requested) + "; ";
  if (b.remaining.IsZero()) {
    out += "nothing remains until earlier spending leaves the " + b.window + " window";
  } else {
    out += "at most " + ShowAmount(b, b.remaining) + " remains";
  }
  return out;
}

}  // namespace

const StringSet* Policy::list(std::string_view name) const {
  auto it = lists_.find(absl::string_view(name.data(), name.size()));
  return it == lists_.end() ? nullptr : it->second.get();
}

Facts NormalizeFacts(const Facts& in) {
  Facts f = in;
  auto norm = [](std::string& s) { s = NormalizeAddress(s); };
  auto norm_opt = [&](std::optional<std::string>& s) {
    if (s) norm(*s);
  };
  norm_opt(f.to);
  norm_opt(f.from);
  norm_opt(f.method_selector);
  if (f.erc20) {
    norm(f.erc20->token);
    norm(f.erc20->to);
    norm_opt(f.erc20->from);
  }
  if (f.nostr) {
    // Pubkeys and event ids in tags are hex; compare them case-insensitively.
    for (auto& tag : f.nostr->tags) {
      if (tag.size() > 1) norm(tag[1]);
    }
  }
  if (f.typed_data) {
    norm_opt(f.typed_data->verifying_contract);
    if (f.typed_data->permit) {
      for (PermitAllowance& a : f.typed_data->permit->allowances) norm(a.token);
      norm(f.typed_data->permit->spender);
    }
  }
  return f;
}

Decision Policy::Evaluate(const Facts& facts_in, Ledger* ledger) const {
  const Facts f = NormalizeFacts(facts_in);
  Decision d;
  d.policy_version = version_;
  d.policy_hash = hash_hex_;
  d.risk_score = f.risk_score;

  StringHashCache hashes;
  MatchContext all{f, Quantifier::kAll, f.time, &hashes};
  MatchContext any{f, Quantifier::kAny, f.time, &hashes};
  // A deny rule matches when ANY value of a multi-valued fact satisfies it.
  // An allow or require_approval rule makes the request signable (a
  // permissive match) only when EVERY value does. A require_approval rule
  // also holds the request when ANY value satisfies it: a batch of one large
  // and one dust allowance is held by a rule on large amounts, though only a
  // permissive match can make it signable at all.
  std::vector<const Rule*> matched;  // deny, permissive and holding rules, in document order
  const Rule* first_deny = nullptr;
  bool gate_open = false;  // some permissive match names a dangerous kind (or none is needed)
  for (const Rule& rule : rules_) {
    if (!Applies(rule, f)) continue;
    if (rule.effect == Effect::kDeny) {
      if (!ConditionsHold(rule, any)) continue;
      if (first_deny == nullptr) first_deny = &rule;
    } else if (ConditionsHold(rule, all)) {
      if (NamedKindGateOpen(rule, f)) gate_open = true;
    } else if (rule.effect != Effect::kRequireApproval || !ConditionsHold(rule, any)) {
      continue;
    }
    matched.push_back(&rule);
    d.matched_rules.push_back(rule.id);
  }

  if (first_deny != nullptr) {
    d.effect = Effect::kDeny;
    d.rule_id = first_deny->id;
    d.reason = first_deny->reason.empty() ? "denied by rule " + first_deny->id : first_deny->reason;
    return d;
  }

  // No permissive match makes the request signable: only hold rules that
  // matched some values, or that do not name a dangerous kind, matched. They
  // may hold a signable request, not make one.
  if (!matched.empty() && !gate_open) {
    matched.clear();
    d.matched_rules.clear();
  }

  if (matched.empty()) {
    d.effect = Effect::kDeny;
    d.reason = "no rule allows this request";
    // Point at the permissive rule that came closest, so the caller knows
    // what to change (or that it should not try).
    const Rule* closest = nullptr;
    Miss closest_miss;
    for (const Rule& rule : rules_) {
      if (rule.effect == Effect::kDeny) continue;
      // A rule written for other agents or keys is not this caller's to
      // see: its id and conditions (a payee list, limits) would leak.
      if (!InScope(rule, f.key, f.agent)) continue;
      Miss miss = Failures(rule, f, all);
      if (miss.failures.empty()) continue;
      if (closest == nullptr || miss.CloserThan(closest_miss)) {
        closest = &rule;
        closest_miss = std::move(miss);
      }
    }
    if (closest != nullptr) {
      d.reason += "; the closest rule, " + closest->id + ", does not match: ";
      for (size_t i = 0; i < closest_miss.failures.size() && i < 3; ++i) {
        d.reason += (i ? "; " : "") + closest_miss.failures[i];
      }
    }
    return d;
  }

  // Budgets of every matching permissive rule.
  const Uint256 native = NativeValue(f);
  std::optional<Spend> spend;
  std::vector<std::pair<std::string, Uint256>> tokens;
  bool tokens_ready = false;
  for (const Rule* rule : matched) {
    for (const BudgetSpec& spec : rule->budgets) {
      const std::string prefix = ScopePrefix(spec.scope, *rule, f);
      auto add = [&](std::string measure, std::string token, std::string account, const Uint256& amount,
                     const Uint256& limit) {
        AddBudget(d, *rule, spec, std::move(measure), "", std::move(token), std::move(account), amount, limit);
      };
      if (spec.max_value) {
        const bool lamports = InLamports(f.kind);
        AddBudget(d, *rule, spec, "value", lamports ? "lamports" : "wei", "",
                  ValueAccount(prefix, spec.scope, *rule, lamports), native, *spec.max_value);
      }
      if (spec.max_spend) {
        if (!spend) spend = WorstCaseSpend(f);
        AddBudget(d, *rule, spec, "spend", "wei", "", prefix + "|spend", spend->amount, *spec.max_spend,
                  spend->unbounded);
      }
      if (spec.max_count) add("count", "", prefix + "|count", Uint256(1), Uint256(*spec.max_count));
      if (spec.max_amount) {
        if (!tokens_ready) {
          tokens = TokenAmounts(f);
          tokens_ready = true;
        }
        for (const auto& [token, amount] : tokens) {
          if (spec.token && *spec.token != token) continue;
          add("amount", token, prefix + "|amount:" + token, amount, *spec.max_amount);
        }
      }
    }
  }
  std::vector<Uint256> spent = ledger != nullptr ? ledger->Spent(d.charges) : std::vector<Uint256>(d.charges.size());
  Resolve(d, matched, spent);
  return d;
}

std::vector<BudgetStatus> Policy::Budgets(const std::string& key, const std::string& agent, Ledger* ledger) const {
  Facts f;
  f.key = key;
  f.agent = agent;
  Decision d;
  for (const Rule& rule : rules_) {
    if (rule.effect == Effect::kDeny) continue;
    if (!InScope(rule, key, agent)) continue;
    for (const BudgetSpec& spec : rule.budgets) {
      const std::string prefix = ScopePrefix(spec.scope, rule, f);
      if (spec.max_value) {
        // One line per unit the rule can be charged in (both only for a
        // rule kept by ParseMode::kStored).
        const bool lamports = (rule.kinds & KindBit(Kind::kSolanaTx)) != 0;
        if (!lamports || (rule.kinds & KindBit(Kind::kEthTx)) != 0) {
          AddBudget(d, rule, spec, "value", "wei", "", ValueAccount(prefix, spec.scope, rule, false), Uint256(0),
                    *spec.max_value);
        }
        if (lamports) {
          AddBudget(d, rule, spec, "value", "lamports", "", ValueAccount(prefix, spec.scope, rule, true), Uint256(0),
                    *spec.max_value);
        }
      }
      if (spec.max_spend) AddBudget(d, rule, spec, "spend", "wei", "", prefix + "|spend", Uint256(0), *spec.max_spend);
      if (spec.max_count) {
        AddBudget(d, rule, spec, "count", "", "", prefix + "|count", Uint256(0), Uint256(*spec.max_count));
      }
      if (spec.max_amount && spec.token) {
        AddBudget(d, rule, spec, "amount", "", *spec.token, prefix + "|amount:" + *spec.token, Uint256(0),
                  *spec.max_amount);
      }
    }
  }
  std::vector<Uint256> spent = ledger != nullptr ? ledger->Spent(d.charges) : std::vector<Uint256>(d.charges.size());
  for (BudgetStatus& s : d.budgets) {
    s.spent = spent[s.charge_index];
    s.remaining = s.limit.SaturatingSub(s.spent);
    s.exceeded = s.spent > s.limit;
  }
  return std::move(d.budgets);
}

const Rule* Policy::rule(std::string_view id) const {
  auto it = rule_index_.find(absl::string_view(id.data(), id.size()));
  return it == rule_index_.end() ? nullptr : &rules_[it->second];
}

void Policy::ApplySpent(Decision& d, std::span<const Uint256> spent) const {
  if (d.matched_rules.empty() || spent.size() != d.charges.size()) return;
  std::vector<const Rule*> matched;
  for (const std::string& id : d.matched_rules) {
    const Rule* r = rule(id);
    if (r == nullptr || r->effect == Effect::kDeny) return;
    matched.push_back(r);
  }
  d.approval.reset();
  Resolve(d, matched, spent);
}

void Policy::Resolve(Decision& d, std::span<const Rule* const> matched, std::span<const Uint256> spent) const {
  for (BudgetStatus& s : d.budgets) {
    s.spent = spent[s.charge_index];
    s.remaining = s.limit.SaturatingSub(s.spent);
    // A zero amount never exceeds (a contract call with no value is not
    // blocked by a value budget another approved request overspent).
    auto after = s.spent.Add(s.requested);
    s.exceeded = !s.unbounded.empty() || (!s.requested.IsZero() && (!after.ok() || *after > s.limit));
  }

  // Combine: the maximum of every matching rule's effect and every exceeded
  // budget's on_exceed, with the first (in document order) as the reason.
  Effect effect = Effect::kAllow;
  for (const Rule* rule : matched) effect = std::max(effect, rule->effect);
  for (const BudgetStatus& s : d.budgets) {
    if (s.exceeded) effect = std::max(effect, BudgetEffect(s));
  }
  d.effect = effect;
  // The decisive rule: the first (in document order) whose effect or
  // exceeded budget gave `effect`. For a hold, every such rule's approval
  // counts: the requirement is the strictest combination (below), so a
  // lenient hold rule written first cannot lower what another one asks.
  const Rule* decisive = nullptr;
  const BudgetStatus* decisive_budget = nullptr;
  std::optional<ApprovalRequirement> combined;
  for (const Rule* rule : matched) {
    const BudgetStatus* budget = nullptr;
    if (rule->effect != effect) {
      for (const BudgetStatus& s : d.budgets) {
        if (s.rule_id == rule->id && s.exceeded && BudgetEffect(s) == effect) {
          budget = &s;
          break;
        }
      }
      if (budget == nullptr) continue;
    }
    if (decisive == nullptr) {
      decisive = rule;
      decisive_budget = budget;
    }
    if (effect != Effect::kRequireApproval) break;
    // Most approvers, a second factor if any rule asks for one, the shortest
    // expiry; the role is the decisive rule's (roles do not combine).
    const ApprovalRequirement a = rule->approval.value_or(ApprovalRequirement{});
    if (!combined) {
      combined = a;
      continue;
    }
    combined->quorum = std::max(combined->quorum, a.quorum);
    if (a.second_factor != SecondFactor::kNone) combined->second_factor = a.second_factor;
    combined->expires = std::min(combined->expires, a.expires);
  }
  // `effect` came from some matched rule or budget, so decisive is set.
  d.rule_id = decisive->id;
  switch (effect) {
    case Effect::kDeny:
      d.reason = BudgetReason(*decisive_budget);
      break;
    case Effect::kRequireApproval: {
      ApprovalRequirement a = *combined;
      a.rule_id = decisive->id;
      d.approval = a;
      if (decisive_budget != nullptr) {
        d.reason = BudgetReason(*decisive_budget) + "; needs " + ApprovalText(a);
      } else {
        d.reason = (decisive->reason.empty() ? "rule " + decisive->id + " holds this request for approval"
                                             : decisive->reason) +
                   "; needs " + ApprovalText(a);
      }
      break;
    }
    case Effect::kAllow:
      d.reason = decisive->reason.empty() ? "allowed by rule " + decisive->id : decisive->reason;
      break;
  }
}

}  // namespace sigil::policy
