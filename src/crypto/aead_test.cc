#include "crypto/aead.h"

#include <set>
#include <string>

#include "base/hex.h"
#include "crypto/random.h"
#include "gtest/gtest.h"

namespace sigil::crypto {
namespace {

Bytes FromHex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

TEST(AeadTest, RoundTrip) {
  SecretBytes key = RandomSecret(kAeadKeySize);
  for (size_t len : {0u, 1u, 63u, 64u, 65u, 1000u}) {
    Bytes plaintext(len);
    RandomBytes(plaintext);
    const Bytes ad = {'k', 'e', 'y', '-', 'i', 'd'};
    auto sealed = AeadSeal(key, plaintext, ad);
    ASSERT_TRUE(sealed.ok()) << sealed.status();
    EXPECT_EQ(sealed->size(), kAeadNonceSize + len + kAeadTagSize);
    auto opened = AeadOpen(key, *sealed, ad);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_TRUE(std::ranges::equal(opened->Reveal(SecretAccess::Get()), plaintext)) << len;
  }
  // Empty associated data works too.
  auto sealed = AeadSeal(key, AsBytes("x"), {});
  ASSERT_TRUE(sealed.ok());
  EXPECT_TRUE(AeadOpen(key, *sealed, {}).ok());
}

TEST(AeadTest, FreshNonceEverySeal) {
  SecretBytes key = RandomSecret(kAeadKeySize);
  std::set<Bytes> nonces;
  std::set<Bytes> ciphertexts;
  for (int i = 0; i < 50; ++i) {
    auto sealed = AeadSeal(key, AsBytes("same plaintext"), {});
    ASSERT_TRUE(sealed.ok());
    nonces.insert(Bytes(sealed->begin(), sealed->begin() + kAeadNonceSize));
    ciphertexts.insert(*sealed);
  }
  EXPECT_EQ(nonces.size(), 50u);
  EXPECT_EQ(ciphertexts.size(), 50u);
}

TEST(AeadTest, EveryAlteredByteIsDataLoss) {
  SecretBytes key = RandomSecret(kAeadKeySize);
  const Bytes ad = {1, 2, 3};
  auto sealed = AeadSeal(key, AsBytes("the keystore master key"), ad);
  ASSERT_TRUE(sealed.ok());
  for (size_t i = 0; i < sealed->size(); ++i) {
    Bytes tampered = *sealed;
    tampered[i] ^= 0x01;
    EXPECT_EQ(AeadOpen(key, tampered, ad).status().code(), absl::StatusCode::kDataLoss) << "byte " << i;
  }
  // Truncated and extended.
  for (size_t cut : {size_t{1}, kAeadTagSize, sealed->size() - kAeadNonceSize - kAeadTagSize + 1}) {
    Bytes truncated(sealed->begin(), sealed->end() - static_cast<std::ptrdiff_t>(cut));
    EXPECT_EQ(AeadOpen(key, truncated, ad).status().code(), absl::StatusCode::kDataLoss) << cut;
  }
  Bytes extended = *sealed;
  extended.push_back(0);
  EXPECT_EQ(AeadOpen(key, extended, ad).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(AeadOpen(key, {}, ad).status().code(), absl::StatusCode::kDataLoss);
}

TEST(AeadTest, WrongAssociatedDataOrKeyIsDataLoss) {
  SecretBytes key = RandomSecret(kAeadKeySize);
  const Bytes ad = {'r', 'e', 'c', '1'};
  auto sealed = AeadSeal(key, AsBytes("secret"), ad);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(AeadOpen(key, *sealed, Bytes{'r', 'e', 'c', '2'}).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(AeadOpen(key, *sealed, {}).status().code(), absl::StatusCode::kDataLoss);
  SecretBytes other = RandomSecret(kAeadKeySize);
  EXPECT_EQ(AeadOpen(other, *sealed, ad).status().code(), absl::StatusCode::kDataLoss);
}

TEST(AeadTest, KeyMustBe32Bytes) {
  for (size_t size : {0u, 16u, 31u, 33u}) {
    SecretBytes key = RandomSecret(size);
    EXPECT_EQ(AeadSeal(key, AsBytes("x"), {}).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(AeadOpen(key, Bytes(64), {}).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

// draft-irtf-cfrg-xchacha-03 appendix A.3.1, laid out as nonce || ciphertext || tag.
TEST(AeadTest, OpensDraftXChaChaVector) {
  SecretBytes key = SecretBytes::CopyFrom(FromHex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"));
  const Bytes ad = FromHex("50515253c0c1c2c3c4c5c6c7");
  const Bytes sealed = FromHex(
      "404142434445464748494a4b4c4d4e4f5051525354555657"
      "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
      "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
      "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
      "21f9664c97637da9768812f615c68b13b52e"
      "c0875924c1c7987947deafd8780acf49");
  auto opened = AeadOpen(key, sealed, ad);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->RevealText(SecretAccess::Get()),
            "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen "
            "would be it.");
}

}  // namespace
}  // namespace sigil::crypto
