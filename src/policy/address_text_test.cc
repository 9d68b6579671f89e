#include "policy/address_text.h"

#include "gtest/gtest.h"

namespace sigil::policy {
namespace {

TEST(AddressTextTest, Eip55ChecksumMatchesKnownAddresses) {
  // From EIP-55's own examples.
  for (const char* a : {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
                        "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "0x000000000000000000000000000000000000dEaD"}) {
    EXPECT_EQ(Eip55Checksum(a), a);
    EXPECT_TRUE(CheckAddressText(a).ok()) << a;
  }
}

TEST(AddressTextTest, RejectsBadChecksumsAndJunk) {
  EXPECT_FALSE(CheckAddressText("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD").ok());
  EXPECT_TRUE(CheckAddressText("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").ok());
  EXPECT_TRUE(CheckAddressText("0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED").ok());
  EXPECT_FALSE(CheckAddressText("0x").ok());
  EXPECT_FALSE(CheckAddressText("0xg1").ok());
  EXPECT_FALSE(CheckAddressText("").ok());
  EXPECT_FALSE(CheckAddressText("has space").ok());
  EXPECT_TRUE(CheckAddressText("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA").ok());
  EXPECT_FALSE(CheckAddressText(std::string(129, 'a')).ok());
}

// A mistyped Ethereum address is refused rather than never matching.
TEST(AddressTextTest, RejectsWrongLengthAndUnprefixedEthereumAddresses) {
  auto message = [](const std::string& a) { return std::string(CheckAddressText(a).message()); };
  // 39 and 41 hex digits, in either case or mixed.
  EXPECT_NE(message("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe").find("39 hex digits"), std::string::npos);
  EXPECT_FALSE(CheckAddressText("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaedd").ok());
  EXPECT_FALSE(CheckAddressText("0x" + std::string(64, 'a')).ok());
  EXPECT_FALSE(CheckAddressText("0x1234").ok());
  // 40 hex digits without 0x.
  EXPECT_NE(message("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").find("with 0x"), std::string::npos);
  EXPECT_FALSE(CheckAddressText("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").ok());
  // Nostr pubkeys (64 hex) and Solana base58 are still addresses.
  EXPECT_TRUE(CheckAddressText(std::string(64, 'a')).ok());
  EXPECT_TRUE(CheckAddressText("So11111111111111111111111111111111111111112").ok());
  EXPECT_TRUE(CheckAddressText("SOL").ok());
}

TEST(AddressTextTest, Normalize) {
  EXPECT_EQ(NormalizeAddress("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"), "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48");
  EXPECT_EQ(NormalizeAddress("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"), "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
  EXPECT_EQ(NormalizeAddress(std::string(64, 'A')), std::string(64, 'a'));
}

}  // namespace
}  // namespace sigil::policy
