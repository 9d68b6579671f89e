#include "tokens/token_rate.h"

#include <gtest/gtest.h>

namespace sigil::tokens {
namespace {

TEST(TokenRateTest, ParsesUnitsAndMultiples) {
  EXPECT_EQ(*ParseTokenRate("10/s"), (TokenRate{10, absl::Seconds(1)}));
  EXPECT_EQ(*ParseTokenRate("600/m"), (TokenRate{600, absl::Minutes(1)}));
  EXPECT_EQ(*ParseTokenRate("5000/h"), (TokenRate{5000, absl::Hours(1)}));
  EXPECT_EQ(*ParseTokenRate("1/d"), (TokenRate{1, absl::Hours(24)}));
  EXPECT_EQ(*ParseTokenRate("20/10s"), (TokenRate{20, absl::Seconds(10)}));
}

TEST(TokenRateTest, RefusesMalformedAndOutOfRange) {
  for (const char* bad : {"", "10", "/s", "0/s", "-1/s", "10/x", "10/0s", "1.5/s", "10/s ", " 10/s", "10/2d",
                          "9999999999/s", "1000001/s", "10//s"}) {
    EXPECT_FALSE(ParseTokenRate(bad).ok()) << bad;
  }
}

TEST(TokenRateTest, TextRoundTrips) {
  for (const char* t : {"10/s", "600/m", "5000/h", "1/d", "20/10s"}) {
    EXPECT_EQ(TokenRateText(*ParseTokenRate(t)), t);
  }
}

}  // namespace
}  // namespace sigil::tokens
