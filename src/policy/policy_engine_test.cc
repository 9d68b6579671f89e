#include "policy/policy_engine.h"

#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/facts_json.h"

namespace sigil::policy {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<const Policy> P(const std::string& text) {
  auto p = Policy::Parse(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return std::make_shared<const Policy>(std::move(p).value());
}

Facts F(const std::string& json) {
  auto f = FactsFromJson(nlohmann::json::parse(json), "facts");
  EXPECT_TRUE(f.ok()) << f.status();
  return std::move(f).value();
}

Facts Pay(const std::string& value, const std::string& agent = "bot-1",
          const std::string& to = "0x1111111111111111111111111111111111111111") {
  return F(R"({"kind": "eth_tx", "key": "trader", "agent": ")" + agent + R"(", "chain_id": 1, "to": ")" + to +
           R"(", "value": ")" + value + R"("})");
}

class EngineTest : public ::testing::Test {
 protected:
  void Init(const std::string& policy) {
    ledger_ = Ledger::Open(journal_, clock_).value();
    engine_ = std::make_unique<PolicyEngine>(P(policy), *ledger_, clock_);
  }
  FakeClock clock_;
  MemoryLedgerJournal journal_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<PolicyEngine> engine_;
};

constexpr char kBudgetPolicy[] = R"({"version": 2, "rules": [
  {"id": "small-payments", "effect": "allow", "agents": ["bot-1", "bot-2"],
   "match": {"kind": "eth_tx", "value": {"lte": "0.5 ether"}},
   "approval": {"quorum": 2, "role": "approver"},
   "budgets": [{"window": "24h", "max_value": "2 ether", "on_exceed": "require_approval"},
               {"window": "1m", "max_count": 10, "on_exceed": "deny"}]}]})";

TEST_F(EngineTest, AllowReservesAndCommitKeepsTheSpend) {
  Init(kBudgetPolicy);
  auto a = engine_->Authorize(Pay("0.5 ether"));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->decision.effect, Effect::kAllow);
  ASSERT_TRUE(a->reservation);
  EXPECT_EQ(ledger_->pending_count(), 1u);
  ASSERT_TRUE(engine_->Commit(*a->reservation).ok());
  Decision d = engine_->Explain(Pay("0.5 ether"));
  EXPECT_EQ(d.budgets[0].spent, Uint256::ParseAmount("0.5 ether").value());
  EXPECT_EQ(d.policy_version, 2u);
}

TEST_F(EngineTest, ReleaseGivesTheBudgetBack) {
  Init(kBudgetPolicy);
  for (int i = 0; i < 4; ++i) {
    auto a = engine_->Authorize(Pay("0.5 ether"));
    ASSERT_TRUE(a->reservation);
    ASSERT_TRUE(engine_->Commit(*a->reservation).ok());
  }
  auto over = engine_->Authorize(Pay("0.1 ether"));
  EXPECT_EQ(over->decision.effect, Effect::kRequireApproval);
  EXPECT_FALSE(over->reservation);
  EXPECT_EQ(over->decision.approval->quorum, 2);
  EXPECT_THAT(over->decision.reason, HasSubstr("24h budget exceeded: limit 2 ether, spent 2 ether, requested 0.1 ether"));
}

TEST_F(EngineTest, ExplainChangesNothing) {
  Init(kBudgetPolicy);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(engine_->Explain(Pay("0.5 ether")).effect, Effect::kAllow);
  EXPECT_EQ(ledger_->pending_count(), 0u);
  EXPECT_EQ(journal_.size(), 0u);
  EXPECT_TRUE(engine_->history().Events().empty());
}

TEST_F(EngineTest, ApprovedRequestIsChargedBeyondItsBudget) {
  Init(kBudgetPolicy);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(engine_->Commit(*engine_->Authorize(Pay("0.5 ether"))->reservation).ok());
  auto held = engine_->Authorize(Pay("0.5 ether"));
  ASSERT_EQ(held->decision.effect, Effect::kRequireApproval);
  auto id = engine_->ReserveApproved(held->decision);
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(engine_->Commit(*id).ok());
  Decision d = engine_->Explain(Pay("0.1 ether"));
  EXPECT_EQ(d.budgets[0].spent, Uint256::ParseAmount("2.5 ether").value());
  // Only a held decision can be reserved after approval.
  Decision allowed;
  allowed.effect = Effect::kAllow;
  EXPECT_EQ(engine_->ReserveApproved(allowed).status().code(), absl::StatusCode::kInvalidArgument);
}

// Approval goes over a require_approval budget, never over a deny one: two
// held requests that each fit the deny budget alone (as the read-only Explain
// at collection sees them) cannot both be reserved.
TEST_F(EngineTest, ApprovedRequestsStayWithinADenyBudget) {
  Init(R"({"version": 1, "rules": [
    {"id": "held-pay", "effect": "require_approval", "match": {"kind": "eth_tx"},
     "budgets": [{"window": "24h", "max_value": "10 ether", "on_exceed": "deny"},
                 {"window": "24h", "max_value": "1 ether", "on_exceed": "require_approval"}]}]})");
  Decision d1 = engine_->Explain(Pay("6 ether"));
  Decision d2 = engine_->Explain(Pay("6 ether"));
  ASSERT_EQ(d1.effect, Effect::kRequireApproval);
  ASSERT_EQ(d2.effect, Effect::kRequireApproval);
  auto id1 = engine_->ReserveApproved(d1);
  ASSERT_TRUE(id1.ok()) << id1.status();
  ASSERT_TRUE(engine_->Commit(*id1).ok());
  auto id2 = engine_->ReserveApproved(d2);
  EXPECT_EQ(id2.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(id2.status().message(),
              HasSubstr("24h budget exceeded: limit 10 ether, spent 6 ether, requested 6 ether"));
  EXPECT_EQ(ledger_->pending_count(), 0u);
  Decision now = engine_->Explain(Pay("1 ether"));
  ASSERT_EQ(now.budgets.size(), 2u);
  EXPECT_EQ(now.budgets[0].spent, Uint256::ParseAmount("6 ether").value());
  // What still fits the deny budget is reserved after approval.
  auto id3 = engine_->ReserveApproved(engine_->Explain(Pay("4 ether")));
  EXPECT_TRUE(id3.ok()) << id3.status();
}

TEST_F(EngineTest, UnwritableJournalFailsClosed) {
  Init(kBudgetPolicy);
  journal_.FailAppends(true);
  auto a = engine_->Authorize(Pay("0.1 ether"));
  EXPECT_EQ(a.status().code(), absl::StatusCode::kUnavailable);
  journal_.FailAppends(false);
  EXPECT_TRUE(engine_->Authorize(Pay("0.1 ether"))->reservation);
}

TEST_F(EngineTest, RateLimitDeniesWithRetryAfter) {
  Init(R"({"version": 1, "rules": [{"id": "all", "effect": "allow"}],
           "rate_limits": [{"scope": "agent", "per": "1m", "max": 3}]})");
  for (int i = 0; i < 3; ++i) {
    auto a = engine_->Authorize(Pay("1 wei"));
    EXPECT_EQ(a->decision.effect, Effect::kAllow) << i;
    ASSERT_TRUE(engine_->Commit(*a->reservation).ok());
  }
  // Explain does not use a slot but reports the limit.
  Decision peek = engine_->Explain(Pay("1 wei"));
  EXPECT_TRUE(peek.rate_limited);
  auto a = engine_->Authorize(Pay("1 wei"));
  EXPECT_EQ(a->decision.effect, Effect::kDeny);
  EXPECT_TRUE(a->decision.rate_limited);
  EXPECT_EQ(a->decision.retry_after_ms, 20000);
  EXPECT_THAT(a->decision.reason, HasSubstr("at most 3 requests per 1m for agent \"bot-1\""));
  EXPECT_FALSE(a->reservation);
  EXPECT_EQ(DecisionToJson(a->decision)["retry_after_ms"], 20000);
  // Another agent has its own bucket.
  EXPECT_EQ(engine_->Authorize(Pay("1 wei", "bot-2"))->decision.effect, Effect::kAllow);
  clock_.Advance(absl::Seconds(20));
  EXPECT_EQ(engine_->Authorize(Pay("1 wei"))->decision.effect, Effect::kAllow);
  EXPECT_TRUE(engine_->Authorize(Pay("1 wei"))->decision.rate_limited);
}

TEST_F(EngineTest, RiskScoreIsFilledAndUsable) {
  Init(R"({"version": 1, "rules": [
    {"id": "hold-risky", "effect": "require_approval", "match": {"risk_score": {"gte": 30}}},
    {"id": "all", "effect": "allow"}]})");
  // First payment to anyone: new counterparty.
  auto first = engine_->Authorize(Pay("0.1 ether"));
  EXPECT_EQ(first->decision.effect, Effect::kRequireApproval);
  ASSERT_TRUE(first->decision.risk_score);
  EXPECT_EQ(*first->decision.risk_score, 30);
  ASSERT_EQ(first->decision.risk_factors.size(), 1u);
  EXPECT_EQ(first->decision.risk_factors[0].name, "new_counterparty");
  // An explicit score in the facts is kept.
  Facts f = Pay("0.1 ether");
  f.risk_score = 5;
  EXPECT_EQ(engine_->Authorize(f)->decision.effect, Effect::kAllow);
  // Once allowed, the counterparty is known.
  auto again = engine_->Authorize(Pay("0.1 ether"));
  EXPECT_EQ(again->decision.effect, Effect::kAllow);
  EXPECT_EQ(*again->decision.risk_score, 0);
}

TEST_F(EngineTest, TriggersFire) {
  Init(R"({"version": 1, "rules": [{"id": "small", "effect": "allow", "match": {"value": {"lte": "1 ether"}}}],
           "triggers": [{"on": "denials", "count": 3, "within": "10m", "action": "suspend_agent"},
                        {"on": "risk_score", "gte": 90, "action": "lockdown"}]})");
  EXPECT_TRUE(engine_->Authorize(Pay("2 ether"))->triggers.empty());
  clock_.Advance(absl::Minutes(6));
  EXPECT_TRUE(engine_->Authorize(Pay("2 ether"))->triggers.empty());
  clock_.Advance(absl::Minutes(6));  // the first denial leaves the window
  EXPECT_TRUE(engine_->Authorize(Pay("2 ether"))->triggers.empty());
  auto third = engine_->Authorize(Pay("2 ether"));
  ASSERT_EQ(third->triggers.size(), 1u);
  EXPECT_EQ(third->triggers[0].action, TriggerAction::kSuspendAgent);
  EXPECT_EQ(third->triggers[0].agent, "bot-1");
  EXPECT_THAT(third->triggers[0].reason, HasSubstr("denied 3 times within 10m"));
  // The count starts again after firing.
  EXPECT_TRUE(engine_->Authorize(Pay("2 ether"))->triggers.empty());
  Facts risky = Pay("0.1 ether");
  risky.risk_score = 95;
  auto r = engine_->Authorize(risky);
  ASSERT_EQ(r->triggers.size(), 1u);
  EXPECT_EQ(r->triggers[0].action, TriggerAction::kLockdown);
}

TEST_F(EngineTest, SetPolicySwapsForNewRequests) {
  Init(kBudgetPolicy);
  EXPECT_EQ(engine_->Authorize(Pay("0.1 ether"))->decision.effect, Effect::kAllow);
  engine_->SetPolicy(P(R"({"version": 3, "rules": []})"));
  Decision d = engine_->Authorize(Pay("0.1 ether"))->decision;
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.policy_version, 3u);
}

TEST_F(EngineTest, TimeComesFromTheClockWhenAbsent) {
  Init(R"({"version": 1, "rules": [{"id": "weekdays", "effect": "allow", "match": {"time": {"days": ["mon"]}}}]})");
  clock_.Set(absl::FromUnixSeconds(1767614400));  // Monday
  EXPECT_EQ(engine_->Authorize(Pay("1 wei"))->decision.effect, Effect::kAllow);
  clock_.Advance(absl::Hours(24));
  EXPECT_EQ(engine_->Authorize(Pay("1 wei"))->decision.effect, Effect::kDeny);
}

// Authorizes `facts` 16 x 20 times from 16 threads at once, committing what
// is allowed; returns how many were allowed (reserved).
int AuthorizeConcurrently(PolicyEngine& engine, const Facts& facts) {
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto a = engine.Authorize(facts);
        if (a.ok() && a->reservation) {
          ++allowed;
          (void)engine.Commit(*a->reservation);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  return allowed.load();
}

// Concurrent Authorize calls through the whole engine: the 10-per-minute
// count budget lets exactly 10 through no matter how requests interleave.
TEST_F(EngineTest, ConcurrentAuthorizeNeverOverspends) {
  Init(kBudgetPolicy);
  EXPECT_EQ(AuthorizeConcurrently(*engine_, Pay("1 wei", "bot-2")), 10);
  Decision d = engine_->Explain(Pay("1 wei", "bot-2"));
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_THAT(d.reason, HasSubstr("1m request-count budget exceeded"));
}

// A transaction's fees reserve a spend budget like its value reserves a
// value budget: atomically on allow, given back on Release, and concurrent
// requests never take more than the limit between them.
Facts PayWithFees(const std::string& value, const std::string& agent = "bot-1") {
  return F(R"({"kind": "eth_tx", "key": "trader", "agent": ")" + agent +
           R"(", "chain_id": 1, "to": "0x1111111111111111111111111111111111111111", "value": ")" + value +
           R"(", "gas_limit": 21000, "max_fee_per_gas": "100 gwei", "max_priority_fee_per_gas": "1 gwei"})");
}

constexpr char kSpendPolicy[] = R"({"version": 1, "rules": [
  {"id": "allowance", "effect": "allow", "match": {"kind": "eth_tx"},
   "budgets": [{"window": "24h", "max_spend": "0.021 ether"}]}]})";

TEST_F(EngineTest, SpendBudgetIsReservedAndReleased) {
  Init(kSpendPolicy);
  // 0.0021 ether of fees (21000 x 100 gwei) + 0.0079 ether = 0.01 ether each.
  auto a = engine_->Authorize(PayWithFees("0.0079 ether"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(a->reservation);
  auto b = engine_->Authorize(PayWithFees("0.0079 ether"));
  ASSERT_TRUE(b->reservation);
  // 0.02 reserved: a third 0.01 does not fit; 0.001 (with its fees) does.
  auto c = engine_->Authorize(PayWithFees("0.0079 ether"));
  EXPECT_EQ(c->decision.effect, Effect::kDeny);
  EXPECT_FALSE(c->reservation);
  EXPECT_THAT(c->decision.reason, HasSubstr("24h spend budget (value + gas_limit x fee cap) exceeded: limit 0.021 ether, "
                                            "spent 0.02 ether, requested 0.01 ether"));
  // Nothing was signed for b: its spend comes back.
  ASSERT_TRUE(engine_->Release(*b->reservation).ok());
  auto again = engine_->Authorize(PayWithFees("0.0079 ether"));
  ASSERT_TRUE(again->reservation);
  ASSERT_TRUE(engine_->Commit(*a->reservation).ok());
  ASSERT_TRUE(engine_->Commit(*again->reservation).ok());
  EXPECT_EQ(engine_->Explain(PayWithFees("0")).budgets[0].spent, Uint256::ParseAmount("0.02 ether").value());
  // An unbounded transaction is denied and reserves nothing.
  auto unbounded = engine_->Authorize(
      F(R"({"kind": "eth_tx", "key": "trader", "agent": "bot-1", "chain_id": 1, "value": "0", "gas_limit": 21000})"));
  EXPECT_EQ(unbounded->decision.effect, Effect::kDeny);
  EXPECT_FALSE(unbounded->reservation);
  EXPECT_EQ(ledger_->pending_count(), 0u);
}

TEST_F(EngineTest, ConcurrentAuthorizeNeverOverspendsASpendBudget) {
  Init(kSpendPolicy);
  // Each request spends 0.0021 ether (fees only): exactly 10 fit 0.021.
  EXPECT_EQ(AuthorizeConcurrently(*engine_, PayWithFees("0", "bot-2")), 10);
  Decision d = engine_->Explain(PayWithFees("0", "bot-2"));
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.budgets[0].spent, Uint256::ParseAmount("0.021 ether").value());
}

TEST_F(EngineTest, BudgetsSurviveARestart) {
  Init(kBudgetPolicy);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(engine_->Commit(*engine_->Authorize(Pay("0.5 ether"))->reservation).ok());
  auto in_flight = engine_->Authorize(Pay("0.5 ether"));  // signed; crashed before Commit
  ASSERT_TRUE(in_flight->reservation);
  engine_.reset();
  ledger_.reset();
  Init(kBudgetPolicy);
  auto after = engine_->Authorize(Pay("0.1 ether"));
  EXPECT_EQ(after->decision.effect, Effect::kRequireApproval);
  EXPECT_THAT(after->decision.reason, HasSubstr("spent 2 ether"));
}

}  // namespace
}  // namespace sigil::policy
