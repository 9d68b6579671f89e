// Evaluation tests, one group per construct of the policy language.
#include "policy/policy.h"

#include <nlohmann/json.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/facts_json.h"

namespace sigil::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTreasury[] = "0x1111111111111111111111111111111111111111";
constexpr char kBob[] = "0x2222222222222222222222222222222222222222";
constexpr char kDead[] = "0x000000000000000000000000000000000000dEaD";
constexpr char kUsdc[] = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";

Policy MustParse(const std::string& text) {
  auto p = Policy::Parse(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return std::move(p).value();
}

Policy Rules(const std::string& rules, const std::string& lists = "{}") {
  return MustParse(R"({"version": 1, "lists": )" + lists + R"(, "rules": [)" + rules + "]}");
}

Facts F(const std::string& json) {
  auto f = FactsFromJson(nlohmann::json::parse(json), "facts");
  EXPECT_TRUE(f.ok()) << f.status();
  return std::move(f).value();
}

std::string Tx(const std::string& extra) {
  return R"({"kind": "eth_tx", "key": "trader", "agent": "bot-1", "chain_id": 1)" + (extra.empty() ? "" : ", " + extra) + "}";
}

Effect E(const Policy& p, const std::string& facts) { return p.Evaluate(F(facts)).effect; }

TEST(EvaluateTest, PrecedenceDenyOverApprovalOverAllow) {
  Policy p = Rules(R"(
    {"id": "allow-all", "effect": "allow", "match": {"kind": "eth_tx"}},
    {"id": "hold-big", "effect": "require_approval", "match": {"value": {"gt": "1 ether"}}},
    {"id": "no-bob", "effect": "deny", "match": {"to": ")" + std::string(kBob) + R"("}, "reason": "bob is blocked"})");
  Decision d = p.Evaluate(F(Tx(R"("to": ")" + std::string(kTreasury) + R"(", "value": "0.1 ether")")));
  EXPECT_EQ(d.effect, Effect::kAllow);
  EXPECT_EQ(d.rule_id, "allow-all");
  EXPECT_EQ(d.reason, "allowed by rule allow-all");
  d = p.Evaluate(F(Tx(R"("to": ")" + std::string(kTreasury) + R"(", "value": "2 ether")")));
  EXPECT_EQ(d.effect, Effect::kRequireApproval);
  EXPECT_EQ(d.rule_id, "hold-big");
  EXPECT_THAT(d.matched_rules, ElementsAre("allow-all", "hold-big"));
  ASSERT_TRUE(d.approval);
  EXPECT_EQ(d.approval->quorum, 1);
  EXPECT_EQ(d.approval->rule_id, "hold-big");
  d = p.Evaluate(F(Tx(R"("to": ")" + std::string(kBob) + R"(", "value": "2 ether")")));
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.rule_id, "no-bob");
  EXPECT_EQ(d.reason, "bob is blocked");
  EXPECT_EQ(d.policy_version, 1u);
  EXPECT_EQ(d.policy_hash, p.hash_hex());
}

TEST(EvaluateTest, NothingMatchedIsDeniedWithTheClosestRule) {
  Policy p = Rules(R"(
    {"id": "small", "effect": "allow", "keys": ["trader"], "match": {"kind": "eth_tx", "value": {"lte": "0.5 ether"}}},
    {"id": "messages", "effect": "allow", "keys": ["signer"], "match": {"kind": "eth_message"}})");
  Decision d = p.Evaluate(F(Tx(R"("to": ")" + std::string(kBob) + R"(", "value": "0.6 ether")")));
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.rule_id, "");
  EXPECT_EQ(d.reason,
            "no rule allows this request; the closest rule, small, does not match: value 0.6 ether is more than "
            "0.5 ether (rules[0].match.value.lte)");
  EXPECT_EQ(Rules("").Evaluate(F(Tx(""))).reason, "no rule allows this request");
}

TEST(EvaluateTest, KeysAndAgents) {
  Policy p = Rules(R"({"id": "r", "effect": "allow", "keys": ["trader", "ops"], "agents": "@bots"})",
                   R"({"bots": ["bot-1", "bot-2"]})");
  EXPECT_EQ(E(p, Tx("")), Effect::kAllow);
  EXPECT_EQ(E(p, R"({"kind": "eth_tx", "chain_id": 1, "key": "ops", "agent": "bot-2"})"), Effect::kAllow);
  EXPECT_EQ(E(p, R"({"kind": "eth_tx", "chain_id": 1, "key": "cold", "agent": "bot-1"})"), Effect::kDeny);
  EXPECT_EQ(E(p, R"({"kind": "eth_tx", "chain_id": 1, "key": "trader", "agent": "bot-3"})"), Effect::kDeny);
  // A rule out of the caller's scope is not named to it.
  EXPECT_EQ(p.Evaluate(F(R"({"kind": "eth_tx", "chain_id": 1, "key": "trader", "agent": "bot-3"})")).reason,
            "no rule allows this request");
}

// The closest-rule hint never names another agent's (or another key's) rule
// or its conditions: bot-9 was told "the closest rule, bot2-pay, does not
// match: ... not in @bot2_payees".
TEST(EvaluateTest, TheClosestRuleIsChosenOnlyAmongTheCallersRules) {
  Policy p = Rules(R"(
    {"id": "bot2-pay", "effect": "allow", "agents": ["bot-2"], "match": {"kind": "eth_tx", "to": "@bot2_payees"}},
    {"id": "ops-pay", "effect": "allow", "keys": ["ops"], "match": {"kind": "eth_tx", "value": {"lte": "1 ether"}}},
    {"id": "bot9-messages", "effect": "allow", "agents": ["bot-9"], "match": {"kind": "eth_message"}})",
                   R"({"bot2_payees": ["0x2222222222222222222222222222222222222222"]})");
  const std::string tx = R"({"kind": "eth_tx", "chain_id": 1, "key": "trader", "agent": "bot-9",
                             "to": "0x3333333333333333333333333333333333333333", "value": "0.05 ether"})";
  Decision d = p.Evaluate(F(tx));
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_THAT(d.reason, HasSubstr("the closest rule, bot9-messages, does not match"));
  EXPECT_THAT(d.reason, Not(HasSubstr("bot2")));
  EXPECT_THAT(d.reason, Not(HasSubstr("ops-pay")));
  // With no rule in its scope, the caller learns only that nothing allows it.
  Policy others = Rules(R"(
    {"id": "bot2-pay", "effect": "allow", "agents": ["bot-2"], "match": {"kind": "eth_tx", "to": "@bot2_payees"}})",
                        R"({"bot2_payees": ["0x2222222222222222222222222222222222222222"]})");
  EXPECT_EQ(others.Evaluate(F(tx)).reason, "no rule allows this request");
}

TEST(EvaluateTest, KindAndChainId) {
  Policy p = Rules(R"({"id": "r", "effect": "allow", "match": {"kind": ["eth_tx", "eth_message"], "chain_id": [1, 42161]}})");
  EXPECT_EQ(E(p, Tx("")), Effect::kAllow);
  EXPECT_EQ(E(p, R"({"kind": "eth_tx", "chain_id": 42161})"), Effect::kAllow);
  EXPECT_EQ(E(p, R"({"kind": "eth_tx", "chain_id": 10})"), Effect::kDeny);
  // An eth_message has no chain id: the chain_id condition does not hold.
  EXPECT_EQ(E(p, R"({"kind": "eth_message"})"), Effect::kDeny);
  EXPECT_EQ(E(p, R"({"kind": "nostr_event", "nostr": {"event_kind": 1}})"), Effect::kDeny);
}

TEST(EvaluateTest, TransactionsWithoutChainIdNeedARuleThatSaysSo) {
  Policy p = Rules(R"({"id": "any-tx", "effect": "allow", "match": {"kind": "eth_tx"}})");
  EXPECT_EQ(E(p, R"({"kind": "eth_tx"})"), Effect::kDeny);
  EXPECT_THAT(p.Evaluate(F(R"({"kind": "eth_tx"})")).reason, HasSubstr("no chain id (pre-EIP-155)"));
  Policy legacy = Rules(R"(
    {"id": "legacy", "effect": "allow", "match": {"kind": "eth_tx", "allow_no_chain_id": true, "chain_id": 1}},
    {"id": "never-dead", "effect": "deny", "match": {"to": ")" + std::string(kDead) + R"("}})");
  EXPECT_EQ(E(legacy, R"({"kind": "eth_tx"})"), Effect::kAllow);
  EXPECT_EQ(E(legacy, R"({"kind": "eth_tx", "chain_id": 1})"), Effect::kAllow);
  EXPECT_EQ(E(legacy, R"({"kind": "eth_tx", "chain_id": 5})"), Effect::kDeny);
  // Deny rules apply to pre-EIP-155 transactions too.
  EXPECT_EQ(E(legacy, R"({"kind": "eth_tx", "to": ")" + std::string(kDead) + R"("})"), Effect::kDeny);
}

TEST(EvaluateTest, RawDigestOnlyWhenNamed) {
  Policy generic = Rules(R"({"id": "everything", "effect": "allow"})");
  EXPECT_EQ(E(generic, R"({"kind": "eth_message"})"), Effect::kAllow);
  EXPECT_EQ(E(generic, R"({"kind": "raw_digest"})"), Effect::kDeny);
  Policy named = Rules(R"({"id": "digests", "effect": "allow", "keys": ["hsm"], "match": {"kind": "raw_digest"}},
                           {"id": "freeze", "effect": "deny", "agents": ["rogue"]})");
  EXPECT_EQ(E(named, R"({"kind": "raw_digest", "key": "hsm"})"), Effect::kAllow);
  EXPECT_EQ(E(named, R"({"kind": "raw_digest", "key": "hsm", "agent": "rogue"})"), Effect::kDeny);
}

// The named-kind gate restricts allow rules only: a hold rule that does not
// name raw_digest (or allow_no_chain_id) still holds such a request that an
// allow rule lets through (the audit's repro_hold_bypass).
TEST(EvaluateTest, HoldRulesApplyToNamedKindsWithoutNamingThem) {
  Policy p = Rules(R"({"id": "hold-everything-from-bot", "effect": "require_approval", "agents": ["bot"]},
                      {"id": "digests", "effect": "allow", "keys": ["trader"], "match": {"kind": "raw_digest"}},
                      {"id": "legacy", "effect": "allow", "keys": ["trader"],
                       "match": {"kind": "eth_tx", "allow_no_chain_id": true}})");
  Decision d = p.Evaluate(F(R"({"kind": "raw_digest", "key": "trader", "agent": "bot"})"));
  EXPECT_EQ(d.effect, Effect::kRequireApproval);
  EXPECT_EQ(d.rule_id, "hold-everything-from-bot");
  d = p.Evaluate(F(R"({"kind": "eth_tx", "key": "trader", "agent": "bot"})"));
  EXPECT_EQ(d.effect, Effect::kRequireApproval);
  EXPECT_EQ(d.rule_id, "hold-everything-from-bot");
  // Another agent is not held.
  EXPECT_EQ(E(p, R"({"kind": "raw_digest", "key": "trader", "agent": "bot-2"})"), Effect::kAllow);
  // A hold rule that does not name the kind cannot make it signable on its
  // own: without an allow or hold rule naming raw_digest it stays denied.
  d = p.Evaluate(F(R"({"kind": "raw_digest", "key": "other", "agent": "bot"})"));
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_THAT(d.reason, HasSubstr("no rule allows this request"));
  EXPECT_TRUE(d.matched_rules.empty());
  d = p.Evaluate(F(R"({"kind": "eth_tx", "key": "other", "agent": "bot"})"));
  EXPECT_EQ(d.effect, Effect::kDeny);
  // A hold rule that names the kind is enough to hold it.
  Policy named = Rules(R"({"id": "hold-digests", "effect": "require_approval", "match": {"kind": "raw_digest"}})");
  EXPECT_EQ(E(named, R"({"kind": "raw_digest", "key": "other"})"), Effect::kRequireApproval);
}

TEST(EvaluateTest, ToAndFromLists) {
  Policy p = Rules(R"({"id": "no-blocked", "effect": "deny", "match": {"to": {"in": "@blocked"}}},
                      {"id": "pay", "effect": "allow", "match": {"to": {"in": ["@treasury", ")" + std::string(kBob) + R"("], "not_in": "@frozen"},
                                                                  "from": {"not_in": ["0x9999999999999999999999999999999999999999"]}}})",
                   R"({"treasury": [")" + std::string(kTreasury) + R"("], "blocked": [")" + std::string(kDead) +
                       R"("], "frozen": [")" + std::string(kBob) + R"("]})");
  EXPECT_EQ(E(p, Tx(R"("to": ")" + std::string(kTreasury) + R"(", "from": ")" + std::string(kBob) + R"(")")), Effect::kAllow);
  // Without a sender the `from` condition cannot hold (absent facts never match).
  EXPECT_EQ(E(p, Tx(R"("to": ")" + std::string(kTreasury) + R"(")")), Effect::kDeny);
  // The blocked list is checksummed, the request lower case (and vice versa): same account.
  EXPECT_EQ(E(p, Tx(R"("to": "0x000000000000000000000000000000000000dead")")), Effect::kDeny);
  EXPECT_EQ(p.Evaluate(F(Tx(R"("to": "0x000000000000000000000000000000000000DEAD")"))).rule_id, "no-blocked");
  // In the allow list but also in not_in.
  EXPECT_EQ(E(p, Tx(R"("to": ")" + std::string(kBob) + R"(")")), Effect::kDeny);
  // Contract creation has no recipient: `to` conditions do not hold.
  EXPECT_EQ(E(p, Tx("")), Effect::kDeny);
  EXPECT_EQ(E(p, Tx(R"("to": ")" + std::string(kTreasury) + R"(", "from": "0x9999999999999999999999999999999999999999")")),
            Effect::kDeny);
  // Facts are normalised inside Evaluate even if the caller forgot.
  Facts upper = F(Tx(""));
  upper.to = "0x000000000000000000000000000000000000DEAD";
  EXPECT_EQ(p.Evaluate(upper).rule_id, "no-blocked");
}

// A contract creation has no recipient, so none on an approved list: a deny
// or hold rule that only excludes (`to: {not_in: ...}`) catches it, while
// allow rules and `in` conditions still never match it, and requests of other
// kinds (which have no recipient at all) are not caught.
TEST(EvaluateTest, ContractCreationIsOnNoApprovedList) {
  const std::string lists = R"({"approved": [")" + std::string(kTreasury) + R"("]})";
  Policy p = Rules(R"({"id": "only-approved", "effect": "deny", "match": {"to": {"not_in": "@approved"}}},
                      {"id": "txs", "effect": "allow", "match": {"kind": "eth_tx"}},
                      {"id": "msgs", "effect": "allow", "match": {"kind": "eth_message"}})",
                   lists);
  EXPECT_EQ(E(p, Tx(R"("to": ")" + std::string(kTreasury) + R"(")")), Effect::kAllow);
  EXPECT_EQ(p.Evaluate(F(Tx(R"("to": ")" + std::string(kBob) + R"(")"))).rule_id, "only-approved");
  Decision creation = p.Evaluate(F(Tx("")));
  EXPECT_EQ(creation.effect, Effect::kDeny);
  EXPECT_EQ(creation.rule_id, "only-approved");
  EXPECT_EQ(E(p, R"({"kind": "eth_message", "key": "trader"})"), Effect::kAllow);

  // A hold rule written so holds it.
  Policy hold = Rules(R"({"id": "review", "effect": "require_approval", "match": {"kind": "eth_tx", "to": {"not_in": "@approved"}}},
                         {"id": "txs", "effect": "allow", "match": {"kind": "eth_tx"}})",
                      lists);
  EXPECT_EQ(E(hold, Tx("")), Effect::kRequireApproval);
  // An `in` condition (alone or with not_in) never matches a missing recipient.
  Policy in = Rules(R"({"id": "blocked", "effect": "deny", "match": {"to": {"in": "@approved", "not_in": "@none"}}},
                       {"id": "txs", "effect": "allow", "match": {"kind": "eth_tx"}})",
                    R"({"approved": [")" + std::string(kTreasury) + R"("], "none": [")" + std::string(kBob) + R"("]})");
  EXPECT_EQ(E(in, Tx("")), Effect::kAllow);
  // Allow rules stay cautious: an allow rule that only excludes does not
  // allow a contract creation.
  Policy allow = Rules(R"({"id": "not-blocked", "effect": "allow", "match": {"to": {"not_in": "@approved"}}})", lists);
  EXPECT_EQ(E(allow, Tx("")), Effect::kDeny);
  EXPECT_EQ(E(allow, Tx(R"("to": ")" + std::string(kBob) + R"(")")), Effect::kAllow);
}

// When several rules hold a request, their approvals combine: the highest
// quorum, a second factor if any asks, the shortest expiry; the first rule in
// document order is named and gives the role. A lenient hold rule written
// first cannot lower what a large payment needs.
TEST(EvaluateTest, MatchingHoldRulesCombineTheirApprovals) {
  const std::string lists = R"({"approved": [")" + std::string(kTreasury) + R"("]})";
  Policy p = Rules(R"({"id": "unlisted", "effect": "require_approval", "match": {"kind": "eth_tx", "to": {"not_in": "@approved"}}},
                      {"id": "big", "effect": "require_approval", "match": {"kind": "eth_tx", "value": {"gt": "1 ether"}},
                       "approval": {"quorum": 3}},
                      {"id": "big-2fa", "effect": "require_approval", "match": {"kind": "eth_tx", "value": {"gt": "2 ether"}},
                       "approval": {"quorum": 2, "second_factor": "totp"}},
                      {"id": "txs", "effect": "allow", "match": {"kind": "eth_tx"}})",
                   lists);
  for (const std::string& to : {std::string(""), R"("to": ")" + std::string(kBob) + R"(", )"}) {
    Decision big = p.Evaluate(F(Tx(to + R"("value": "1500000000000000000")")));
    EXPECT_EQ(big.effect, Effect::kRequireApproval);
    EXPECT_EQ(big.rule_id, "unlisted") << to;
    ASSERT_TRUE(big.approval.has_value());
    EXPECT_EQ(big.approval->quorum, 3) << to;
    EXPECT_EQ(big.approval->second_factor, SecondFactor::kNone);
    Decision bigger = p.Evaluate(F(Tx(to + R"("value": "5000000000000000000")")));
    ASSERT_TRUE(bigger.approval.has_value());
    EXPECT_EQ(bigger.approval->quorum, 3) << to;
    EXPECT_EQ(bigger.approval->second_factor, SecondFactor::kTotp) << to;
    Decision small = p.Evaluate(F(Tx(to + R"("value": "1")")));
    EXPECT_EQ(small.rule_id, "unlisted") << to;
    ASSERT_TRUE(small.approval.has_value());
    EXPECT_EQ(small.approval->quorum, 1);
  }
  // To an approved address only the value rules hold it.
  Decision listed = p.Evaluate(F(Tx(R"("to": ")" + std::string(kTreasury) + R"(", "value": "1500000000000000000")")));
  EXPECT_EQ(listed.rule_id, "big");
  ASSERT_TRUE(listed.approval.has_value());
  EXPECT_EQ(listed.approval->quorum, 3);

  // A budget's hold combines too; the role and the name are the first rule's.
  Policy roles = Rules(R"({"id": "allowance", "effect": "allow", "match": {"kind": "eth_tx"},
                           "budgets": [{"window": "24h", "max_value": "1 ether", "on_exceed": "require_approval"}],
                           "approval": {"quorum": 1, "role": "treasury", "second_factor": "totp", "expires": "30m"}},
                          {"id": "unlisted", "effect": "require_approval", "match": {"kind": "eth_tx", "to": {"not_in": "@approved"}},
                           "approval": {"quorum": 2, "expires": "2h"}})",
                       lists);
  Decision both = roles.Evaluate(F(Tx(R"("to": ")" + std::string(kBob) + R"(", "value": "2000000000000000000")")));
  EXPECT_EQ(both.effect, Effect::kRequireApproval);
  EXPECT_EQ(both.rule_id, "allowance");
  ASSERT_TRUE(both.approval.has_value());
  EXPECT_EQ(both.approval->rule_id, "allowance");
  EXPECT_EQ(both.approval->role, "treasury");
  EXPECT_EQ(both.approval->quorum, 2);
  EXPECT_EQ(both.approval->second_factor, SecondFactor::kTotp);
  EXPECT_EQ(both.approval->expires, absl::Minutes(30));
}

// List entries compare as written where they are names and normalised where
// they are addresses or Nostr tag values.
TEST(EvaluateTest, ListsOfNamesAndOfAddresses) {
  const std::string id = "0x1111111111111111111111111111111111111111111111111111111111111111";
  Policy p = Rules(R"({"id": "named", "effect": "allow",
                       "match": {"kind": "eth_typed_data", "primary_type": "@ids", "domain": {"name": "@names", "verifying_contract": "@contracts"}}})",
                   R"({"ids": [")" + id + R"("], "names": ["0x Protocol"], "contracts": [")" + std::string(kUsdc) + R"("]})");
  auto typed = [](const std::string& primary_type, const std::string& name, const std::string& contract) {
    return R"({"kind": "eth_typed_data", "typed_data": {"primary_type": ")" + primary_type + R"(", "domain": {"name": ")" + name +
           R"(", "verifying_contract": ")" + contract + R"("}}})";
  };
  const std::string usdc_lower = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";
  EXPECT_EQ(E(p, typed(id, "0x Protocol", kUsdc)), Effect::kAllow);
  EXPECT_EQ(E(p, typed(id, "0x Protocol", usdc_lower)), Effect::kAllow);
  EXPECT_EQ(E(p, typed(id, "0x protocol", usdc_lower)), Effect::kDeny);  // names compare exactly
  Policy tags = Rules(R"({"id": "dms", "effect": "allow", "match": {"kind": "nostr_event", "tags": {"p": {"in": "@friends"}}}})",
                      R"({"friends": ["AA00000000000000000000000000000000000000000000000000000000000001"]})");
  EXPECT_EQ(E(tags, R"({"kind": "nostr_event", "nostr": {"event_kind": 4, "tags": [["p", "aa00000000000000000000000000000000000000000000000000000000000001"]]}})"),
            Effect::kAllow);
}

TEST(EvaluateTest, ValueComparisons) {
  auto eval = [](const std::string& cmp, const std::string& value) {
    Policy p = Rules(R"({"id": "r", "effect": "allow", "match": {"value": )" + cmp + "}}");
    return E(p, Tx(R"("value": ")" + value + R"(")"));
  };
  EXPECT_EQ(eval(R"({"lte": "0.5 ether"})", "0.5 ether"), Effect::kAllow);
  EXPECT_EQ(eval(R"({"lte": "0.5 ether"})", "500000000000000001"), Effect::kDeny);
  EXPECT_EQ(eval(R"({"lt": "0.5 ether"})", "0.5 ether"), Effect::kDeny);
  EXPECT_EQ(eval(R"({"gt": "1 gwei"})", "1000000001"), Effect::kAllow);
  EXPECT_EQ(eval(R"({"gte": "0x3b9aca00"})", "1 gwei"), Effect::kAllow);
  EXPECT_EQ(eval(R"({"eq": "0"})", "0"), Effect::kAllow);
  EXPECT_EQ(eval(R"({"gt": "1 ether", "lt": "2 ether"})", "1.5 ether"), Effect::kAllow);
  EXPECT_EQ(eval(R"({"gt": "1 ether", "lt": "2 ether"})", "2.5 ether"), Effect::kDeny);
  EXPECT_EQ(eval(R"({"lte": "115792089237316195423570985008687907853269984665640564039457584007913129639935"})",
                 "115792089237316195423570985008687907853269984665640564039457584007913129639935"),
            Effect::kAllow);
}

TEST(EvaluateTest, GasConditions) {
  Policy p = Rules(R"({"id": "r", "effect": "allow", "match": {"max_fee_per_gas": {"lte": "200 gwei"},
                       "max_priority_fee_per_gas": {"lte": "3 gwei"}, "gas_limit": {"lte": 300000}, "nonce": {"lt": 1000}}})");
  EXPECT_EQ(E(p, Tx(R"("max_fee_per_gas": "150 gwei", "max_priority_fee_per_gas": "2 gwei", "gas_limit": 21000, "nonce": 5)")),
            Effect::kAllow);
  EXPECT_EQ(E(p, Tx(R"("max_fee_per_gas": "201 gwei", "max_priority_fee_per_gas": "2 gwei", "gas_limit": 21000, "nonce": 5)")),
            Effect::kDeny);
  EXPECT_EQ(E(p, Tx(R"("max_fee_per_gas": "150 gwei", "max_priority_fee_per_gas": "2 gwei", "gas_limit": 500000, "nonce": 5)")),
            Effect::kDeny);
  EXPECT_EQ(E(p, Tx(R"("max_fee_per_gas": "150 gwei", "max_priority_fee_per_gas": "2 gwei", "gas_limit": 21000, "nonce": 1000)")),
            Effect::kDeny);
  // A legacy transaction's gas price stands in for both fee caps.
  EXPECT_EQ(E(p, Tx(R"("gas_price": "3 gwei", "gas_limit": 21000, "nonce": 1)")), Effect::kAllow);
  EXPECT_EQ(E(p, Tx(R"("gas_price": "4 gwei", "gas_limit": 21000, "nonce": 1)")), Effect::kDeny);
}

TEST(EvaluateTest, MethodAndCalldata) {
  Policy p = Rules(R"J({"id": "plain", "effect": "allow", "match": {"calldata": false}},
                       {"id": "transfers", "effect": "allow", "match": {"method": "transfer(address,uint256)"}})J");
  EXPECT_EQ(p.Evaluate(F(Tx(""))).rule_id, "plain");
  EXPECT_EQ(p.Evaluate(F(Tx(R"("method": "0xa9059cbb")"))).rule_id, "transfers");
  EXPECT_EQ(E(p, Tx(R"J("method": "approve(address,uint256)")J")), Effect::kDeny);
  EXPECT_EQ(E(p, R"({"kind": "eth_message"})"), Effect::kDeny);  // calldata is an eth_tx fact
}

TEST(EvaluateTest, Erc20) {
  Policy p = Rules(R"({"id": "usdc", "effect": "allow", "match": {"chain_id": 1, "erc20": {"token": ")" + std::string(kUsdc) +
                       R"(", "method": ["transfer", "transferFrom"], "to": {"in": "@treasury"}, "amount": {"lte": "1000000000"}}}},
                      {"id": "no-unlimited", "effect": "deny", "match": {"erc20": {"method": "approve", "unlimited": true}}},
                      {"id": "approvals", "effect": "require_approval", "match": {"erc20": {"method": "approve"}}})",
                   R"({"treasury": [")" + std::string(kTreasury) + R"("]})");
  auto erc20 = [](const std::string& method, const std::string& to, const std::string& amount) {
    return Tx(R"("erc20": {"token": ")" + std::string(kUsdc) + R"(", "method": ")" + method + R"(", "to": ")" + to +
              R"(", "amount": ")" + amount + R"("})");
  };
  EXPECT_EQ(E(p, erc20("transfer", kTreasury, "1000000000")), Effect::kAllow);
  EXPECT_EQ(E(p, erc20("transfer", kTreasury, "1000000001")), Effect::kDeny);
  EXPECT_EQ(E(p, erc20("transfer", kBob, "1")), Effect::kDeny);
  EXPECT_EQ(E(p, erc20("approve", kBob, "5")), Effect::kRequireApproval);
  Decision d = p.Evaluate(F(erc20("approve", kBob, "115792089237316195423570985008687907853269984665640564039457584007913129639935")));
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.rule_id, "no-unlimited");
  // A different token with the same call is not USDC.
  EXPECT_EQ(E(p, Tx(R"("erc20": {"token": ")" + std::string(kBob) + R"(", "method": "transfer", "to": ")" +
                    std::string(kTreasury) + R"(", "amount": "1"})")),
            Effect::kDeny);
}

TEST(EvaluateTest, TypedDataDomainAndPermit) {
  Policy p = Rules(R"({"id": "offers", "effect": "allow", "match": {"kind": "eth_typed_data", "domain": {"name": "Seaport", "version": ["1.5", "1.6"], "chain_id": 1, "verifying_contract": {"in": "@treasury"}}, "primary_type": "OrderComponents"}},
                      {"id": "unlimited-permits", "effect": "deny", "match": {"permit": {"unlimited": true}}},
                      {"id": "short-permits", "effect": "allow", "match": {"typed_data": {"permit": {"kind": ["permit", "permit2"], "spender": {"in": "@treasury"}, "amount": {"lte": "1000"}, "max_deadline_in": "1h"}}}})",
                   R"({"treasury": [")" + std::string(kTreasury) + R"("]})");
  const std::string offer = R"({"kind": "eth_typed_data", "typed_data": {"domain": {"name": "Seaport", "version": "1.6", "chain_id": 1, "verifying_contract": ")" +
                            std::string(kTreasury) + R"("}, "primary_type": "OrderComponents"}})";
  EXPECT_EQ(E(p, offer), Effect::kAllow);
  std::string wrong_chain = offer;
  wrong_chain.replace(wrong_chain.find("\"chain_id\": 1"), 13, "\"chain_id\": 5");
  EXPECT_EQ(E(p, wrong_chain), Effect::kDeny);
  std::string wrong_version = offer;
  wrong_version.replace(wrong_version.find("1.6"), 3, "1.4");
  EXPECT_EQ(E(p, wrong_version), Effect::kDeny);

  auto permit = [](const std::string& spender, const std::string& amount, uint64_t deadline) {
    return R"({"kind": "eth_typed_data", "time": 1767614400, "typed_data": {"domain": {"name": "USD Coin", "chain_id": 1, "verifying_contract": ")" +
           std::string(kUsdc) + R"("}, "primary_type": "Permit", "permit": {"kind": "permit", "spender": ")" + spender +
           R"(", "amount": ")" + amount + R"(", "deadline": )" + std::to_string(deadline) + "}}}";
  };
  EXPECT_EQ(E(p, permit(kTreasury, "1000", 1767614400 + 3600)), Effect::kAllow);
  EXPECT_EQ(E(p, permit(kTreasury, "1000", 1767614400 + 3601)), Effect::kDeny);
  EXPECT_EQ(E(p, permit(kTreasury, "1001", 1767614400)), Effect::kDeny);
  EXPECT_EQ(E(p, permit(kBob, "1", 1767614400)), Effect::kDeny);
  Decision d = p.Evaluate(F(permit(kTreasury, "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 1767614400)));
  EXPECT_EQ(d.rule_id, "unlimited-permits");
}

// A Permit2 batch to kBob with the given allowances (PermitEntry(...) joined by commas).
std::string PermitBatch(const std::string& entries) {
  return R"({"kind": "eth_typed_data", "typed_data": {"primary_type": "PermitBatch", "permit": {"kind": "permit2_batch", "spender": ")" +
         std::string(kBob) + R"(", "allowances": [)" + entries + "]}}}";
}
std::string PermitEntry(const std::string& token, const std::string& amount) {
  return R"({"token": ")" + token + R"(", "amount": ")" + amount + R"("})";
}

// A Permit2 batch's entries are several values: any for deny, every for allow.
TEST(EvaluateTest, PermitBatchEntriesAreQuantified) {
  Policy p = Rules(R"({"id": "no-dead-token", "effect": "deny", "match": {"permit": {"token": ")" + std::string(kDead) + R"("}}},
                      {"id": "usdc-permits", "effect": "allow", "match": {"permit": {"token": ")" + std::string(kUsdc) + R"(", "amount": {"lte": "1000"}}},
                       "budgets": [{"window": "1d", "max_amount": "1500"}]})");
  EXPECT_EQ(E(p, PermitBatch(PermitEntry(kUsdc, "10"))), Effect::kAllow);
  // A deny on one token fires whatever its place or size in the batch.
  Decision d = p.Evaluate(F(PermitBatch(PermitEntry(kUsdc, "1000") + "," + PermitEntry(kDead, "1"))));
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.rule_id, "no-dead-token");
  // An allow needs every entry: another token, or one amount over the bound, fails it.
  EXPECT_EQ(E(p, PermitBatch(PermitEntry(kUsdc, "10") + "," + PermitEntry(kTreasury, "1"))), Effect::kDeny);
  EXPECT_EQ(E(p, PermitBatch(PermitEntry(kUsdc, "10") + "," + PermitEntry(kUsdc, "1001"))), Effect::kDeny);
  // Conditions are quantified one by one, not per entry: a deny on a token
  // and a large amount fires when one entry names the token and another is
  // large (doc/policy.md, "several values": it errs toward refusing).
  Policy pair = Rules(R"({"id": "big-dead", "effect": "deny", "match": {"permit": {"token": ")" + std::string(kDead) +
                      R"(", "amount": {"gt": "1000"}}}},
                         {"id": "permits", "effect": "allow", "match": {"kind": "eth_typed_data"}})");
  EXPECT_EQ(E(pair, PermitBatch(PermitEntry(kDead, "1") + "," + PermitEntry(kUsdc, "5000"))), Effect::kDeny);
  EXPECT_EQ(E(pair, PermitBatch(PermitEntry(kDead, "1") + "," + PermitEntry(kUsdc, "50"))), Effect::kAllow);
  // Entries of one token are summed against its budget.
  d = p.Evaluate(F(PermitBatch(PermitEntry(kUsdc, "1000") + "," + PermitEntry(kUsdc, "1000"))));
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_THAT(d.reason, HasSubstr("requested 2000"));
}

// A hold rule has two jobs. As a permissive match it makes a request
// signable only when every value satisfies it; as a hold it fires when any
// value does, so a large allowance or a risky token cannot hide in a batch
// behind dust that a general allow rule lets through.
TEST(EvaluateTest, HoldRulesFireOnAnyValueOfABatch) {
  const std::string hold_big = R"({"id": "big-permit-held", "effect": "require_approval",
                                   "match": {"permit": {"amount": {"gt": "1000000"}}},
                                   "approval": {"quorum": 2, "role": "treasury"},
                                   "budgets": [{"window": "1d", "max_count": 5}]})";
  Policy p = Rules(hold_big + R"(,
                      {"id": "risky-token-held", "effect": "require_approval", "match": {"permit": {"token": {"in": "@risky"}}}},
                      {"id": "router-permits", "effect": "allow",
                       "match": {"kind": "eth_typed_data", "permit": {"kind": "permit2", "spender": ")" + std::string(kBob) + R"("}}})",
                   R"({"risky": [")" + std::string(kDead) + R"("]})");
  EXPECT_EQ(E(p, PermitBatch(PermitEntry(kUsdc, "10") + "," + PermitEntry(kTreasury, "1"))), Effect::kAllow);
  EXPECT_EQ(E(p, PermitBatch(PermitEntry(kUsdc, "999999999999"))), Effect::kRequireApproval);
  // One large entry among dust is held, by the hold rule and on its terms.
  Decision d = p.Evaluate(F(PermitBatch(PermitEntry(kUsdc, "999999999999") + "," + PermitEntry(kTreasury, "1"))));
  EXPECT_EQ(d.effect, Effect::kRequireApproval);
  EXPECT_EQ(d.rule_id, "big-permit-held");
  ASSERT_TRUE(d.approval.has_value());
  EXPECT_EQ(d.approval->quorum, 2);
  EXPECT_EQ(d.approval->role, "treasury");
  EXPECT_THAT(d.matched_rules, ElementsAre("big-permit-held", "router-permits"));
  // The holding rule's budgets apply as for any rule that matches.
  ASSERT_EQ(d.budgets.size(), 1u);
  EXPECT_EQ(d.budgets[0].rule_id, "big-permit-held");
  // Re-deciding on what the ledger saw keeps the hold.
  std::vector<Uint256> spent(d.charges.size());
  p.ApplySpent(d, spent);
  EXPECT_EQ(d.effect, Effect::kRequireApproval);
  EXPECT_EQ(d.rule_id, "big-permit-held");
  // One risky token among others is held.
  d = p.Evaluate(F(PermitBatch(PermitEntry(kDead, "5") + "," + PermitEntry(kTreasury, "1"))));
  EXPECT_EQ(d.effect, Effect::kRequireApproval);
  EXPECT_EQ(d.rule_id, "risky-token-held");
  // A hold rule alone makes a batch signable (held) only if every entry
  // satisfies it.
  Policy holds_only = Rules(hold_big);
  EXPECT_EQ(E(holds_only, PermitBatch(PermitEntry(kUsdc, "999999999999") + "," + PermitEntry(kTreasury, "2000000"))), Effect::kRequireApproval);
  d = holds_only.Evaluate(F(PermitBatch(PermitEntry(kUsdc, "999999999999") + "," + PermitEntry(kTreasury, "1"))));
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_THAT(d.reason, HasSubstr("no rule allows this request"));
  EXPECT_TRUE(d.matched_rules.empty());
  // Deny still beats the hold.
  Policy deny = Rules(hold_big + R"(,
                      {"id": "no-dead", "effect": "deny", "match": {"permit": {"token": ")" + std::string(kDead) + R"("}}},
                      {"id": "all-permits", "effect": "allow", "match": {"kind": "eth_typed_data"}})");
  d = deny.Evaluate(F(PermitBatch(PermitEntry(kUsdc, "999999999999") + "," + PermitEntry(kDead, "1"))));
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.rule_id, "no-dead");
}

TEST(EvaluateTest, HoldRulesFireOnAnySolanaTransfer) {
  Policy p = Rules(R"({"id": "big-sol-held", "effect": "require_approval", "match": {"kind": "solana_tx", "solana": {"amount": {"gt": "1000000000"}}}},
                      {"id": "sol", "effect": "allow", "match": {"kind": "solana_tx"}})");
  auto tx = [](std::initializer_list<std::string> amounts) {
    std::string transfers;
    for (const std::string& a : amounts) {
      transfers += std::string(transfers.empty() ? "" : ",") + R"({"to": "Payee111111111111111111111111111111111111", "amount": )" + a + "}";
    }
    return R"({"kind": "solana_tx", "solana": {"programs": ["system"], "transfers": [)" + transfers + "]}}";
  };
  EXPECT_EQ(E(p, tx({"1", "2"})), Effect::kAllow);
  EXPECT_EQ(E(p, tx({"5000000000"})), Effect::kRequireApproval);
  Decision d = p.Evaluate(F(tx({"5000000000", "1"})));
  EXPECT_EQ(d.effect, Effect::kRequireApproval);
  EXPECT_EQ(d.rule_id, "big-sol-held");
}

TEST(EvaluateTest, NostrKindsAndTags) {
  Policy p = Rules(R"({"id": "no-spam", "effect": "deny", "match": {"tags": {"t": {"in": ["spam"]}}}},
                      {"id": "notes", "effect": "allow", "match": {"kind": "nostr_event", "event_kind": [1, 7], "nostr": {"tags": {"p": {"in": "@friends"}}}}})",
                   R"({"friends": ["aa00000000000000000000000000000000000000000000000000000000000000"]})");
  auto ev = [](int kind, const std::string& tags) {
    return R"({"kind": "nostr_event", "nostr": {"event_kind": )" + std::to_string(kind) + R"(, "tags": )" + tags + "}}";
  };
  EXPECT_EQ(E(p, ev(1, "[]")), Effect::kAllow);  // no p tags: nothing to check
  EXPECT_EQ(E(p, ev(1, R"([["p", "AA00000000000000000000000000000000000000000000000000000000000000"]])")), Effect::kAllow);
  EXPECT_EQ(E(p, ev(7, R"([["p", "aa00000000000000000000000000000000000000000000000000000000000000"], ["p", "bb"]])")),
            Effect::kDeny);  // every p tag must be a friend
  EXPECT_EQ(E(p, ev(3, "[]")), Effect::kDeny);
  EXPECT_EQ(E(p, ev(1, R"([["t", "news"], ["t", "spam"]])")), Effect::kDeny);  // any spam tag denies
  EXPECT_EQ(E(p, ev(1, R"([["t", "news"]])")), Effect::kAllow);
}

TEST(EvaluateTest, SolanaProgramsTransfersAndQuantifiers) {
  Policy p = Rules(R"({"id": "blocked", "effect": "deny", "match": {"solana": {"to": {"in": "@blocked"}}}},
                      {"id": "pay", "effect": "allow", "match": {"kind": "solana_tx", "solana": {"program": ["system", "spl_token"], "to": {"in": "@payees"}, "amount": {"lte": "1000000000"}}}})",
                   R"({"payees": ["Payee111111111111111111111111111111111111", "Payee222222222222222222222222222222222222"],
                       "blocked": ["Evil1111111111111111111111111111111111111"]})");
  auto tx = [](const std::string& transfers, const std::string& programs = R"(["system"])") {
    return R"({"kind": "solana_tx", "solana": {"programs": )" + programs + R"(, "transfers": )" + transfers + "}}";
  };
  EXPECT_EQ(E(p, tx(R"([{"to": "Payee111111111111111111111111111111111111", "amount": 5}])")), Effect::kAllow);
  EXPECT_EQ(E(p, tx(R"([{"to": "Payee111111111111111111111111111111111111", "amount": 5},
                        {"to": "Stranger11111111111111111111111111111111", "amount": 5}])")),
            Effect::kDeny);  // every recipient must be a payee
  EXPECT_EQ(E(p, tx(R"([{"to": "Payee111111111111111111111111111111111111", "amount": 5},
                        {"to": "Evil1111111111111111111111111111111111111", "amount": 5}])")),
            Effect::kDeny);  // any blocked recipient denies
  EXPECT_EQ(E(p, tx(R"([{"to": "Payee111111111111111111111111111111111111", "amount": 1000000001}])")), Effect::kDeny);
  EXPECT_EQ(E(p, tx(R"([{"to": "Payee111111111111111111111111111111111111", "amount": 5}])", R"(["system", "JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4"])")),
            Effect::kDeny);  // an unlisted program
  EXPECT_EQ(E(p, tx("[]")), Effect::kDeny);  // a condition on transfers needs transfers
}

// A rule's top-level `to` sees every native transfer of a Solana
// transaction, not only the first (a dust transfer to an allowed payee put
// first used to speak for a second transfer to anyone).
TEST(EvaluateTest, SolanaTopLevelToCoversEveryNativeTransfer) {
  Policy p = Rules(R"({"id": "blocked", "effect": "deny", "match": {"to": {"in": "@blocked"}}},
                      {"id": "pay", "effect": "allow", "match": {"kind": "solana_tx", "to": {"in": "@payees"}}})",
                   R"({"payees": ["Payee111111111111111111111111111111111111"],
                       "blocked": ["Evil1111111111111111111111111111111111111"]})");
  auto tx = [](const std::string& transfers) {
    return R"({"kind": "solana_tx", "to": "Payee111111111111111111111111111111111111",
               "solana": {"programs": ["system", "spl_token"], "transfers": )" + transfers + "}}";
  };
  EXPECT_EQ(E(p, tx(R"([{"to": "Payee111111111111111111111111111111111111", "amount": 1}])")), Effect::kAllow);
  Decision d = p.Evaluate(F(tx(R"([{"to": "Payee111111111111111111111111111111111111", "amount": 1},
                                   {"to": "Evil1111111111111111111111111111111111111", "amount": 900000000}])")));
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.rule_id, "blocked");
  EXPECT_EQ(E(p, tx(R"([{"to": "Payee111111111111111111111111111111111111", "amount": 1},
                        {"to": "Stranger11111111111111111111111111111111", "amount": 900000000}])")),
            Effect::kDeny);  // no rule allows the stranger
  // An SPL transfer is not a native one: the token rules (solana.to) judge it.
  EXPECT_EQ(E(p, tx(R"([{"to": "Payee111111111111111111111111111111111111", "amount": 1},
                        {"program": "spl_token", "to": "Stranger11111111111111111111111111111111", "amount": 5,
                         "mint": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"}])")),
            Effect::kAllow);
}

TEST(EvaluateTest, TimeWindowsInUtc) {
  Policy p = Rules(R"({"id": "office", "effect": "allow", "match": {"time": {"days": ["mon", "tue", "wed", "thu", "fri"], "hours": {"from": 9, "to": 17}}}},
                      {"id": "night", "effect": "allow", "keys": ["night"], "match": {"time": {"hours": {"from": 22, "to": 6}}}})");
  auto at = [](const std::string& time, const std::string& key = "trader") {
    return R"({"kind": "eth_message", "key": ")" + key + R"(", "time": ")" + time + R"("})";
  };
  EXPECT_EQ(E(p, at("2026-01-05T09:00:00Z")), Effect::kAllow);  // Monday
  EXPECT_EQ(E(p, at("2026-01-05T16:59:59Z")), Effect::kAllow);
  EXPECT_EQ(E(p, at("2026-01-05T17:00:00Z")), Effect::kDeny);
  EXPECT_EQ(E(p, at("2026-01-05T08:59:59Z")), Effect::kDeny);
  EXPECT_EQ(E(p, at("2026-01-10T12:00:00Z")), Effect::kDeny);  // Saturday
  EXPECT_THAT(p.Evaluate(F(at("2026-01-10T12:00:00Z"))).reason, HasSubstr("Saturday"));
  EXPECT_EQ(E(p, at("2026-01-10T23:30:00Z", "night")), Effect::kAllow);  // wraps past midnight
  EXPECT_EQ(E(p, at("2026-01-11T05:59:00Z", "night")), Effect::kAllow);
  EXPECT_EQ(E(p, at("2026-01-11T06:00:00Z", "night")), Effect::kDeny);
  // Without a request time, time conditions do not hold.
  EXPECT_EQ(E(p, R"({"kind": "eth_message"})"), Effect::kDeny);
}

TEST(EvaluateTest, RiskScore) {
  Policy p = Rules(R"({"id": "risky", "effect": "require_approval", "match": {"risk_score": {"gte": 60}}},
                      {"id": "calm", "effect": "allow", "match": {"risk_score": {"lt": 60}}})");
  EXPECT_EQ(E(p, R"({"kind": "eth_message", "risk_score": 59})"), Effect::kAllow);
  EXPECT_EQ(E(p, R"({"kind": "eth_message", "risk_score": 60})"), Effect::kRequireApproval);
  EXPECT_EQ(E(p, R"({"kind": "eth_message"})"), Effect::kDeny);  // no score: neither holds
}

// ---- budgets ---------------------------------------------------------------

class BudgetEvalTest : public ::testing::Test {
 protected:
  void SetUp() override { ledger_ = Ledger::Open(journal_, clock_).value(); }
  // Records spending as the engine would after signing.
  void Spend(const Policy& p, const std::string& facts) {
    Decision d = p.Evaluate(F(facts), ledger_.get());
    ASSERT_EQ(d.effect, Effect::kAllow) << d.reason;
    auto r = ledger_->Reserve(d.charges);
    ASSERT_TRUE(r.ok() && r->id);
    ASSERT_TRUE(ledger_->Commit(*r->id).ok());
  }
  FakeClock clock_;
  MemoryLedgerJournal journal_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(BudgetEvalTest, ValueBudgetReasonNamesLimitSpentRequestedRemaining) {
  Policy p = Rules(R"({"id": "small-payments", "effect": "allow", "match": {"kind": "eth_tx"},
                       "budgets": [{"window": "24h", "max_value": "2 ether"}]})");
  Spend(p, Tx(R"("value": "1 ether")"));
  Spend(p, Tx(R"("value": "0.9 ether")"));
  Decision d = p.Evaluate(F(Tx(R"("value": "0.5 ether")")), ledger_.get());
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.rule_id, "small-payments");
  EXPECT_EQ(d.reason,
            "24h budget exceeded: limit 2 ether, spent 1.9 ether, requested 0.5 ether; at most 0.1 ether remains");
  ASSERT_EQ(d.budgets.size(), 1u);
  EXPECT_TRUE(d.budgets[0].exceeded);
  EXPECT_EQ(d.budgets[0].remaining, Uint256::ParseAmount("0.1 ether").value());
  EXPECT_EQ(p.Evaluate(F(Tx(R"("value": "0.1 ether")")), ledger_.get()).effect, Effect::kAllow);
  // A call that moves no value is not stopped by the value budget.
  EXPECT_EQ(p.Evaluate(F(Tx(R"("value": "0")")), ledger_.get()).effect, Effect::kAllow);
  // The window rolls.
  clock_.Advance(absl::Hours(24));
  EXPECT_EQ(p.Evaluate(F(Tx(R"("value": "2 ether")")), ledger_.get()).effect, Effect::kAllow);
}

TEST_F(BudgetEvalTest, OnExceedRequireApprovalUsesTheRulesApprovalBlock) {
  Policy p = Rules(R"({"id": "r", "effect": "allow", "match": {"kind": "eth_tx"},
                       "approval": {"quorum": 2, "role": "treasury", "second_factor": "totp", "expires": "30m"},
                       "budgets": [{"window": "24h", "max_value": "1 ether", "on_exceed": "require_approval"}]})");
  Spend(p, Tx(R"("value": "1 ether")"));
  Decision d = p.Evaluate(F(Tx(R"("value": "1 wei")")), ledger_.get());
  EXPECT_EQ(d.effect, Effect::kRequireApproval);
  ASSERT_TRUE(d.approval);
  EXPECT_EQ(d.approval->quorum, 2);
  EXPECT_EQ(d.approval->role, "treasury");
  EXPECT_EQ(d.approval->second_factor, SecondFactor::kTotp);
  EXPECT_EQ(d.approval->expires, absl::Minutes(30));
  EXPECT_THAT(d.reason, HasSubstr("nothing remains"));
  EXPECT_THAT(d.reason, HasSubstr("needs 2 approvals by role \"treasury\" with TOTP, within 30m"));
}

// What an agent may still spend: every budget of a rule scoped to it and the
// key, even where a zero-value probe would not match the rule's conditions.
TEST_F(BudgetEvalTest, BudgetsListsEveryScopedRuleWithWhatIsSpent) {
  Policy p = Rules(R"({"id": "payees", "effect": "allow", "keys": ["trader"], "agents": ["bot-1"],
                       "match": {"kind": "eth_tx", "to": "0x1111111111111111111111111111111111111111", "value": {"gt": "0"}},
                       "budgets": [{"window": "24h", "max_value": "1 ether", "max_count": 5}]},
                      {"id": "other-agent", "effect": "allow", "agents": ["bot-2"], "budgets": [{"window": "1h", "max_count": 1}]},
                      {"id": "never", "effect": "deny", "match": {"value": {"gt": "5 ether"}}})");
  Spend(p, Tx(R"("to": "0x1111111111111111111111111111111111111111", "value": "0.25 ether")"));
  std::vector<BudgetStatus> b = p.Budgets("trader", "bot-1", ledger_.get());
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].rule_id, "payees");
  EXPECT_EQ(b[0].measure, "value");
  EXPECT_EQ(b[0].spent, Uint256::ParseAmount("0.25 ether").value());
  EXPECT_EQ(b[0].remaining, Uint256::ParseAmount("0.75 ether").value());
  EXPECT_EQ(b[1].measure, "count");
  EXPECT_EQ(b[1].spent, Uint256(1));
  EXPECT_TRUE(p.Budgets("trader", "bot-3", ledger_.get()).empty());  // not this agent's rule
  EXPECT_EQ(p.Budgets("cold", "bot-2", ledger_.get()).size(), 1u);
}

TEST_F(BudgetEvalTest, CountBudget) {
  Policy p = Rules(R"({"id": "r", "effect": "allow", "budgets": [{"window": "1m", "max_count": 2}]})");
  Spend(p, Tx(""));
  Spend(p, Tx(""));
  Decision d = p.Evaluate(F(Tx("")), ledger_.get());
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.reason, "1m request-count budget exceeded: limit 2 requests, spent 2 requests, requested 1 request; "
                      "nothing remains until earlier spending leaves the 1m window");
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(p.Evaluate(F(Tx("")), ledger_.get()).effect, Effect::kAllow);
}

TEST_F(BudgetEvalTest, TokenBudgetsArePerToken) {
  Policy p = Rules(R"({"id": "tokens", "effect": "allow", "match": {"erc20": {"method": "transfer"}},
                       "budgets": [{"window": "7d", "max_amount": "100"}]})");
  auto pay = [](const std::string& token, int amount) {
    return Tx(R"("erc20": {"token": ")" + token + R"(", "method": "transfer", "to": ")" + std::string(kBob) +
              R"(", "amount": )" + std::to_string(amount) + "}");
  };
  Spend(p, pay(kUsdc, 80));
  EXPECT_EQ(p.Evaluate(F(pay(kUsdc, 21)), ledger_.get()).effect, Effect::kDeny);
  EXPECT_EQ(p.Evaluate(F(pay(kUsdc, 20)), ledger_.get()).effect, Effect::kAllow);
  EXPECT_EQ(p.Evaluate(F(pay(kTreasury, 100)), ledger_.get()).effect, Effect::kAllow);
  Decision d = p.Evaluate(F(pay(kUsdc, 21)), ledger_.get());
  EXPECT_THAT(d.reason, HasSubstr("7d budget for token 0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48 exceeded: limit 100, "
                                  "spent 80, requested 21; at most 20 remains"));
}

TEST_F(BudgetEvalTest, ScopesShareOrSeparateSpending) {
  Policy p = Rules(R"({"id": "per-rule-key", "effect": "allow", "agents": ["a1", "a2"], "budgets": [{"window": "1h", "max_count": 1}]},
                      {"id": "per-agent", "effect": "allow", "keys": ["k2"], "budgets": [{"window": "1h", "max_count": 1, "scope": "agent"}]})");
  auto req = [](const std::string& key, const std::string& agent) {
    return R"({"kind": "eth_message", "key": ")" + key + R"(", "agent": ")" + agent + R"("})";
  };
  Spend(p, req("k1", "a1"));
  // rule+key scope: the same key is spent for every agent ...
  EXPECT_EQ(p.Evaluate(F(req("k1", "a2")), ledger_.get()).effect, Effect::kDeny);
  // ... another key is not.
  EXPECT_EQ(p.Evaluate(F(req("k2", "a2")), ledger_.get()).effect, Effect::kAllow);
  Spend(p, req("k2", "a2"));
  // agent scope: a2 spent its one request (both rules matched and were charged).
  EXPECT_EQ(p.Evaluate(F(req("k2", "a2")), ledger_.get()).effect, Effect::kDeny);
}

TEST_F(BudgetEvalTest, EveryMatchingRulesBudgetApplies) {
  Policy p = Rules(R"({"id": "general", "effect": "allow", "match": {"kind": "eth_tx"}, "budgets": [{"window": "24h", "max_value": "10 ether"}]},
                      {"id": "to-bob", "effect": "allow", "match": {"kind": "eth_tx", "to": ")" + std::string(kBob) + R"("},
                       "budgets": [{"window": "24h", "max_value": "1 ether"}]})");
  Spend(p, Tx(R"("to": ")" + std::string(kBob) + R"(", "value": "1 ether")"));
  Decision d = p.Evaluate(F(Tx(R"("to": ")" + std::string(kBob) + R"(", "value": "1 wei")")), ledger_.get());
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.rule_id, "to-bob");
  EXPECT_EQ(p.Evaluate(F(Tx(R"("to": ")" + std::string(kTreasury) + R"(", "value": "5 ether")")), ledger_.get()).effect,
            Effect::kAllow);
}

TEST_F(BudgetEvalTest, ApplySpentRedecidesOnWhatTheLedgerSaw) {
  Policy p = Rules(R"({"id": "r", "effect": "allow", "match": {"kind": "eth_tx"},
                       "budgets": [{"window": "1h", "max_value": "1 ether", "on_exceed": "require_approval"}]})");
  Decision d = p.Evaluate(F(Tx(R"("value": "0.6 ether")")), ledger_.get());
  ASSERT_EQ(d.effect, Effect::kAllow);
  std::vector<Uint256> spent = {Uint256::ParseAmount("0.5 ether").value()};
  p.ApplySpent(d, spent);
  EXPECT_EQ(d.effect, Effect::kRequireApproval);
  EXPECT_THAT(d.reason, HasSubstr("spent 0.5 ether, requested 0.6 ether; at most 0.5 ether remains"));
}

// A Solana transfer of `lamports` (native SOL, System Program) by key
// sol-hot, agent bot-1.
std::string SolTx(const std::string& lamports) {
  return R"({"kind": "solana_tx", "key": "sol-hot", "agent": "bot-1", "solana": {"programs": ["system"],
            "transfers": [{"to": "Payee111111111111111111111111111111111111", "amount": )" + lamports + "}]}}";
}

// An `agent`-scoped max_value shared by an Ethereum rule and a Solana rule
// counts wei and lamports in separate accounts: a Solana transfer never
// eats the Ethereum allowance, nor the reverse.
TEST_F(BudgetEvalTest, SharedScopeNeverAddsWeiAndLamports) {
  Policy p = Rules(R"({"id": "eth", "effect": "allow", "match": {"kind": "eth_tx"},
                       "budgets": [{"window": "24h", "max_value": "1 ether", "scope": "agent"}]},
                      {"id": "sol", "effect": "allow", "match": {"kind": "solana_tx"},
                       "budgets": [{"window": "24h", "max_value": "2000000000", "scope": "agent"}]})");
  Spend(p, Tx(R"("value": "0.9 ether")"));
  // 1.5 SOL fits the 2 SOL budget whatever the agent sent in ether ...
  Decision d = p.Evaluate(F(SolTx("1500000000")), ledger_.get());
  EXPECT_EQ(d.effect, Effect::kAllow) << d.reason;
  ASSERT_EQ(d.charges.size(), 1u);
  EXPECT_EQ(d.charges[0].account, "agent:bot-1|lamports");
  Spend(p, SolTx("1500000000"));
  // ... and did not eat the ether allowance: 0.1 ether still fits, one wei more does not.
  d = p.Evaluate(F(Tx(R"("value": "0.1 ether")")), ledger_.get());
  EXPECT_EQ(d.effect, Effect::kAllow) << d.reason;
  ASSERT_EQ(d.charges.size(), 1u);
  EXPECT_EQ(d.charges[0].account, "agent:bot-1|value");  // the name wei always had
  Spend(p, Tx(R"("value": "0.1 ether")"));
  EXPECT_EQ(p.Evaluate(F(Tx(R"("value": "1 wei")")), ledger_.get()).effect, Effect::kDeny);
  // The Solana budget still holds, and its reason counts SOL, not ether.
  EXPECT_EQ(p.Evaluate(F(SolTx("500000000")), ledger_.get()).effect, Effect::kAllow);
  d = p.Evaluate(F(SolTx("500000001")), ledger_.get());
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.rule_id, "sol");
  EXPECT_EQ(d.reason, "24h budget exceeded: limit 2 SOL, spent 1.5 SOL, requested 0.500000001 SOL; at most 0.5 SOL "
                      "remains");
}

// Which account and unit each max_value uses, in decisions and in the list
// of what an agent may still spend. A Solana-only rule's own (rule-scoped)
// account keeps "|value", the name under which it always held lamports.
TEST_F(BudgetEvalTest, ValueBudgetsNameTheirUnitAndAccount) {
  Policy p = Rules(R"({"id": "eth", "effect": "allow", "match": {"kind": "eth_tx"},
                       "budgets": [{"window": "24h", "max_value": "1 ether", "scope": "key"}]},
                      {"id": "sol", "effect": "allow", "match": {"kind": "solana_tx"},
                       "budgets": [{"window": "24h", "max_value": "2 sol"}, {"window": "7d", "max_value": "5 sol", "scope": "key"}]})");
  Decision d = p.Evaluate(F(SolTx("7")), ledger_.get());
  ASSERT_EQ(d.effect, Effect::kAllow) << d.reason;
  ASSERT_EQ(d.charges.size(), 2u);
  EXPECT_EQ(d.charges[0].account, "rule:sol|key:sol-hot|value");
  EXPECT_EQ(d.charges[1].account, "key:sol-hot|lamports");
  ASSERT_EQ(d.budgets.size(), 2u);
  EXPECT_EQ(d.budgets[0].unit, "lamports");
  EXPECT_EQ(d.budgets[0].limit, Uint256(2000000000));
  EXPECT_EQ(DecisionToJson(d)["budgets"][1]["unit"], "lamports");
  EXPECT_EQ(p.Evaluate(F(Tx(R"("value": "1 wei")")), ledger_.get()).budgets[0].unit, "wei");
  Spend(p, SolTx("7"));
  std::vector<BudgetStatus> b = p.Budgets("sol-hot", "bot-1", ledger_.get());
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].unit, "wei");  // the eth rule names no key, so it is listed for sol-hot too
  EXPECT_TRUE(b[0].spent.IsZero());
  EXPECT_EQ(b[1].unit, "lamports");
  EXPECT_EQ(b[1].spent, Uint256(7));
  EXPECT_EQ(b[2].spent, Uint256(7));
}

// A rule kept from an earlier release (ParseMode::kStored) may have one
// max_value over both kinds: each unit has its own account under the same
// limit, so neither eats the other's allowance.
TEST_F(BudgetEvalTest, StoredRuleOverBothKindsKeepsUnitsApart) {
  const std::string text = R"({"version": 1, "rules": [{"id": "both", "effect": "allow",
      "match": {"kind": ["eth_tx", "solana_tx"]}, "budgets": [{"window": "24h", "max_value": "1 ether"}]}]})";
  EXPECT_FALSE(Policy::Parse(text).ok());
  auto p = Policy::Parse(text, nullptr, ParseMode::kStored);
  ASSERT_TRUE(p.ok()) << p.status();
  Spend(*p, Tx(R"("value": "0.5 ether")"));
  Decision d = p->Evaluate(F(SolTx("1000000000")), ledger_.get());
  EXPECT_EQ(d.effect, Effect::kAllow) << d.reason;
  EXPECT_EQ(d.charges[0].account, "rule:both|key:sol-hot|lamports");
  Spend(*p, SolTx("1000000000"));
  EXPECT_EQ(p->Evaluate(F(Tx(R"("value": "0.5 ether")")), ledger_.get()).effect, Effect::kAllow);
  Spend(*p, Tx(R"("value": "0.5 ether")"));
  EXPECT_EQ(p->Evaluate(F(Tx(R"("value": "1 wei")")), ledger_.get()).effect, Effect::kDeny);
  std::vector<BudgetStatus> b = p->Budgets("trader", "bot-1", ledger_.get());
  ASSERT_EQ(b.size(), 2u);  // one line per unit
  EXPECT_EQ(b[0].unit, "wei");
  EXPECT_EQ(b[0].spent, Uint256::ParseAmount("1 ether").value());
  EXPECT_EQ(b[1].unit, "lamports");
}

// max_spend counts what an eth_tx can take from the key: value plus
// gas_limit x fee cap (max_fee_per_gas, or gas_price for legacy and
// EIP-2930), so fees cannot carry an agent past its allowance.
TEST_F(BudgetEvalTest, SpendBudgetCountsValuePlusTheMostTheFeesCanBe) {
  Policy p = Rules(R"({"id": "allowance", "effect": "allow", "match": {"kind": "eth_tx"},
                       "budgets": [{"window": "24h", "max_value": "1 ether", "max_spend": "1 ether"}]})");
  // 1559: 0.5 ether + 1,000,000 gas x 100 gwei = 0.6 ether.
  const std::string big = Tx(R"("value": "0.5 ether", "gas_limit": 1000000, "max_fee_per_gas": "100 gwei",
                                 "max_priority_fee_per_gas": "2 gwei")");
  Decision first = p.Evaluate(F(big), ledger_.get());
  ASSERT_EQ(first.effect, Effect::kAllow) << first.reason;
  ASSERT_EQ(first.budgets.size(), 2u);
  EXPECT_EQ(first.budgets[0].measure, "value");
  EXPECT_EQ(first.budgets[1].measure, "spend");
  EXPECT_EQ(first.budgets[1].requested, Uint256::ParseAmount("0.6 ether").value());
  ASSERT_EQ(first.charges.size(), 2u);
  EXPECT_EQ(first.charges[1].account, "rule:allowance|key:trader|spend");
  Spend(p, big);
  // Legacy: 0.3 ether + 2,000,000 gas x 50 gwei = 0.4 ether, which fits the
  // value budget (0.8 of 1) but not the spend budget (1.0 of 1 is fine, one
  // wei more is not).
  Decision d = p.Evaluate(F(Tx(R"("value": "0.3 ether", "gas_limit": 2000000, "gas_price": "50 gwei")")), ledger_.get());
  EXPECT_EQ(d.effect, Effect::kAllow) << d.reason;
  d = p.Evaluate(F(Tx(R"("value": "300000000000000001", "gas_limit": 2000000, "gas_price": "50 gwei")")), ledger_.get());
  EXPECT_EQ(d.effect, Effect::kDeny);
  EXPECT_EQ(d.rule_id, "allowance");
  EXPECT_FALSE(d.budgets[0].exceeded);  // the value alone fits
  EXPECT_TRUE(d.budgets[1].exceeded);
  EXPECT_EQ(d.reason, "24h spend budget (value + gas_limit x fee cap) exceeded: limit 1 ether, spent 0.6 ether, "
                      "requested 0.400000000000000001 ether; at most 0.4 ether remains");
  // The window rolls.
  clock_.Advance(absl::Hours(24));
  EXPECT_EQ(p.Evaluate(F(Tx(R"("value": "0.9 ether", "gas_limit": 21000, "gas_price": "1 gwei")")), ledger_.get()).effect,
            Effect::kAllow);
  // What an agent may still spend lists the spend budget too.
  std::vector<BudgetStatus> b = p.Budgets("trader", "bot-1", ledger_.get());
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].measure, "spend");
  EXPECT_EQ(b[1].remaining, Uint256::ParseAmount("1 ether").value());
}

// The worst case of a transaction without a gas limit or fee cap, or past
// 2^256-1 wei, is unknown: a spend budget denies it, even one whose
// on_exceed would hold it (nobody can approve an amount nobody knows).
TEST_F(BudgetEvalTest, SpendBudgetDeniesWhatItCannotBound) {
  Policy p = Rules(R"({"id": "allowance", "effect": "allow", "match": {"kind": "eth_tx"},
                       "approval": {"quorum": 1},
                       "budgets": [{"window": "24h", "max_spend": "1 ether", "on_exceed": "require_approval"}]})");
  struct Case {
    std::string fields;
    std::string why;
  };
  const std::string max = Uint256::Max().ToDecimal();
  const Case cases[] = {
      {R"("value": "1 wei", "max_fee_per_gas": "1 gwei")", "the transaction has no gas limit"},
      {R"("value": "1 wei", "gas_limit": 21000)", "the transaction has no max_fee_per_gas or gas_price"},
      {R"("gas_limit": 21000, "gas_price": ")" + max + R"(")", "gas_limit x fee per gas is more than 2^256-1 wei"},
      {R"("gas_limit": 1, "max_fee_per_gas": "1", "value": ")" + max + R"(")",
       "value + gas_limit x fee per gas is more than 2^256-1 wei"},
  };
  for (const Case& c : cases) {
    Decision d = p.Evaluate(F(Tx(c.fields)), ledger_.get());
    EXPECT_EQ(d.effect, Effect::kDeny) << c.fields;
    EXPECT_EQ(d.rule_id, "allowance") << c.fields;
    EXPECT_FALSE(d.approval) << c.fields;
    EXPECT_THAT(d.reason, HasSubstr("24h spend budget (value + gas_limit x fee cap) cannot bound this request: " + c.why))
        << c.fields;
    ASSERT_EQ(d.budgets.size(), 1u);
    EXPECT_TRUE(d.budgets[0].exceeded);
    EXPECT_EQ(d.budgets[0].requested, Uint256::Max());
    nlohmann::json j = DecisionToJson(d);
    EXPECT_EQ(j["budget"]["measure"], "spend");
    EXPECT_THAT(j["budget"]["unbounded"].get<std::string>(), HasSubstr(c.why));
  }
  // A product that just fits is bounded.
  Decision d = p.Evaluate(F(Tx(R"("gas_limit": 1, "gas_price": ")" + max + R"(")")), ledger_.get());
  EXPECT_EQ(d.effect, Effect::kRequireApproval) << d.reason;
  EXPECT_TRUE(d.budgets[0].unbounded.empty());
  // Re-deciding on what the ledger saw keeps the denial.
  d = p.Evaluate(F(Tx(R"("value": "1 wei", "gas_limit": 21000)")), ledger_.get());
  std::vector<Uint256> spent = {Uint256()};
  p.ApplySpent(d, spent);
  EXPECT_EQ(d.effect, Effect::kDeny);
}

TEST(DecisionJsonTest, SpendRefusalDataShowsLimitAndSpent) {
  FakeClock clock;
  MemoryLedgerJournal journal;
  auto ledger = Ledger::Open(journal, clock).value();
  Policy p = Rules(R"({"id": "small-payments", "effect": "allow", "match": {"kind": "eth_tx"},
                       "budgets": [{"window": "24h", "max_spend": "2 ether"}]})");
  Decision first = p.Evaluate(F(Tx(R"("value": "1.9 ether", "gas_limit": 21000, "max_fee_per_gas": "100 gwei")")),
                              ledger.get());
  ASSERT_TRUE(ledger->Reserve(first.charges)->id);
  Decision d = p.Evaluate(F(Tx(R"("value": "0.1 ether", "gas_limit": 21000, "max_fee_per_gas": "100 gwei")")),
                          ledger.get());
  nlohmann::json j = DecisionToJson(d);
  EXPECT_EQ(j["decision"], "deny");
  EXPECT_EQ(j["rule"], "small-payments");
  EXPECT_EQ(j["budget"]["measure"], "spend");
  EXPECT_EQ(j["budget"]["window"], "24h");
  EXPECT_EQ(j["budget"]["limit"], "2000000000000000000");
  EXPECT_EQ(j["budget"]["spent"], "1902100000000000000");
  EXPECT_EQ(j["budget"]["requested"], "102100000000000000");
  EXPECT_EQ(j["budget"]["remaining"], "97900000000000000");
  EXPECT_FALSE(j["budget"].contains("unbounded"));
}

TEST(DecisionJsonTest, RefusalDataShape) {
  FakeClock clock;
  MemoryLedgerJournal journal;
  auto ledger = Ledger::Open(journal, clock).value();
  Policy p = Rules(R"({"id": "small-payments", "effect": "allow", "match": {"kind": "eth_tx"},
                       "budgets": [{"window": "24h", "max_value": "2 ether"}]})");
  Decision first = p.Evaluate(F(Tx(R"("value": "1.9 ether")")), ledger.get());
  ASSERT_TRUE(ledger->Reserve(first.charges)->id);
  Decision d = p.Evaluate(F(Tx(R"("value": "0.5 ether")")), ledger.get());
  nlohmann::json j = DecisionToJson(d);
  EXPECT_EQ(j["decision"], "deny");
  EXPECT_EQ(j["rule"], "small-payments");
  EXPECT_EQ(j["budget"]["window"], "24h");
  EXPECT_EQ(j["budget"]["limit"], "2000000000000000000");
  EXPECT_EQ(j["budget"]["spent"], "1900000000000000000");
  EXPECT_EQ(j["budget"]["requested"], "500000000000000000");
  EXPECT_EQ(j["budget"]["remaining"], "100000000000000000");
  EXPECT_EQ(j["budget"]["unit"], "wei");
  EXPECT_EQ(j["policy"]["hash"], p.hash_hex());
}

}  // namespace
}  // namespace sigil::policy
