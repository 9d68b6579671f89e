#include "policy/history.h"

#include <algorithm>

#include "absl/time/civil_time.h"

namespace sigil::policy {
namespace {

int UtcHour(absl::Time t) { return absl::ToCivilHour(t, absl::UTCTimeZone()).hour(); }

void PushBounded(std::deque<Uint256>& d, const Uint256& v, size_t max) {
  d.push_back(v);
  while (d.size() > max) d.pop_front();
}

}  // namespace

std::vector<std::string> Counterparties(const Facts& f) {
  std::vector<std::string> out;
  if (f.erc20) {
    out.push_back(f.erc20->to);
  } else if (f.kind == Kind::kEthTx && f.to) {
    out.push_back(*f.to);
  }
  if (f.typed_data) {
    if (f.typed_data->permit) {
      out.push_back(f.typed_data->permit->spender);
    } else if (f.typed_data->verifying_contract) {
      out.push_back(*f.typed_data->verifying_contract);
    }
  }
  if (f.solana) {
    for (const SolanaTransfer& t : f.solana->transfers) out.push_back(t.to);
  }
  return out;
}

HistoryEvent MakeHistoryEvent(const Facts& f, Effect effect) {
  HistoryEvent e;
  e.time = f.time.value_or(absl::UnixEpoch());
  e.agent = f.agent;
  e.key = f.key;
  e.kind = f.kind;
  e.chain_id = f.chain_id;
  e.counterparties = Counterparties(f);
  e.effect = effect;
  if (f.kind == Kind::kEthTx && f.value) e.value = *f.value;
  if (f.erc20) e.token_amounts.emplace_back(f.erc20->token, f.erc20->unlimited ? Uint256::Max() : f.erc20->amount);
  if (f.typed_data && f.typed_data->permit) {
    for (const PermitAllowance& a : f.typed_data->permit->allowances) {
      e.token_amounts.emplace_back(a.token, a.unlimited ? Uint256::Max() : a.amount);
    }
  }
  if (f.solana) {
    for (const SolanaTransfer& t : f.solana->transfers) {
      if (t.mint) {
        e.token_amounts.emplace_back(*t.mint, t.amount);
      } else {
        e.value = e.value.SaturatingAdd(t.amount);
      }
    }
  }
  return e;
}

void History::Record(const HistoryEvent& e) {
  absl::MutexLock lock(&mu_);
  auto it = agents_.find(e.agent);
  if (it == agents_.end()) {
    if (agents_.size() >= options_.max_agents) return;
    it = agents_.try_emplace(e.agent).first;
  }
  AgentData& a = it->second;
  a.events.push_back(e);
  while (a.events.size() > options_.max_events_per_agent) a.events.pop_front();
  const int64_t t = absl::ToUnixNanos(e.time);
  a.request_times.push_back(t);
  while (!a.request_times.empty() && (a.request_times.front() <= t - absl::ToInt64Nanoseconds(absl::Hours(1)) ||
                                      a.request_times.size() > 100000)) {
    a.request_times.pop_front();
  }
  if (e.effect != Effect::kAllow) return;
  ++a.allowed;
  ++a.hours[UtcHour(e.time)];
  for (const std::string& c : e.counterparties) {
    if (a.counterparties.size() < options_.max_counterparties) a.counterparties.insert(c);
  }
  if (!e.value.IsZero()) PushBounded(a.native_samples, e.value, options_.max_samples);
  for (const auto& [token, amount] : e.token_amounts) {
    auto found = a.token_samples.find(token);
    if (found == a.token_samples.end()) {
      if (a.token_samples.size() >= options_.max_tokens_per_agent) continue;
      found = a.token_samples.try_emplace(token).first;
    }
    PushBounded(found->second, amount, options_.max_samples);
  }
}

RiskInputs History::InputsFor(const Facts& f, absl::Time now) const {
  RiskInputs in;
  std::vector<std::string> parties = Counterparties(f);
  HistoryEvent probe = MakeHistoryEvent(f, Effect::kAllow);
  absl::MutexLock lock(&mu_);
  auto it = agents_.find(f.agent);
  if (it == agents_.end()) {
    in.new_counterparties = std::move(parties);
    for (const auto& [token, amount] : probe.token_amounts) in.token_samples.emplace_back(token, std::vector<Uint256>());
    return in;
  }
  const AgentData& a = it->second;
  in.allowed_events = a.allowed;
  for (std::string& p : parties) {
    if (!a.counterparties.contains(p)) in.new_counterparties.push_back(std::move(p));
  }
  in.native_samples.assign(a.native_samples.begin(), a.native_samples.end());
  for (const auto& [token, amount] : probe.token_amounts) {
    auto s = a.token_samples.find(token);
    std::vector<Uint256> samples;
    if (s != a.token_samples.end()) samples.assign(s->second.begin(), s->second.end());
    in.token_samples.emplace_back(token, std::move(samples));
  }
  const int64_t n = absl::ToUnixNanos(now);
  const int64_t minute = absl::ToInt64Nanoseconds(absl::Minutes(1));
  const int64_t hour = absl::ToInt64Nanoseconds(absl::Hours(1));
  // request_times is in append order, which is time order for a monotonic
  // clock; binary search keeps this O(log n) for busy agents.
  const auto& times = a.request_times;
  const auto end = std::upper_bound(times.begin(), times.end(), n);
  in.last_hour = static_cast<uint32_t>(end - std::upper_bound(times.begin(), end, n - hour));
  in.last_minute = static_cast<uint32_t>(end - std::upper_bound(times.begin(), end, n - minute));
  in.same_hour_events = a.hours[UtcHour(now)];
  return in;
}

std::vector<HistoryEvent> History::Events() const {
  absl::MutexLock lock(&mu_);
  std::vector<HistoryEvent> out;
  for (const auto& [agent, a] : agents_) out.insert(out.end(), a.events.begin(), a.events.end());
  return out;
}

std::vector<HistoryEvent> History::Events(std::string_view agent) const {
  absl::MutexLock lock(&mu_);
  auto it = agents_.find(absl::string_view(agent.data(), agent.size()));
  if (it == agents_.end()) return {};
  return {it->second.events.begin(), it->second.events.end()};
}

}  // namespace sigil::policy
