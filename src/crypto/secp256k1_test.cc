#include "crypto/secp256k1.h"

#include <string>

#include "base/hex.h"
#include "crypto/hash.h"
#include "gtest/gtest.h"

namespace sigil::crypto {
namespace {

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

TEST(Secp256k1Test, SignRecoverVerifyRoundTrip) {
  auto key = GenerateSecp256k1PrivateKey();
  ASSERT_TRUE(key.ok()) << key.status();
  auto pub = DeriveSecp256k1PublicKey(*key);
  ASSERT_TRUE(pub.ok());
  Hash256 digest = Keccak256(AsBytes("hello"));
  auto sig = SignRecoverable(*key, digest);
  ASSERT_TRUE(sig.ok()) << sig.status();
  auto recovered = RecoverPublicKey(digest, *sig);
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(*recovered, *pub);
  std::array<uint8_t, 64> rs;
  std::copy(sig->r.begin(), sig->r.end(), rs.begin());
  std::copy(sig->s.begin(), sig->s.end(), rs.begin() + 32);
  EXPECT_TRUE(VerifyEcdsa(*pub, digest, rs));
}

TEST(Secp256k1Test, SchnorrRoundTrip) {
  auto key = GenerateSecp256k1PrivateKey();
  ASSERT_TRUE(key.ok());
  auto xonly = DeriveXOnlyPublicKey(*key);
  ASSERT_TRUE(xonly.ok());
  Hash256 msg = Sha256(AsBytes("nostr"));
  auto sig = SchnorrSign(*key, msg);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(SchnorrVerify(*xonly, msg, *sig));
  msg[0] ^= 1;
  EXPECT_FALSE(SchnorrVerify(*xonly, msg, *sig));
}

}  // namespace
}  // namespace sigil::crypto
