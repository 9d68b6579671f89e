#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/policy.h"

namespace sigil::policy {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// The example policy of INTERFACE.md, verbatim.
constexpr char kInterfaceExample[] = R"({
  "version": 1,
  "lists": { "treasury": ["0x1111111111111111111111111111111111111111"],
             "blocked":  ["0x000000000000000000000000000000000000dEaD"] },
  "rules": [
    { "id": "no-blocked", "effect": "deny",
      "match": { "kind": "eth_tx", "to": { "in": "@blocked" } },
      "reason": "recipient is blocked" },
    { "id": "small-payments", "effect": "allow",
      "keys": ["trader"], "agents": ["bot-1"],
      "match": { "kind": "eth_tx", "chain_id": [1, 42161, 31337],
                 "value": { "lte": "0.5 ether" }, "max_fee_per_gas": { "lte": "200 gwei" } },
      "budgets": [ { "window": "24h", "max_value": "2 ether", "on_exceed": "require_approval" },
                   { "window": "1m",  "max_count": 10,       "on_exceed": "deny" } ] },
    { "id": "usdc-to-treasury", "effect": "allow",
      "match": { "kind": "eth_tx", "chain_id": 1,
                 "erc20": { "token": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "method": "transfer",
                            "to": { "in": "@treasury" }, "amount": { "lte": "1000000000" } } },
      "budgets": [ { "window": "7d", "max_amount": "5000000000" } ] },
    { "id": "large-needs-two", "effect": "require_approval",
      "match": { "kind": "eth_tx", "value": { "gt": "0.5 ether" } },
      "approval": { "quorum": 2, "role": "approver", "second_factor": "totp", "expires": "1h" } },
    { "id": "signed-offers", "effect": "allow",
      "match": { "kind": "eth_typed_data", "domain": { "chain_id": 1, "verifying_contract": { "in": "@treasury" } } } },
    { "id": "notes", "effect": "allow", "match": { "kind": "nostr_event", "event_kind": [1, 7] } }
  ]
})";

std::vector<PolicyError> ErrorsOf(const std::string& text) {
  std::vector<PolicyError> errors;
  auto p = Policy::Parse(text, &errors);
  EXPECT_FALSE(p.ok()) << "expected the policy to be rejected";
  return errors;
}

std::string Rule(const std::string& body) { return R"({"version": 1, "rules": [)" + body + "]}"; }

TEST(PolicyParseTest, InterfaceExampleParses) {
  auto p = Policy::Parse(kInterfaceExample);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->version(), 1u);
  ASSERT_EQ(p->rules().size(), 6u);
  EXPECT_EQ(p->rules()[0].id, "no-blocked");
  EXPECT_EQ(p->rules()[0].effect, Effect::kDeny);
  EXPECT_EQ(p->rules()[1].budgets.size(), 2u);
  EXPECT_EQ(p->rules()[1].budgets[0].on_exceed, Effect::kRequireApproval);
  EXPECT_EQ(p->rules()[1].budgets[0].max_value, Uint256::ParseAmount("2 ether").value());
  EXPECT_EQ(p->rules()[1].budgets[1].max_count, 10u);
  ASSERT_TRUE(p->rules()[3].approval.has_value());
  EXPECT_EQ(p->rules()[3].approval->quorum, 2);
  EXPECT_EQ(p->rules()[3].approval->second_factor, SecondFactor::kTotp);
  EXPECT_EQ(p->rules()[3].approval->expires, absl::Hours(1));
  // Lists are stored as written (they also hold names); uses as addresses
  // compare them normalised.
  ASSERT_NE(p->list("blocked"), nullptr);
  EXPECT_TRUE(p->list("blocked")->contains("0x000000000000000000000000000000000000dEaD"));
  EXPECT_EQ(p->hash_hex().size(), 64u);
}

TEST(PolicyParseTest, HashIsOfTheCanonicalDocument) {
  auto a = Policy::Parse(R"({"version": 3, "rules": [{"id": "r", "effect": "allow", "match": {"kind": "eth_message"}}]})");
  auto b = Policy::Parse("{\n  \"rules\":[ {\"match\":{\"kind\":\"eth_message\"},\"effect\":\"allow\",\"id\":\"r\"} ],\n"
                         "  \"version\" : 3\n}");
  auto c = Policy::Parse(R"({"version": 4, "rules": [{"id": "r", "effect": "allow", "match": {"kind": "eth_message"}}]})");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->hash_hex(), b->hash_hex());
  EXPECT_NE(a->hash_hex(), c->hash_hex());
  EXPECT_EQ(a->canonical_json(),
            R"({"rules":[{"effect":"allow","id":"r","match":{"kind":"eth_message"}}],"version":3})");
  EXPECT_EQ(c->version(), 4u);
}

TEST(PolicyParseTest, FloatAmountIsRejectedWithPathAndPosition) {
  std::string text = R"({"version": 1,
"rules": [
  {"id": "a", "effect": "allow"},
  {"id": "b", "effect": "allow"},
  {"id": "c", "effect": "allow"},
  {"id": "d", "effect": "allow",
   "match": {"value": {"lte": 0.5}}}
]})";
  auto errors = ErrorsOf(text);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "rules[3].match.value.lte");
  EXPECT_THAT(errors[0].message, HasSubstr("0.5 is a JSON float; write amounts as strings"));
  EXPECT_EQ(errors[0].line, 7);
  EXPECT_EQ(errors[0].column, 31);
  auto st = Policy::Parse(text).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("rules[3].match.value.lte (line 7, column 31): 0.5 is a JSON float; write amounts as strings"));
}

TEST(PolicyParseTest, FloatsAreRejectedEverywhereAmountsGo) {
  for (std::string field : {R"("max_fee_per_gas": {"gt": 1e9})", R"("gas_limit": {"lte": 21000.0})",
                            R"("erc20": {"amount": {"lte": 1.5}})"}) {
    auto errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "match": {)" + field + "}}"));
    ASSERT_EQ(errors.size(), 1u) << field;
    EXPECT_THAT(errors[0].message, HasSubstr("is a JSON float")) << field;
  }
  auto errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "budgets": [{"window": "1h", "max_value": 2.5}]})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "rules[0].budgets[0].max_value");
  EXPECT_THAT(errors[0].message, HasSubstr("2.5 is a JSON float"));
}

TEST(PolicyParseTest, AmountForms) {
  auto p = Policy::Parse(Rule(R"({"id": "x", "effect": "allow", "match": {"value": {"gte": "1000", "lte": "0x0de0b6b3a7640000", "lt": "2 ether", "gt": 5}}})"));
  ASSERT_TRUE(p.ok()) << p.status();
  for (std::string bad : {R"("-1")", R"("0.5")", R"("1.5 wei")", R"("5 dollars")", "-3", "true", R"("")"}) {
    auto errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "match": {"value": {"lte": )" + bad + "}}}"));
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_EQ(errors[0].path, "rules[0].match.value.lte") << bad;
  }
}

TEST(PolicyParseTest, CollectsEveryProblemInOnePass) {
  auto errors = ErrorsOf(R"({"version": 0, "rules": [
    {"id": "dup", "effect": "allow"},
    {"id": "dup", "effect": "permit"},
    {"effect": "deny", "match": {"kindd": "eth_tx"}},
    {"id": "w", "effect": "allow", "match": {"to": {"in": "@nowhere"}}, "budgets": [{"window": "1y", "max_count": 1}]}
  ]})");
  std::vector<std::string> paths;
  for (const auto& e : errors) paths.push_back(e.path);
  EXPECT_THAT(paths, ::testing::UnorderedElementsAre("version", "rules[1].id", "rules[1].effect", "rules[2]",
                                                     "rules[2].match.kindd", "rules[3].match.to.in",
                                                     "rules[3].budgets[0].window"));
  for (const auto& e : errors) EXPECT_GT(e.line, 0) << e.path;
}

TEST(PolicyParseTest, UnknownFieldsAreErrorsWithTheAcceptedOnes) {
  auto errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "match": {"valu": {"lte": "1"}}})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "rules[0].match.valu");
  EXPECT_THAT(errors[0].message, AllOf(HasSubstr("unknown field"), HasSubstr("value")));
  errors = ErrorsOf(R"({"version": 1, "rules": [], "extra": true})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "extra");
}

TEST(PolicyParseTest, DuplicateJsonKeysAreRejected) {
  auto errors = ErrorsOf(R"({"version": 1, "rules": [{"id": "x", "effect": "allow", "effect": "deny"}]})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, AllOf(HasSubstr("rules[0].effect"), HasSubstr("duplicate key")));
}

TEST(PolicyParseTest, SyntaxErrorsHaveLineAndColumn) {
  auto errors = ErrorsOf("{\"version\": 1,\n  \"rules\": [,]}");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("not valid JSON"));
  EXPECT_EQ(errors[0].line, 2);
  EXPECT_EQ(errors[0].column, 13);
  EXPECT_FALSE(Policy::Parse("").ok());
  EXPECT_FALSE(Policy::Parse("[]").ok());
  EXPECT_FALSE(Policy::Parse("{\"version\": 1, \"rules\": [\"\xff\"]}").ok());
}

TEST(PolicyParseTest, NestingIsBounded) {
  std::string deep = R"({"version": 1, "rules": [], "description": )";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  deep += "}";
  auto errors = ErrorsOf(deep);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("nested deeper"));
}

TEST(PolicyParseTest, VersionAndRulesAreRequired) {
  auto errors = ErrorsOf(R"({"rules": []})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "version");
  errors = ErrorsOf(R"({"version": 1})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "rules");
  errors = ErrorsOf(R"({"version": "1", "rules": []})");
  ASSERT_EQ(errors.size(), 1u);
  errors = ErrorsOf(R"({"version": 1.0, "rules": []})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("1.0 is a JSON float"));
  EXPECT_TRUE(Policy::Parse(R"({"version": 7, "rules": []})").ok());
}

TEST(PolicyParseTest, AddressesAreCheckedForEip55) {
  // Same digits as USDC with one letter's case flipped.
  auto errors = ErrorsOf(R"({"version": 1, "lists": {"t": ["0xa0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"]},
                              "rules": [{"id": "x", "effect": "deny", "match": {"erc20": {"token": "@t"}}}]})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "lists.t");
  EXPECT_THAT(errors[0].message, AllOf(HasSubstr("EIP-55"), HasSubstr("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"),
                                       HasSubstr("rules[0].match.erc20.token")));
  // All lower case carries no checksum and is accepted; so is non-hex text in a list.
  EXPECT_TRUE(Policy::Parse(R"({"version": 1, "lists": {"t": ["0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", "Uniswap V2"]}, "rules": []})").ok());
  errors = ErrorsOf(Rule(R"({"id": "x", "effect": "deny", "match": {"to": "0xzz"}})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "rules[0].match.to");
}

// A mistyped Ethereum address (wrong number of digits, missing 0x) is
// refused where an address is expected, in fields and in lists used there.
TEST(PolicyParseTest, MistypedAddressesAreRefused) {
  const std::string k39 = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe";
  const std::string kBare = "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";
  for (const std::string& field : {R"("to": ")" + k39 + R"(")", R"("from": [")" + kBare + R"("])",
                                   R"("erc20": {"token": ")" + k39 + R"("})",
                                   R"("permit": {"spender": {"not_in": [")" + kBare + R"("]}})",
                                   std::string(R"("domain": {"verifying_contract": "0x1111"})")}) {
    auto errors = ErrorsOf(Rule(R"({"id": "x", "effect": "deny", "match": {)" + field + "}}"));
    ASSERT_EQ(errors.size(), 1u) << field;
    EXPECT_THAT(errors[0].message, ::testing::AnyOf(HasSubstr("hex digits"), HasSubstr("with 0x"))) << field;
  }
  auto errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "budgets": [{"window": "1d", "max_amount": "1", "token": ")" +
                              kBare + R"("}]})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "rules[0].budgets[0].token");
  // A "0x" list entry must be an address wherever the list is used as addresses.
  errors = ErrorsOf(R"({"version": 1, "lists": {"t": [")" + k39 + R"("]},
      "rules": [{"id": "x", "effect": "deny", "match": {"permit": {"spender": "@t"}}}]})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "lists.t");
  EXPECT_THAT(errors[0].message, HasSubstr("hex digits"));
  // Bare 40 hex digits in a list are refused where the list is used as addresses ...
  errors = ErrorsOf(R"({"version": 1, "lists": {"t": [")" + kBare + R"("]},
      "rules": [{"id": "x", "effect": "deny", "match": {"to": {"not_in": "@t"}}},
                {"id": "y", "effect": "deny", "match": {"from": "@t"}}]})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "lists.t");
  EXPECT_THAT(errors[0].message, AllOf(HasSubstr("with 0x"), HasSubstr("rules[0].match.to.not_in")));
  // ... not where it holds names.
  EXPECT_TRUE(Policy::Parse(R"({"version": 1, "lists": {"t": [")" + kBare + R"("]},
      "rules": [{"id": "x", "effect": "allow", "agents": "@t"}]})").ok());
  // A list of 32-byte ids or names beginning with "0x" is not addresses
  // unless it is used as addresses: declared and used as names it is fine.
  EXPECT_TRUE(Policy::Parse(R"({"version": 1,
      "lists": {"ids": ["0x1111111111111111111111111111111111111111111111111111111111111111"], "names": ["0x Protocol"]},
      "rules": [{"id": "x", "effect": "allow", "match": {"primary_type": "@ids", "domain": {"name": "@names"}}}]})").ok());
  // Nostr pubkeys and Solana base58 are addresses too.
  EXPECT_TRUE(Policy::Parse(Rule(R"({"id": "x", "effect": "allow", "match": {"from": [")" + std::string(64, 'a') +
                                 R"(", "So11111111111111111111111111111111111111112"]}})")).ok());
}

TEST(PolicyParseTest, MethodSignaturesBecomeSelectors) {
  auto p = Policy::Parse(Rule(R"J({"id": "x", "effect": "allow", "match": {"method": ["transfer(address,uint256)", "0x095EA7B3"]}})J"));
  ASSERT_TRUE(p.ok()) << p.status();
  for (std::string bad : {R"J("transfer(address, uint256)")J", R"J("transfer(address to,uint256 amount)")J",
                          R"J("transfer(address,uint)")J", R"("transfer")", R"("0x1234")", R"("0xzzzzzzzz")"}) {
    auto errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "match": {"method": )" + bad + "}}"));
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_EQ(errors[0].path, "rules[0].match.method") << bad;
  }
}

TEST(PolicyParseTest, RuleShapeChecks) {
  // Budgets make no sense on deny rules; approval needs something to approve.
  auto errors = ErrorsOf(Rule(R"({"id": "x", "effect": "deny", "budgets": [{"window": "1h", "max_count": 1}]})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "rules[0].budgets");
  errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "approval": {"quorum": 1}})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "rules[0].approval");
  EXPECT_TRUE(Policy::Parse(Rule(R"({"id": "x", "effect": "allow", "approval": {"quorum": 2},
      "budgets": [{"window": "1h", "max_count": 1, "on_exceed": "require_approval"}]})")).ok());
  errors = ErrorsOf(Rule(R"({"id": "x", "effect": "require_approval", "approval": {"quorum": 0, "second_factor": "sms", "expires": "60d"}})"));
  EXPECT_EQ(errors.size(), 3u);
  errors = ErrorsOf(Rule(R"({"id": "bad id!", "effect": "allow"})"));
  ASSERT_EQ(errors.size(), 1u);
  errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "budgets": [{"window": "1h"}]})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("max_value, max_spend, max_amount, max_count"));
  errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "budgets": [{"window": "1h", "max_count": 1, "scope": "team", "on_exceed": "warn"}]})"));
  EXPECT_EQ(errors.size(), 2u);
}

// max_spend: an amount like max_value, only in rules limited to eth_tx (other
// kinds spend lamports or nothing a budget can bound), with errors as precise
// as the other fields'.
TEST(PolicyParseTest, MaxSpendBudget) {
  auto p = Policy::Parse(Rule(R"({"id": "x", "effect": "allow", "match": {"kind": "eth_tx"},
      "budgets": [{"window": "24h", "max_spend": "2.1 ether", "max_value": "2 ether"}, {"window": "1h", "max_spend": 21000}]})"));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->rules()[0].budgets.size(), 2u);
  EXPECT_EQ(p->rules()[0].budgets[0].max_spend, Uint256::ParseAmount("2.1 ether").value());
  EXPECT_EQ(p->rules()[0].budgets[0].max_value, Uint256::ParseAmount("2 ether").value());
  EXPECT_EQ(p->rules()[0].budgets[1].max_spend, Uint256(21000));
  EXPECT_FALSE(p->rules()[0].budgets[1].max_value);

  std::string text = R"({"version": 1, "rules": [
  {"id": "any-kind", "effect": "allow",
   "budgets": [{"window": "24h", "max_spend": "1 ether"}]}]})";
  auto errors = ErrorsOf(text);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "rules[0].budgets[0].max_spend");
  EXPECT_EQ(errors[0].line, 3);
  EXPECT_EQ(errors[0].column, 47);  // the value of max_spend
  EXPECT_THAT(errors[0].message,
              AllOf(HasSubstr("must match \"kind\": \"eth_tx\" alone"),
                    HasSubstr("also covers eth_message, eth_typed_data, nostr_event, solana_tx, raw_digest")));
  errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "match": {"kind": "solana_tx"},
      "budgets": [{"window": "24h", "max_spend": "1000000000"}]})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("this rule covers solana_tx (put them in a rule of their own"));
  errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "match": {"kind": ["eth_tx", "eth_message"]},
      "budgets": [{"window": "24h", "max_spend": "1 ether"}]})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("also covers eth_message"));

  for (std::string bad : {"2.5", R"("-1")", R"("1.5 wei")", R"("2 dollars")", "true"}) {
    errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "match": {"kind": "eth_tx"},
        "budgets": [{"window": "24h", "max_spend": )" + bad + "}]}"));
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_EQ(errors[0].path, "rules[0].budgets[0].max_spend") << bad;
  }
  errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "match": {"kind": "eth_tx"},
      "budgets": [{"window": "24h", "max_spend": 2.5}]})"));
  EXPECT_THAT(errors[0].message, HasSubstr("2.5 is a JSON float"));
  // A misspelling names the accepted fields, max_spend among them.
  errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "match": {"kind": "eth_tx"},
      "budgets": [{"window": "24h", "max_spendd": "1 ether"}]})"));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].path, "rules[0].budgets[0].max_spendd");
  EXPECT_GT(errors[0].line, 0);
  EXPECT_THAT(errors[0].message,
              HasSubstr("unknown field; expected one of: window, max_value, max_spend, max_amount, max_count, token, "
                        "scope, on_exceed"));
}

// One max_value limit cannot be both wei (eth_tx) and lamports (solana_tx),
// so a rule that can match both kinds, or names no kind, is refused at the
// field, with how to split it. ParseMode::kStored accepts what earlier
// releases did, so a stored policy history still loads.
TEST(PolicyParseTest, MaxValueOverWeiAndLamportsIsRefused) {
  const std::string both = R"({"version": 1, "rules": [
  {"id": "both", "effect": "allow", "match": {"kind": ["eth_tx", "solana_tx"]},
   "budgets": [{"window": "24h", "max_value": "1 ether"}]}]})";
  auto errors = ErrorsOf(both);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "rules[0].budgets[0].max_value");
  EXPECT_EQ(errors[0].line, 3);
  EXPECT_EQ(errors[0].column, 47);  // the value of max_value
  EXPECT_THAT(errors[0].message,
              AllOf(HasSubstr("one limit cannot be both; this rule matches both"),
                    HasSubstr("split it into a rule with \"kind\": \"eth_tx\" (a limit such as \"1 ether\") and one with "
                              "\"kind\": \"solana_tx\" (a limit such as \"5 sol\")")));
  errors = ErrorsOf(Rule(R"({"id": "any", "effect": "allow", "budgets": [{"window": "24h", "max_value": "5000000000"}]})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("this rule names no kind, so it matches both"));
  EXPECT_TRUE(Policy::Parse(both, nullptr, ParseMode::kStored).ok());
  // Kinds that move no native value mix with either unit.
  EXPECT_TRUE(Policy::Parse(Rule(R"({"id": "x", "effect": "allow", "match": {"kind": ["eth_tx", "eth_message"]},
      "budgets": [{"window": "24h", "max_value": "1 ether"}]})")).ok());
  EXPECT_TRUE(Policy::Parse(Rule(R"({"id": "x", "effect": "allow", "match": {"kind": ["solana_tx", "nostr_event"]},
      "budgets": [{"window": "24h", "max_value": "1 sol"}]})")).ok());
}

// A Solana max_value counts lamports: plain base units, "N sol" or
// "N lamports"; an Ethereum unit there ("1 ether" = 10^18 lamports, a
// billion SOL) is a mistake and refused. Ethereum rules take no "sol".
TEST(PolicyParseTest, SolanaMaxValueUnits) {
  auto limit = [](const std::string& amount, ParseMode mode = ParseMode::kStrict) -> std::optional<Uint256> {
    auto p = Policy::Parse(Rule(R"({"id": "x", "effect": "allow", "match": {"kind": "solana_tx"},
        "budgets": [{"window": "24h", "max_value": )" + amount + "}]}"), nullptr, mode);
    if (!p.ok()) return std::nullopt;
    return p->rules()[0].budgets[0].max_value;
  };
  EXPECT_EQ(limit(R"("5 sol")"), Uint256(5000000000));
  EXPECT_EQ(limit(R"(" 1.5 SOL ")"), Uint256(1500000000));
  EXPECT_EQ(limit(R"("0.000000001 sol")"), Uint256(1));
  EXPECT_EQ(limit(R"("2500 lamports")"), Uint256(2500));
  EXPECT_EQ(limit(R"("1 lamport")"), Uint256(1));
  EXPECT_EQ(limit(R"("5000000000")"), Uint256(5000000000));
  EXPECT_EQ(limit("5000000000"), Uint256(5000000000));
  EXPECT_EQ(limit(R"("1 ether")", ParseMode::kStored), Uint256::ParseAmount("1 ether").value());
  for (std::string bad : {R"("1 ether")", R"("200 gwei")", R"("0.0000000001 sol")", R"("1.5 lamports")", "1.5"}) {
    auto errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "match": {"kind": "solana_tx"},
        "budgets": [{"window": "24h", "max_value": )" + bad + "}]}"));
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_EQ(errors[0].path, "rules[0].budgets[0].max_value") << bad;
  }
  auto errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "match": {"kind": "solana_tx"},
      "budgets": [{"window": "24h", "max_value": "1 ether"}]})"));
  EXPECT_THAT(errors[0].message, HasSubstr("a solana_tx budget counts lamports: write \"1.5 sol\", \"1500000000 "
                                           "lamports\" or \"1500000000\", not \"ether\""));
  errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "match": {"kind": "eth_tx"},
      "budgets": [{"window": "24h", "max_value": "1 sol"}]})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("unknown unit \"sol\""));
}

// An invalid "kind" is reported once: the budgets of its rule do not add a
// second error built on a kind mask nobody wrote ("covers every kind").
TEST(PolicyParseTest, InvalidKindIsNotReportedAgainByBudgets) {
  for (std::string match : {R"({"kind": "eth_txx"})", R"({"kind": 5})", R"({"kind": "eth_tx", "too": 1})"}) {
    auto errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "match": )" + match + R"(,
        "budgets": [{"window": "24h", "max_spend": "1 ether", "max_value": "1 ether"}]})"));
    ASSERT_EQ(errors.size(), 1u) << match << ": " << errors.back().ToString();
    EXPECT_THAT(errors[0].path, HasSubstr("rules[0].match.")) << match;
  }
}

TEST(PolicyParseTest, ConditionShapeChecks) {
  struct Case {
    std::string match;
    std::string path;
  };
  const Case cases[] = {
      {R"("kind": "eth_transaction")", "rules[0].match.kind"},
      {R"("chain_id": [])", "rules[0].match.chain_id"},
      {R"("chain_id": -1)", "rules[0].match.chain_id"},
      {R"("chain_id": "1")", "rules[0].match.chain_id"},
      {R"("to": {})", "rules[0].match.to"},
      {R"("to": {"in": []})", "rules[0].match.to.in"},
      {R"("value": {})", "rules[0].match.value"},
      {R"("value": "1 ether")", "rules[0].match.value"},
      {R"("erc20": {"method": "mint"})", "rules[0].match.erc20.method"},
      {R"("permit": {"kind": "permit3"})", "rules[0].match.permit.kind"},
      {R"("time": {"days": ["monday"]})", "rules[0].match.time.days[0]"},
      {R"("time": {"hours": {"from": 9, "to": 9}})", "rules[0].match.time.hours"},
      {R"("time": {"hours": {"from": 25, "to": 3}})", "rules[0].match.time.hours.from"},
      {R"("risk_score": {"lte": 101})", "rules[0].match.risk_score.lte"},
      {R"("tags": ["p"])", "rules[0].match.tags"},
      {R"("solana": {"programme": "system"})", "rules[0].match.solana.programme"},
      {R"("allow_no_chain_id": "yes")", "rules[0].match.allow_no_chain_id"},
      {R"("typed_data": {"domain": {"salt": "0x00"}})", "rules[0].match.typed_data.domain.salt"},
  };
  for (const Case& c : cases) {
    auto errors = ErrorsOf(Rule(R"({"id": "x", "effect": "allow", "match": {)" + c.match + "}}"));
    ASSERT_EQ(errors.size(), 1u) << c.match;
    EXPECT_EQ(errors[0].path, c.path) << c.match << ": " << errors[0].message;
  }
}

TEST(PolicyParseTest, RateLimitsAndTriggers) {
  auto p = Policy::Parse(R"({"version": 1, "rules": [],
    "rate_limits": [{"scope": "agent", "per": "1m", "max": 60}, {"scope": "key", "keys": ["trader"], "per": "1s", "max": 5}],
    "triggers": [{"on": "denials", "count": 5, "within": "10m", "action": "suspend_agent"},
                 {"on": "risk_score", "gte": 80, "action": "lockdown"}]})");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->rate_limits().size(), 2u);
  EXPECT_EQ(p->rate_limits()[1].scope, RateLimitSpec::Scope::kKey);
  EXPECT_EQ(p->rate_limits()[1].per, absl::Seconds(1));
  ASSERT_EQ(p->triggers().size(), 2u);
  EXPECT_EQ(p->triggers()[0].action, TriggerAction::kSuspendAgent);
  EXPECT_EQ(p->triggers()[1].score_gte, 80);
  auto errors = ErrorsOf(R"({"version": 1, "rules": [], "rate_limits": [{"per": "1m", "max": 0}],
    "triggers": [{"on": "denials", "count": 5, "action": "panic"}, {"on": "risk_score", "gte": 80, "within": "1m", "action": "alert"}]})");
  std::vector<std::string> paths;
  for (const auto& e : errors) paths.push_back(e.path);
  EXPECT_THAT(paths, ::testing::UnorderedElementsAre("rate_limits[0].max", "triggers[0]", "triggers[0].action",
                                                     "triggers[1].within"));
}

TEST(PolicyParseTest, LargeListsParse) {
  std::string text = R"({"version": 1, "lists": {"big": [)";
  for (int i = 0; i < 20000; ++i) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s\"0x%040x\"", i ? "," : "", i);
    text += buf;
  }
  text += R"(]}, "rules": [{"id": "x", "effect": "deny", "match": {"to": {"in": "@big"}}}]})";
  auto p = Policy::Parse(text);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->list("big")->size(), 20000u);
}

TEST(PolicyParseTest, ErrorsAreCappedInTheMessage) {
  std::string rules;
  for (int i = 0; i < 30; ++i) rules += std::string(i ? "," : "") + R"({"id": "r)" + std::to_string(i) + R"(", "effect": "nope"})";
  auto st = Policy::Parse(R"({"version": 1, "rules": [)" + rules + "]}").status();
  EXPECT_THAT(std::string(st.message()), AllOf(HasSubstr("30 problems"), HasSubstr("and 10 more")));
}

}  // namespace
}  // namespace sigil::policy
