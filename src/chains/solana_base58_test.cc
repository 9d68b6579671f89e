#include "chains/solana/base58.h"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "base/hex.h"
#include "chains/solana/pubkey.h"

namespace sigil::solana {
namespace {

// Bitcoin Core's src/test/data/base58_encode_decode.json (hex, base58).
const std::vector<std::pair<std::string, std::string>> kBitcoinVectors = {
    {"", ""},
    {"61", "2g"},
    {"626262", "a3gV"},
    {"636363", "aPEr"},
    {"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
    {"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
    {"516b6fcd0f", "ABnLTmg"},
    {"bf4f89001e670274dd", "3SEo3LWLoPntC"},
    {"572e4794", "3EFU7m"},
    {"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
    {"10c8511e", "Rt5zm"},
    {"00000000000000000000", "1111111111"},
    {"00000000000000000000000000000000000000000000000000000000000000000000000000000000",
     "1111111111111111111111111111111111111111"},
    {"00000000000000000000000000000000000000000000000000000000000000000000000000000001",
     "1111111111111111111111111111111111111112"},
    {"000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5",
     "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"},
    {"271f359e", "zzzzy"},
    {"271f359f", "zzzzz"},
    {"271f35a0", "211111"},
    {"271f35a1", "211112"},
};

TEST(SolanaBase58Test, BitcoinVectors) {
  for (const auto& [hex, b58] : kBitcoinVectors) {
    SCOPED_TRACE(b58);
    Bytes bytes = *HexDecode(hex);
    EXPECT_EQ(Base58Encode(bytes), b58);
    auto decoded = Base58Decode(b58);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, bytes);
  }
}

TEST(SolanaBase58Test, AllByteValuesRoundTrip) {
  Bytes all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<uint8_t>(i));
  const std::string text = Base58Encode(all);
  // Bitcoin Core's vector for the bytes 00..ff.
  EXPECT_EQ(text,
            "1cWB5HCBdLjAuqGGReWE3R3CguuwSjw6RHn39s2yuDRTS5NsBgNiFpWgAnEx6VQi8csexkgYw3mdYrMHr8x9i7aEwP8kZ7vccXWqKDvGv3u1GxFKPuAkn8JCPPGDMf3vMMnbzm6Nh9zh1gcNsMvH3ZNLmP5fSG6DGbbi2tuwMWPthr4boWwCxf7ewSgNQeacyozhKDDQQ1qL5fQFUW52QKUZDZ5fw3KXNQJMcNTcaB723LchjeKun7MuGW5qyCBZYzA1KjofN1gYBV3NqyhQJ3Ns746GNuf9N2pQPmHz4xpnSrrfCvy6TVVz5d4PdrjeshsWQwpZsZGzvbdAdN8MKV5QsBDY");
  auto back = Base58Decode(text, 256);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, all);
  EXPECT_FALSE(Base58Decode(text, 255).ok());
}

TEST(SolanaBase58Test, RejectsInvalidCharactersAndOversizedInput) {
  for (const char* bad : {"0", "O", "I", "l", "abc+", "a b", "3EFU7m\n", "\xc3\xa9"}) {
    EXPECT_FALSE(Base58Decode(bad).ok()) << bad;
  }
  EXPECT_FALSE(Base58Decode(std::string(10000, 'z')).ok());
  EXPECT_FALSE(Base58Decode(std::string(200, '1')).ok());
  EXPECT_TRUE(Base58Decode(std::string(128, '1')).ok());
  EXPECT_FALSE(Base58Decode("zzzzz", 3).ok());  // 0x271f359f needs 4 bytes
}

TEST(SolanaBase58Test, Pubkeys) {
  auto system = Pubkey::FromBase58("11111111111111111111111111111111");
  ASSERT_TRUE(system.ok());
  EXPECT_EQ(*system, Pubkey());
  for (const char* id : {"TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb",
                         "ComputeBudget111111111111111111111111111111"}) {
    auto p = Pubkey::FromBase58(id);
    ASSERT_TRUE(p.ok()) << id;
    EXPECT_EQ(p->ToBase58(), id);
  }
  EXPECT_FALSE(Pubkey::FromBase58("1111111111111111111111111111111").ok());   // 31 bytes
  EXPECT_FALSE(Pubkey::FromBase58("111111111111111111111111111111111").ok()); // 33 bytes
  EXPECT_FALSE(Pubkey::FromBase58("").ok());
}

}  // namespace
}  // namespace sigil::solana
