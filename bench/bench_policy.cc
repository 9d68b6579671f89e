// Policy decision latency: Policy::Evaluate with 1, 100 and 10,000 rules,
// with a 100,000-entry list, and the whole PolicyEngine::Authorize path
// (rate limit, risk score, evaluation, atomic budget reservation, commit).
// Also the cost of parsing large documents.
#include <cstdio>
#include <memory>
#include <string>

#include "base/clock.h"
#include "benchmark/benchmark.h"
#include "policy/ledger.h"
#include "policy/policy.h"
#include "policy/policy_engine.h"

namespace {

using sigil::FakeClock;
using sigil::Uint256;
using namespace sigil::policy;

std::string Address(uint64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "0x%040llx", static_cast<unsigned long long>(i));
  return buf;
}

// N rules that each allow payments to their own address; the request pays
// the last one, so every rule is looked at. A deny rule on a blocked list
// comes first, as in real policies.
std::string ManyRules(int n) {
  std::string rules = R"({"id": "no-blocked", "effect": "deny", "match": {"kind": "eth_tx", "to": {"in": "@blocked"}}})";
  for (int i = 0; i < n; ++i) {
    rules += R"(, {"id": "pay-)" + std::to_string(i) + R"(", "effect": "allow", "match": {"kind": "eth_tx", "chain_id": [1, 42161], "to": ")" +
             Address(1000 + i) + R"(", "value": {"lte": "1 ether"}, "max_fee_per_gas": {"lte": "200 gwei"}}})";
  }
  return R"({"version": 1, "lists": {"blocked": [")" + Address(1) + R"("]}, "rules": [)" + rules + "]}";
}

std::string BigList(int n) {
  std::string list;
  for (int i = 0; i < n; ++i) list += (i ? ",\"" : "\"") + Address(500000 + i) + "\"";
  return R"({"version": 1, "lists": {"blocked": [)" + list + R"(]}, "rules": [
    {"id": "no-blocked", "effect": "deny", "match": {"kind": "eth_tx", "to": {"in": "@blocked"}}},
    {"id": "pay", "effect": "allow", "match": {"kind": "eth_tx", "chain_id": 1, "value": {"lte": "1 ether"}}}]})";
}

Facts Payment(const std::string& to) {
  Facts f;
  f.kind = Kind::kEthTx;
  f.key = "trader";
  f.agent = "bot-1";
  f.chain_id = 1;
  f.to = to;
  f.value = Uint256::ParseAmount("0.1 ether").value();
  f.max_fee_per_gas = Uint256::ParseAmount("30 gwei").value();
  f.risk_score = 0;
  return f;
}

void BM_EvaluateRules(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Policy policy = Policy::Parse(ManyRules(n)).value();
  Facts facts = Payment(Address(1000 + n - 1));
  for (auto _ : state) {
    Decision d = policy.Evaluate(facts);
    benchmark::DoNotOptimize(d);
    if (d.effect != Effect::kAllow) state.SkipWithError("expected allow");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateRules)->Arg(1)->Arg(100)->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_EvaluateBigList(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Policy policy = Policy::Parse(BigList(n)).value();
  Facts allowed = Payment(Address(7));
  Facts blocked = Payment(Address(500000 + n / 2));
  bool flip = false;
  for (auto _ : state) {
    Decision d = policy.Evaluate((flip = !flip) ? allowed : blocked);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateBigList)->Arg(10)->Arg(100000)->Unit(benchmark::kMicrosecond);

void BM_AuthorizeWithBudgets(benchmark::State& state) {
  FakeClock clock;
  MemoryLedgerJournal journal;
  auto ledger = Ledger::Open(journal, clock).value();
  auto policy = std::make_shared<const Policy>(Policy::Parse(R"({"version": 1, "rules": [
    {"id": "small-payments", "effect": "allow", "keys": ["trader"], "agents": ["bot-1"],
     "match": {"kind": "eth_tx", "chain_id": [1, 42161], "value": {"lte": "0.5 ether"}, "max_fee_per_gas": {"lte": "200 gwei"}},
     "budgets": [{"window": "24h", "max_value": "1000000 ether"}, {"window": "1m", "max_count": 1000000000}]}],
    "rate_limits": [{"scope": "agent", "per": "1s", "max": 1000000}]})").value());
  PolicyEngine engine(policy, *ledger, clock);
  Facts facts = Payment(Address(42));
  facts.risk_score.reset();
  for (auto _ : state) {
    auto a = engine.Authorize(facts);
    if (!a.ok() || !a->reservation) {
      state.SkipWithError("expected a reservation");
      break;
    }
    (void)engine.Commit(*a->reservation);
    clock.Advance(absl::Microseconds(10));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AuthorizeWithBudgets)->Unit(benchmark::kMicrosecond);

void BM_ParseRules(benchmark::State& state) {
  const std::string text = ManyRules(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto p = Policy::Parse(text);
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_ParseRules)->Arg(100)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_ParseBigList(benchmark::State& state) {
  const std::string text = BigList(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto p = Policy::Parse(text);
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_ParseBigList)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
