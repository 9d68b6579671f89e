#include "policy/risk.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sigil::policy {
namespace {

using ::testing::HasSubstr;

const absl::Time kNoon = absl::FromUnixSeconds(1767614400);  // Monday 12:00 UTC

Facts Pay(uint64_t wei, const std::string& to, absl::Time t) {
  Facts f;
  f.kind = Kind::kEthTx;
  f.key = "trader";
  f.agent = "bot-1";
  f.chain_id = 1;
  f.to = to;
  f.value = Uint256(wei);
  f.time = t;
  return f;
}

const RiskFactor* Find(const RiskAssessment& a, const std::string& name) {
  for (const RiskFactor& f : a.factors) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

TEST(MedianMadTest, ExactIntegers) {
  auto [m, mad] = MedianMad({Uint256(1), Uint256(2), Uint256(3), Uint256(4), Uint256(100)});
  EXPECT_EQ(m, Uint256(3));
  EXPECT_EQ(mad, Uint256(1));
  auto [m2, mad2] = MedianMad({Uint256(10), Uint256(20)});
  EXPECT_EQ(m2, Uint256(10));  // the lower median
  EXPECT_EQ(mad2, Uint256(0));
  auto [m3, mad3] = MedianMad({});
  EXPECT_TRUE(m3.IsZero() && mad3.IsZero());
  auto [m4, mad4] = MedianMad({Uint256::Max(), Uint256::Max(), Uint256(0)});
  EXPECT_EQ(m4, Uint256::Max());
  EXPECT_EQ(mad4, Uint256(0));
}

class RiskTest : public ::testing::Test {
 protected:
  void Allow(const Facts& f) { history_.Record(MakeHistoryEvent(f, Effect::kAllow)); }
  RiskAssessment Score(const Facts& f) { return scorer_.Score(f, history_, *f.time); }
  History history_;
  RiskScorer scorer_;
};

TEST_F(RiskTest, NewCounterparty) {
  RiskAssessment first = Score(Pay(100, "0xaaaa", kNoon));
  EXPECT_EQ(first.score, 30);
  ASSERT_NE(Find(first, "new_counterparty"), nullptr);
  EXPECT_THAT(Find(first, "new_counterparty")->detail, HasSubstr("no history yet"));
  Allow(Pay(100, "0xaaaa", kNoon));
  EXPECT_EQ(Score(Pay(100, "0xaaaa", kNoon + absl::Hours(1))).score, 0);
  RiskAssessment other = Score(Pay(100, "0xbbbb", kNoon + absl::Hours(1)));
  EXPECT_EQ(other.score, 30);
  EXPECT_THAT(Find(other, "new_counterparty")->detail, HasSubstr("first request involving 0xbbbb"));
  // A denied request does not make a counterparty known.
  history_.Record(MakeHistoryEvent(Pay(100, "0xcccc", kNoon), Effect::kDeny));
  EXPECT_NE(Find(Score(Pay(100, "0xcccc", kNoon + absl::Hours(2))), "new_counterparty"), nullptr);
}

TEST_F(RiskTest, AmountOutliersAgainstTheAgentsOwnBaseline) {
  // Ten payments of 1.0 .. 1.9 ether, one per hour.
  for (int i = 0; i < 10; ++i) {
    Allow(Pay(1000000000000000000ull + i * 100000000000000000ull, "0xaaaa", kNoon - absl::Hours(10 - i)));
  }
  // median 1.4 ether, MAD 0.3 ether, robust unit ~0.445 ether.
  EXPECT_EQ(Find(Score(Pay(1800000000000000000ull, "0xaaaa", kNoon)), "amount_outlier"), nullptr);
  RiskAssessment three = Score(Pay(2900000000000000000ull, "0xaaaa", kNoon));  // +1.5 ether: > 3 units
  ASSERT_NE(Find(three, "amount_outlier"), nullptr);
  EXPECT_EQ(Find(three, "amount_outlier")->points, 15);
  EXPECT_THAT(Find(three, "amount_outlier")->detail, HasSubstr("median 1.4 ether"));
  EXPECT_EQ(Find(Score(Pay(4300000000000000000ull, "0xaaaa", kNoon)), "amount_outlier")->points, 25);
  RiskAssessment huge = Score(Pay(10000000000000000000ull, "0xaaaa", kNoon));
  EXPECT_EQ(Find(huge, "amount_outlier")->points, 40);
  // Small amounts are never outliers.
  EXPECT_EQ(Find(Score(Pay(1, "0xaaaa", kNoon)), "amount_outlier"), nullptr);
}

TEST_F(RiskTest, OutlierNeedsEnoughSamplesAndHandlesNoSpread) {
  for (int i = 0; i < 4; ++i) Allow(Pay(1000, "0xaaaa", kNoon - absl::Hours(5 - i)));
  EXPECT_EQ(Find(Score(Pay(1000000, "0xaaaa", kNoon)), "amount_outlier"), nullptr);
  Allow(Pay(1000, "0xaaaa", kNoon - absl::Hours(1)));
  // Five identical samples: the unit is 5% of the median (50).
  EXPECT_EQ(Find(Score(Pay(1100, "0xaaaa", kNoon)), "amount_outlier"), nullptr);  // 2 units
  EXPECT_EQ(Find(Score(Pay(1200, "0xaaaa", kNoon)), "amount_outlier")->points, 15);  // 4 units
  EXPECT_EQ(Find(Score(Pay(2000, "0xaaaa", kNoon)), "amount_outlier")->points, 40);  // 20 units
}

TEST_F(RiskTest, TokenAmountsHaveTheirOwnBaseline) {
  auto token_pay = [](uint64_t amount, absl::Time t) {
    Facts f = Pay(0, "0xtoken", t);
    f.erc20 = Erc20Facts{"0xtoken", Erc20Method::kTransfer, std::nullopt, "0xaaaa", Uint256(amount), false};
    return f;
  };
  for (int i = 0; i < 6; ++i) Allow(token_pay(500 + i, kNoon - absl::Hours(6 - i)));
  EXPECT_EQ(Find(Score(token_pay(505, kNoon)), "amount_outlier"), nullptr);
  RiskAssessment big = Score(token_pay(50000, kNoon));
  ASSERT_NE(Find(big, "amount_outlier"), nullptr);
  EXPECT_THAT(Find(big, "amount_outlier")->detail, HasSubstr("token 0xtoken"));
}

TEST_F(RiskTest, VelocityBursts) {
  // A steady one request per minute for the past hour ...
  for (int i = 60; i >= 2; --i) Allow(Pay(1, "0xaaaa", kNoon - absl::Minutes(i)));
  EXPECT_EQ(Find(Score(Pay(1, "0xaaaa", kNoon)), "velocity"), nullptr);
  // ... then a burst inside the last minute.
  for (int i = 0; i < 4; ++i) Allow(Pay(1, "0xaaaa", kNoon - absl::Seconds(30 - i)));
  RiskAssessment burst = Score(Pay(1, "0xaaaa", kNoon));
  ASSERT_NE(Find(burst, "velocity"), nullptr);
  EXPECT_EQ(Find(burst, "velocity")->points, 20);
  EXPECT_THAT(Find(burst, "velocity")->detail, HasSubstr("5 requests in the last minute"));
  for (int i = 0; i < 10; ++i) Allow(Pay(1, "0xaaaa", kNoon - absl::Seconds(20 - i)));
  EXPECT_EQ(Find(Score(Pay(1, "0xaaaa", kNoon)), "velocity")->points, 30);
}

TEST_F(RiskTest, UnusualHour) {
  // 30 allowed requests, all between 09:00 and 16:59 UTC on past days.
  for (int i = 0; i < 30; ++i) Allow(Pay(1, "0xaaaa", kNoon - absl::Hours(24 * (i + 1)) + absl::Hours(i % 5)));
  EXPECT_EQ(Find(Score(Pay(1, "0xaaaa", kNoon)), "unusual_hour"), nullptr);
  RiskAssessment night = Score(Pay(1, "0xaaaa", kNoon + absl::Hours(15)));  // 03:00
  ASSERT_NE(Find(night, "unusual_hour"), nullptr);
  EXPECT_THAT(Find(night, "unusual_hour")->detail, HasSubstr("0 of its 30 allowed requests at 3:00 UTC"));
}

TEST_F(RiskTest, ScoreIsClampedTo100) {
  RiskScorer::Options o;
  o.new_counterparty_points = 150;
  RiskScorer loud(o);
  EXPECT_EQ(loud.Score(Pay(1, "0xnew", kNoon), history_, kNoon).score, 100);
}

TEST(HistoryTest, BoundedPerAgent) {
  History::Options o;
  o.max_events_per_agent = 5;
  o.max_agents = 2;
  History h(o);
  for (int i = 0; i < 10; ++i) h.Record(MakeHistoryEvent(Pay(i, "0xaaaa", kNoon + absl::Seconds(i)), Effect::kAllow));
  EXPECT_EQ(h.Events("bot-1").size(), 5u);
  EXPECT_EQ(h.Events("bot-1").front().value, Uint256(5));
  Facts other = Pay(1, "0xaaaa", kNoon);
  other.agent = "bot-2";
  h.Record(MakeHistoryEvent(other, Effect::kAllow));
  other.agent = "bot-3";
  h.Record(MakeHistoryEvent(other, Effect::kAllow));
  EXPECT_TRUE(h.Events("bot-3").empty());
  EXPECT_EQ(h.Events().size(), 6u);
}

// The assets an agent moves are its choice: their samples are bounded in
// number too (each new Permit2 token or SPL mint added an entry for good).
TEST(HistoryTest, TokensPerAgentAreBounded) {
  History::Options o;
  o.max_tokens_per_agent = 3;
  History h(o);
  auto moving = [](const std::string& token) {
    Facts f = Pay(0, "0xpayee", kNoon);
    f.erc20 = Erc20Facts{token, Erc20Method::kTransfer, std::nullopt, "0xpayee", Uint256(7), false};
    return f;
  };
  for (int i = 0; i < 10; ++i) h.Record(MakeHistoryEvent(moving("0xtoken" + std::to_string(i)), Effect::kAllow));
  auto samples_of = [&](const std::string& token) {
    RiskInputs in = h.InputsFor(moving(token), kNoon);
    EXPECT_EQ(in.token_samples.size(), 1u);
    return in.token_samples.empty() ? size_t{0} : in.token_samples.front().second.size();
  };
  EXPECT_EQ(samples_of("0xtoken0"), 1u);
  EXPECT_EQ(samples_of("0xtoken2"), 1u);
  EXPECT_EQ(samples_of("0xtoken3"), 0u);  // past the bound: as never seen
  EXPECT_EQ(samples_of("0xtoken9"), 0u);
  h.Record(MakeHistoryEvent(moving("0xtoken0"), Effect::kAllow));  // a known one still learns
  EXPECT_EQ(samples_of("0xtoken0"), 2u);
}

TEST(HistoryTest, CounterpartiesOfEachKind) {
  Facts erc20 = Pay(0, "0xtoken", kNoon);
  erc20.erc20 = Erc20Facts{"0xtoken", Erc20Method::kApprove, std::nullopt, "0xspender", Uint256(5), false};
  EXPECT_EQ(Counterparties(erc20), std::vector<std::string>{"0xspender"});
  Facts permit;
  permit.kind = Kind::kEthTypedData;
  permit.typed_data = TypedDataFacts{};
  permit.typed_data->verifying_contract = "0xcontract";
  EXPECT_EQ(Counterparties(permit), std::vector<std::string>{"0xcontract"});
  permit.typed_data->permit = PermitFacts{"eip2612", "0xspender", {PermitAllowance{"0xtoken", Uint256(1), false, std::nullopt}}, std::nullopt, false};
  EXPECT_EQ(Counterparties(permit), std::vector<std::string>{"0xspender"});
  Facts sol;
  sol.kind = Kind::kSolanaTx;
  sol.solana = SolanaFacts{{"system"}, {SolanaTransfer{"system", "A", Uint256(1), std::nullopt},
                                        SolanaTransfer{"token", "B", Uint256(2), std::string("Mint")}}};
  EXPECT_EQ(Counterparties(sol), (std::vector<std::string>{"A", "B"}));
  HistoryEvent e = MakeHistoryEvent(sol, Effect::kAllow);
  EXPECT_EQ(e.value, Uint256(1));
  ASSERT_EQ(e.token_amounts.size(), 1u);
  EXPECT_EQ(e.token_amounts[0].first, "Mint");
}

}  // namespace
}  // namespace sigil::policy
