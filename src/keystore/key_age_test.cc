#include "keystore/key_age.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/memory_key_store.h"

namespace sigil::keystore {
namespace {

std::vector<std::string> Names(const std::vector<KeyInfo>& keys) {
  std::vector<std::string> out;
  for (const auto& k : keys) out.push_back(k.name + "@" + std::to_string(k.version));
  return out;
}

TEST(KeyAgeTest, ListsActiveKeysPastTheMaximumAge) {
  FakeClock clock;
  MemoryKeyStore ks(&clock);
  ASSERT_TRUE(ks.Generate("oldest", KeyType::kSecp256k1, KeyPurpose::kSigning).ok());
  // Sigil's own keys do not rotate: never listed, however old.
  ASSERT_TRUE(ks.Generate("sigil-audit", KeyType::kEd25519, KeyPurpose::kAudit).ok());
  clock.Advance(absl::Hours(24 * 10));
  ASSERT_TRUE(ks.Generate("older", KeyType::kEd25519, KeyPurpose::kSigning).ok());
  ASSERT_TRUE(ks.Generate("rotated", KeyType::kSchnorr, KeyPurpose::kSigning).ok());
  ASSERT_TRUE(ks.Generate("archived", KeyType::kSchnorr, KeyPurpose::kSigning).ok());
  clock.Advance(absl::Hours(24 * 80));
  ASSERT_TRUE(ks.Rotate("rotated").ok());
  ASSERT_TRUE(ks.Archive("archived").ok());
  clock.Advance(absl::Hours(24 * 5));
  ASSERT_TRUE(ks.Generate("fresh", KeyType::kSecp256k1, KeyPurpose::kSigning).ok());
  clock.Advance(absl::Hours(24 * 1));

  // Now: oldest is 96 days old, older 86, rotated's active version 6, fresh 1.
  auto due = KeysOlderThan(ks, clock, absl::Hours(24 * 90));
  ASSERT_TRUE(due.ok());
  EXPECT_THAT(Names(*due), ::testing::ElementsAre("oldest@1"));
  due = KeysOlderThan(ks, clock, absl::Hours(24 * 30));
  EXPECT_THAT(Names(*due), ::testing::ElementsAre("oldest@1", "older@1"));
  due = KeysOlderThan(ks, clock, absl::Hours(24 * 2));
  EXPECT_THAT(Names(*due), ::testing::ElementsAre("oldest@1", "older@1", "rotated@2"));
  EXPECT_EQ(KeysOlderThan(ks, clock, absl::ZeroDuration()).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::keystore
