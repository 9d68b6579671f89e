#include "crypto/secp256k1.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "base/hex.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "gtest/gtest.h"

namespace sigil::crypto {
namespace {

// n, the order of the secp256k1 group, and n/2 (floor), big-endian.
constexpr std::array<uint8_t, 32> kOrder = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                            0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48,
                                            0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41};
constexpr std::array<uint8_t, 32> kHalfOrder = {0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                                0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x5D, 0x57, 0x6E, 0x73, 0x57, 0xA4,
                                                0x50, 0x1D, 0xDF, 0xE9, 0x2F, 0x46, 0x68, 0x1B, 0x20, 0xA0};

// a - b for big-endian 256-bit values with a >= b.
std::array<uint8_t, 32> Subtract(const std::array<uint8_t, 32>& a, const std::array<uint8_t, 32>& b) {
  std::array<uint8_t, 32> out{};
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = a[i] - b[i] - borrow;
    borrow = d < 0 ? 1 : 0;
    out[i] = static_cast<uint8_t>(d + (borrow ? 256 : 0));
  }
  return out;
}

std::array<uint8_t, 64> Rs(const RecoverableSignature& sig) {
  std::array<uint8_t, 64> rs;
  std::copy(sig.r.begin(), sig.r.end(), rs.begin());
  std::copy(sig.s.begin(), sig.s.end(), rs.begin() + 32);
  return rs;
}

SecretBytes KeyFromHex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok());
  return SecretBytes::CopyFrom(*bytes);
}

TEST(Secp256k1Test, DerivesKnownPublicKey) {
  // Private key 1 gives the generator G.
  SecretBytes one = KeyFromHex("0000000000000000000000000000000000000000000000000000000000000001");
  auto pub = DeriveSecp256k1PublicKey(one);
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(HexEncode(*pub),
            "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
            "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8");
  auto xonly = DeriveXOnlyPublicKey(one);
  ASSERT_TRUE(xonly.ok());
  EXPECT_EQ(HexEncode(*xonly), "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
}

TEST(Secp256k1Test, RejectsInvalidScalars) {
  const std::string n_hex = HexEncode(kOrder);
  for (std::string_view hex : {std::string_view("0000000000000000000000000000000000000000000000000000000000000000"),
                               std::string_view(n_hex),
                               std::string_view("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")}) {
    SecretBytes key = KeyFromHex(hex);
    EXPECT_EQ(DeriveSecp256k1PublicKey(key).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(DeriveXOnlyPublicKey(key).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(SignRecoverable(key, Hash256{}).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(SchnorrSign(key, Hash256{}).status().code(), absl::StatusCode::kInvalidArgument);
  }
  // n - 1 is the largest valid scalar.
  SecretBytes n_minus_1 = KeyFromHex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140");
  EXPECT_TRUE(DeriveSecp256k1PublicKey(n_minus_1).ok());
  for (size_t size : {0u, 31u, 33u}) {
    SecretBytes key = SecretBytes::Zeroed(size);
    EXPECT_EQ(SignRecoverable(key, Hash256{}).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

// The properties every Sigil ECDSA signature must have, over 200 fresh keys.
TEST(Secp256k1Test, RandomKeyProperties) {
  for (int i = 0; i < 200; ++i) {
    SCOPED_TRACE("key " + std::to_string(i));
    auto key = GenerateSecp256k1PrivateKey();
    ASSERT_TRUE(key.ok()) << key.status();
    ASSERT_EQ(key->size(), 32u);
    auto pub = DeriveSecp256k1PublicKey(*key);
    ASSERT_TRUE(pub.ok());
    EXPECT_EQ((*pub)[0], 0x04);
    Hash256 digest;
    RandomBytes(digest);

    auto sig = SignRecoverable(*key, digest);
    ASSERT_TRUE(sig.ok()) << sig.status();
    EXPECT_LE(sig->s, kHalfOrder) << "signature is not low-s";
    EXPECT_LE(sig->recovery_id, 1);
    // RFC 6979: deterministic.
    auto again = SignRecoverable(*key, digest);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->ToCompact65(), sig->ToCompact65());

    auto recovered = RecoverPublicKey(digest, *sig);
    ASSERT_TRUE(recovered.ok()) << recovered.status();
    EXPECT_EQ(*recovered, *pub);
    const auto rs = Rs(*sig);
    EXPECT_TRUE(VerifyEcdsa(*pub, digest, rs));

    Hash256 tampered = digest;
    tampered[i % 32] ^= static_cast<uint8_t>(1u << (i % 8));
    EXPECT_FALSE(VerifyEcdsa(*pub, tampered, rs));
    auto wrong = RecoverPublicKey(tampered, *sig);
    EXPECT_TRUE(!wrong.ok() || *wrong != *pub);

    // The compact form is r || s || v.
    const auto compact = sig->ToCompact65();
    EXPECT_TRUE(std::equal(rs.begin(), rs.end(), compact.begin()));
    EXPECT_EQ(compact[64], sig->recovery_id);

    // Schnorr with the same key.
    auto xonly = DeriveXOnlyPublicKey(*key);
    ASSERT_TRUE(xonly.ok());
    EXPECT_TRUE(std::equal(xonly->begin(), xonly->end(), pub->begin() + 1));
    auto schnorr = SchnorrSign(*key, digest);
    ASSERT_TRUE(schnorr.ok());
    EXPECT_TRUE(SchnorrVerify(*xonly, digest, *schnorr));
    EXPECT_FALSE(SchnorrVerify(*xonly, tampered, *schnorr));
  }
}

TEST(Secp256k1Test, HighSIsRejectedAndNormalised) {
  for (int i = 0; i < 20; ++i) {
    auto key = GenerateSecp256k1PrivateKey();
    ASSERT_TRUE(key.ok());
    auto pub = DeriveSecp256k1PublicKey(*key);
    ASSERT_TRUE(pub.ok());
    Hash256 digest = Keccak256(AsBytes("high-s " + std::to_string(i)));
    auto sig = SignRecoverable(*key, digest);
    ASSERT_TRUE(sig.ok());

    // The malleated twin (r, n - s) is the same signature in high-s form.
    RecoverableSignature high = *sig;
    high.s = Subtract(kOrder, sig->s);
    ASSERT_GT(high.s, kHalfOrder);
    high.recovery_id ^= 1;
    const auto high_rs = Rs(high);
    EXPECT_FALSE(VerifyEcdsa(*pub, digest, high_rs));
    EXPECT_FALSE(VerifyEcdsaWithHighS(*pub, digest, high_rs, HighS::kReject));
    EXPECT_TRUE(VerifyEcdsaWithHighS(*pub, digest, high_rs, HighS::kAccept));
    EXPECT_EQ(RecoverPublicKey(digest, high).status().code(), absl::StatusCode::kInvalidArgument);

    auto normalised = NormalizeAndFindRecoveryId(digest, high_rs, *pub);
    ASSERT_TRUE(normalised.ok()) << normalised.status();
    EXPECT_EQ(normalised->ToCompact65(), sig->ToCompact65());

    // An already-low signature passes through unchanged.
    auto same = NormalizeAndFindRecoveryId(digest, Rs(*sig), *pub);
    ASSERT_TRUE(same.ok());
    EXPECT_EQ(same->ToCompact65(), sig->ToCompact65());

    // The wrong expected key: no recovery id matches.
    auto other_key = GenerateSecp256k1PrivateKey();
    ASSERT_TRUE(other_key.ok());
    auto other_pub = DeriveSecp256k1PublicKey(*other_key);
    ASSERT_TRUE(other_pub.ok());
    EXPECT_FALSE(NormalizeAndFindRecoveryId(digest, high_rs, *other_pub).ok());
  }
}

TEST(Secp256k1Test, RecoverRejectsBadRecoveryIdAndRange) {
  auto key = GenerateSecp256k1PrivateKey();
  ASSERT_TRUE(key.ok());
  Hash256 digest = Sha256(AsBytes("x"));
  auto sig = SignRecoverable(*key, digest);
  ASSERT_TRUE(sig.ok());
  for (uint8_t recid : {2, 3, 27, 255}) {
    RecoverableSignature bad = *sig;
    bad.recovery_id = recid;
    EXPECT_EQ(RecoverPublicKey(digest, bad).status().code(), absl::StatusCode::kInvalidArgument);
  }
  RecoverableSignature overflow = *sig;
  overflow.r = kOrder;  // r = n is out of range
  EXPECT_FALSE(RecoverPublicKey(digest, overflow).ok());
  std::array<uint8_t, 64> rs = Rs(overflow);
  auto pub = DeriveSecp256k1PublicKey(*key);
  ASSERT_TRUE(pub.ok());
  EXPECT_FALSE(VerifyEcdsa(*pub, digest, rs));
  // r = 0 and s = 0 never verify.
  EXPECT_FALSE(VerifyEcdsaWithHighS(*pub, digest, std::array<uint8_t, 64>{}, HighS::kAccept));
}

TEST(Secp256k1Test, ParsePublicKeyEncodings) {
  SecretBytes key = KeyFromHex("0000000000000000000000000000000000000000000000000000000000000001");
  auto pub = DeriveSecp256k1PublicKey(key);
  ASSERT_TRUE(pub.ok());
  auto same = ParseSecp256k1PublicKey(*pub);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, *pub);
  // G has an even y, so its compressed prefix is 02.
  auto compressed = HexDecode("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
  ASSERT_TRUE(compressed.ok());
  auto from_compressed = ParseSecp256k1PublicKey(*compressed);
  ASSERT_TRUE(from_compressed.ok());
  EXPECT_EQ(*from_compressed, *pub);
  // Odd prefix: the negated point, a different key.
  (*compressed)[0] = 0x03;
  auto negated = ParseSecp256k1PublicKey(*compressed);
  ASSERT_TRUE(negated.ok());
  EXPECT_NE(*negated, *pub);

  // Hybrid encoding (06/07) is not SEC1 and is refused.
  Secp256k1PublicKey hybrid = *pub;
  hybrid[0] = 0x06;
  EXPECT_FALSE(ParseSecp256k1PublicKey(hybrid).ok());
  // A hybrid key handed to a verifier directly is refused too.
  auto sig = SignRecoverable(key, Hash256{});
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(VerifyEcdsa(*pub, Hash256{}, Rs(*sig)));
  EXPECT_FALSE(VerifyEcdsa(hybrid, Hash256{}, Rs(*sig)));
  // Off-curve point, wrong sizes, empty.
  Secp256k1PublicKey off_curve = *pub;
  off_curve[64] ^= 1;
  EXPECT_FALSE(ParseSecp256k1PublicKey(off_curve).ok());
  EXPECT_FALSE(ParseSecp256k1PublicKey(std::span<const uint8_t>(pub->data(), 64)).ok());
  EXPECT_FALSE(ParseSecp256k1PublicKey({}).ok());
}

TEST(Secp256k1Test, SchnorrVerifyMessageLengths) {
  auto key = GenerateSecp256k1PrivateKey();
  ASSERT_TRUE(key.ok());
  auto xonly = DeriveXOnlyPublicKey(*key);
  ASSERT_TRUE(xonly.ok());
  const std::array<uint8_t, 32> aux{};
  for (size_t len : {0u, 1u, 31u, 32u, 33u, 200u}) {
    std::vector<uint8_t> message(len, 0x5a);
    auto sig = SchnorrSignMessageWithAux(*key, message, aux);
    ASSERT_TRUE(sig.ok());
    EXPECT_TRUE(SchnorrVerify(*xonly, message, *sig)) << len;
    message.push_back(0);
    EXPECT_FALSE(SchnorrVerify(*xonly, message, *sig)) << len;
  }
}

TEST(Secp256k1Test, GeneratedKeysDiffer) {
  auto a = GenerateSecp256k1PrivateKey();
  auto b = GenerateSecp256k1PrivateKey();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(*a == *b);
}

// The shared context is created on first use from whichever thread gets
// there first; all threads then sign and verify concurrently (TSan covers it).
TEST(Secp256k1Test, ConcurrentUse) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&failures, t] {
      for (int i = 0; i < 25; ++i) {
        auto key = GenerateSecp256k1PrivateKey();
        if (!key.ok()) {
          ++failures;
          continue;
        }
        Hash256 digest = Sha256(AsBytes("thread " + std::to_string(t) + " " + std::to_string(i)));
        auto pub = DeriveSecp256k1PublicKey(*key);
        auto sig = SignRecoverable(*key, digest);
        auto schnorr = SchnorrSign(*key, digest);
        auto xonly = DeriveXOnlyPublicKey(*key);
        if (!pub.ok() || !sig.ok() || !schnorr.ok() || !xonly.ok() || !VerifyEcdsa(*pub, digest, Rs(*sig)) ||
            !SchnorrVerify(*xonly, digest, *schnorr)) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace sigil::crypto
