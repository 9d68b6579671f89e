#include "chains/ethereum/transaction_request.h"

#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace sigil::eth {
namespace {

using nlohmann::json;

json Base1559() {
  return {{"from", "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"},
          {"to", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"},
          {"value", "0xde0b6b3a7640000"},
          {"gas", "0x5208"},
          {"maxFeePerGas", "2000000000"},
          {"maxPriorityFeePerGas", "0x3b9aca00"},
          {"nonce", 0},
          {"chainId", "0x7a69"}};
}

std::string Message(const absl::StatusOr<Transaction>& r) { return r.ok() ? "OK" : std::string(r.status().message()); }

// The outcome for `j`, checked to be the same from the parsed object and
// from its text (the two entry points use different JSON parsers).
std::string Error(const json& j, const ParseOptions& o = {}) {
  auto from_object = TransactionFromJson(j, o);
  auto from_text = TransactionFromJson(std::string_view(j.dump()), o);
  EXPECT_EQ(Message(from_object), Message(from_text)) << j.dump();
  if (from_object.ok() && from_text.ok()) {
    EXPECT_EQ(*from_object, *from_text) << j.dump();
  }
  return Message(from_object);
}

TEST(EthTransactionRequest, ParsesWalletShape) {
  auto r = ParseTransactionRequest(Base1559());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->from->ToChecksumHex(), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  auto tx = TransactionFromRequest(*r);
  ASSERT_TRUE(tx.ok()) << tx.status();
  EXPECT_EQ(tx->type(), TxType::kDynamicFee);
  EXPECT_EQ(*tx->chain_id(), 31337u);
  EXPECT_EQ(tx->value().ToDecimal(), "1000000000000000000");
  EXPECT_EQ(tx->gas_limit(), 21000u);
  EXPECT_EQ(tx->max_fee_per_gas(), Uint256(2000000000));
  EXPECT_EQ(tx->max_priority_fee_per_gas(), Uint256(1000000000));
  EXPECT_EQ(tx->to()->ToChecksumHex(), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
  EXPECT_TRUE(tx->data().empty());
  // From text, too.
  auto from_text = TransactionFromJson(std::string_view(Base1559().dump()));
  ASSERT_TRUE(from_text.ok());
  EXPECT_EQ(*from_text, *tx);
}

TEST(EthTransactionRequest, TextIsStrict) {
  std::string text = Base1559().dump();
  EXPECT_EQ(Message(TransactionFromJson(std::string_view(text))), "OK");
  // A repeated key is refused: the sender's intent is ambiguous.
  std::string twice = text.substr(0, text.size() - 1) + R"(,"value":"0x1"})";
  EXPECT_EQ(Message(TransactionFromJson(std::string_view(twice))), "field 'value': appears twice");
  // At any depth: simdjson would keep the first "address", nlohmann the last.
  std::string entry = R"({"address":"0x1111111111111111111111111111111111111111","address":"0x2222222222222222222222222222222222222222","storageKeys":[]})";
  std::string nested = text.substr(0, text.size() - 1) + R"(,"accessList":[)" + entry + "]}";
  EXPECT_EQ(Message(TransactionFromJson(std::string_view(nested))), "field 'accessList': repeats the name \"address\"");
  std::string once = R"({"address":"0x1111111111111111111111111111111111111111","storageKeys":[]})";
  std::string fine = text.substr(0, text.size() - 1) + R"(,"accessList":[)" + once + "," + once + "]}";
  EXPECT_EQ(Message(TransactionFromJson(std::string_view(fine))), "OK");  // equal names in sibling objects are fine
  EXPECT_NE(Message(TransactionFromJson(std::string_view(text.substr(0, 40)))).find("not valid JSON"), std::string::npos);
  EXPECT_NE(Message(TransactionFromJson(std::string_view("[1,2]"))).find("must be a JSON object"), std::string::npos);
  // A number beyond 64 bits is refused, never rounded.
  std::string big = text.substr(0, text.size() - 1) + R"(,"gasLimit":123456789012345678901234567890})";
  EXPECT_NE(Message(TransactionFromJson(std::string_view(big))), "OK");
}

TEST(EthTransactionRequest, TypeInference) {
  json j = Base1559();
  EXPECT_EQ(ParseTransactionRequest(j)->InferType(), TxType::kDynamicFee);
  j.erase("maxFeePerGas");
  EXPECT_EQ(ParseTransactionRequest(j)->InferType(), TxType::kDynamicFee);  // priority alone -> 2
  j.erase("maxPriorityFeePerGas");
  EXPECT_EQ(ParseTransactionRequest(j)->InferType(), TxType::kDynamicFee);  // no fee fields -> 2
  EXPECT_NE(Error(j).find("field 'maxFeePerGas': missing"), std::string::npos) << Error(j);
  j["gasPrice"] = "0x1";
  EXPECT_EQ(ParseTransactionRequest(j)->InferType(), TxType::kLegacy);
  EXPECT_EQ(Error(j), "OK");
  j["accessList"] = json::array();
  EXPECT_EQ(ParseTransactionRequest(j)->InferType(), TxType::kAccessList);
  EXPECT_EQ(TransactionFromJson(j)->type(), TxType::kAccessList);
  j["type"] = "0x0";
  EXPECT_NE(Error(j).find("field 'accessList'"), std::string::npos);
  j.erase("accessList");
  EXPECT_EQ(TransactionFromJson(j)->type(), TxType::kLegacy);
  j["type"] = 1;
  EXPECT_EQ(TransactionFromJson(j)->type(), TxType::kAccessList);
  j["type"] = "0x02";
  EXPECT_NE(Error(j).find("field 'gasPrice'"), std::string::npos);
  j["type"] = "0x3";
  EXPECT_NE(Error(j).find("blob"), std::string::npos);
  j["type"] = "0x4";
  EXPECT_NE(Error(j).find("unsupported transaction type 0x4"), std::string::npos);
  j = Base1559();
  j["type"] = "0x0";
  EXPECT_NE(Error(j).find("field 'maxFeePerGas'"), std::string::npos);
  j = Base1559();
  j["gasPrice"] = "1";
  EXPECT_NE(Error(j).find("field 'gasPrice': cannot be combined"), std::string::npos);
}

TEST(EthTransactionRequest, QuantityForms) {
  json j = Base1559();
  for (const json& ok : {json("0x0"), json("0"), json(0), json("0x00"), json(9007199254740991ull),
                         json("115792089237316195423570985008687907853269984665640564039457584007913129639935")}) {
    j["value"] = ok;
    EXPECT_EQ(Error(j), "OK") << ok.dump();
  }
  struct Bad {
    json value;
    std::string needle;
  };
  for (const Bad& bad : std::vector<Bad>{
           {json(1.5), "floating-point"},
           {json(1.0), "floating-point"},
           {json(1e18), "floating-point"},
           {json(9007199254740992ull), "2^53"},
           {json(-1), "negative"},
           {json("-1"), "negative"},
           {json(""), "empty"},
           {json("0x"), "0x"},
           {json("0xg"), "hex"},
           {json("1.5"), "decimal"},
           {json("1 ether"), "decimal"},
           {json(true), "expected"},
           {json::array(), "expected"},
           {json("115792089237316195423570985008687907853269984665640564039457584007913129639936"), "256"},
           {json("0x1" + std::string(64, '0')), "256"}}) {
    j["value"] = bad.value;
    std::string e = Error(j);
    EXPECT_NE(e.find("field 'value'"), std::string::npos) << bad.value.dump() << ": " << e;
    EXPECT_NE(e.find(bad.needle), std::string::npos) << bad.value.dump() << ": " << e;
  }
  j = Base1559();
  j["nonce"] = "0x10000000000000000";
  EXPECT_NE(Error(j).find("field 'nonce': does not fit 64 bits"), std::string::npos);
  j = Base1559();
  j["gas"] = "18446744073709551616";
  EXPECT_NE(Error(j).find("field 'gas'"), std::string::npos);
  j = Base1559();
  j["chainId"] = 0;
  EXPECT_NE(Error(j).find("field 'chainId': must not be 0"), std::string::npos);
  j["chainId"] = "0xffffffffffffffff";
  EXPECT_NE(Error(j).find("field 'chainId': too large"), std::string::npos);
  j = Base1559();
  j["maxPriorityFeePerGas"] = "2000000001";
  EXPECT_NE(Error(j).find("field 'maxPriorityFeePerGas': exceeds maxFeePerGas"), std::string::npos);
}

TEST(EthTransactionRequest, FieldsAndAliases) {
  json j = Base1559();
  j["data"] = "0xa9059cbb";
  j["input"] = "0xa9059cbb";
  EXPECT_EQ(TransactionFromJson(j)->data(), Bytes({0xa9, 0x05, 0x9c, 0xbb}));
  j["input"] = "0xa9059cbc";
  EXPECT_NE(Error(j).find("field 'input': differs"), std::string::npos);
  j.erase("data");
  EXPECT_EQ(TransactionFromJson(j)->data(), Bytes({0xa9, 0x05, 0x9c, 0xbc}));
  j["input"] = "0xabc";
  EXPECT_NE(Error(j).find("field 'input'"), std::string::npos);
  j["input"] = "abcd";
  EXPECT_NE(Error(j).find("field 'input'"), std::string::npos);
  j = Base1559();
  j.erase("gas");
  EXPECT_NE(Error(j).find("field 'gas': missing"), std::string::npos);
  j["gasLimit"] = 21000;
  EXPECT_EQ(Error(j), "OK");
  j["gas"] = 21001;
  EXPECT_NE(Error(j).find("field 'gasLimit': differs"), std::string::npos);
  j = Base1559();
  j.erase("nonce");
  EXPECT_NE(Error(j).find("field 'nonce': missing"), std::string::npos);
  j = Base1559();
  j.erase("chainId");
  EXPECT_NE(Error(j).find("field 'chainId': missing"), std::string::npos);
  j = Base1559();
  j["nonce"] = nullptr;  // null means missing
  EXPECT_NE(Error(j).find("field 'nonce': missing"), std::string::npos);
  // Checksum errors name the field.
  j = Base1559();
  j["to"] = "0x70997970C51812dc3A010C7d01b50e0d17dc79c8";
  EXPECT_NE(Error(j).find("field 'to'"), std::string::npos);
  EXPECT_NE(Error(j).find("checksum"), std::string::npos);
  j["to"] = "";
  EXPECT_NE(Error(j).find("field 'to'"), std::string::npos);
  j = Base1559();
  j["from"] = "0x1234";
  EXPECT_NE(Error(j).find("field 'from'"), std::string::npos);
  // Contract creation: `to` missing or null.
  j = Base1559();
  j.erase("to");
  j["data"] = "0x6080";
  EXPECT_TRUE(TransactionFromJson(j)->is_contract_creation());
  j["to"] = nullptr;
  EXPECT_TRUE(TransactionFromJson(j)->is_contract_creation());
  // Blob keys are refused.
  j = Base1559();
  j["blobVersionedHashes"] = json::array();
  EXPECT_NE(Error(j).find("blob"), std::string::npos);
  // So is an EIP-7702 authorization list (signing without it would sign
  // another transaction than the one asked), even an empty one.
  j = Base1559();
  j["authorizationList"] = json::array();
  EXPECT_NE(Error(j).find("field 'authorizationList': set-code (EIP-7702)"), std::string::npos);
  // EIP-2681: a nonce is below 2^64-1.
  j = Base1559();
  j["nonce"] = "0xffffffffffffffff";
  EXPECT_NE(Error(j).find("field 'nonce': must be below 2^64-1"), std::string::npos);
  j["nonce"] = "0xfffffffffffffffe";
  EXPECT_EQ(Error(j), "OK");
  // Not an object / not JSON.
  EXPECT_FALSE(TransactionFromJson(json::array()).ok());
  EXPECT_FALSE(TransactionFromJson(std::string_view("{")).ok());
  EXPECT_FALSE(TransactionFromJson(std::string_view(std::string(100, '[') + std::string(100, ']'))).ok());
}

TEST(EthTransactionRequest, AccessList) {
  json j = Base1559();
  j["accessList"] = {{{"address", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"},
                      {"storageKeys", {"0x" + std::string(63, '0') + "1"}}},
                     {{"address", "0x0000000000000000000000000000000000000001"}, {"storageKeys", json::array()}}};
  auto tx = TransactionFromJson(j);
  ASSERT_TRUE(tx.ok()) << tx.status();
  ASSERT_EQ(tx->access_list().size(), 2u);
  EXPECT_EQ(tx->access_list()[0].storage_keys.size(), 1u);
  EXPECT_EQ(tx->access_list()[0].storage_keys[0][31], 1);
  j["accessList"][0]["storageKeys"][0] = "0x01";
  EXPECT_NE(Error(j).find("field 'accessList[0].storageKeys[0]': must be 32 bytes"), std::string::npos) << Error(j);
  j["accessList"][0] = {{"storageKeys", json::array()}};
  EXPECT_NE(Error(j).find("field 'accessList[0].address': missing"), std::string::npos);
  j["accessList"] = "x";
  EXPECT_NE(Error(j).find("field 'accessList'"), std::string::npos);
}

TEST(EthTransactionRequest, PreEip155OnlyWithOption) {
  json j = Base1559();
  j.erase("chainId");
  j.erase("maxFeePerGas");
  j.erase("maxPriorityFeePerGas");
  j["gasPrice"] = "1";
  EXPECT_NE(Error(j).find("chainId"), std::string::npos);
  ParseOptions allow;
  allow.allow_pre_eip155 = true;
  auto tx = TransactionFromJson(j, allow);
  ASSERT_TRUE(tx.ok()) << tx.status();
  EXPECT_FALSE(tx->chain_id().has_value());
  // Typed transactions always need one.
  j["type"] = 1;
  EXPECT_NE(Error(j, allow).find("chainId"), std::string::npos);
}

TEST(EthTransactionRequest, ToJsonShape) {
  json j = Base1559();
  j["data"] = "0xdeadbeef";
  auto tx = *TransactionFromJson(j);
  json out = ToJson(tx);
  EXPECT_EQ(out.at("type"), "0x2");
  EXPECT_EQ(out.at("chainId"), "0x7a69");
  EXPECT_EQ(out.at("nonce"), "0x0");
  EXPECT_EQ(out.at("gas"), "0x5208");
  EXPECT_EQ(out.at("maxFeePerGas"), "0x77359400");
  EXPECT_EQ(out.at("value"), "0xde0b6b3a7640000");
  EXPECT_EQ(out.at("input"), "0xdeadbeef");
  EXPECT_EQ(out.at("to"), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
  EXPECT_TRUE(out.at("accessList").is_array());
  EXPECT_FALSE(out.contains("gasPrice"));
  EXPECT_EQ(*TransactionFromJson(out), tx);
}

}  // namespace
}  // namespace sigil::eth
