#include "chains/ethereum/address.h"

#include <string>
#include <unordered_set>

#include "base/hex.h"
#include "chains/eth_test_vectors.h"
#include "crypto/secp256k1.h"
#include "gtest/gtest.h"

namespace sigil::eth {
namespace {

SecretBytes Key(const std::string& hex) { return SecretBytes::CopyFrom(*HexDecode(hex)); }

TEST(EthAddress, EthersAccountsAll) {
  nlohmann::json v = testing::LoadVectors("ethereum/ethers-accounts.json");
  const auto& vectors = v.at("vectors");
  ASSERT_EQ(vectors.size(), 259u);
  for (const auto& e : vectors) {
    SCOPED_TRACE(e.at("name").get<std::string>());
    auto pub = crypto::DeriveSecp256k1PublicKey(Key(e.at("privateKey")));
    ASSERT_TRUE(pub.ok()) << pub.status();
    Address a = Address::FromPublicKey(*pub);
    std::string expected = e.at("address");
    EXPECT_EQ(a.ToChecksumHex(), expected);
    std::string lower = expected;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(a.ToLowerHex(), lower);
    // The checksummed, lower and upper forms all parse to the same address.
    auto parsed = Address::Parse(expected);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, a);
    EXPECT_EQ(*Address::Parse(lower), a);
    std::string upper = "0x" + expected.substr(2);
    for (size_t i = 2; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
    EXPECT_EQ(*Address::Parse(upper), a);
  }
}

TEST(EthAddress, Eip55SpecExamples) {
  // From EIP-55.
  for (const char* s : {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"}) {
    auto a = Address::Parse(s);
    ASSERT_TRUE(a.ok()) << s << ": " << a.status();
    EXPECT_EQ(a->ToChecksumHex(), s);
  }
}

TEST(EthAddress, RejectsBadChecksumAndShape) {
  // One letter's case flipped.
  auto bad = Address::Parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(bad.status().message()).find("checksum"), std::string::npos);
  EXPECT_FALSE(Address::Parse("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").ok());   // no prefix
  EXPECT_FALSE(Address::Parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae").ok());   // 39 digits
  EXPECT_FALSE(Address::Parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed0").ok()); // 41 digits
  EXPECT_FALSE(Address::Parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg").ok());  // non-hex
  EXPECT_FALSE(Address::Parse("").ok());
  EXPECT_FALSE(Address::Parse("0x").ok());
  EXPECT_FALSE(Address::Parse(" 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").ok());
}

TEST(EthAddress, BytesHashAndOrder) {
  std::array<uint8_t, 20> raw{};
  raw[19] = 1;
  Address one = Address::FromBytes(raw);
  EXPECT_EQ(one.bytes(), raw);
  EXPECT_FALSE(one.IsZero());
  EXPECT_TRUE(Address::Zero().IsZero());
  EXPECT_LT(Address::Zero(), one);
  EXPECT_EQ(one.ToLowerHex(), "0x0000000000000000000000000000000000000001");
  std::unordered_set<Address> uset = {one, Address::Zero(), one};
  EXPECT_EQ(uset.size(), 2u);
}

}  // namespace
}  // namespace sigil::eth
