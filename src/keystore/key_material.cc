#include "keystore/key_material.h"

#include "crypto/ed25519.h"
#include "crypto/secp256k1.h"

namespace sigil::keystore {

absl::StatusOr<SecretBytes> GeneratePrivateKey(KeyType type) {
  switch (type) {
    case KeyType::kSecp256k1:
    case KeyType::kSchnorr:
      return crypto::GenerateSecp256k1PrivateKey();
    case KeyType::kEd25519:
      return crypto::GenerateEd25519Seed();
  }
  return absl::InvalidArgumentError("unknown key type");
}

absl::StatusOr<std::vector<uint8_t>> DerivePublicKey(KeyType type, const SecretBytes& private_key) {
  if (private_key.size() != 32) {
    return absl::InvalidArgumentError("a " + std::string(KeyTypeName(type)) + " private key is 32 bytes, got " +
                                      std::to_string(private_key.size()));
  }
  switch (type) {
    case KeyType::kSecp256k1: {
      auto pub = crypto::DeriveSecp256k1PublicKey(private_key);
      if (!pub.ok()) return pub.status();
      return std::vector<uint8_t>(pub->begin(), pub->end());
    }
    case KeyType::kSchnorr: {
      auto pub = crypto::DeriveXOnlyPublicKey(private_key);
      if (!pub.ok()) return pub.status();
      return std::vector<uint8_t>(pub->begin(), pub->end());
    }
    case KeyType::kEd25519: {
      auto pub = crypto::DeriveEd25519PublicKey(private_key);
      if (!pub.ok()) return pub.status();
      return std::vector<uint8_t>(pub->begin(), pub->end());
    }
  }
  return absl::InvalidArgumentError("unknown key type");
}

}  // namespace sigil::keystore
