#include "crypto/random.h"

#include <array>
#include <bitset>

#include "gtest/gtest.h"

namespace sigil::crypto {
namespace {

TEST(RandomTest, FillsBuffersWithFreshBytes) {
  std::array<uint8_t, 64> a{};
  std::array<uint8_t, 64> b{};
  RandomBytes(a);
  RandomBytes(b);
  EXPECT_NE(a, b);
  // Crude sanity check, not a statistical test: 512 random bits have
  // between 160 and 352 ones except with negligible probability.
  size_t ones = 0;
  for (uint8_t byte : a) ones += std::bitset<8>(byte).count();
  EXPECT_GT(ones, 160u);
  EXPECT_LT(ones, 352u);
  RandomBytes({});  // an empty request is a no-op
}

TEST(RandomTest, RandomSecret) {
  SecretBytes a = RandomSecret(32);
  SecretBytes b = RandomSecret(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_FALSE(a == b);
  EXPECT_TRUE(RandomSecret(0).empty());
}

}  // namespace
}  // namespace sigil::crypto
