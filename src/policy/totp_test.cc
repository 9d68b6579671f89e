#include "policy/totp.h"

#include <string>

#include "gtest/gtest.h"

namespace sigil::policy {
namespace {

// RFC 6238 Appendix B. The seeds are the ASCII strings the RFC's reference
// code uses: 20 bytes for SHA-1, 32 for SHA-256, 64 for SHA-512.
constexpr char kSeed20[] = "12345678901234567890";
constexpr char kSeed32[] = "12345678901234567890123456789012";
constexpr char kSeed64[] = "1234567890123456789012345678901234567890123456789012345678901234";

struct RfcVector {
  int64_t unix_time;
  const char* sha1;
  const char* sha256;
  const char* sha512;
};
constexpr RfcVector kRfc6238[] = {
    {59, "94287082", "46119246", "90693936"},
    {1111111109, "07081804", "68084774", "25091201"},
    {1111111111, "14050471", "67062674", "99943326"},
    {1234567890, "89005924", "91819424", "93441116"},
    {2000000000, "69279037", "90698825", "38618901"},
    {20000000000, "65353130", "77737706", "47863826"},
};

TotpParams Rfc(TotpAlgorithm a) {
  TotpParams p;
  p.algorithm = a;
  p.digits = 8;
  return p;
}

TEST(TotpTest, Rfc6238VectorsGenerate) {
  SecretBytes s1 = SecretBytes::CopyFrom(std::string_view(kSeed20));
  SecretBytes s256 = SecretBytes::CopyFrom(std::string_view(kSeed32));
  SecretBytes s512 = SecretBytes::CopyFrom(std::string_view(kSeed64));
  for (const auto& v : kRfc6238) {
    absl::Time t = absl::FromUnixSeconds(v.unix_time);
    EXPECT_EQ(TotpCode(s1, t, Rfc(TotpAlgorithm::kSha1)).value(), v.sha1) << v.unix_time;
    EXPECT_EQ(TotpCode(s256, t, Rfc(TotpAlgorithm::kSha256)).value(), v.sha256) << v.unix_time;
    EXPECT_EQ(TotpCode(s512, t, Rfc(TotpAlgorithm::kSha512)).value(), v.sha512) << v.unix_time;
  }
}

TEST(TotpTest, Rfc6238VectorsVerifyAndReturnStep) {
  SecretBytes s1 = SecretBytes::CopyFrom(std::string_view(kSeed20));
  SecretBytes s256 = SecretBytes::CopyFrom(std::string_view(kSeed32));
  for (const auto& v : kRfc6238) {
    absl::Time t = absl::FromUnixSeconds(v.unix_time);
    auto step = VerifyTotp(s1, v.sha1, t, kTotpNeverUsed, Rfc(TotpAlgorithm::kSha1));
    ASSERT_TRUE(step.ok()) << step.status();
    EXPECT_EQ(*step, v.unix_time / 30);
    EXPECT_TRUE(VerifyTotp(s256, v.sha256, t, kTotpNeverUsed, Rfc(TotpAlgorithm::kSha256)).ok());
    // The SHA-256 code is not a SHA-1 code.
    EXPECT_EQ(VerifyTotp(s1, v.sha256, t, kTotpNeverUsed, Rfc(TotpAlgorithm::kSha1)).status().code(),
              absl::StatusCode::kPermissionDenied);
  }
}

TEST(TotpTest, WindowAcceptsOneStepEitherSideOnly) {
  SecretBytes secret = SecretBytes::CopyFrom(std::string_view(kSeed20));
  const absl::Time t = absl::FromUnixSeconds(1111111109);  // step 37037036
  const std::string code = TotpCode(secret, t).value();
  EXPECT_EQ(code.size(), 6u);
  EXPECT_EQ(code, "081804");  // RFC value truncated to 6 digits
  EXPECT_TRUE(VerifyTotp(secret, code, t + absl::Seconds(30), kTotpNeverUsed).ok());
  EXPECT_TRUE(VerifyTotp(secret, code, t - absl::Seconds(30), kTotpNeverUsed).ok());
  EXPECT_EQ(VerifyTotp(secret, code, t + absl::Seconds(60), kTotpNeverUsed).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(VerifyTotp(secret, code, t - absl::Seconds(60), kTotpNeverUsed).status().code(),
            absl::StatusCode::kPermissionDenied);
  TotpParams strict;
  strict.window = 0;
  EXPECT_FALSE(VerifyTotp(secret, code, t + absl::Seconds(30), kTotpNeverUsed, strict).ok());
}

TEST(TotpTest, ReplayOfSameOrOlderStepRefused) {
  SecretBytes secret = NewTotpSecret();
  const absl::Time t = absl::FromUnixSeconds(1767225600);
  const std::string code = TotpCode(secret, t).value();
  auto first = VerifyTotp(secret, code, t, kTotpNeverUsed);
  ASSERT_TRUE(first.ok());
  auto again = VerifyTotp(secret, code, t + absl::Seconds(5), *first);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(again.status().message(), "TOTP code already used");
  // The next step's code is fresh.
  const std::string next = TotpCode(secret, t + absl::Seconds(30)).value();
  auto second = VerifyTotp(secret, next, t + absl::Seconds(30), *first);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first + 1);
  // The earlier code is still inside the window but older than the last use.
  EXPECT_FALSE(VerifyTotp(secret, code, t + absl::Seconds(30), *second).ok());
}

TEST(TotpTest, MalformedCodesAreInvalidArgument) {
  SecretBytes secret = NewTotpSecret();
  const absl::Time t = absl::FromUnixSeconds(1767225600);
  for (std::string_view bad : {"", "12345", "1234567", "12a456", " 123456", "１２３４５６"}) {
    EXPECT_EQ(VerifyTotp(secret, bad, t, kTotpNeverUsed).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(TotpTest, RejectsBadSecretsAndParams) {
  SecretBytes shortSecret = SecretBytes::CopyFrom(std::string_view("0123456789"));
  EXPECT_EQ(TotpCode(shortSecret, absl::Now()).status().code(), absl::StatusCode::kInvalidArgument);
  SecretBytes secret = NewTotpSecret();
  TotpParams p;
  p.digits = 9;
  EXPECT_FALSE(TotpCode(secret, absl::Now(), p).ok());
  p = {};
  p.period = absl::Milliseconds(1500);
  EXPECT_FALSE(TotpCode(secret, absl::Now(), p).ok());
  p = {};
  p.window = 11;
  EXPECT_FALSE(VerifyTotp(secret, "123456", absl::Now(), kTotpNeverUsed, p).ok());
  EXPECT_FALSE(TotpTimeStep(absl::FromUnixSeconds(-5)).ok());
}

TEST(TotpTest, NewSecretIsRandom20Bytes) {
  SecretBytes a = NewTotpSecret();
  SecretBytes b = NewTotpSecret();
  EXPECT_EQ(a.size(), kTotpSecretSize);
  EXPECT_FALSE(a == b);
}

TEST(TotpTest, Base32MatchesRfc4648) {
  // RFC 4648 §10 vectors (without padding).
  auto b32 = [](std::string_view s) {
    SecretBytes in = SecretBytes::CopyFrom(s);
    return std::string(TotpBase32Secret(in).RevealText(SecretAccess::Get()));
  };
  EXPECT_EQ(b32("f"), "MY");
  EXPECT_EQ(b32("fo"), "MZXQ");
  EXPECT_EQ(b32("foo"), "MZXW6");
  EXPECT_EQ(b32("foob"), "MZXW6YQ");
  EXPECT_EQ(b32("fooba"), "MZXW6YTB");
  EXPECT_EQ(b32("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(b32(kSeed20), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

TEST(TotpTest, ProvisioningUri) {
  SecretBytes secret = SecretBytes::CopyFrom(std::string_view(kSeed20));
  auto uri = TotpProvisioningUri(secret, "Sigil", "alice@treasury ops");
  ASSERT_TRUE(uri.ok()) << uri.status();
  EXPECT_EQ(uri->RevealText(SecretAccess::Get()),
            "otpauth://totp/Sigil:alice%40treasury%20ops?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            "&issuer=Sigil&algorithm=SHA1&digits=6&period=30");
  EXPECT_FALSE(TotpProvisioningUri(secret, "Sigil", "").ok());
  EXPECT_FALSE(TotpProvisioningUri(secret, "", "alice").ok());
  EXPECT_FALSE(TotpProvisioningUri(secret, "Sigil", std::string(129, 'a')).ok());
}

}  // namespace
}  // namespace sigil::policy
