// Signing a Solana message: Ed25519 over the exact serialized message bytes.
//
// Refuses to sign for a key that the message does not list as a required
// signer: such a signature could not be placed in the transaction, and
// producing it anyway would only leak a signature over attacker bytes.
// Stateless; thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "base/secret.h"
#include "chains/solana/message.h"
#include "crypto/ed25519.h"

namespace sigil::solana {

struct MessageSignature {
  crypto::Ed25519Signature signature{};
  Pubkey signer;
  // Position of `signer` among the required signers (where the signature
  // goes in the transaction's signature list).
  size_t signer_index = 0;

  std::string ToBase58() const;
};

// InvalidArgument if `seed` is not a valid Ed25519 seed; FailedPrecondition
// if its public key is not among message.RequiredSigners().
absl::StatusOr<MessageSignature> SignMessage(const SecretBytes& seed, const Message& message);

}  // namespace sigil::solana
