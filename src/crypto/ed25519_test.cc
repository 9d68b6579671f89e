#include "crypto/ed25519.h"

#include "base/hex.h"
#include "gtest/gtest.h"

namespace sigil::crypto {
namespace {

TEST(Ed25519Test, GenerateSignVerify) {
  auto seed = GenerateEd25519Seed();
  ASSERT_TRUE(seed.ok()) << seed.status();
  auto pub = DeriveEd25519PublicKey(*seed);
  ASSERT_TRUE(pub.ok());
  auto sig = Ed25519Sign(*seed, AsBytes("solana"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Ed25519Verify(*pub, AsBytes("solana"), *sig));
  EXPECT_FALSE(Ed25519Verify(*pub, AsBytes("solanA"), *sig));
}

TEST(Ed25519Test, RejectsWrongSeedSize) {
  SecretBytes short_seed = SecretBytes::Zeroed(31);
  EXPECT_EQ(DeriveEd25519PublicKey(short_seed).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519Sign(short_seed, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::crypto
