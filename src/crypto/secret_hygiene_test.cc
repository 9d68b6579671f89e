// A secret must never reach a Status message: every failing call that takes
// a secret is checked against the secret's bytes in several renderings.
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "base/hex.h"
#include "crypto/aead.h"
#include "crypto/ed25519.h"
#include "crypto/kdf.h"
#include "crypto/secp256k1.h"
#include "gtest/gtest.h"

namespace sigil::crypto {
namespace {

void ExpectNoSecretIn(const absl::Status& status, std::span<const uint8_t> secret) {
  ASSERT_FALSE(status.ok());
  const std::string text = status.ToString();
  const std::string hex = HexEncode(secret);
  std::string upper = hex;
  for (char& c : upper) c = absl::ascii_toupper(static_cast<unsigned char>(c));
  const std::string raw(secret.begin(), secret.end());
  // Any 8-byte window of the secret (16 hex digits) would be a leak.
  for (size_t i = 0; i + 16 <= hex.size(); i += 2) {
    EXPECT_EQ(text.find(hex.substr(i, 16)), std::string::npos) << text;
    EXPECT_EQ(text.find(upper.substr(i, 16)), std::string::npos) << text;
  }
  for (size_t i = 0; i + 8 <= raw.size(); ++i) {
    EXPECT_EQ(text.find(raw.substr(i, 8)), std::string::npos) << text;
  }
}

TEST(SecretHygieneTest, Secp256k1FailuresDoNotLeakTheKey) {
  // Not a valid scalar (>= n): every call refuses it.
  auto bytes = HexDecode("ffffffffffffffffffffffffffffffffdeadbeefcafebabe0123456789abcdef");
  ASSERT_TRUE(bytes.ok());
  SecretBytes key = SecretBytes::CopyFrom(*bytes);
  ExpectNoSecretIn(DeriveSecp256k1PublicKey(key).status(), *bytes);
  ExpectNoSecretIn(DeriveXOnlyPublicKey(key).status(), *bytes);
  ExpectNoSecretIn(SignRecoverable(key, Hash256{}).status(), *bytes);
  ExpectNoSecretIn(SchnorrSign(key, Hash256{}).status(), *bytes);
  ExpectNoSecretIn(SchnorrSignWithAux(key, Hash256{}, {}).status(), *bytes);
  // Wrong length.
  std::vector<uint8_t> longer = *bytes;
  longer.push_back(0x42);
  SecretBytes long_key = SecretBytes::CopyFrom(longer);
  ExpectNoSecretIn(SignRecoverable(long_key, Hash256{}).status(), longer);
}

TEST(SecretHygieneTest, OtherPrimitivesDoNotLeakSecrets) {
  auto bytes = HexDecode("0011223344556677deadbeefcafebabe0123456789abcdef55aa55aa55aa55aa99");
  ASSERT_TRUE(bytes.ok());
  SecretBytes wrong_size = SecretBytes::CopyFrom(*bytes);  // 33 bytes: wrong for every key type
  ExpectNoSecretIn(DeriveEd25519PublicKey(wrong_size).status(), *bytes);
  ExpectNoSecretIn(Ed25519Sign(wrong_size, {}).status(), *bytes);
  ExpectNoSecretIn(AeadSeal(wrong_size, {}, {}).status(), *bytes);
  ExpectNoSecretIn(AeadOpen(wrong_size, std::vector<uint8_t>(64), {}).status(), *bytes);
  ExpectNoSecretIn(Argon2id(wrong_size, std::vector<uint8_t>(3), Argon2Params::ForTesting()).status(), *bytes);
  ExpectNoSecretIn(HkdfSha256(wrong_size, {}, "", 0).status(), *bytes);

  // A failed open must not echo the key or the (unauthenticated) plaintext.
  SecretBytes key = SecretBytes::CopyFrom(std::span<const uint8_t>(bytes->data(), 32));
  auto sealed = AeadSeal(key, *bytes, {});
  ASSERT_TRUE(sealed.ok());
  (*sealed)[30] ^= 1;
  absl::Status st = AeadOpen(key, *sealed, {}).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  ExpectNoSecretIn(st, *bytes);
}

}  // namespace
}  // namespace sigil::crypto
