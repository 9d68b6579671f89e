#include "chains/ethereum/transaction.h"

#include <string>

#include "base/hex.h"
#include "chains/eth_test_vectors.h"
#include "chains/ethereum/transaction_request.h"
#include "crypto/secp256k1.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace sigil::eth {
namespace {

using nlohmann::json;

Bytes H(const std::string& hex) { return *HexDecode(hex); }
SecretBytes Key(const std::string& hex) { return SecretBytes::CopyFrom(*HexDecode(hex)); }

Uint256 Q(const json& v) {
  if (v.is_number()) return Uint256(v.get<uint64_t>());
  return *Uint256::ParseInteger(v.get<std::string>());
}

Address AddressOfKey(const std::string& key_hex) {
  return Address::FromPublicKey(*crypto::DeriveSecp256k1PublicKey(Key(key_hex)));
}

AccessList AccessListOf(const json& j) {
  AccessList out;
  for (const json& e : j) {
    AccessListEntry entry;
    entry.address = *Address::Parse(e.at("address").get<std::string>());
    for (const json& k : e.at("storageKeys")) {
      Bytes b = H(k.get<std::string>());
      StorageKey key;
      std::copy(b.begin(), b.end(), key.begin());
      entry.storage_keys.push_back(key);
    }
    out.push_back(entry);
  }
  return out;
}

// The fields of one ethers vector transaction as `kind` (Legacy, Eip155, Berlin, London, Cancun).
TransactionFields FieldsOf(const json& t, const std::string& kind) {
  TransactionFields f;
  f.nonce = Q(t.at("nonce")).Low64();
  f.gas_limit = Q(t.at("gasLimit")).Low64();
  f.to = *Address::Parse(t.at("to").get<std::string>());
  f.value = Q(t.at("value"));
  f.data = H(t.at("data").get<std::string>());
  if (kind == "Legacy" || kind == "Eip155") {
    f.type = TxType::kLegacy;
    f.gas_price = Q(t.at("gasPrice"));
    if (kind == "Eip155") f.chain_id = Q(t.at("chainId")).Low64();
    return f;
  }
  f.chain_id = Q(t.at("chainId")).Low64();
  f.access_list = AccessListOf(t.at("accessList"));
  if (kind == "Berlin") {
    f.type = TxType::kAccessList;
    f.gas_price = Q(t.at("gasPrice"));
    return f;
  }
  f.type = kind == "London" ? TxType::kDynamicFee : TxType::kBlob;
  f.max_fee_per_gas = Q(t.at("maxFeePerGas"));
  f.max_priority_fee_per_gas = Q(t.at("maxPriorityFeePerGas"));
  if (kind == "Cancun") {
    f.max_fee_per_blob_gas = Q(t.at("maxFeePerBlobGas"));
    for (const json& h : t.at("blobVersionedHashes")) {
      Bytes b = H(h.get<std::string>());
      crypto::Hash256 hash;
      std::copy(b.begin(), b.end(), hash.begin());
      f.blob_versioned_hashes.push_back(hash);
    }
  }
  return f;
}

std::string Hex32(const std::array<uint8_t, 32>& a) { return Uint256::FromBigEndian(a)->ToHexQuantity(); }

TEST(EthTransaction, EthersRandomVectorsAllTypes) {
  json v = testing::LoadVectors("ethereum/ethers-transactions-random128.json");
  const json& vectors = v.at("vectors");
  ASSERT_EQ(vectors.size(), 128u);
  ParseOptions allow_legacy;
  allow_legacy.allow_pre_eip155 = true;
  int checked = 0;
  for (const json& e : vectors) {
    const std::string key_hex = e.at("privateKey");
    const Address signer = AddressOfKey(key_hex);
    for (const std::string kind : {"Legacy", "Eip155", "Berlin", "London"}) {
      SCOPED_TRACE(e.at("name").get<std::string>() + " " + kind);
      auto tx = Transaction::Create(FieldsOf(e.at("transaction"), kind), allow_legacy);
      ASSERT_TRUE(tx.ok()) << tx.status();
      const Bytes unsigned_bytes = H(e.at("unsigned" + kind));
      const Bytes signed_bytes = H(e.at("signed" + kind));
      EXPECT_EQ(HexEncode(tx->EncodeUnsigned()), HexEncode(unsigned_bytes));
      EXPECT_EQ(tx->SigningHash(), crypto::Keccak256(unsigned_bytes));

      auto signed_tx = Sign(*tx, Key(key_hex));
      ASSERT_TRUE(signed_tx.ok()) << signed_tx.status();
      EXPECT_EQ(HexEncode(signed_tx->Encode()), HexEncode(signed_bytes));
      const json& sig = e.at("signature" + kind);
      EXPECT_EQ(Hex32(signed_tx->signature().r), Q(sig.at("r")).ToHexQuantity());
      EXPECT_EQ(Hex32(signed_tx->signature().s), Q(sig.at("s")).ToHexQuantity());
      EXPECT_EQ(Uint256(signed_tx->v()), Q(sig.at("v")));
      EXPECT_EQ(signed_tx->Hash(), crypto::Keccak256(signed_bytes));
      auto sender = signed_tx->RecoverSender();
      ASSERT_TRUE(sender.ok()) << sender.status();
      EXPECT_EQ(*sender, signer);

      // Parsing the serialized forms gives the same values back.
      auto parsed = Transaction::ParseUnsigned(unsigned_bytes, allow_legacy);
      ASSERT_TRUE(parsed.ok()) << parsed.status();
      EXPECT_EQ(*parsed, *tx);
      auto parsed_signed = SignedTransaction::Parse(signed_bytes, allow_legacy);
      ASSERT_TRUE(parsed_signed.ok()) << parsed_signed.status();
      EXPECT_EQ(*parsed_signed, *signed_tx);
      EXPECT_EQ(parsed_signed->Encode(), signed_bytes);
      EXPECT_EQ(*parsed_signed->RecoverSender(), signer);

      // JSON round trip (what RPC responses carry).
      auto from_json = TransactionFromJson(ToJson(*tx), allow_legacy);
      ASSERT_TRUE(from_json.ok()) << from_json.status();
      EXPECT_EQ(*from_json, *tx);
      json sj = ToJson(*signed_tx, signer);
      EXPECT_EQ(sj.at("hash"), HexEncode0x(crypto::Keccak256(signed_bytes)));
      EXPECT_EQ(sj.at("from"), signer.ToChecksumHex());
      ++checked;
    }
    // Without the explicit option, pre-EIP-155 forms are refused.
    EXPECT_FALSE(Transaction::ParseUnsigned(H(e.at("unsignedLegacy")), {}).ok());
    EXPECT_FALSE(SignedTransaction::Parse(H(e.at("signedLegacy")), {}).ok());
    EXPECT_TRUE(SignedTransaction::Parse(H(e.at("signedEip155")), {}).ok());

    // EIP-4844: decode, hash and recover; signing refused.
    SCOPED_TRACE(e.at("name").get<std::string>() + " Cancun");
    auto blob = Transaction::ParseUnsigned(H(e.at("unsignedCancun")));
    ASSERT_TRUE(blob.ok()) << blob.status();
    EXPECT_EQ(blob->fields(), FieldsOf(e.at("transaction"), "Cancun"));
    EXPECT_EQ(HexEncode0x(blob->EncodeUnsigned()), e.at("unsignedCancun").get<std::string>());
    auto blob_signed = SignedTransaction::Parse(H(e.at("signedCancun")));
    ASSERT_TRUE(blob_signed.ok()) << blob_signed.status();
    EXPECT_EQ(HexEncode0x(blob_signed->Encode()), e.at("signedCancun").get<std::string>());
    EXPECT_EQ(*blob_signed->RecoverSender(), signer);
    EXPECT_EQ(Uint256(blob_signed->v()), Q(e.at("signatureCancun").at("v")));
    auto refused = Sign(*blob, Key(key_hex));
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(checked, 128 * 4);
}

TEST(EthTransaction, Eip155Example) {
  json v = testing::LoadVectors("ethereum/eip155-example.json");
  const json& t = v.at("tx");
  TransactionFields f;
  f.type = TxType::kLegacy;
  f.nonce = t.at("nonce").get<uint64_t>();
  f.gas_price = Q(t.at("gasPrice"));
  f.gas_limit = t.at("gasLimit").get<uint64_t>();
  f.to = *Address::Parse(t.at("to").get<std::string>());
  f.value = Q(t.at("value"));
  f.chain_id = t.at("chainId").get<uint64_t>();
  auto tx = Transaction::Create(f);
  ASSERT_TRUE(tx.ok()) << tx.status();
  EXPECT_EQ(HexEncode0x(tx->EncodeUnsigned()), v.at("signing_data").get<std::string>());
  EXPECT_EQ(HexEncode0x(tx->SigningHash()), v.at("signing_hash").get<std::string>());
  auto s = Sign(*tx, Key(v.at("private_key")));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->v(), v.at("v").get<uint64_t>());
  EXPECT_EQ(Uint256::FromBigEndian(s->signature().r)->ToDecimal(), v.at("r").get<std::string>());
  EXPECT_EQ(Uint256::FromBigEndian(s->signature().s)->ToDecimal(), v.at("s").get<std::string>());
  EXPECT_EQ(HexEncode0x(s->Encode()), v.at("signed_tx").get<std::string>());
  EXPECT_EQ(s->RecoverSender()->ToLowerHex(), v.at("sender_address").get<std::string>());
  // The same transaction from the JSON a wallet would send.
  json req = {{"nonce", 9}, {"gasPrice", "20000000000"}, {"gas", "0x5208"},
              {"to", "0x3535353535353535353535353535353535353535"}, {"value", "1000000000000000000"},
              {"data", "0x"}, {"chainId", 1}};
  auto from_json = TransactionFromJson(req);
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  EXPECT_EQ(*from_json, *tx);
}

// --- strict decoding -------------------------------------------------------

// A valid EIP-1559 transaction's unsigned field list, to be mutated.
std::vector<RlpItem> Base1559Fields() {
  return {RlpItem::FromUint(uint64_t{1}),            // chainId
          RlpItem::FromUint(uint64_t{7}),            // nonce
          RlpItem::FromUint(uint64_t{1000}),         // maxPriorityFeePerGas
          RlpItem::FromUint(uint64_t{2000}),         // maxFeePerGas
          RlpItem::FromUint(uint64_t{21000}),        // gasLimit
          RlpItem::FromBytes(Bytes(20, 0x11)),       // to
          RlpItem::FromUint(uint64_t{12345}),        // value
          RlpItem(),                                 // data
          RlpItem::List()};                          // accessList
}

Bytes Typed(uint8_t type, const std::vector<RlpItem>& fields) {
  Bytes out = {type};
  RlpEncodeTo(RlpItem::List(fields), out);
  return out;
}

std::string ParseError(const Bytes& b, const ParseOptions& o = {}) {
  auto r = Transaction::ParseUnsigned(b, o);
  if (r.ok()) return "OK";
  return std::string(r.status().message());
}

TEST(EthTransaction, StrictUnsignedDecoding) {
  EXPECT_EQ(ParseError(Typed(2, Base1559Fields())), "OK");
  auto with = [](size_t i, RlpItem item) {
    auto f = Base1559Fields();
    f[i] = std::move(item);
    return Typed(2, f);
  };
  // Leading zero in an integer.
  EXPECT_NE(ParseError(with(1, RlpItem::FromBytes(H("0007")))).find("field 'nonce'"), std::string::npos);
  // nonce and gasLimit > 2^64-1.
  EXPECT_NE(ParseError(with(1, RlpItem::FromBytes(H("010000000000000000")))).find("nonce"), std::string::npos);
  EXPECT_NE(ParseError(with(4, RlpItem::FromBytes(H("010000000000000000")))).find("gasLimit"), std::string::npos);
  // value > 2^256-1.
  EXPECT_NE(ParseError(with(6, RlpItem::FromBytes(Bytes(33, 1)))).find("value"), std::string::npos);
  // max priority > max fee.
  EXPECT_NE(ParseError(with(2, RlpItem::FromUint(uint64_t{2001}))).find("exceeds maxFeePerGas"), std::string::npos);
  // chain id 0.
  EXPECT_NE(ParseError(with(0, RlpItem())).find("chainId"), std::string::npos);
  // Bad address sizes.
  EXPECT_NE(ParseError(with(5, RlpItem::FromBytes(Bytes(19, 1)))).find("field 'to'"), std::string::npos);
  EXPECT_NE(ParseError(with(5, RlpItem::FromBytes(Bytes(21, 1)))).find("field 'to'"), std::string::npos);
  // List where bytes belong, and vice versa.
  EXPECT_NE(ParseError(with(7, RlpItem::List())).find("field 'data'"), std::string::npos);
  EXPECT_NE(ParseError(with(8, RlpItem())).find("accessList"), std::string::npos);
  // Access list entries.
  EXPECT_NE(ParseError(with(8, RlpItem::List({RlpItem::List({RlpItem::FromBytes(Bytes(20, 2))})})))
                .find("accessList[0]"),
            std::string::npos);
  EXPECT_NE(ParseError(with(8, RlpItem::List({RlpItem::List(
                                   {RlpItem::FromBytes(Bytes(20, 2)), RlpItem::List({RlpItem::FromBytes(Bytes(31, 3))})})})))
                .find("accessList[0].storageKeys[0]"),
            std::string::npos);
  EXPECT_EQ(ParseError(with(8, RlpItem::List({RlpItem::List(
                                   {RlpItem::FromBytes(Bytes(20, 2)), RlpItem::List({RlpItem::FromBytes(Bytes(32, 3))})})}))),
            "OK");
  // Field count.
  auto fields = Base1559Fields();
  fields.push_back(RlpItem());
  EXPECT_NE(ParseError(Typed(2, fields)).find("9 fields, got 10"), std::string::npos);
  fields.pop_back();
  fields.pop_back();
  EXPECT_NE(ParseError(Typed(2, fields)).find("9 fields, got 8"), std::string::npos);
  // Trailing bytes, unknown types, not a list.
  Bytes trailing = Typed(2, Base1559Fields());
  trailing.push_back(0);
  EXPECT_NE(ParseError(trailing).find("trailing"), std::string::npos);
  EXPECT_NE(ParseError(Typed(4, Base1559Fields())).find("unsupported transaction type 0x04"), std::string::npos);
  EXPECT_NE(ParseError(H("0280")).find("not an RLP list"), std::string::npos);
  EXPECT_NE(ParseError(H("80")).find("not a transaction"), std::string::npos);
  EXPECT_NE(ParseError({}).find("empty"), std::string::npos);
  // Signed bytes given to ParseUnsigned are refused by field count.
  fields = Base1559Fields();
  fields.insert(fields.end(), {RlpItem(), RlpItem::FromUint(uint64_t{1}), RlpItem::FromUint(uint64_t{1})});
  EXPECT_NE(ParseError(Typed(2, fields)).find("got 12"), std::string::npos);
  // Size bound.
  ParseOptions small;
  small.limits.max_input_size = 64;
  auto big = with(7, RlpItem::FromBytes(Bytes(100, 0xab)));
  EXPECT_NE(ParseError(big, small).find("exceeds the limit"), std::string::npos);
}

TEST(EthTransaction, StrictLegacyDecoding) {
  std::vector<RlpItem> legacy = {RlpItem::FromUint(uint64_t{9}), RlpItem::FromUint(uint64_t{20000000000}),
                                 RlpItem::FromUint(uint64_t{21000}), RlpItem::FromBytes(Bytes(20, 0x35)),
                                 RlpItem::FromUint(uint64_t{1}), RlpItem()};
  Bytes pre155 = RlpEncode(RlpItem::List(legacy));
  EXPECT_NE(ParseError(pre155).find("chainId"), std::string::npos);
  ParseOptions allow;
  allow.allow_pre_eip155 = true;
  EXPECT_EQ(ParseError(pre155, allow), "OK");
  auto eip155 = legacy;
  eip155.insert(eip155.end(), {RlpItem::FromUint(uint64_t{1}), RlpItem(), RlpItem()});
  EXPECT_EQ(ParseError(RlpEncode(RlpItem::List(eip155))), "OK");
  auto bad_suffix = eip155;
  bad_suffix[8] = RlpItem::FromUint(uint64_t{1});
  EXPECT_NE(ParseError(RlpEncode(RlpItem::List(bad_suffix))).find("[chainId, 0, 0]"), std::string::npos);
  auto zero_chain = eip155;
  zero_chain[6] = RlpItem();
  EXPECT_NE(ParseError(RlpEncode(RlpItem::List(zero_chain))).find("chainId"), std::string::npos);
  auto seven = legacy;
  seven.push_back(RlpItem());
  EXPECT_NE(ParseError(RlpEncode(RlpItem::List(seven))).find("6 or 9 fields"), std::string::npos);
  // Contract creation (empty `to`).
  auto create = eip155;
  create[3] = RlpItem();
  auto tx = Transaction::ParseUnsigned(RlpEncode(RlpItem::List(create)));
  ASSERT_TRUE(tx.ok()) << tx.status();
  EXPECT_TRUE(tx->is_contract_creation());
}

TEST(EthTransaction, StrictSignedDecoding) {
  json v = testing::LoadVectors("ethereum/eip155-example.json");
  Bytes good = H(v.at("signed_tx"));
  auto item = *RlpDecode(good);
  auto mutate = [&](size_t i, RlpItem replacement) {
    std::vector<RlpItem> f = item.items();
    f[i] = std::move(replacement);
    auto r = SignedTransaction::Parse(RlpEncode(RlpItem::List(f)));
    return r.ok() ? std::string("OK") : std::string(r.status().message());
  };
  EXPECT_EQ(mutate(6, RlpItem::FromUint(uint64_t{37})), "OK");
  EXPECT_NE(mutate(6, RlpItem::FromUint(uint64_t{29})).find("field 'v'"), std::string::npos);
  EXPECT_NE(mutate(6, RlpItem::FromUint(uint64_t{35})).find("field 'v'"), std::string::npos);  // chain id 0
  EXPECT_NE(mutate(6, RlpItem::FromUint(uint64_t{0})).find("field 'v'"), std::string::npos);
  EXPECT_NE(mutate(6, RlpItem::FromUint(UINT64_MAX)).find("chainId"), std::string::npos);
  // r = 0, r = n, s = 0, high s.
  EXPECT_NE(mutate(7, RlpItem()).find("r is out of range"), std::string::npos);
  EXPECT_NE(mutate(7, RlpItem::FromBytes(H("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")))
                .find("r is out of range"),
            std::string::npos);
  EXPECT_NE(mutate(8, RlpItem()).find("s is zero"), std::string::npos);
  // s' = n - s is the high-s twin of the valid signature.
  Uint256 n = *Uint256::ParseHex("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
  Uint256 s = *Uint256::ParseDecimal(v.at("s").get<std::string>());
  EXPECT_NE(mutate(8, RlpItem::FromUint(*n.Sub(s))).find("high"), std::string::npos);
  EXPECT_NE(mutate(8, RlpItem::FromBytes(Bytes(33, 1))).find("field 's'"), std::string::npos);
  // Leading zero in r.
  Bytes r_padded = {0};
  Uint256 r = *Uint256::ParseDecimal(v.at("r").get<std::string>());
  std::string rm = r.ToMinimalBigEndian();
  r_padded.insert(r_padded.end(), rm.begin(), rm.end());
  EXPECT_NE(mutate(7, RlpItem::FromBytes(r_padded)).find("leading zero"), std::string::npos);
  // Typed: yParity must be 0/1.
  auto fields = Base1559Fields();
  fields.insert(fields.end(), {RlpItem::FromUint(uint64_t{2}), RlpItem::FromUint(r), RlpItem::FromUint(s)});
  auto typed = SignedTransaction::Parse(Typed(2, fields));
  EXPECT_NE(std::string(typed.status().message()).find("yParity"), std::string::npos) << typed.status();
}

TEST(EthTransaction, CreateValidation) {
  TransactionFields f;
  f.type = TxType::kDynamicFee;
  f.chain_id = 1;
  f.max_fee_per_gas = Uint256(10);
  f.max_priority_fee_per_gas = Uint256(1);
  f.gas_limit = 21000;
  EXPECT_TRUE(Transaction::Create(f).ok());
  auto expect_error = [](TransactionFields g, const std::string& needle) {
    auto r = Transaction::Create(g);
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_NE(std::string(r.status().message()).find(needle), std::string::npos) << r.status();
  };
  TransactionFields g = f;
  g.chain_id.reset();
  expect_error(g, "chainId");
  g = f;
  g.chain_id = 0;
  expect_error(g, "chainId");
  g.chain_id = kMaxChainId + 1;
  expect_error(g, "chainId");
  g = f;
  g.gas_price = Uint256(5);
  expect_error(g, "gasPrice");
  g = f;
  g.max_priority_fee_per_gas = Uint256(11);
  expect_error(g, "maxPriorityFeePerGas");
  g = f;
  g.type = TxType::kLegacy;
  expect_error(g, "maxFeePerGas");
  g.max_fee_per_gas = Uint256();
  g.max_priority_fee_per_gas = Uint256();
  g.access_list.push_back({});
  expect_error(g, "accessList");
  g = f;
  g.max_fee_per_blob_gas = Uint256(1);
  expect_error(g, "maxFeePerBlobGas");
  g = f;
  g.type = TxType::kBlob;
  expect_error(g, "to");
  g.to = Address::Zero();
  g.blob_versioned_hashes.push_back({});
  expect_error(g, "version byte");
  g.blob_versioned_hashes[0][0] = 1;
  EXPECT_TRUE(Transaction::Create(g).ok());
  g = f;
  g.data = Bytes(200 * 1024, 1);
  expect_error(g, "exceeds the limit");
  g = f;
  g.chain_id = kMaxChainId;
  g.type = TxType::kLegacy;
  g.gas_price = Uint256(1);
  g.max_fee_per_gas = g.max_priority_fee_per_gas = Uint256();
  auto big_chain = Transaction::Create(g);
  ASSERT_TRUE(big_chain.ok());
  auto signed_tx = Sign(*big_chain, Key("0x4646464646464646464646464646464646464646464646464646464646464646"));
  ASSERT_TRUE(signed_tx.ok());
  EXPECT_GE(signed_tx->v(), kMaxChainId * 2 + 35);
  auto reparsed = SignedTransaction::Parse(signed_tx->Encode());
  ASSERT_TRUE(reparsed.ok()) << reparsed.status();
  EXPECT_EQ(*reparsed, *signed_tx);
}

TEST(EthTransaction, MaxCostAndFeeCap) {
  TransactionFields f;
  f.type = TxType::kDynamicFee;
  f.chain_id = 1;
  f.max_fee_per_gas = Uint256(100);
  f.max_priority_fee_per_gas = Uint256(1);
  f.gas_limit = 21000;
  f.value = Uint256(5);
  auto tx = *Transaction::Create(f);
  EXPECT_EQ(tx.FeeCapPerGas(), Uint256(100));
  EXPECT_EQ(*tx.MaxCost(), Uint256(2100005));
  f.value = Uint256::Max();
  EXPECT_EQ(Transaction::Create(f)->MaxCost().status().code(), absl::StatusCode::kOutOfRange);
}

TEST(EthTransaction, SignRejectsBadKey) {
  TransactionFields f;
  f.chain_id = 1;
  f.gas_limit = 21000;
  auto tx = *Transaction::Create(f);
  EXPECT_FALSE(Sign(tx, SecretBytes::Zeroed(32)).ok());
  EXPECT_FALSE(Sign(tx, SecretBytes::Zeroed(31)).ok());
}

}  // namespace
}  // namespace sigil::eth
