#include "policy/amount_text.h"

#include "gtest/gtest.h"

namespace sigil::policy {
namespace {

Uint256 A(const char* s) { return Uint256::ParseAmount(s).value(); }

TEST(AmountTextTest, FormatWeiPicksAReadableUnitExactly) {
  EXPECT_EQ(FormatWei(Uint256()), "0 ether");
  EXPECT_EQ(FormatWei(A("2 ether")), "2 ether");
  EXPECT_EQ(FormatWei(A("1.9 ether")), "1.9 ether");
  EXPECT_EQ(FormatWei(A("0.001 ether")), "0.001 ether");
  EXPECT_EQ(FormatWei(A("200 gwei")), "200 gwei");
  EXPECT_EQ(FormatWei(A("1000001")), "0.001000001 gwei");
  EXPECT_EQ(FormatWei(A("21000")), "21000 wei");
  EXPECT_EQ(FormatWei(A("1000000000000000001")), "1.000000000000000001 ether");
  EXPECT_EQ(FormatWei(Uint256::Max()),
            "115792089237316195423570985008687907853269984665640564039457.584007913129639935 ether");
}

TEST(AmountTextTest, RoundTripsThroughParseAmount) {
  for (const char* s : {"0", "1", "999999", "1000000", "123456789012345678901234567890", "0x1bc16d674ec80000"}) {
    Uint256 v = A(s);
    EXPECT_EQ(A(FormatWei(v).c_str()), v) << s;
  }
}

TEST(AmountTextTest, FormatScaled) {
  EXPECT_EQ(FormatScaled(Uint256(1500000), 6), "1.5");
  EXPECT_EQ(FormatScaled(Uint256(1), 6), "0.000001");
  EXPECT_EQ(FormatScaled(Uint256(42), 0), "42");
}

}  // namespace
}  // namespace sigil::policy
