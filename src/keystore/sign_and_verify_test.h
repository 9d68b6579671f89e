// Test helper: sign through a KeyStore and verify with the public key alone,
// as any outside verifier would. Header-only, for GoogleTest binaries.
#pragma once

#include <algorithm>
#include <array>
#include <string>

#include "base/hex.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "gtest/gtest.h"
#include "keystore/key_store.h"

namespace sigil::keystore {

inline crypto::Hash256 DigestOf(std::string_view text) { return crypto::Sha256(AsBytes(text)); }

// Signs with the key through the keystore and checks the signature with the
// public key alone, as any verifier would.
inline void ExpectSignsAndVerifies(KeyStore& ks, const KeyInfo& key, KeyPurpose purpose) {
  const crypto::Hash256 digest = DigestOf("message for " + key.name);
  switch (key.type) {
    case KeyType::kSecp256k1: {
      auto sig = ks.SignEcdsa(key.id, purpose, digest);
      ASSERT_TRUE(sig.ok()) << sig.status();
      auto pub = crypto::ParseSecp256k1PublicKey(key.public_key);
      ASSERT_TRUE(pub.ok());
      std::array<uint8_t, 64> rs{};
      std::copy(sig->r.begin(), sig->r.end(), rs.begin());
      std::copy(sig->s.begin(), sig->s.end(), rs.begin() + 32);
      EXPECT_TRUE(crypto::VerifyEcdsa(*pub, digest, rs));
      auto recovered = crypto::RecoverPublicKey(digest, *sig);
      ASSERT_TRUE(recovered.ok());
      EXPECT_EQ(*recovered, *pub) << "recovery id is right";
      break;
    }
    case KeyType::kSchnorr: {
      auto sig = ks.SignSchnorr(key.id, purpose, digest);
      ASSERT_TRUE(sig.ok()) << sig.status();
      crypto::XOnlyPublicKey pub{};
      ASSERT_EQ(key.public_key.size(), pub.size());
      std::copy(key.public_key.begin(), key.public_key.end(), pub.begin());
      EXPECT_TRUE(crypto::SchnorrVerify(pub, digest, *sig));
      break;
    }
    case KeyType::kEd25519: {
      std::string message = "ed25519 message for " + key.name;
      auto sig = ks.SignEd25519(key.id, purpose, AsBytes(message));
      ASSERT_TRUE(sig.ok()) << sig.status();
      crypto::Ed25519PublicKey pub{};
      ASSERT_EQ(key.public_key.size(), pub.size());
      std::copy(key.public_key.begin(), key.public_key.end(), pub.begin());
      EXPECT_TRUE(crypto::Ed25519Verify(pub, AsBytes(message), *sig));
      break;
    }
  }
}

}  // namespace sigil::keystore
