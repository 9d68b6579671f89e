#include "mcp/quantity.h"

#include <gtest/gtest.h>

namespace sigil::mcp {
namespace {

using nlohmann::json;

TEST(QuantityTest, AmountsWithUnitsDecimalAndHex) {
  EXPECT_EQ(*ToHexQuantity(json("0.05 ether"), QuantityKind::kAmount, "value"), "0xb1a2bc2ec50000");
  EXPECT_EQ(*ToHexQuantity(json("50000000000000000"), QuantityKind::kAmount, "value"), "0xb1a2bc2ec50000");
  EXPECT_EQ(*ToHexQuantity(json("0xb1a2bc2ec50000"), QuantityKind::kAmount, "value"), "0xb1a2bc2ec50000");
  EXPECT_EQ(*ToHexQuantity(json("30 gwei"), QuantityKind::kAmount, "maxFeePerGas"), "0x6fc23ac00");
  EXPECT_EQ(*ToHexQuantity(json(21000), QuantityKind::kInteger, "gas"), "0x5208");
  EXPECT_EQ(*ToHexQuantity(json(0), QuantityKind::kInteger, "nonce"), "0x0");
  EXPECT_EQ(*ToHexQuantity(json("31337"), QuantityKind::kInteger, "chainId"), "0x7a69");
}

TEST(QuantityTest, RefusesFloatsNegativesUnitsWhereNoneAllowedAndJunk) {
  absl::StatusOr<std::string> f = ToHexQuantity(json(0.05), QuantityKind::kAmount, "value");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(std::string(f.status().message()).find("floating-point"), std::string::npos);
  EXPECT_FALSE(ToHexQuantity(json(-1), QuantityKind::kInteger, "nonce").ok());
  EXPECT_FALSE(ToHexQuantity(json("1 ether"), QuantityKind::kInteger, "gas").ok());
  EXPECT_FALSE(ToHexQuantity(json("lots"), QuantityKind::kAmount, "value").ok());
  EXPECT_FALSE(ToHexQuantity(json("0.1 wei"), QuantityKind::kAmount, "value").ok());
  EXPECT_FALSE(ToHexQuantity(json(true), QuantityKind::kAmount, "value").ok());
  absl::StatusOr<std::string> named = ToHexQuantity(json("x"), QuantityKind::kInteger, "nonce");
  EXPECT_EQ(std::string(named.status().message()).rfind("nonce", 0), 0u);
}

TEST(QuantityTest, FormatsExactly) {
  EXPECT_EQ(FormatUnits(Uint256(1500000), 6), "1.5");
  EXPECT_EQ(FormatUnits(Uint256(1), 18), "0.000000000000000001");
  EXPECT_EQ(FormatUnits(Uint256(0), 18), "0");
  EXPECT_EQ(FormatUnits(Uint256(42), 0), "42");
  EXPECT_EQ(WeiInWords(*Uint256::ParseDecimal("100000000000000000")), "0.1 ether");
  EXPECT_EQ(WeiInWords(*Uint256::ParseDecimal("2000000000000000000")), "2 ether");
  EXPECT_EQ(WeiInWords(*Uint256::ParseDecimal("123456789012345678901")), "123.456789012345678901 ether");
  EXPECT_EQ(WeiInWords(Uint256(30000000000ULL)), "30 gwei");
  EXPECT_EQ(WeiInWords(Uint256(12)), "12 wei");
  EXPECT_EQ(WeiInWords(Uint256(0)), "0 ether");
  EXPECT_EQ(WeiInWords(Uint256::Max()).substr(0, 10), "1157920892");
}

}  // namespace
}  // namespace sigil::mcp
