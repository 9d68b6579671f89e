#include "crypto/ed25519.h"

#include <string>

#include "base/hex.h"
#include "crypto/test_vectors.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace sigil::crypto {
namespace {

using test_vectors::FromHex;
using test_vectors::LoadVectors;
using test_vectors::ToArray;

TEST(Ed25519Test, GenerateSignVerify) {
  auto seed = GenerateEd25519Seed();
  ASSERT_TRUE(seed.ok()) << seed.status();
  EXPECT_EQ(seed->size(), 32u);
  auto pub = DeriveEd25519PublicKey(*seed);
  ASSERT_TRUE(pub.ok());
  auto sig = Ed25519Sign(*seed, AsBytes("solana"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(Ed25519Verify(*pub, AsBytes("solana"), *sig));
  EXPECT_FALSE(Ed25519Verify(*pub, AsBytes("solanA"), *sig));
  // Two generated seeds differ (the CSPRNG is really used).
  auto other = GenerateEd25519Seed();
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(*seed == *other);
}

TEST(Ed25519Test, EmptyMessage) {
  auto seed = GenerateEd25519Seed();
  ASSERT_TRUE(seed.ok());
  auto pub = DeriveEd25519PublicKey(*seed);
  auto sig = Ed25519Sign(*seed, {});
  ASSERT_TRUE(pub.ok() && sig.ok());
  EXPECT_TRUE(Ed25519Verify(*pub, {}, *sig));
}

TEST(Ed25519Test, RejectsWrongSeedSize) {
  for (size_t size : {0u, 31u, 33u, 64u}) {
    SecretBytes seed = SecretBytes::Zeroed(size);
    EXPECT_EQ(DeriveEd25519PublicKey(seed).status().code(), absl::StatusCode::kInvalidArgument) << size;
    EXPECT_EQ(Ed25519Sign(seed, {}).status().code(), absl::StatusCode::kInvalidArgument) << size;
  }
}

TEST(Ed25519Test, Rfc8032Section71) {
  nlohmann::json doc = LoadVectors("rfc8032/ed25519-rfc8032-sec7.1.json");
  int count = 0;
  for (const auto& v : doc.at("vectors")) {
    SCOPED_TRACE(v.at("name").get<std::string>());
    SecretBytes seed = SecretBytes::CopyFrom(FromHex(v.at("secret_key").get<std::string>()));
    const Bytes message = FromHex(v.at("message").get<std::string>());
    ASSERT_EQ(message.size(), v.at("message_len").get<size_t>());
    auto pub = DeriveEd25519PublicKey(seed);
    ASSERT_TRUE(pub.ok());
    EXPECT_EQ(HexEncode(*pub), v.at("public_key").get<std::string>());
    auto sig = Ed25519Sign(seed, message);
    ASSERT_TRUE(sig.ok());
    EXPECT_EQ(HexEncode(*sig), v.at("signature").get<std::string>());
    EXPECT_TRUE(Ed25519Verify(*pub, message, *sig));
    ++count;
  }
  EXPECT_EQ(count, 5);
}

// Every Wycheproof Ed25519 vector: "valid" must verify, "invalid" must not.
// The invalid set covers s >= L (malleability), non-canonical R, truncated
// and over-long signatures, and small-order keys. The file has no
// "acceptable" entries; if a future revision adds some, they are only
// required not to crash (their outcome is implementation-defined).
TEST(Ed25519Test, Wycheproof) {
  nlohmann::json doc = LoadVectors("wycheproof/ed25519_test.json");
  int count = 0;
  for (const auto& group : doc.at("testGroups")) {
    Ed25519PublicKey pub{};
    const bool pub_ok = ToArray(FromHex(group.at("publicKey").at("pk").get<std::string>()), pub);
    for (const auto& t : group.at("tests")) {
      ++count;
      const int id = t.at("tcId").get<int>();
      const std::string result = t.at("result").get<std::string>();
      const Bytes message = FromHex(t.at("msg").get<std::string>());
      Ed25519Signature sig{};
      // A signature that is not 64 bytes cannot be represented: it is
      // rejected before verification, as a caller parsing input would.
      const bool sig_ok = ToArray(FromHex(t.at("sig").get<std::string>()), sig);
      const bool verified = pub_ok && sig_ok && Ed25519Verify(pub, message, sig);
      if (result == "valid") {
        EXPECT_TRUE(verified) << "tcId " << id << ": " << t.at("comment");
      } else if (result == "invalid") {
        EXPECT_FALSE(verified) << "tcId " << id << ": " << t.at("comment");
      }
    }
  }
  EXPECT_EQ(count, doc.at("numberOfTests").get<int>());
  EXPECT_EQ(count, 151);
}

}  // namespace
}  // namespace sigil::crypto
