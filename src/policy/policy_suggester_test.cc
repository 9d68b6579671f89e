#include "policy/policy_suggester.h"

#include "gtest/gtest.h"
#include "policy/policy.h"

namespace sigil::policy {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1767225600);
constexpr char kA[] = "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
constexpr char kB[] = "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
constexpr char kToken[] = "0xcccccccccccccccccccccccccccccccccccccccc";

Facts Pay(const std::string& to, uint64_t milli_ether, absl::Time t) {
  Facts f;
  f.kind = Kind::kEthTx;
  f.key = "trader";
  f.agent = "bot-1";
  f.chain_id = 1;
  f.to = to;
  f.value = Uint256(milli_ether).Mul(Uint256(1000000000000000ull)).value();
  f.time = t;
  return f;
}

TEST(SuggestTest, ProposesAllowlistsPercentileCeilingsAndBudgets) {
  std::vector<HistoryEvent> events;
  // 100 payments of 1..100 milli-ether, alternating two counterparties, 4 per day.
  for (int i = 1; i <= 100; ++i) {
    events.push_back(MakeHistoryEvent(Pay(i % 2 ? kA : kB, i, kStart + absl::Hours(6) * i), Effect::kAllow));
  }
  // A denied request to a third party is not learnt.
  events.push_back(MakeHistoryEvent(Pay("0xdddddddddddddddddddddddddddddddddddddddd", 5000, kStart), Effect::kDeny));
  // Token transfers.
  for (int i = 1; i <= 10; ++i) {
    Facts f = Pay(kToken, 0, kStart + absl::Hours(i));
    f.erc20 = Erc20Facts{kToken, Erc20Method::kTransfer, std::nullopt, kA, Uint256(100 * i), false};
    events.push_back(MakeHistoryEvent(f, Effect::kAllow));
  }
  nlohmann::json doc = SuggestPolicy(events);
  auto policy = Policy::Parse(doc.dump());
  ASSERT_TRUE(policy.ok()) << policy.status() << "\n" << doc.dump(2);
  ASSERT_EQ(policy->rules().size(), 2u);

  auto eval = [&](Facts f) { return policy->Evaluate(f).effect; };
  EXPECT_EQ(eval(Pay(kA, 50, kStart)), Effect::kAllow);
  EXPECT_EQ(eval(Pay(kB, 95, kStart)), Effect::kAllow);  // the 95th percentile
  EXPECT_EQ(eval(Pay(kB, 96, kStart)), Effect::kDeny);
  EXPECT_EQ(eval(Pay("0xdddddddddddddddddddddddddddddddddddddddd", 1, kStart)), Effect::kDeny);
  Facts other_chain = Pay(kA, 1, kStart);
  other_chain.chain_id = 10;
  EXPECT_EQ(eval(other_chain), Effect::kDeny);
  // The 24h budget is the largest observed day: 4 payments of 97..100 milli-ether = 0.394 ether.
  bool found_budget = false;
  for (const auto& r : doc["rules"]) {
    if (!r["match"].contains("erc20")) {
      EXPECT_EQ(r["budgets"][0]["max_value"], "394000000000000000");
      EXPECT_EQ(r["budgets"][0]["max_count"], 4);
      found_budget = true;
    } else {
      EXPECT_EQ(r["match"]["erc20"]["amount"]["lte"], "1000");
      EXPECT_EQ(r["budgets"][0]["max_amount"], "5500");
    }
  }
  EXPECT_TRUE(found_budget);
}

TEST(SuggestTest, NoHistoryDeniesEverything) {
  nlohmann::json doc = SuggestPolicy({});
  auto policy = Policy::Parse(doc.dump());
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(policy->rules().empty());
}

}  // namespace
}  // namespace sigil::policy
