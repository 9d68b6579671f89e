// DecodePayload's typed-data facts, evaluated by a real policy: the names and
// values the core reports must be the ones the policy language documents
// (doc/policy.md, "Typed data"), not only hand-written facts.
#include "core/payload.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/time.h"
#include "chains/ethereum/permit.h"
#include "policy/policy.h"

namespace sigil::core {
namespace {

constexpr char kUsdc[] = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";
constexpr char kWeth[] = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2";
constexpr char kPayee[] = "0x2222222222222222222222222222222222222222";
// The request time used below; permits' deadlines are relative to it.
constexpr int64_t kNow = 1767614400;  // 2026-01-05 12:00 UTC

std::string Eip2612(const std::string& value, int64_t deadline) {
  return R"({"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},)"
         R"({"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],)"
         R"("Permit":[{"name":"owner","type":"address"},{"name":"spender","type":"address"},)"
         R"({"name":"value","type":"uint256"},{"name":"nonce","type":"uint256"},{"name":"deadline","type":"uint256"}]},)"
         R"("primaryType":"Permit","domain":{"name":"USD Coin","version":"2","chainId":1,"verifyingContract":")" +
         std::string(kUsdc) + R"("},"message":{"owner":"0x6a2cd9BfE544818a8F18F4321a72511c55441022","spender":")" +
         kPayee + R"(","value":")" + value + R"(","nonce":"0","deadline":")" + std::to_string(deadline) + R"("}})";
}

// A Permit2 PermitSingle / PermitBatch over (token, amount, expiration) entries.
struct Entry {
  std::string token;
  std::string amount;
  int64_t expiration;
};
std::string Permit2(const std::vector<Entry>& entries, int64_t sig_deadline, bool batch) {
  std::string details;
  for (const Entry& e : entries) {
    if (!details.empty()) details += ",";
    details += R"({"token":")" + e.token + R"(","amount":")" + e.amount + R"(","expiration":")" +
               std::to_string(e.expiration) + R"(","nonce":"0"})";
  }
  if (batch) details = "[" + details + "]";
  const std::string primary = batch ? "PermitBatch" : "PermitSingle";
  return R"({"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"chainId","type":"uint256"},)"
         R"({"name":"verifyingContract","type":"address"}],)"
         R"("PermitDetails":[{"name":"token","type":"address"},{"name":"amount","type":"uint160"},)"
         R"({"name":"expiration","type":"uint48"},{"name":"nonce","type":"uint48"}],")" +
         primary + R"(":[{"name":"details","type":")" + (batch ? "PermitDetails[]" : "PermitDetails") +
         R"("},{"name":"spender","type":"address"},{"name":"sigDeadline","type":"uint256"}]},)"
         R"("primaryType":")" + primary +
         R"(","domain":{"name":"Permit2","chainId":1,"verifyingContract":"0x000000000022D473030F116dDEE9F6B43aC78BA3"},)"
         R"("message":{"details":)" + details + R"(,"spender":")" + kPayee + R"(","sigDeadline":")" +
         std::to_string(sig_deadline) + R"("}})";
}

policy::Facts Decode(const std::string& doc) {
  DecodeOptions options;
  auto decoded = DecodePayload(policy::Kind::kEthTypedData, AsBytes(doc), options);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  if (!decoded.ok()) return {};
  policy::Facts f = decoded->facts;
  f.key = "trader";
  f.agent = "bot-1";
  f.time = absl::FromUnixSeconds(kNow);
  f.risk_score = 0;
  return f;
}

policy::Policy MustParse(const std::string& text) {
  auto p = policy::Policy::Parse(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return std::move(p).value();
}

// Every variant the chains layer names is a permit kind the policy knows,
// matched by its own name and by its family's.
TEST(PayloadPermitTest, EveryRecognisedPermitKindHasAPolicyFamily) {
  for (int i = 0; i < static_cast<int>(eth::PermitKind::kCount); ++i) {
    const auto k = static_cast<eth::PermitKind>(i);
    const std::string_view name = eth::PermitKindName(k);
    auto family = policy::PermitKindFamily(name);
    ASSERT_TRUE(family.has_value()) << name;
    EXPECT_EQ(*family, eth::PermitKindFamily(k)) << name;
    EXPECT_THAT(policy::PermitKindsMatching(*family), ::testing::Contains(name));
    EXPECT_THAT(policy::PermitKindsMatching(name), ::testing::Contains(name));
  }
}

// The documented example (doc/policy.md, short-usdc-permits) allows a real
// EIP-2612 USDC permit decoded by the core.
TEST(PayloadPermitTest, DocumentedPermitKindMatchesARealEip2612Permit) {
  policy::Policy p = MustParse(R"({"version": 1, "lists": {"payees": [")" + std::string(kPayee) + R"("]},
    "rules": [{"id": "short-usdc-permits", "effect": "allow",
      "match": {"kind": "eth_typed_data",
                "typed_data": {"permit": {"kind": "permit", "token": ")" + std::string(kUsdc) + R"(",
                                          "spender": {"in": "@payees"}, "amount": {"lte": "1000000000"},
                                          "max_deadline_in": "1d"}}}}]})");
  policy::Facts f = Decode(Eip2612("1000", kNow + 3600));
  ASSERT_TRUE(f.typed_data && f.typed_data->permit);
  policy::Decision d = p.Evaluate(f);
  EXPECT_EQ(d.effect, policy::Effect::kAllow) << d.reason;
  EXPECT_EQ(d.rule_id, "short-usdc-permits");
  // The finer name works too; a Permit2 kind does not match an EIP-2612 permit.
  policy::Policy fine = MustParse(R"({"version": 1, "rules": [
    {"id": "eip2612", "effect": "allow", "match": {"permit": {"kind": "eip2612"}}}]})");
  EXPECT_EQ(fine.Evaluate(f).effect, policy::Effect::kAllow);
  policy::Policy other = MustParse(R"({"version": 1, "rules": [
    {"id": "p2", "effect": "allow", "match": {"permit": {"kind": ["permit2", "dai_permit"]}}}]})");
  EXPECT_EQ(other.Evaluate(f).effect, policy::Effect::kDeny);
}

// A deny rule on kind permit2 fires on a real Permit2 PermitSingle; a rule
// naming one variant fires only on that variant.
TEST(PayloadPermitTest, Permit2KindDenyFiresOnARealPermit2) {
  policy::Policy p = MustParse(R"({"version": 1, "rules": [
    {"id": "no-permit2", "effect": "deny", "match": {"permit": {"kind": "permit2"}}},
    {"id": "typed", "effect": "allow", "match": {"kind": "eth_typed_data"}}]})");
  policy::Facts single = Decode(Permit2({{kUsdc, "1000", kNow + 3600}}, kNow + 600, false));
  policy::Decision d = p.Evaluate(single);
  EXPECT_EQ(d.effect, policy::Effect::kDeny);
  EXPECT_EQ(d.rule_id, "no-permit2");
  EXPECT_EQ(p.Evaluate(Decode(Eip2612("1000", kNow + 3600))).effect, policy::Effect::kAllow);

  policy::Policy batch_only = MustParse(R"({"version": 1, "rules": [
    {"id": "no-batches", "effect": "deny", "match": {"permit": {"kind": "permit2_batch"}}},
    {"id": "typed", "effect": "allow", "match": {"kind": "eth_typed_data"}}]})");
  EXPECT_EQ(batch_only.Evaluate(single).effect, policy::Effect::kAllow);
  policy::Facts batch = Decode(Permit2({{kUsdc, "1000", kNow + 3600}, {kWeth, "5", kNow + 3600}}, kNow + 600, true));
  EXPECT_EQ(batch_only.Evaluate(batch).effect, policy::Effect::kDeny);
}

// Every entry of a Permit2 batch is a value of the permit's token and amount
// facts: a deny on one token fires, an allow needs every entry, and each
// token is charged to its own max_amount budget (the audit's p_batch.json).
TEST(PayloadPermitTest, Permit2BatchEntriesAreEachChecked) {
  policy::Policy p = MustParse(R"({"version": 1, "lists": {"payees": [")" + std::string(kPayee) + R"("]},
    "rules": [
      {"id": "no-weth-permits", "effect": "deny", "match": {"permit": {"token": ")" + std::string(kWeth) + R"("}}},
      {"id": "small-permits", "effect": "allow",
       "match": {"kind": "eth_typed_data", "permit": {"spender": "@payees", "amount": {"lte": "1000000000"}}},
       "budgets": [{"window": "1d", "max_amount": "1500000000"}]}]})");
  // The largest entry is USDC; the small WETH entry used to be invisible.
  policy::Facts weth_small = Decode(Permit2({{kUsdc, "1000000000", kNow + 60}, {kWeth, "5", kNow + 60}}, kNow + 60, true));
  ASSERT_TRUE(weth_small.typed_data && weth_small.typed_data->permit);
  EXPECT_EQ(weth_small.typed_data->permit->allowances.size(), 2u);
  policy::Decision d = p.Evaluate(weth_small);
  EXPECT_EQ(d.effect, policy::Effect::kDeny);
  EXPECT_EQ(d.rule_id, "no-weth-permits");

  // An allow rule's amount bound must hold for every entry, not the largest only.
  const std::string kDai = "0x6b175474e89094c44da98b954eedeac495271d0f";
  policy::Facts one_big = Decode(Permit2({{kUsdc, "5", kNow + 60}, {kDai, "2000000000", kNow + 60}}, kNow + 60, true));
  EXPECT_EQ(p.Evaluate(one_big).effect, policy::Effect::kDeny);

  // Within bounds: each token is charged separately (1e9 each fits 1.5e9).
  policy::Facts both = Decode(Permit2({{kUsdc, "1000000000", kNow + 60}, {kDai, "1000000000", kNow + 60}}, kNow + 60, true));
  d = p.Evaluate(both);
  EXPECT_EQ(d.effect, policy::Effect::kAllow) << d.reason;
  ASSERT_EQ(d.budgets.size(), 2u);
  for (const policy::BudgetStatus& b : d.budgets) {
    EXPECT_EQ(b.measure, "amount");
    EXPECT_EQ(b.requested, Uint256(1000000000));
  }
  // The same token twice is summed against that token's budget.
  policy::Facts twice = Decode(Permit2({{kUsdc, "1000000000", kNow + 60}, {kUsdc, "1000000000", kNow + 60}}, kNow + 60, true));
  d = p.Evaluate(twice);
  EXPECT_EQ(d.effect, policy::Effect::kDeny);
  EXPECT_NE(d.reason.find("budget for token 0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48 exceeded"), std::string::npos)
      << d.reason;
}

// One "unlimited" rule: half the amount type's range, for EIP-2612 (uint256)
// as for Permit2 (uint160).
TEST(PayloadPermitTest, UnlimitedIsHalfTheAmountTypesRange) {
  policy::Policy p = MustParse(R"({"version": 1, "rules": [
    {"id": "no-unlimited-permits", "effect": "deny", "match": {"permit": {"unlimited": true}}},
    {"id": "typed", "effect": "allow", "match": {"kind": "eth_typed_data"}}]})");
  const std::string k2pow255 = "57896044618658097711785492504343953926634992332820282019728792003956564819968";
  const std::string k2pow159 = "730750818665451459101842416358141509827966271488";
  EXPECT_EQ(p.Evaluate(Decode(Eip2612(k2pow255, kNow + 60))).effect, policy::Effect::kDeny);
  EXPECT_EQ(p.Evaluate(Decode(Eip2612(k2pow159, kNow + 60))).effect, policy::Effect::kAllow);
  EXPECT_EQ(p.Evaluate(Decode(Permit2({{kUsdc, k2pow159, kNow + 60}}, kNow + 60, false))).effect,
            policy::Effect::kDeny);
  EXPECT_EQ(p.Evaluate(Decode(Permit2({{kUsdc, "1000", kNow + 60}}, kNow + 60, false))).effect,
            policy::Effect::kAllow);
}

std::string DaiPermit(int64_t expiry) {
  return R"({"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},)"
         R"({"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],)"
         R"("Permit":[{"name":"holder","type":"address"},{"name":"spender","type":"address"},)"
         R"({"name":"nonce","type":"uint256"},{"name":"expiry","type":"uint256"},{"name":"allowed","type":"bool"}]},)"
         R"("primaryType":"Permit","domain":{"name":"Dai Stablecoin","version":"1","chainId":1,)"
         R"("verifyingContract":"0x6B175474E89094C44Da98b954EedeAC495271d0F"},)"
         R"("message":{"holder":"0x6a2cd9BfE544818a8F18F4321a72511c55441022","spender":")" +
         std::string(kPayee) + R"(","nonce":"0","expiry":")" + std::to_string(expiry) + R"(","allowed":false}})";
}

// max_deadline_in bounds how long the permit grants anything: a DAI permit
// with expiry 0 never expires; a Permit2 allowance lives until its own
// expiration, whatever the signature deadline.
TEST(PayloadPermitTest, MaxDeadlineInBoundsThePermitsWholeLifetime) {
  policy::Policy p = MustParse(R"({"version": 1, "rules": [
    {"id": "short-permits", "effect": "allow", "match": {"permit": {"max_deadline_in": "1d"}}}]})");
  EXPECT_EQ(p.Evaluate(Decode(DaiPermit(kNow + 3600))).effect, policy::Effect::kAllow);
  EXPECT_EQ(p.Evaluate(Decode(DaiPermit(kNow + 3 * 86400))).effect, policy::Effect::kDeny);
  policy::Decision d = p.Evaluate(Decode(DaiPermit(0)));
  EXPECT_EQ(d.effect, policy::Effect::kDeny);
  EXPECT_NE(d.reason.find("the permit never expires"), std::string::npos) << d.reason;

  // Short signature deadline, short allowance: allowed.
  EXPECT_EQ(p.Evaluate(Decode(Permit2({{kUsdc, "1000", kNow + 3600}}, kNow + 600, false))).effect,
            policy::Effect::kAllow);
  // Short signature deadline, allowance for a year: denied (single and batch).
  EXPECT_EQ(p.Evaluate(Decode(Permit2({{kUsdc, "1000", kNow + 365 * 86400}}, kNow + 600, false))).effect,
            policy::Effect::kDeny);
  EXPECT_EQ(p.Evaluate(Decode(Permit2({{kUsdc, "1000", kNow + 60}, {kWeth, "1", kNow + 365 * 86400}}, kNow + 600,
                                      true)))
                .effect,
            policy::Effect::kDeny);
  // Expiration 0 means "the block it is used in": bounded by the signature deadline.
  EXPECT_EQ(p.Evaluate(Decode(Permit2({{kUsdc, "1000", 0}}, kNow + 600, false))).effect, policy::Effect::kAllow);
  // A deadline comparison sees the same lifetime.
  policy::Policy cmp = MustParse(R"({"version": 1, "rules": [
    {"id": "until", "effect": "allow", "match": {"permit": {"deadline": {"lte": ")" + std::to_string(kNow + 86400) +
                                 R"("}}}}]})");
  EXPECT_EQ(cmp.Evaluate(Decode(Permit2({{kUsdc, "1000", kNow + 365 * 86400}}, kNow + 600, false))).effect,
            policy::Effect::kDeny);
  EXPECT_EQ(cmp.Evaluate(Decode(DaiPermit(0))).effect, policy::Effect::kDeny);
}

}  // namespace
}  // namespace sigil::core
