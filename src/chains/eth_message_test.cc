#include "chains/ethereum/message.h"

#include <string>

#include "base/hex.h"
#include "base/uint256.h"
#include "chains/eth_test_vectors.h"
#include "crypto/secp256k1.h"
#include "gtest/gtest.h"

namespace sigil::eth {
namespace {

SecretBytes Key(const std::string& hex) { return SecretBytes::CopyFrom(*HexDecode(hex)); }

TEST(EthMessage, Eip191Vectors) {
  nlohmann::json v = testing::LoadVectors("ethereum/eip191-personal-sign.json");
  ASSERT_EQ(v.at("vectors").size(), 2u);
  for (const auto& e : v.at("vectors")) {
    SCOPED_TRACE(e.at("name").get<std::string>());
    std::string text = e.at("message_utf8");
    auto msg = AsBytes(text);
    if (e.contains("message_raw_hex")) {
      EXPECT_EQ(HexEncode0x(msg), e.at("message_raw_hex").get<std::string>());
    }
    EXPECT_EQ(HexEncode0x(PersonalMessageHash(msg)), e.at("message_hash").get<std::string>());
    EXPECT_EQ(EthSignHash(msg), PersonalMessageHash(msg));
    auto sig = SignPersonalMessage(Key(e.at("private_key")), msg);
    ASSERT_TRUE(sig.ok()) << sig.status();
    EXPECT_EQ(HexEncode0x(*sig), e.at("signature_rsv").get<std::string>());
    if (e.contains("v")) {
      EXPECT_EQ((*sig)[64], e.at("v").get<int>());
    }
    auto signer = RecoverPersonalSigner(msg, *sig);
    ASSERT_TRUE(signer.ok()) << signer.status();
    EXPECT_EQ(signer->ToLowerHex(), e.at("address").get<std::string>());
    // v as 0/1 is accepted too.
    MessageSignature raw = *sig;
    raw[64] = static_cast<uint8_t>(raw[64] - 27);
    EXPECT_EQ(*RecoverPersonalSigner(msg, raw), *signer);
  }
}

TEST(EthMessage, EmptyAndBinaryMessages) {
  // keccak256("\x19Ethereum Signed Message:\n0").
  EXPECT_EQ(HexEncode(PersonalMessageHash({})),
            HexEncode(crypto::Keccak256(AsBytes(std::string("\x19" "Ethereum Signed Message:\n0")))));
  Bytes binary = {0x00, 0xff, 0x19, 0x80};
  std::string expected_pre = std::string("\x19" "Ethereum Signed Message:\n4") + std::string(binary.begin(), binary.end());
  EXPECT_EQ(PersonalMessageHash(binary), crypto::Keccak256(AsBytes(expected_pre)));
  // Length is decimal bytes, not characters: a 12-byte UTF-8 string.
  std::string utf8 = "h\xc3\xa9llo w\xc3\xb6rld";
  std::string pre = std::string("\x19" "Ethereum Signed Message:\n") + std::to_string(utf8.size()) + utf8;
  EXPECT_EQ(PersonalMessageHash(AsBytes(utf8)), crypto::Keccak256(AsBytes(pre)));
}

TEST(EthMessage, RecoverRejectsMalformed) {
  SecretBytes key = Key("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
  Bytes msg = {'h', 'i'};
  MessageSignature sig = *SignPersonalMessage(key, msg);
  EXPECT_FALSE(RecoverPersonalSigner(msg, std::span<const uint8_t>(sig).first(64)).ok());
  MessageSignature bad_v = sig;
  bad_v[64] = 29;
  EXPECT_FALSE(RecoverPersonalSigner(msg, bad_v).ok());
  bad_v[64] = 2;
  EXPECT_FALSE(RecoverPersonalSigner(msg, bad_v).ok());
  // High-s twin is refused.
  Uint256 n = *Uint256::ParseHex("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
  Uint256 s = *Uint256::FromBigEndian(std::span<const uint8_t>(sig).subspan(32, 32));
  auto high = n.Sub(s)->ToBigEndian();
  MessageSignature twin = sig;
  std::copy(high.begin(), high.end(), twin.begin() + 32);
  twin[64] = static_cast<uint8_t>(sig[64] == 27 ? 28 : 27);
  EXPECT_FALSE(RecoverPersonalSigner(msg, twin).ok());
  // A different message recovers someone else.
  Bytes other = {'h', 'o'};
  auto a = RecoverPersonalSigner(msg, sig);
  auto b = RecoverPersonalSigner(other, sig);
  ASSERT_TRUE(a.ok());
  if (b.ok()) {
    EXPECT_NE(*a, *b);
  }
  // Size bound.
  Bytes huge(kMaxPersonalMessageSize + 1, 'a');
  EXPECT_FALSE(SignPersonalMessage(key, huge).ok());
  EXPECT_FALSE(RecoverPersonalSigner(huge, sig).ok());
}

TEST(EthMessage, DecodeMessageParam) {
  EXPECT_EQ(DecodeMessageParam("0x68656c6c6f"), Bytes({'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(DecodeMessageParam("hello"), Bytes({'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(DecodeMessageParam("0xzz"), Bytes({'0', 'x', 'z', 'z'}));
  EXPECT_EQ(DecodeMessageParam("0x123"), Bytes({'0', 'x', '1', '2', '3'}));
  EXPECT_EQ(DecodeMessageParam("0x"), Bytes());
  EXPECT_EQ(DecodeMessageParam(""), Bytes());
}

}  // namespace
}  // namespace sigil::eth
