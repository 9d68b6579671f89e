#include "base/hex.h"

#include <gtest/gtest.h>

namespace sigil {
namespace {

TEST(Hex, RoundTrip) {
  Bytes b = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(HexEncode(b), "0001abff");
  EXPECT_EQ(HexEncode0x(b), "0x0001abff");
  EXPECT_EQ(*HexDecode("0x0001ABff"), b);
  EXPECT_EQ(*HexDecode("0001abff"), b);
  EXPECT_TRUE(HexDecode("0x").ok());
}

TEST(Hex, RejectsMalformed) {
  EXPECT_FALSE(HexDecode("0x1").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
  EXPECT_FALSE(HexDecode("0x0g").ok());
}

}  // namespace
}  // namespace sigil
