#include "policy/policy_suggester.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "policy/duration_text.h"

namespace sigil::policy {

using nlohmann::json;

namespace {

Uint256 Percentile(std::vector<Uint256> v, unsigned p) {
  if (v.empty()) return Uint256();
  std::sort(v.begin(), v.end());
  size_t rank = (static_cast<size_t>(std::clamp(p, 1u, 100u)) * v.size() + 99) / 100;  // ceil(p/100 * n)
  return v[std::max<size_t>(rank, 1) - 1];
}

// The largest sum of amounts of events whose times fit in one window.
Uint256 MaxWindowSum(std::vector<std::pair<absl::Time, Uint256>> points, absl::Duration window, size_t* max_count) {
  std::sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Uint256 best, sum;
  size_t lo = 0;
  *max_count = 0;
  for (size_t hi = 0; hi < points.size(); ++hi) {
    sum = sum.SaturatingAdd(points[hi].second);
    while (points[hi].first - points[lo].first >= window) {
      sum = sum.SaturatingSub(points[lo].second);
      ++lo;
    }
    best = std::max(best, sum);
    *max_count = std::max(*max_count, hi - lo + 1);
  }
  return best;
}

std::string ListName(const std::string& base, std::set<std::string>& used) {
  std::string name;
  for (char c : base) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    name.push_back(ok ? c : '_');
  }
  if (name.size() > 56) name.resize(56);
  if (name.empty()) name = "list";
  std::string candidate = name;
  for (int i = 2; used.contains(candidate); ++i) candidate = name + "-" + std::to_string(i);
  used.insert(candidate);
  return candidate;
}

}  // namespace

json SuggestPolicy(std::span<const HistoryEvent> events, const SuggestOptions& options) {
  // (agent, key, kind, token) -> allowed events; token empty for native.
  using GroupKey = std::tuple<std::string, std::string, int, std::string>;
  std::map<GroupKey, std::vector<const HistoryEvent*>> groups;
  for (const HistoryEvent& e : events) {
    if (e.effect != Effect::kAllow) continue;
    if (e.kind == Kind::kEthTx && !e.token_amounts.empty()) {
      for (const auto& [token, amount] : e.token_amounts) groups[{e.agent, e.key, static_cast<int>(e.kind), token}].push_back(&e);
    } else {
      groups[{e.agent, e.key, static_cast<int>(e.kind), ""}].push_back(&e);
    }
  }
  const std::string window = FormatDurationText(options.budget_window);
  json lists = json::object();
  json rules = json::array();
  std::set<std::string> used_names;
  int n = 0;
  for (const auto& [gk, evs] : groups) {
    const auto& [agent, key, kind_int, token] = gk;
    const Kind kind = static_cast<Kind>(kind_int);
    json rule;
    rule["id"] = "suggested-" + std::to_string(++n);
    rule["effect"] = "allow";
    rule["description"] = "observed: " + std::to_string(evs.size()) + " allowed " + std::string(KindName(kind)) +
                          " request(s) by agent \"" + agent + "\" with key \"" + key + "\"";
    if (!key.empty()) rule["keys"] = json::array({key});
    rule["agents"] = json::array({agent});
    json match = {{"kind", std::string(KindName(kind))}};
    std::set<uint64_t> chains;
    std::set<std::string> parties;
    bool all_have_chain = true;
    std::vector<Uint256> amounts;
    std::vector<std::pair<absl::Time, Uint256>> points;
    for (const HistoryEvent* e : evs) {
      if (e->chain_id) {
        chains.insert(*e->chain_id);
      } else {
        all_have_chain = false;
      }
      parties.insert(e->counterparties.begin(), e->counterparties.end());
      Uint256 amount = e->value;
      if (!token.empty()) {
        amount = Uint256();
        for (const auto& [t, a] : e->token_amounts) {
          if (t == token) amount = amount.SaturatingAdd(a);
        }
      }
      amounts.push_back(amount);
      points.emplace_back(e->time, amount);
    }
    if (kind == Kind::kEthTx && !chains.empty() && all_have_chain) match["chain_id"] = json(chains);
    std::string list_ref;
    if (!parties.empty()) {
      std::string name = ListName(agent + "-" + key + "-" + std::string(KindName(kind)) + "-counterparties", used_names);
      lists[name] = json(parties);
      list_ref = "@" + name;
    }
    size_t max_count = 0;
    const Uint256 ceiling = Percentile(amounts, options.percentile);
    const Uint256 peak = MaxWindowSum(points, options.budget_window, &max_count);
    json budget = {{"window", window}, {"max_count", max_count}};
    if (!token.empty()) {
      json erc20 = {{"token", token}, {"amount", {{"lte", ceiling.ToDecimal()}}}};
      if (!list_ref.empty()) erc20["to"] = {{"in", list_ref}};
      match["erc20"] = std::move(erc20);
      budget["max_amount"] = peak.ToDecimal();
      budget["token"] = token;
    } else if (kind == Kind::kEthTx || kind == Kind::kSolanaTx) {
      if (kind == Kind::kEthTx && !list_ref.empty()) match["to"] = {{"in", list_ref}};
      if (kind == Kind::kSolanaTx && !list_ref.empty()) match["solana"] = {{"to", {{"in", list_ref}}}};
      if (kind == Kind::kEthTx) match["value"] = {{"lte", ceiling.ToDecimal()}};
      budget["max_value"] = peak.ToDecimal();
    } else if (kind == Kind::kEthTypedData && !list_ref.empty()) {
      match["domain"] = {{"verifying_contract", {{"in", list_ref}}}};
    }
    rule["match"] = std::move(match);
    rule["budgets"] = json::array({std::move(budget)});
    rules.push_back(std::move(rule));
  }
  return {{"version", options.version},
          {"description", "suggested from observed history; review before applying"},
          {"lists", std::move(lists)},
          {"rules", std::move(rules)}};
}

}  // namespace sigil::policy
