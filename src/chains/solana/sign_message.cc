#include "chains/solana/sign_message.h"

#include <algorithm>

#include "base/status.h"
#include "chains/solana/base58.h"

namespace sigil::solana {

std::string MessageSignature::ToBase58() const { return Base58Encode(signature); }

absl::StatusOr<MessageSignature> SignMessage(const SecretBytes& seed, const Message& message) {
  ASSIGN_OR_RETURN(crypto::Ed25519PublicKey public_key, crypto::DeriveEd25519PublicKey(seed));
  MessageSignature out;
  out.signer = Pubkey::FromBytes(public_key);
  const std::vector<Pubkey> signers = message.RequiredSigners();
  auto it = std::find(signers.begin(), signers.end(), out.signer);
  if (it == signers.end()) {
    return absl::FailedPreconditionError("key " + out.signer.ToBase58() +
                                         " is not a required signer of this Solana message");
  }
  out.signer_index = static_cast<size_t>(it - signers.begin());
  ASSIGN_OR_RETURN(out.signature, crypto::Ed25519Sign(seed, message.bytes()));
  // A faulty signature must never leave.
  if (!crypto::Ed25519Verify(public_key, message.bytes(), out.signature)) {
    return absl::InternalError("Ed25519 signature failed its own verification");
  }
  return out;
}

}  // namespace sigil::solana
