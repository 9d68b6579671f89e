#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chains/ethereum/permit.h"
#include "chains/ethereum/typed_data.h"

namespace sigil::eth {
namespace {

// Every kind has its own name and one of the three families.
TEST(PermitKindTest, EveryKindHasANameAndAFamily) {
  std::set<std::string_view> names;
  for (int i = 0; i < static_cast<int>(PermitKind::kCount); ++i) {
    const auto k = static_cast<PermitKind>(i);
    EXPECT_NE(PermitKindName(k), "unknown") << i;
    EXPECT_TRUE(names.insert(PermitKindName(k)).second) << PermitKindName(k);
    const std::string_view family = PermitKindFamily(k);
    EXPECT_TRUE(family == "permit" || family == "dai_permit" || family == "permit2") << PermitKindName(k);
  }
  EXPECT_EQ(PermitKindFamily(PermitKind::kEip2612), "permit");
  EXPECT_EQ(PermitKindFamily(PermitKind::kPermit2Batch), "permit2");
  EXPECT_EQ(PermitKindName(PermitKind::kCount), "unknown");
}

using json = nlohmann::json;

constexpr char kMaxUint256[] = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
constexpr char kMaxUint160[] = "1461501637330902918203684832716283019655932542975";
constexpr char kUsdc[] = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";
constexpr char kDai[] = "0x6B175474E89094C44Da98b954EedeAC495271d0F";
constexpr char kPermit2[] = "0x000000000022D473030F116dDEE9F6B43aC78BA3";
constexpr char kOwner[] = "0x1111111111111111111111111111111111111111";
constexpr char kSpender[] = "0x2222222222222222222222222222222222222222";

json Eip2612(const json& value) {
  return {{"types",
           {{"EIP712Domain",
             {{{"name", "name"}, {"type", "string"}},
              {{"name", "version"}, {"type", "string"}},
              {{"name", "chainId"}, {"type", "uint256"}},
              {{"name", "verifyingContract"}, {"type", "address"}}}},
            {"Permit",
             {{{"name", "owner"}, {"type", "address"}},
              {{"name", "spender"}, {"type", "address"}},
              {{"name", "value"}, {"type", "uint256"}},
              {{"name", "nonce"}, {"type", "uint256"}},
              {{"name", "deadline"}, {"type", "uint256"}}}}}},
          {"primaryType", "Permit"},
          {"domain", {{"name", "USD Coin"}, {"version", "2"}, {"chainId", 1}, {"verifyingContract", kUsdc}}},
          {"message",
           {{"owner", kOwner}, {"spender", kSpender}, {"value", value}, {"nonce", 7}, {"deadline", "1700000000"}}}};
}

std::optional<PermitFacts> Recognize(const json& doc) {
  auto td = TypedData::FromJson(doc);
  EXPECT_TRUE(td.ok()) << td.status();
  if (!td.ok()) return std::nullopt;
  return RecognizePermit(*td);
}

TEST(TypedPermitTest, Eip2612Limited) {
  auto f = Recognize(Eip2612("1000000"));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->kind, PermitKind::kEip2612);
  EXPECT_EQ(PermitKindName(f->kind), "eip2612");
  EXPECT_EQ(f->owner->ToChecksumHex(), kOwner);
  EXPECT_EQ(f->spender.ToChecksumHex(), kSpender);
  ASSERT_EQ(f->allowances.size(), 1u);
  EXPECT_EQ(f->allowances[0].token->ToChecksumHex(), kUsdc);
  EXPECT_EQ(f->allowances[0].amount, Uint256(1000000));
  EXPECT_FALSE(f->allowances[0].unlimited);
  EXPECT_FALSE(f->unlimited);
  EXPECT_EQ(f->deadline, Uint256(1700000000));
  EXPECT_EQ(f->nonce, Uint256(7));
}

// The same rule as an ERC-20 approve: at least 2^255.
TEST(TypedPermitTest, Eip2612UnlimitedFromHalfTheUint256Range) {
  auto f = Recognize(Eip2612(kMaxUint256));
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE(f->unlimited);
  EXPECT_TRUE(f->allowances[0].unlimited);
  auto g = Recognize(Eip2612("0x" + std::string(63, 'f') + "e"));
  ASSERT_TRUE(g.has_value());
  EXPECT_TRUE(g->unlimited);
  auto half = Recognize(Eip2612("0x8" + std::string(63, '0')));  // 2^255
  ASSERT_TRUE(half.has_value());
  EXPECT_TRUE(half->unlimited);
  auto below = Recognize(Eip2612("0x7" + std::string(63, 'f')));  // 2^255 - 1
  ASSERT_TRUE(below.has_value());
  EXPECT_FALSE(below->unlimited);
}

TEST(TypedPermitTest, LookalikePermitIsNotRecognised) {
  json doc = Eip2612("1");
  // Same name, fields reordered: a different type hash, not a token permit.
  std::swap(doc["types"]["Permit"][0], doc["types"]["Permit"][1]);
  EXPECT_FALSE(Recognize(doc).has_value());
  doc = Eip2612("1");
  doc["types"]["Permit"][2]["type"] = "uint128";
  EXPECT_FALSE(Recognize(doc).has_value());
  doc = Eip2612("1");
  doc["types"]["Permit"].push_back({{"name", "memo"}, {"type", "string"}});
  doc["message"]["memo"] = "x";
  EXPECT_FALSE(Recognize(doc).has_value());
}

TEST(TypedPermitTest, Eip2612WithoutVerifyingContractHasNoToken) {
  json doc = Eip2612("1");
  doc["types"]["EIP712Domain"].erase(3);
  doc["domain"].erase("verifyingContract");
  auto f = Recognize(doc);
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->allowances[0].token.has_value());
}

TEST(TypedPermitTest, DaiPermit) {
  json doc = {{"types",
               {{"Permit",
                 {{{"name", "holder"}, {"type", "address"}},
                  {{"name", "spender"}, {"type", "address"}},
                  {{"name", "nonce"}, {"type", "uint256"}},
                  {{"name", "expiry"}, {"type", "uint256"}},
                  {{"name", "allowed"}, {"type", "bool"}}}}}},
              {"primaryType", "Permit"},
              {"domain", {{"name", "Dai Stablecoin"}, {"version", "1"}, {"chainId", 1}, {"verifyingContract", kDai}}},
              {"message", {{"holder", kOwner}, {"spender", kSpender}, {"nonce", 0}, {"expiry", 0}, {"allowed", true}}}};
  auto f = Recognize(doc);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->kind, PermitKind::kDaiPermit);
  EXPECT_TRUE(f->unlimited);
  EXPECT_EQ(f->allowances[0].amount, Uint256::Max());
  EXPECT_EQ(f->allowances[0].token->ToChecksumHex(), kDai);
  doc["message"]["allowed"] = false;
  f = Recognize(doc);
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->unlimited);
  EXPECT_TRUE(f->allowances[0].amount.IsZero());
}

json Permit2Types() {
  return {{"PermitDetails",
           {{{"name", "token"}, {"type", "address"}},
            {{"name", "amount"}, {"type", "uint160"}},
            {{"name", "expiration"}, {"type", "uint48"}},
            {{"name", "nonce"}, {"type", "uint48"}}}},
          {"TokenPermissions", {{{"name", "token"}, {"type", "address"}}, {{"name", "amount"}, {"type", "uint256"}}}}};
}

json Permit2Domain() { return {{"name", "Permit2"}, {"chainId", 1}, {"verifyingContract", kPermit2}}; }

TEST(TypedPermitTest, Permit2Single) {
  json types = Permit2Types();
  types.erase("TokenPermissions");
  types["PermitSingle"] = {{{"name", "details"}, {"type", "PermitDetails"}},
                           {{"name", "spender"}, {"type", "address"}},
                           {{"name", "sigDeadline"}, {"type", "uint256"}}};
  json doc = {{"types", types},
              {"primaryType", "PermitSingle"},
              {"domain", Permit2Domain()},
              {"message",
               {{"details", {{"token", kUsdc}, {"amount", kMaxUint160}, {"expiration", 1800000000}, {"nonce", 3}}},
                {"spender", kSpender},
                {"sigDeadline", 1700000000}}}};
  auto td = TypedData::FromJson(doc);
  ASSERT_TRUE(td.ok()) << td.status();
  EXPECT_EQ(*td->EncodeType("PermitSingle"),
            "PermitSingle(PermitDetails details,address spender,uint256 sigDeadline)"
            "PermitDetails(address token,uint160 amount,uint48 expiration,uint48 nonce)");
  auto f = RecognizePermit(*td);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->kind, PermitKind::kPermit2Single);
  EXPECT_FALSE(f->owner.has_value());
  EXPECT_EQ(f->spender.ToChecksumHex(), kSpender);
  ASSERT_EQ(f->allowances.size(), 1u);
  EXPECT_EQ(f->allowances[0].token->ToChecksumHex(), kUsdc);
  EXPECT_TRUE(f->allowances[0].unlimited);
  EXPECT_TRUE(f->unlimited);
  EXPECT_EQ(f->allowances[0].expiration, Uint256(1800000000));
  EXPECT_EQ(f->allowances[0].nonce, Uint256(3));
  EXPECT_EQ(f->deadline, Uint256(1700000000));

  // Unlimited from half the uint160 range (2^159), like ERC-20's 2^255.
  doc["message"]["details"]["amount"] = "1461501637330902918203684832716283019655932542974";  // max - 1
  f = Recognize(doc);
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE(f->unlimited);
  doc["message"]["details"]["amount"] = "730750818665451459101842416358141509827966271488";  // 2^159
  f = Recognize(doc);
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE(f->unlimited);
  doc["message"]["details"]["amount"] = "730750818665451459101842416358141509827966271487";  // 2^159 - 1
  f = Recognize(doc);
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->unlimited);
  // uint160 range is enforced by the encoder.
  doc["message"]["details"]["amount"] = "1461501637330902918203684832716283019655932542976";
  EXPECT_FALSE(TypedData::FromJson(doc).ok());
}

TEST(TypedPermitTest, Permit2Batch) {
  json types = Permit2Types();
  types["PermitBatch"] = {{{"name", "details"}, {"type", "PermitDetails[]"}},
                          {{"name", "spender"}, {"type", "address"}},
                          {{"name", "sigDeadline"}, {"type", "uint256"}}};
  json doc = {{"types", types},
              {"primaryType", "PermitBatch"},
              {"domain", Permit2Domain()},
              {"message",
               {{"details",
                 {{{"token", kUsdc}, {"amount", 5}, {"expiration", 0}, {"nonce", 0}},
                  {{"token", kDai}, {"amount", kMaxUint160}, {"expiration", 0}, {"nonce", 1}}}},
                {"spender", kSpender},
                {"sigDeadline", 1}}}};
  auto f = Recognize(doc);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->kind, PermitKind::kPermit2Batch);
  ASSERT_EQ(f->allowances.size(), 2u);
  EXPECT_EQ(f->allowances[0].amount, Uint256(5));
  EXPECT_FALSE(f->allowances[0].unlimited);
  EXPECT_EQ(f->allowances[1].token->ToChecksumHex(), kDai);
  EXPECT_TRUE(f->allowances[1].unlimited);
  EXPECT_TRUE(f->unlimited);
}

TEST(TypedPermitTest, Permit2SignatureTransfer) {
  json types = Permit2Types();
  types["PermitTransferFrom"] = {{{"name", "permitted"}, {"type", "TokenPermissions"}},
                                 {{"name", "spender"}, {"type", "address"}},
                                 {{"name", "nonce"}, {"type", "uint256"}},
                                 {{"name", "deadline"}, {"type", "uint256"}}};
  json doc = {{"types", types},
              {"primaryType", "PermitTransferFrom"},
              {"domain", Permit2Domain()},
              {"message",
               {{"permitted", {{"token", kUsdc}, {"amount", "250"}}}, {"spender", kSpender}, {"nonce", 9}, {"deadline", 2}}}};
  auto f = Recognize(doc);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->kind, PermitKind::kPermit2TransferFrom);
  EXPECT_EQ(f->allowances[0].amount, Uint256(250));
  EXPECT_FALSE(f->allowances[0].expiration.has_value());
  EXPECT_EQ(f->nonce, Uint256(9));
  EXPECT_FALSE(f->unlimited);
  // SignatureTransfer amounts (written as uint256) follow the Permit2 bound.
  doc["message"]["permitted"]["amount"] = kMaxUint256;
  f = Recognize(doc);
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE(f->unlimited);

  types["PermitBatchTransferFrom"] = {{{"name", "permitted"}, {"type", "TokenPermissions[]"}},
                                      {{"name", "spender"}, {"type", "address"}},
                                      {{"name", "nonce"}, {"type", "uint256"}},
                                      {{"name", "deadline"}, {"type", "uint256"}}};
  types.erase("PermitTransferFrom");
  json batch = {{"types", types},
                {"primaryType", "PermitBatchTransferFrom"},
                {"domain", Permit2Domain()},
                {"message",
                 {{"permitted", {{{"token", kUsdc}, {"amount", "1"}}, {{"token", kDai}, {"amount", "2"}}}},
                  {"spender", kSpender},
                  {"nonce", 1},
                  {"deadline", 2}}}};
  f = Recognize(batch);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->kind, PermitKind::kPermit2BatchTransferFrom);
  ASSERT_EQ(f->allowances.size(), 2u);
  EXPECT_EQ(f->allowances[1].amount, Uint256(2));
}

TEST(TypedPermitTest, Permit2WitnessTransfer) {
  json types = Permit2Types();
  types.erase("PermitDetails");
  types["Order"] = {{{"name", "minOut"}, {"type", "uint256"}}};
  types["PermitWitnessTransferFrom"] = {{{"name", "permitted"}, {"type", "TokenPermissions"}},
                                        {{"name", "spender"}, {"type", "address"}},
                                        {{"name", "nonce"}, {"type", "uint256"}},
                                        {{"name", "deadline"}, {"type", "uint256"}},
                                        {{"name", "witness"}, {"type", "Order"}}};
  json doc = {{"types", types},
              {"primaryType", "PermitWitnessTransferFrom"},
              {"domain", Permit2Domain()},
              {"message",
               {{"permitted", {{"token", kUsdc}, {"amount", "10"}}},
                {"spender", kSpender},
                {"nonce", 1},
                {"deadline", 2},
                {"witness", {{"minOut", 5}}}}}};
  auto f = Recognize(doc);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->kind, PermitKind::kPermit2WitnessTransferFrom);
  EXPECT_EQ(f->allowances[0].amount, Uint256(10));
}

TEST(TypedPermitTest, OrdinaryDocumentIsNotAPermit) {
  json doc = {{"types", {{"Mail", {{{"name", "contents"}, {"type", "string"}}}}}},
              {"primaryType", "Mail"},
              {"domain", {{"chainId", 1}}},
              {"message", {{"contents", "hi"}}}};
  EXPECT_FALSE(Recognize(doc).has_value());
  // Permit2 primary type with a non-canonical detail struct.
  json types = Permit2Types();
  types["PermitDetails"][1]["type"] = "uint256";
  types["PermitSingle"] = {{{"name", "details"}, {"type", "PermitDetails"}},
                           {{"name", "spender"}, {"type", "address"}},
                           {{"name", "sigDeadline"}, {"type", "uint256"}}};
  json p2 = {{"types", types},
             {"primaryType", "PermitSingle"},
             {"domain", Permit2Domain()},
             {"message",
              {{"details", {{"token", kUsdc}, {"amount", 1}, {"expiration", 0}, {"nonce", 0}}},
               {"spender", kSpender},
               {"sigDeadline", 1}}}};
  EXPECT_FALSE(Recognize(p2).has_value());
}

}  // namespace
}  // namespace sigil::eth
