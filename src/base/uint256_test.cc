#include "base/uint256.h"

#include <gtest/gtest.h>

namespace sigil {
namespace {

Uint256 D(const char* s) { return *Uint256::ParseDecimal(s); }

TEST(Uint256, ParsesDecimalAndHex) {
  EXPECT_EQ(D("0"), Uint256(0));
  EXPECT_EQ(D("18446744073709551616").ToHexQuantity(), "0x10000000000000000");
  EXPECT_EQ(Uint256::ParseHex("0x00ff")->ToDecimal(), "255");
  EXPECT_EQ(Uint256::ParseHex("0x0")->ToHexQuantity(), "0x0");
  std::string max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
  EXPECT_EQ(D(max.c_str()), Uint256::Max());
  EXPECT_FALSE(Uint256::ParseDecimal("115792089237316195423570985008687907853269984665640564039457584007913129639936").ok());
  EXPECT_FALSE(Uint256::ParseHex("0x1" + std::string(64, '0')).ok());
  EXPECT_FALSE(Uint256::ParseDecimal("-1").ok());
  EXPECT_FALSE(Uint256::ParseDecimal("1e18").ok());
  EXPECT_FALSE(Uint256::ParseDecimal("").ok());
  EXPECT_FALSE(Uint256::ParseHex("0x").ok());
}

TEST(Uint256, ParsesAmountsWithUnits) {
  EXPECT_EQ(Uint256::ParseAmount("0.5 ether")->ToDecimal(), "500000000000000000");
  EXPECT_EQ(Uint256::ParseAmount("200 gwei")->ToDecimal(), "200000000000");
  EXPECT_EQ(Uint256::ParseAmount("1 wei")->ToDecimal(), "1");
  EXPECT_EQ(Uint256::ParseAmount("1.000000000000000001 ETHER")->ToDecimal(), "1000000000000000001");
  EXPECT_EQ(Uint256::ParseAmount("2000000000000000000")->ToDecimal(), "2000000000000000000");
  EXPECT_EQ(Uint256::ParseAmount("0x10")->ToDecimal(), "16");
  EXPECT_FALSE(Uint256::ParseAmount("0.1 wei").ok());
  EXPECT_FALSE(Uint256::ParseAmount("0.5").ok());
  EXPECT_FALSE(Uint256::ParseAmount("1 dogecoin").ok());
  EXPECT_FALSE(Uint256::ParseAmount("1.2.3 ether").ok());
  EXPECT_FALSE(Uint256::ParseAmount(".5 ether").ok());
  EXPECT_FALSE(Uint256::ParseAmount("5. ether").ok());
  EXPECT_FALSE(Uint256::ParseAmount("1e80 ether").ok());
}

TEST(Uint256, CheckedArithmetic) {
  EXPECT_FALSE(Uint256::Max().Add(Uint256(1)).ok());
  EXPECT_FALSE(Uint256(0).Sub(Uint256(1)).ok());
  EXPECT_FALSE(Uint256::Max().Mul(Uint256(2)).ok());
  EXPECT_EQ(D("340282366920938463463374607431768211456").Mul(D("340282366920938463463374607431768211455"))->ToDecimal(),
            "115792089237316195423570985008687907852929702298719625575994209400481361428480");
  EXPECT_EQ(D("1000").Sub(D("1"))->ToDecimal(), "999");
  EXPECT_EQ(Uint256::Max().SaturatingAdd(Uint256(5)), Uint256::Max());
  EXPECT_EQ(Uint256(3).SaturatingSub(Uint256(5)), Uint256(0));
  EXPECT_EQ(D("1000000000000000000000000000000000000000").Div(D("100000000000000000000000"))->ToDecimal(),
            "10000000000000000");
  EXPECT_EQ(D("7").Div(Uint256(2))->ToDecimal(), "3");
  EXPECT_FALSE(D("7").Div(Uint256(0)).ok());
}

TEST(Uint256, BytesAndOrdering) {
  auto v = D("258");
  EXPECT_EQ(v.ToMinimalBigEndian(), std::string("\x01\x02", 2));
  EXPECT_EQ(Uint256(0).ToMinimalBigEndian(), "");
  auto be = v.ToBigEndian();
  EXPECT_EQ(*Uint256::FromBigEndian(be), v);
  EXPECT_LT(D("1"), D("2"));
  EXPECT_GT(D("18446744073709551616"), D("18446744073709551615"));
  EXPECT_EQ(D("18446744073709551616").BitLength(), 65u);
}

}  // namespace
}  // namespace sigil
