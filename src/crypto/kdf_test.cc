#include "crypto/kdf.h"

#include <string>

#include "base/hex.h"
#include "gtest/gtest.h"

namespace sigil::crypto {
namespace {

Bytes FromHex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

std::string HexOf(const SecretBytes& s) { return HexEncode(s.Reveal(SecretAccess::Get())); }

std::string_view AsText(const Bytes& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

const Bytes kSalt = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

TEST(Argon2idTest, ParameterPresets) {
  // libsodium's MODERATE: 3 passes over 256 MiB.
  EXPECT_EQ(Argon2Params::Moderate().ops_limit, 3u);
  EXPECT_EQ(Argon2Params::Moderate().mem_limit, 256u * 1024 * 1024);
  EXPECT_EQ(Argon2Params::ForTesting().ops_limit, 1u);
  EXPECT_EQ(Argon2Params::ForTesting().mem_limit, 8192u);
}

TEST(Argon2idTest, DeterministicAndSaltSensitive) {
  SecretBytes pass = SecretBytes::CopyFrom(std::string_view("correct horse battery staple"));
  auto a = Argon2id(pass, kSalt, Argon2Params::ForTesting());
  auto b = Argon2id(pass, kSalt, Argon2Params::ForTesting());
  ASSERT_TRUE(a.ok() && b.ok()) << a.status();
  EXPECT_EQ(a->size(), 32u);
  EXPECT_TRUE(*a == *b);

  Bytes other_salt = kSalt;
  other_salt[15] ^= 1;
  auto c = Argon2id(pass, other_salt, Argon2Params::ForTesting());
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(*a == *c);

  SecretBytes other_pass = SecretBytes::CopyFrom(std::string_view("correct horse battery stapler"));
  auto d = Argon2id(other_pass, kSalt, Argon2Params::ForTesting());
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(*a == *d);

  // Each cost parameter changes the output.
  auto e = Argon2id(pass, kSalt, {2, 8192});
  auto f = Argon2id(pass, kSalt, {1, 16384});
  ASSERT_TRUE(e.ok() && f.ok());
  EXPECT_FALSE(*a == *e);
  EXPECT_FALSE(*a == *f);

  auto longer = Argon2id(pass, kSalt, Argon2Params::ForTesting(), 64);
  ASSERT_TRUE(longer.ok());
  EXPECT_EQ(longer->size(), 64u);
}

// Known answer from the reference implementation's CLI (p = 1, 32 bytes):
// echo -n 123 | argon2 ABCDEFGHIJKLMNOP -id -v 13 -k 1024 -t 5
TEST(Argon2idTest, ReferenceCliKnownAnswer) {
  SecretBytes pass = SecretBytes::CopyFrom(std::string_view("123"));
  auto out = Argon2id(pass, AsBytes("ABCDEFGHIJKLMNOP"), {5, 1024 * 1024});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(HexOf(*out), "3c5d010180ba0cf5b6b858cba23b318e42d33088983c404598599c3b029ecac6");
}

TEST(Argon2idTest, EmptyPassphraseIsAllowed) {
  auto out = Argon2id(SecretBytes(), kSalt, Argon2Params::ForTesting());
  EXPECT_TRUE(out.ok()) << out.status();
}

TEST(Argon2idTest, RefusesBadInputs) {
  SecretBytes pass = SecretBytes::CopyFrom(std::string_view("pw"));
  EXPECT_EQ(Argon2id(pass, Bytes(15), Argon2Params::ForTesting()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Argon2id(pass, Bytes(17), Argon2Params::ForTesting()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Argon2id(pass, kSalt, {0, 8192}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Argon2id(pass, kSalt, {1, 8191}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Argon2id(pass, kSalt, Argon2Params::ForTesting(), 15).status().code(), absl::StatusCode::kInvalidArgument);
}

struct HkdfCase {
  const char* name;
  const char* ikm;
  const char* salt;
  const char* info;
  size_t length;
  const char* okm;
};

// RFC 5869 appendix A, test cases 1-3 (SHA-256).
TEST(HkdfSha256Test, Rfc5869) {
  const HkdfCase cases[] = {
      {"case 1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9",
       42, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
      {"case 2",
       "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
       "303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
       "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f"
       "909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
       "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
       "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
       82,
       "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09"
       "da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"},
      {"case 3 (empty salt and info)", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "", 42,
       "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
  };
  for (const HkdfCase& c : cases) {
    SCOPED_TRACE(c.name);
    SecretBytes ikm = SecretBytes::CopyFrom(FromHex(c.ikm));
    const Bytes info = FromHex(c.info);
    auto okm = HkdfSha256(ikm, FromHex(c.salt), AsText(info), c.length);
    ASSERT_TRUE(okm.ok()) << okm.status();
    EXPECT_EQ(HexOf(*okm), c.okm);
  }
}

TEST(HkdfSha256Test, InfoSeparatesKeys) {
  SecretBytes ikm = SecretBytes::CopyFrom(std::string_view("master"));
  auto a = HkdfSha256(ikm, {}, "sigil/audit", 32);
  auto b = HkdfSha256(ikm, {}, "sigil/backup", 32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(*a == *b);
  // A longer output starts with the shorter one (HKDF-Expand is a stream).
  auto c = HkdfSha256(ikm, {}, "sigil/audit", 100);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(std::equal(a->Reveal(SecretAccess::Get()).begin(), a->Reveal(SecretAccess::Get()).end(),
                         c->Reveal(SecretAccess::Get()).begin()));
}

TEST(HkdfSha256Test, RefusesBadLengthsAndEmptyKey) {
  SecretBytes ikm = SecretBytes::CopyFrom(std::string_view("k"));
  EXPECT_EQ(HkdfSha256(ikm, {}, "", 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HkdfSha256(ikm, {}, "", 255 * 32 + 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(HkdfSha256(ikm, {}, "", 255 * 32).ok());
  EXPECT_EQ(HkdfSha256(SecretBytes(), {}, "", 32).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::crypto
