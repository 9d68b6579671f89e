#include "chains/ethereum/typed_data.h"

#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "crypto/secp256k1.h"

namespace sigil::eth {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

json LoadVector(const std::string& rel) {
  std::ifstream in(std::string(SIGIL_VECTORS_DIR) + "/" + rel);
  EXPECT_TRUE(in.good()) << rel;
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

std::string Hex0x(std::span<const uint8_t> b) { return HexEncode0x(b); }

SecretBytes KeyFromHex(const std::string& hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok());
  return SecretBytes::CopyFrom(*bytes);
}

// A small valid document that tests mutate.
json MailDoc() { return LoadVector("ethereum/eip712-mail-example.json")["typedData"]; }

absl::Status ParseError(const json& doc) {
  auto td = TypedData::FromJson(doc);
  return td.ok() ? absl::OkStatus() : td.status();
}

TEST(TypedDataTest, MailExampleMatchesEveryIntermediateValue) {
  json v = LoadVector("ethereum/eip712-mail-example.json");
  auto td = TypedData::FromJson(v["typedData"]);
  ASSERT_TRUE(td.ok()) << td.status();
  EXPECT_EQ(*td->EncodeType("Mail"), v["encodeType_Mail"].get<std::string>());
  EXPECT_EQ(Hex0x(*td->TypeHash("Mail")), v["typeHash_Mail"].get<std::string>());
  auto encoded = td->EncodeData("Mail", v["typedData"]["message"]);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(Hex0x(*encoded), v["encodeData_Mail"].get<std::string>());
  EXPECT_EQ(Hex0x(*td->HashStruct("Mail", v["typedData"]["message"])), v["hashStruct_Mail"].get<std::string>());
  EXPECT_EQ(Hex0x(td->MessageHash()), v["hashStruct_Mail"].get<std::string>());
  EXPECT_EQ(Hex0x(td->DomainSeparator()), v["domainSeparator"].get<std::string>());
  EXPECT_EQ(Hex0x(td->Digest()), v["digest"].get<std::string>());

  auto sig = SignTypedData(KeyFromHex(v["private_key"].get<std::string>()), *td);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(Hex0x(std::span<const uint8_t>(sig->data(), 32)), v["r"].get<std::string>());
  EXPECT_EQ(Hex0x(std::span<const uint8_t>(sig->data() + 32, 32)), v["s"].get<std::string>());
  EXPECT_EQ((*sig)[64], v["v"].get<int>());
  EXPECT_EQ(Hex0x(*sig), v["signature_rsv"].get<std::string>());

  // The signature recovers to the documented address.
  crypto::RecoverableSignature rs;
  std::copy(sig->begin(), sig->begin() + 32, rs.r.begin());
  std::copy(sig->begin() + 32, sig->begin() + 64, rs.s.begin());
  rs.recovery_id = static_cast<uint8_t>((*sig)[64] - 27);
  auto pub = crypto::RecoverPublicKey(td->Digest(), rs);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(Address::FromPublicKey(*pub).ToLowerHex(), v["address"].get<std::string>());
}

TEST(TypedDataTest, MailExampleDomainFacts) {
  auto td = TypedData::FromJson(MailDoc());
  ASSERT_TRUE(td.ok());
  EXPECT_EQ(td->primary_type(), "Mail");
  EXPECT_EQ(td->domain().name, "Ether Mail");
  EXPECT_EQ(td->domain().version, "1");
  ASSERT_TRUE(td->domain().chain_id.has_value());
  EXPECT_EQ(*td->domain().chain_id, Uint256(1));
  EXPECT_EQ(td->domain().chain_id_u64(), 1u);
  ASSERT_TRUE(td->domain().verifying_contract.has_value());
  EXPECT_EQ(td->domain().verifying_contract->ToChecksumHex(), "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC");
  EXPECT_FALSE(td->domain().salt.has_value());
  EXPECT_EQ(td->message()["from"]["wallet"], "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826");
}

TEST(TypedDataTest, AllEthersVectors) {
  json file = LoadVector("ethereum/ethers-typed-data.json");
  const json& vectors = file["vectors"];
  ASSERT_EQ(vectors.size(), 130u);
  int signed_count = 0;
  for (const json& v : vectors) {
    SCOPED_TRACE(v["name"].get<std::string>());
    json doc = {{"types", v["types"]}, {"primaryType", v["primaryType"]}, {"domain", v["domain"]}, {"message", v["data"]}};
    auto td = TypedData::FromJson(doc);
    ASSERT_TRUE(td.ok()) << td.status();
    EXPECT_EQ(Hex0x(td->Digest()), v["digest"].get<std::string>());
    auto encoded = td->EncodeData(v["primaryType"].get<std::string>(), v["data"]);
    ASSERT_TRUE(encoded.ok()) << encoded.status();
    EXPECT_EQ(Hex0x(*encoded), v["encoded"].get<std::string>());
    // The canonical form round-trips to the same digest.
    auto again = TypedData::Parse(td->ToJson().dump());
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->Digest(), td->Digest());
    if (v.contains("privateKey")) {
      auto sig = SignTypedData(KeyFromHex(v["privateKey"].get<std::string>()), *td);
      ASSERT_TRUE(sig.ok());
      EXPECT_EQ(Hex0x(*sig), v["signature"].get<std::string>());
      ++signed_count;
    }
  }
  EXPECT_EQ(signed_count, 1);
}

// primaryType EIP712Domain signs the domain alone: keccak256(0x1901 ||
// domainSeparator). Expected digests from viem 2.57.1's hashTypedData
// (eth-sig-util and MetaMask agree on the first, whose EIP712Domain type is
// declared; for an undeclared one they hash an empty domain type).
TEST(TypedDataTest, DomainOnlyDocumentSignsTheDomain) {
  json doc = MailDoc();
  doc["primaryType"] = "EIP712Domain";
  doc.erase("message");  // viem omits it
  auto td = TypedData::FromJson(doc);
  ASSERT_TRUE(td.ok()) << td.status();
  EXPECT_EQ(Hex0x(td->Digest()), "0xaa83c70305ec6c131e7a88f258c40813447bec8b9bcef94e5479603d9959da07");
  EXPECT_EQ(td->primary_type(), "EIP712Domain");
  EXPECT_EQ(td->domain().name, "Ether Mail");
  EXPECT_EQ(td->message(), json::object());
  // An empty message is the same document; the canonical form parses back to it.
  doc["message"] = json::object();
  auto with_empty = TypedData::FromJson(doc);
  ASSERT_TRUE(with_empty.ok()) << with_empty.status();
  EXPECT_EQ(with_empty->Digest(), td->Digest());
  auto again = TypedData::FromJson(td->ToJson());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->Digest(), td->Digest());

  // Derived domain type (no types.EIP712Domain), one field.
  json minimal = {{"types", json::object()}, {"primaryType", "EIP712Domain"}, {"domain", {{"name", "x"}}}};
  auto m = TypedData::FromJson(minimal);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(Hex0x(m->Digest()), "0x06d6260154b6b6e10735bc5b5d4971474fca4a53806787df163604af5e78790d");

  // A message is refused rather than ignored: it would be shown, not signed.
  for (const json& message : {json{{"a", 1}}, json::array(), json("x"), json(nullptr)}) {
    minimal["message"] = message;
    EXPECT_THAT(std::string(ParseError(minimal).message()), HasSubstr("only the domain is signed")) << message;
  }
  // Other documents still need their message.
  doc = MailDoc();
  doc.erase("message");
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("message: missing"));
}

TEST(TypedDataTest, AcceptsDocumentAsJsonString) {
  json doc = MailDoc();
  auto direct = TypedData::Parse(doc.dump());
  auto as_string = TypedData::Parse(json(doc.dump()).dump());
  auto from_json_string = TypedData::FromJson(json(doc.dump()));
  ASSERT_TRUE(direct.ok() && as_string.ok() && from_json_string.ok());
  EXPECT_EQ(direct->Digest(), as_string->Digest());
  EXPECT_EQ(direct->Digest(), from_json_string->Digest());
  // One level of wrapping only.
  EXPECT_FALSE(TypedData::Parse(json(json(doc.dump()).dump()).dump()).ok());
  EXPECT_FALSE(TypedData::FromJson(json(json(doc.dump()).dump())).ok());
}

TEST(TypedDataTest, ErrorsNameThePath) {
  json doc = MailDoc();
  doc["message"]["to"]["wallet"] = "0x1234";
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("message.to.wallet: not an address"));

  doc = MailDoc();
  doc["message"]["from"]["wallet"] = "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD827";  // bad checksum
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("message.from.wallet: not an address"));

  doc = MailDoc();
  doc["message"]["from"].erase("name");
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("message.from.name: missing"));

  doc = MailDoc();
  doc["message"]["extra"] = "shown but not signed";
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("message: unexpected field \"extra\""));

  doc = MailDoc();
  doc["message"]["contents"] = 5;
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("message.contents: not a string"));

  doc = MailDoc();
  doc["types"]["Mail"][0]["type"] = "Persn";
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("types.Mail.from: unknown type \"Persn\""));

  doc = MailDoc();
  doc["primaryType"] = "Nope";
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("primaryType"));

  doc = MailDoc();
  doc["primaryType"] = "EIP712Domain";  // the Mail message would be shown but not signed
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("message: must be absent or {}"));

  doc = MailDoc();
  doc.erase("message");
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("message: missing"));

  doc = MailDoc();
  doc["extra"] = 1;
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("unexpected top-level key"));

  doc = MailDoc();
  doc["domain"]["chainId"] = -1;
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("domain.chainId: negative value for uint256"));

  doc = MailDoc();
  doc["domain"].erase("version");
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("domain.version: missing"));

  doc = MailDoc();
  doc["domain"]["salt"] = "0x00";
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("domain: unexpected field \"salt\""));

  doc = MailDoc();
  doc["types"]["EIP712Domain"].push_back({{"name", "foo"}, {"type", "string"}});
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("types.EIP712Domain.foo"));

  doc = MailDoc();
  doc["types"]["EIP712Domain"][2]["type"] = "uint64";
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("must have type uint256"));
}

TEST(TypedDataTest, RefusesDuplicateKeysAndMalformedJson) {
  std::string text = MailDoc().dump();
  // Add a second "contents" to the message: two parsers could disagree.
  size_t pos = text.find("\"contents\":\"Hello, Bob!\"");
  ASSERT_NE(pos, std::string::npos);
  std::string dup = text;
  dup.insert(pos, "\"contents\":\"Hello, Eve!\",");
  auto td = TypedData::Parse(dup);
  ASSERT_FALSE(td.ok());
  EXPECT_THAT(std::string(td.status().message()), HasSubstr("duplicate key \"contents\""));

  EXPECT_FALSE(TypedData::Parse("").ok());
  EXPECT_FALSE(TypedData::Parse("{").ok());
  EXPECT_FALSE(TypedData::Parse("[]").ok());
  EXPECT_FALSE(TypedData::Parse("\"not json inside\"").ok());
  EXPECT_FALSE(TypedData::Parse(text + "x").ok());
}

TEST(TypedDataTest, SizeAndDepthBounds) {
  TypedDataLimits small;
  small.max_document_bytes = 100;
  EXPECT_THAT(std::string(TypedData::Parse(MailDoc().dump(), small).status().message()), HasSubstr("limit"));

  std::string deep(10000, '[');
  EXPECT_THAT(std::string(TypedData::Parse(deep).status().message()), HasSubstr("deeper"));

  // A deep value already parsed by the caller is bounded too.
  json nested = json::array();
  for (int i = 0; i < 100; ++i) nested = json::array({nested});
  json doc = MailDoc();
  doc["message"]["contents"] = nested;
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("deeper"));

  TypedDataLimits few_types;
  few_types.max_struct_types = 2;
  EXPECT_FALSE(TypedData::FromJson(MailDoc(), few_types).ok());

  doc = MailDoc();
  doc["types"]["Mail"][2]["type"] = "string[1][1][1][1][1][1][1][1][1]";
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("array dimensions"));
  doc["types"]["Mail"][2]["type"] = "string[5000]";
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("array length"));
}

json OneField(const std::string& type, const json& value) {
  return {{"types", {{"T", {{{"name", "v"}, {"type", type}}}}}},
          {"primaryType", "T"},
          {"domain", {{"name", "x"}}},
          {"message", {{"v", value}}}};
}

TEST(TypedDataTest, AtomicTypeNames) {
  for (const char* ok : {"uint8", "uint16", "uint256", "int8", "int256", "bytes1", "bytes32", "bool", "address",
                         "string", "bytes"}) {
    json value = std::string(ok).starts_with("bytes") && std::string(ok) != "bytes"
                     ? json("0x" + std::string(2 * std::stoi(std::string(ok).substr(5)), '0'))
                 : std::string(ok) == "bool"    ? json(true)
                 : std::string(ok) == "address" ? json("0x0000000000000000000000000000000000000001")
                 : std::string(ok) == "string"  ? json("s")
                 : std::string(ok) == "bytes"   ? json("0x")
                                                : json(1);
    EXPECT_TRUE(TypedData::FromJson(OneField(ok, value)).ok()) << ok;
  }
  for (const char* bad : {"uint", "int", "uint7", "uint0", "uint264", "uint008", "int9", "bytes0", "bytes33", "bytes01",
                          "Uint256", "string[0]", "string[01]", "string[", "string]", "string[-1]", "string[ ]",
                          "uint256 ", "fixed128x18", "function"}) {
    EXPECT_FALSE(TypedData::FromJson(OneField(bad, 1)).ok()) << bad;
  }
}

TEST(TypedDataTest, IntegerValuesAndRanges) {
  auto ok = [](const std::string& type, const json& v) { return TypedData::FromJson(OneField(type, v)).ok(); };
  EXPECT_TRUE(ok("uint8", 255));
  EXPECT_TRUE(ok("uint8", "255"));
  EXPECT_TRUE(ok("uint8", "0xff"));
  EXPECT_FALSE(ok("uint8", 256));
  EXPECT_FALSE(ok("uint8", "0x100"));
  EXPECT_FALSE(ok("uint8", -1));
  EXPECT_TRUE(ok("uint8", "-0"));
  EXPECT_TRUE(ok("int8", 127));
  EXPECT_TRUE(ok("int8", -128));
  EXPECT_TRUE(ok("int8", "-0x80"));
  EXPECT_FALSE(ok("int8", 128));
  EXPECT_FALSE(ok("int8", -129));
  EXPECT_FALSE(ok("uint256", 1.5));
  EXPECT_FALSE(ok("uint256", 1e3));
  EXPECT_FALSE(ok("uint256", ""));
  EXPECT_FALSE(ok("uint256", "12a"));
  EXPECT_FALSE(ok("uint256", " 12"));
  EXPECT_FALSE(ok("uint256", true));
  EXPECT_TRUE(ok("uint256", "115792089237316195423570985008687907853269984665640564039457584007913129639935"));
  EXPECT_FALSE(ok("uint256", "115792089237316195423570985008687907853269984665640564039457584007913129639936"));
  EXPECT_TRUE(ok("int256", "-57896044618658097711785492504343953926634992332820282019728792003956564819968"));
  EXPECT_FALSE(ok("int256", "-57896044618658097711785492504343953926634992332820282019728792003956564819969"));
  EXPECT_FALSE(ok("int256", "57896044618658097711785492504343953926634992332820282019728792003956564819968"));

  // Negative values are two's complement; the same value in three spellings
  // hashes the same.
  auto a = TypedData::FromJson(OneField("int64", -2));
  auto b = TypedData::FromJson(OneField("int64", "-2"));
  auto c = TypedData::FromJson(OneField("int64", "-0x2"));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->Digest(), b->Digest());
  EXPECT_EQ(a->Digest(), c->Digest());
  auto enc = a->EncodeData("T", {{"v", -2}});
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(HexEncode(std::span<const uint8_t>(enc->data() + 32, 32)), std::string(62, 'f') + "fe");
  EXPECT_EQ(a->message()["v"], "-2");
}

TEST(TypedDataTest, BytesValues) {
  auto ok = [](const std::string& type, const json& v) { return TypedData::FromJson(OneField(type, v)).ok(); };
  EXPECT_TRUE(ok("bytes4", "0x01020304"));
  EXPECT_FALSE(ok("bytes4", "0x010203"));      // ethers v6: exact length
  EXPECT_FALSE(ok("bytes4", "0x0102030405"));
  EXPECT_FALSE(ok("bytes4", "01020304"));      // prefix required
  EXPECT_FALSE(ok("bytes", "0x123"));          // odd length
  EXPECT_FALSE(ok("bytes", "0xzz"));
  EXPECT_FALSE(ok("bytes", "hello"));
  EXPECT_TRUE(ok("bytes", "0x"));
  auto td = TypedData::FromJson(OneField("bytes4", "0xDEADBEEF"));
  ASSERT_TRUE(td.ok());
  auto enc = td->EncodeData("T", {{"v", "0xdeadbeef"}});
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(HexEncode(std::span<const uint8_t>(enc->data() + 32, 32)), "deadbeef" + std::string(56, '0'));
  EXPECT_EQ(td->message()["v"], "0xdeadbeef");
}

TEST(TypedDataTest, BoolAndStringValues) {
  auto ok = [](const std::string& type, const json& v) { return TypedData::FromJson(OneField(type, v)).ok(); };
  EXPECT_TRUE(ok("bool", false));
  EXPECT_FALSE(ok("bool", "false"));  // a truthy string must not become true
  EXPECT_FALSE(ok("bool", 1));
  EXPECT_TRUE(ok("string", "é🚀"));
  EXPECT_FALSE(ok("string", json::array()));
  // Invalid UTF-8 is refused by the JSON parser.
  std::string bad = "{\"types\":{\"T\":[{\"name\":\"v\",\"type\":\"string\"}]},\"primaryType\":\"T\",\"domain\":{},"
                    "\"message\":{\"v\":\"\xff\"}}";
  EXPECT_FALSE(TypedData::Parse(bad).ok());
}

TEST(TypedDataTest, NestedArraysAndStructArrays) {
  json doc = {{"types",
               {{"Item", {{{"name", "id"}, {"type", "uint256"}}}},
                {"Bag",
                 {{{"name", "grid"}, {"type", "bool[2][]"}},
                  {{"name", "items"}, {"type", "Item[]"}},
                  {{"name", "pair"}, {"type", "Item[2]"}}}}}},
              {"primaryType", "Bag"},
              {"domain", {{"chainId", "0x1"}}},
              {"message",
               {{"grid", {{true, false}, {false, true}, {true, true}}},
                {"items", {{{"id", 1}}, {{"id", "2"}}}},
                {"pair", {{{"id", 3}}, {{"id", 4}}}}}}};
  auto td = TypedData::FromJson(doc);
  ASSERT_TRUE(td.ok()) << td.status();
  EXPECT_EQ(*td->EncodeType("Bag"), "Bag(bool[2][] grid,Item[] items,Item[2] pair)Item(uint256 id)");

  // Hand-computed: a bool[2] element is keccak(word(a) || word(b)).
  auto word = [](uint8_t b) {
    Bytes w(32, 0);
    w[31] = b;
    return w;
  };
  auto cat = [](std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  };
  auto h = [](const Bytes& b) {
    auto d = crypto::Keccak256(b);
    return Bytes(d.begin(), d.end());
  };
  Bytes grid = h(cat({h(cat({word(1), word(0)})), h(cat({word(0), word(1)})), h(cat({word(1), word(1)}))}));
  auto item_hash = [&](uint8_t id) {
    auto th = *td->TypeHash("Item");
    return h(cat({Bytes(th.begin(), th.end()), word(id)}));
  };
  Bytes items = h(cat({item_hash(1), item_hash(2)}));
  Bytes pair = h(cat({item_hash(3), item_hash(4)}));
  auto th = *td->TypeHash("Bag");
  Bytes expected = cat({Bytes(th.begin(), th.end()), grid, items, pair});
  EXPECT_EQ(*td->EncodeData("Bag", doc["message"]), expected);

  doc["message"]["grid"][1] = {true};
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("message.grid[1]: expected 2 elements, got 1"));
  doc = td->ToJson();
  doc["message"]["items"][1]["id"] = "x";
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("message.items[1].id: not an integer"));
}

TEST(TypedDataTest, RecursionOnlyThroughDynamicArrays) {
  json tree = {{"types", {{"Node", {{{"name", "name"}, {"type", "string"}}, {{"name", "kids"}, {"type", "Node[]"}}}}}},
               {"primaryType", "Node"},
               {"domain", json::object()},
               {"message", {{"name", "root"}, {"kids", {{{"name", "leaf"}, {"kids", json::array()}}}}}}};
  auto td = TypedData::FromJson(tree);
  ASSERT_TRUE(td.ok()) << td.status();
  EXPECT_EQ(*td->EncodeType("Node"), "Node(string name,Node[] kids)");

  json direct = tree;
  direct["types"]["Node"][1]["type"] = "Node";
  EXPECT_THAT(std::string(ParseError(direct).message()), HasSubstr("contains itself"));
  json fixed = tree;
  fixed["types"]["Node"][1]["type"] = "Node[2]";
  EXPECT_THAT(std::string(ParseError(fixed).message()), HasSubstr("contains itself"));
  json mutual = {{"types",
                  {{"A", {{{"name", "b"}, {"type", "B"}}}}, {"B", {{{"name", "a"}, {"type", "A[1]"}}}}}},
                 {"primaryType", "A"},
                 {"domain", json::object()},
                 {"message", json::object()}};
  EXPECT_THAT(std::string(ParseError(mutual).message()), HasSubstr("contains itself"));
}

TEST(TypedDataTest, StructNamesAndFieldNames) {
  json doc = MailDoc();
  doc["types"]["uint256"] = json::array();
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("reserved"));
  doc = MailDoc();
  doc["types"]["Bad Name"] = json::array();
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("invalid struct name"));
  doc = MailDoc();
  doc["types"]["Person"][1]["name"] = "name";
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("duplicate field name"));
  doc = MailDoc();
  doc["types"]["Person"][1]["name"] = "a,b";
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("invalid field name"));
  doc = MailDoc();
  doc["types"]["Person"][1]["extra"] = "x";
  EXPECT_FALSE(ParseError(doc).ok());
}

TEST(TypedDataTest, DerivedDomainUsesCanonicalOrder) {
  // Keys out of order and a null value: derived as ethers does.
  json doc = OneField("uint8", 1);
  doc["domain"] = {{"salt", "0x" + std::string(64, 'a')}, {"chainId", "10"}, {"name", "n"}, {"version", nullptr}};
  auto td = TypedData::FromJson(doc);
  ASSERT_TRUE(td.ok()) << td.status();
  EXPECT_EQ(*td->EncodeType("EIP712Domain"), "EIP712Domain(string name,uint256 chainId,bytes32 salt)");
  EXPECT_EQ(td->domain().chain_id_u64(), 10u);
  EXPECT_FALSE(td->domain().version.has_value());
  ASSERT_TRUE(td->domain().salt.has_value());
  EXPECT_EQ((*td->domain().salt)[0], 0xaa);

  doc["domain"]["foo"] = 1;
  EXPECT_THAT(std::string(ParseError(doc).message()), HasSubstr("unexpected key \"foo\""));

  // A chain id beyond 64 bits is exact, and chain_id_u64 says it does not fit.
  doc = OneField("uint8", 1);
  doc["domain"] = {{"chainId", "0x10000000000000000"}};
  td = TypedData::FromJson(doc);
  ASSERT_TRUE(td.ok());
  EXPECT_FALSE(td->domain().chain_id_u64().has_value());
  EXPECT_EQ(td->domain().chain_id->ToDecimal(), "18446744073709551616");
}

TEST(TypedDataTest, SignRefusesBadKey) {
  auto td = TypedData::FromJson(MailDoc());
  ASSERT_TRUE(td.ok());
  EXPECT_FALSE(SignTypedData(SecretBytes::CopyFrom(Bytes(31, 1)), *td).ok());
  EXPECT_FALSE(SignTypedData(SecretBytes::CopyFrom(Bytes(32, 0)), *td).ok());
  EXPECT_FALSE(SignTypedData(KeyFromHex(std::string(64, '1')), "{}").ok());
}

}  // namespace
}  // namespace sigil::eth
