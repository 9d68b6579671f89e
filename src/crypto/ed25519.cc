#include "crypto/ed25519.h"

#include <sodium.h>

#include <string>

#include "base/status.h"
#include "crypto/internal/sodium_runtime.h"
#include "crypto/random.h"

namespace sigil::crypto {
namespace {

absl::Status CheckSeed(const SecretBytes& seed) {
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return absl::InvalidArgumentError("Ed25519 seed must be 32 bytes, got " + std::to_string(seed.size()));
  }
  return absl::OkStatus();
}

// libsodium's 64-byte secret key (seed || public key) expanded into locked
// memory, so the seed never lands in an unwiped stack buffer.
absl::StatusOr<SecretBytes> ExpandSeed(const SecretBytes& seed, Ed25519PublicKey& public_key) {
  RETURN_IF_ERROR(CheckSeed(seed));
  internal::EnsureSodiumInitialized();
  SecretBytes expanded = SecretBytes::Zeroed(crypto_sign_SECRETKEYBYTES);
  if (crypto_sign_seed_keypair(public_key.data(), expanded.RevealMutable(SecretAccess::Get()).data(),
                               seed.Reveal(SecretAccess::Get()).data()) != 0) {
    return absl::InternalError("Ed25519 key expansion failed");
  }
  return expanded;
}

// libsodium may pass the message pointer to memcpy-like code; never hand it
// a null pointer, even for an empty message.
const uint8_t* MessagePtr(std::span<const uint8_t> message) {
  static const uint8_t kEmpty = 0;
  return message.empty() ? &kEmpty : message.data();
}

constexpr char kPairwiseMessage[] = "sigil pairwise test ed25519";

}  // namespace

absl::StatusOr<SecretBytes> GenerateEd25519Seed() {
  SecretBytes seed = RandomSecret(crypto_sign_SEEDBYTES);
  ASSIGN_OR_RETURN(Ed25519PublicKey pub, DeriveEd25519PublicKey(seed));
  const std::span<const uint8_t> msg(reinterpret_cast<const uint8_t*>(kPairwiseMessage), sizeof(kPairwiseMessage) - 1);
  ASSIGN_OR_RETURN(Ed25519Signature sig, Ed25519Sign(seed, msg));
  if (!Ed25519Verify(pub, msg, sig)) {
    return absl::InternalError("Ed25519 key generation failed its pairwise consistency test");
  }
  return seed;
}

absl::StatusOr<Ed25519PublicKey> DeriveEd25519PublicKey(const SecretBytes& seed) {
  Ed25519PublicKey pub;
  ASSIGN_OR_RETURN(SecretBytes expanded, ExpandSeed(seed, pub));
  return pub;
}

absl::StatusOr<Ed25519Signature> Ed25519Sign(const SecretBytes& seed, std::span<const uint8_t> message) {
  Ed25519PublicKey pub;
  ASSIGN_OR_RETURN(SecretBytes expanded, ExpandSeed(seed, pub));
  Ed25519Signature sig;
  if (crypto_sign_detached(sig.data(), nullptr, MessagePtr(message), message.size(),
                           expanded.Reveal(SecretAccess::Get()).data()) != 0) {
    return absl::InternalError("Ed25519 signing failed");
  }
  return sig;
}

bool Ed25519Verify(const Ed25519PublicKey& public_key, std::span<const uint8_t> message, const Ed25519Signature& sig) {
  internal::EnsureSodiumInitialized();
  // libsodium (>= 1.0.16) rejects s >= L, small-order R and A, and
  // non-canonical A encodings; the Wycheproof suite in ed25519_test.cc pins it.
  return crypto_sign_verify_detached(sig.data(), MessagePtr(message), message.size(), public_key.data()) == 0;
}

}  // namespace sigil::crypto
