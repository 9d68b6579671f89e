#include "keystore/shamir.h"

#include "crypto/random.h"
#include "gtest/gtest.h"

namespace sigil::keystore {
namespace {

TEST(GaloisFieldTest, MatchesFips197Examples) {
  // FIPS-197 section 4.2: {57} * {83} = {c1}, {57} * {13} = {fe}.
  EXPECT_EQ(GfMultiply(0x57, 0x83), 0xc1);
  EXPECT_EQ(GfMultiply(0x57, 0x13), 0xfe);
  // Section 4.2.1: xtime chain {57}*{02}={ae}, *{04}={47}, *{08}={8e}, *{10}={07}.
  EXPECT_EQ(GfMultiply(0x57, 0x02), 0xae);
  EXPECT_EQ(GfMultiply(0x57, 0x04), 0x47);
  EXPECT_EQ(GfMultiply(0x57, 0x08), 0x8e);
  EXPECT_EQ(GfMultiply(0x57, 0x10), 0x07);
}

TEST(GaloisFieldTest, InverseOfEveryElement) {
  EXPECT_EQ(GfInverse(0), 0);
  EXPECT_EQ(GfInverse(1), 1);
  EXPECT_EQ(GfInverse(0x53), 0xca);  // the S-box example pair
  for (int a = 1; a < 256; ++a) {
    EXPECT_EQ(GfMultiply(static_cast<uint8_t>(a), GfInverse(static_cast<uint8_t>(a))), 1) << a;
  }
}

TEST(GaloisFieldTest, MultiplicationIsCommutativeAndDistributive) {
  for (int a = 0; a < 256; a += 7) {
    for (int b = 0; b < 256; b += 5) {
      EXPECT_EQ(GfMultiply(a, b), GfMultiply(b, a));
      for (int c = 0; c < 256; c += 51) {
        EXPECT_EQ(GfMultiply(a, b ^ c), GfMultiply(a, b) ^ GfMultiply(a, c));
      }
    }
  }
}

// A 2-of-3 split computed by hand: f(x) = s + a x with s = 0x42, a = 0x07.
TEST(ShamirTest, CombinesHandComputedShares) {
  std::vector<SecretShare> shares;
  for (uint8_t x : {1, 2, 3}) {
    uint8_t y = static_cast<uint8_t>(0x42 ^ GfMultiply(0x07, x));
    shares.push_back(SecretShare{x, SecretBytes::CopyFrom(std::span<const uint8_t>(&y, 1))});
  }
  EXPECT_EQ(shares[0].bytes.Reveal(SecretAccess::Get())[0], 0x45);
  EXPECT_EQ(shares[1].bytes.Reveal(SecretAccess::Get())[0], 0x4c);
  EXPECT_EQ(shares[2].bytes.Reveal(SecretAccess::Get())[0], 0x4b);
  for (size_t skip = 0; skip < 3; ++skip) {
    std::vector<SecretShare> two;
    for (size_t i = 0; i < 3; ++i) {
      if (i != skip) two.push_back(SecretShare{shares[i].index, shares[i].bytes.Clone()});
    }
    auto secret = ShamirCombine(two);
    ASSERT_TRUE(secret.ok());
    EXPECT_EQ(secret->Reveal(SecretAccess::Get())[0], 0x42);
  }
}

TEST(ShamirTest, AnyThresholdSubsetRecoversTheSecret) {
  SecretBytes secret = crypto::RandomSecret(32);
  for (auto [m, n] : std::vector<std::pair<int, int>>{{2, 2}, {2, 3}, {3, 5}, {5, 5}, {4, 7}}) {
    auto shares = ShamirSplit(secret, m, n);
    ASSERT_TRUE(shares.ok());
    ASSERT_EQ(shares->size(), static_cast<size_t>(n));
    for (unsigned mask = 0; mask < (1u << n); ++mask) {
      std::vector<SecretShare> subset;
      for (int i = 0; i < n; ++i) {
        if (mask & (1u << i)) subset.push_back(SecretShare{(*shares)[i].index, (*shares)[i].bytes.Clone()});
      }
      if (subset.empty()) continue;
      auto combined = ShamirCombine(subset);
      ASSERT_TRUE(combined.ok());
      if (static_cast<int>(subset.size()) >= m) {
        EXPECT_TRUE(*combined == secret) << m << "-of-" << n << " mask " << mask;
      } else {
        EXPECT_FALSE(*combined == secret) << "fewer than " << m << " shares recovered the secret";
      }
    }
  }
}

TEST(ShamirTest, SharesDoNotContainTheSecret) {
  SecretBytes secret = crypto::RandomSecret(32);
  auto shares = ShamirSplit(secret, 3, 5);
  ASSERT_TRUE(shares.ok());
  for (const auto& share : *shares) EXPECT_FALSE(share.bytes == secret);
  auto again = ShamirSplit(secret, 3, 5);
  EXPECT_FALSE((*again)[0].bytes == (*shares)[0].bytes) << "fresh coefficients for every split";
}

TEST(ShamirTest, RejectsBadParametersAndShares) {
  SecretBytes secret = crypto::RandomSecret(32);
  EXPECT_FALSE(ShamirSplit(secret, 1, 3).ok());
  EXPECT_FALSE(ShamirSplit(secret, 4, 3).ok());
  EXPECT_FALSE(ShamirSplit(secret, 2, 256).ok());
  EXPECT_FALSE(ShamirSplit(SecretBytes(), 2, 3).ok());
  auto shares = ShamirSplit(secret, 2, 3);
  std::vector<SecretShare> dup;
  dup.push_back(SecretShare{(*shares)[0].index, (*shares)[0].bytes.Clone()});
  dup.push_back(SecretShare{(*shares)[0].index, (*shares)[0].bytes.Clone()});
  EXPECT_EQ(ShamirCombine(dup).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<SecretShare> zero;
  zero.push_back(SecretShare{0, crypto::RandomSecret(32)});
  EXPECT_FALSE(ShamirCombine(zero).ok());
  EXPECT_FALSE(ShamirCombine({}).ok());
}

}  // namespace
}  // namespace sigil::keystore
