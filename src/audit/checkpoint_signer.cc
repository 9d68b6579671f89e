#include "audit/checkpoint_signer.h"

#include "base/status.h"

namespace sigil::audit {

absl::StatusOr<std::unique_ptr<Ed25519SeedSigner>> Ed25519SeedSigner::Create(SecretBytes seed) {
  if (seed.size() != 32) return absl::InvalidArgumentError("audit signing seed must be 32 bytes");
  ASSIGN_OR_RETURN(auto public_key, crypto::DeriveEd25519PublicKey(seed));
  return std::unique_ptr<Ed25519SeedSigner>(new Ed25519SeedSigner(std::move(seed), public_key));
}

absl::StatusOr<crypto::Ed25519Signature> Ed25519SeedSigner::Sign(std::span<const uint8_t> message) {
  return crypto::Ed25519Sign(seed_, message);
}

}  // namespace sigil::audit
