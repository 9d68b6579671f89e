#include "policy/facts_json.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sigil::policy {
namespace {

using nlohmann::json;

TEST(MethodSelectorTest, KnownSelectors) {
  EXPECT_EQ(MethodSelector("transfer(address,uint256)").value(), "0xa9059cbb");
  EXPECT_EQ(MethodSelector("approve(address,uint256)").value(), "0x095ea7b3");
  EXPECT_EQ(MethodSelector("transferFrom(address,address,uint256)").value(), "0x23b872dd");
  EXPECT_EQ(MethodSelector("0xA9059CBB").value(), "0xa9059cbb");
  EXPECT_FALSE(MethodSelector("transfer(address,uint)").ok());
  EXPECT_FALSE(MethodSelector("1transfer()").ok());
}

TEST(MethodSelectorTest, CanonicalTypesAreAccepted) {
  EXPECT_EQ(MethodSelector("swapExactTokensForTokens(uint256,uint256,address[],address,uint256)").value(), "0x38ed1739");
  EXPECT_EQ(MethodSelector("balanceOf(address)").value(), "0x70a08231");
  EXPECT_EQ(MethodSelector("totalSupply()").value(), "0x18160ddd");
  for (const char* ok : {"f(int8,uint8,int256,bytes1,bytes32,bool,string,bytes,function)", "f(uint256[2][],address[3])",
                         "f((uint256,address)[],bool)", "f(((bytes32,uint8),string))", "f(fixed128x18,ufixed8x1)"}) {
    EXPECT_TRUE(MethodSelector(ok).ok()) << ok << ": " << MethodSelector(ok).status();
  }
}

// Each of these hashed to a selector no function has (the audit's list).
TEST(MethodSelectorTest, MalformedSignaturesAreRefused) {
  for (const char* bad : {"transferFrom(adress,address,uint256)", "f(uint7)", "f(uint257)", "f(uint0)", "f(uint08)",
                          "f(int12)", "f(bytes33)", "f(bytes0)", "f(Address)", "f(,)", "f(uint256,)", "f(uint256))",
                          "f(())", "f(uint256[0])", "f(uint256[01])", "f(uint256[)", "f((uint256)", "f(fixed7x1)",
                          "f(fixed128x81)", "f(address payable)", "f(uint)"}) {
    auto s = MethodSelector(bad);
    ASSERT_FALSE(s.ok()) << bad << " gave " << *s;
    EXPECT_THAT(std::string(s.status().message()), ::testing::HasSubstr(bad)) << bad;
  }
  EXPECT_THAT(std::string(MethodSelector("f(uint7)").status().message()), ::testing::HasSubstr("8 to 256 in steps of 8"));
  EXPECT_THAT(std::string(MethodSelector("f(uint)").status().message()), ::testing::HasSubstr("uint256"));
}

TEST(FactsJsonTest, RoundTrip) {
  json in = json::parse(R"({"kind": "eth_tx", "key": "trader", "agent": "bot-1", "chain_id": 1,
    "from": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "to": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
    "value": "0", "nonce": 7, "gas_limit": 60000, "max_fee_per_gas": "30 gwei", "max_priority_fee_per_gas": "1 gwei",
    "erc20": {"token": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "method": "transfer",
              "to": "0x1111111111111111111111111111111111111111", "amount": "1000000"},
    "risk_score": 12, "time": "2026-01-05T12:00:00Z"})");
  auto f = FactsFromJson(in, "");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(*f->to, "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48");
  EXPECT_EQ(*f->method_selector, "0xa9059cbb");  // implied by the ERC-20 call
  EXPECT_TRUE(f->has_calldata);
  EXPECT_EQ(*f->max_fee_per_gas, Uint256(30000000000ull));
  EXPECT_EQ(*f->time, absl::FromUnixSeconds(1767614400));
  auto back = FactsFromJson(FactsToJson(*f), "");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(FactsToJson(*back), FactsToJson(*f));
}

TEST(FactsJsonTest, OtherKinds) {
  auto td = FactsFromJson(json::parse(R"({"kind": "eth_typed_data", "typed_data": {"domain": {"name": "USD Coin", "version": "2",
      "chain_id": 1, "verifying_contract": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"}, "primary_type": "Permit",
      "permit": {"spender": "0x1111111111111111111111111111111111111111", "amount": "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "deadline": 1767618000}}})"), "");
  ASSERT_TRUE(td.ok()) << td.status();
  ASSERT_EQ(td->typed_data->permit->allowances.size(), 1u);
  EXPECT_EQ(td->typed_data->permit->allowances[0].token, "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48");
  EXPECT_TRUE(td->typed_data->permit->unlimited);
  auto nostr = FactsFromJson(json::parse(R"({"kind": "nostr_event", "nostr": {"event_kind": 1, "tags": [["p", "ab"], ["t"]]}})"), "");
  ASSERT_TRUE(nostr.ok());
  EXPECT_EQ(nostr->nostr->tags.size(), 2u);
  auto sol = FactsFromJson(json::parse(R"({"kind": "solana_tx", "solana": {"transfers": [{"to": "Dest1111111111111111111111111111111111111", "amount": 5},
      {"program": "spl_token", "to": "Dest2", "amount": "7", "mint": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"}]}})"), "");
  ASSERT_TRUE(sol.ok()) << sol.status();
  EXPECT_EQ(sol->solana->programs, (std::vector<std::string>{"11111111111111111111111111111111",
                                                             "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"}));
}

// Hand-written ERC-20 facts follow the core: only an approve of at least
// 2^255 is unlimited; a transfer of that much is just its amount.
TEST(FactsJsonTest, OnlyApprovalsAreUnlimited) {
  const std::string huge = "0x8000000000000000000000000000000000000000000000000000000000000000";
  auto erc20 = [&](const std::string& method, const std::string& extra) {
    return FactsFromJson(json::parse(R"({"kind": "eth_tx", "erc20": {"token": "0x1111111111111111111111111111111111111111", "method": ")" +
                                     method + R"(", "to": "0x2222222222222222222222222222222222222222", "amount": ")" + huge + "\"" +
                                     extra + "}}"),
                         "facts");
  };
  auto approve = erc20("approve", "");
  ASSERT_TRUE(approve.ok()) << approve.status();
  EXPECT_TRUE(approve->erc20->unlimited);
  for (const char* method : {"transfer", "transferFrom"}) {
    auto f = erc20(method, "");
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_FALSE(f->erc20->unlimited) << method;
    EXPECT_FALSE(erc20(method, R"(, "unlimited": true)").ok()) << method;
  }
}

TEST(FactsJsonTest, Errors) {
  struct Bad {
    const char* json;
    const char* message;
  };
  const Bad cases[] = {
      {R"({})", "kind: missing"},
      {R"({"kind": "eth_sign"})", "is not a kind"},
      {R"({"kind": "eth_tx", "valu": "1"})", "valu: unknown field"},
      {R"({"kind": "eth_tx", "value": 0.5})", "JSON float"},
      {R"({"kind": "eth_tx", "to": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"})", "EIP-55"},
      {R"({"kind": "eth_tx", "erc20": {"token": "0x1111111111111111111111111111111111111111", "method": "burn", "to": "0x1111111111111111111111111111111111111111"}})", "burn"},
      {R"({"kind": "eth_tx", "time": "yesterday"})", "RFC 3339"},
      {R"({"kind": "eth_tx", "risk_score": 101})", "0..100"},
      {R"({"kind": "nostr_event", "nostr": {"event_kind": 70000}})", "0..65535"},
  };
  for (const Bad& b : cases) {
    auto f = FactsFromJson(json::parse(b.json), "case");
    ASSERT_FALSE(f.ok()) << b.json;
    EXPECT_THAT(std::string(f.status().message()), ::testing::HasSubstr(b.message)) << b.json;
  }
}

}  // namespace
}  // namespace sigil::policy
