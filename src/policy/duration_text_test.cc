#include "policy/duration_text.h"

#include "gtest/gtest.h"

namespace sigil::policy {
namespace {

TEST(DurationTextTest, ParsesUnitsAndSums) {
  EXPECT_EQ(ParseDurationText("30s").value(), absl::Seconds(30));
  EXPECT_EQ(ParseDurationText("1m").value(), absl::Minutes(1));
  EXPECT_EQ(ParseDurationText("24h").value(), absl::Hours(24));
  EXPECT_EQ(ParseDurationText("7d").value(), absl::Hours(24 * 7));
  EXPECT_EQ(ParseDurationText("2w").value(), absl::Hours(24 * 14));
  EXPECT_EQ(ParseDurationText("1h30m").value(), absl::Minutes(90));
  EXPECT_EQ(ParseDurationText("400d").value(), absl::Hours(24 * 400));
}

TEST(DurationTextTest, RejectsEverythingElse) {
  for (const char* bad : {"", "0s", "1", "h", "1.5h", "-1h", "1 h", "1y", "401d", "99999999999999999999s", "1hh"}) {
    EXPECT_FALSE(ParseDurationText(bad).ok()) << bad;
  }
  EXPECT_NE(std::string(ParseDurationText("1y").status().message()).find("\"24h\""), std::string::npos);
}

TEST(DurationTextTest, FormatsTheShortestForm) {
  EXPECT_EQ(FormatDurationText(absl::Hours(24)), "1d");
  EXPECT_EQ(FormatDurationText(absl::Minutes(90)), "1h30m");
  EXPECT_EQ(FormatDurationText(absl::Seconds(61)), "1m1s");
  EXPECT_EQ(FormatDurationText(absl::Hours(24 * 14)), "14d");
  for (const char* s : {"30s", "1m", "1h30m", "7d"}) {
    EXPECT_EQ(ParseDurationText(FormatDurationText(ParseDurationText(s).value())).value(), ParseDurationText(s).value());
  }
}

}  // namespace
}  // namespace sigil::policy
