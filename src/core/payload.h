// Payload decoding: the core's own reading of exactly the bytes it will sign
// (DESIGN.md §2, invariant 3).
//
// The front sends canonical bytes per kind:
//   eth_tx          the unsigned transaction encoding (legacy RLP, or type byte || RLP)
//   eth_message     the raw message bytes (EIP-191 personal_sign)
//   eth_typed_data  the EIP-712 v4 JSON document (text)
//   nostr_event     the NIP-01 template JSON {created_at, kind, tags, content}
//   solana_tx       the serialized Solana message (legacy or v0)
//   raw_digest      exactly 32 bytes
// DecodePayload parses them strictly, computes what the key will sign, and
// fills the policy Facts from that decoding alone. It never trusts a summary
// from the front.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "base/hex.h"
#include "chains/ethereum/transaction.h"
#include "chains/ethereum/typed_data.h"
#include "chains/nostr/event.h"
#include "crypto/hash.h"
#include "keystore/key_info.h"
#include "policy/facts.h"

namespace sigil::core {

inline constexpr size_t kMaxPayloadBytes = 256 * 1024;

struct DecodeOptions {
  // The signing key's public key (its type decides the scheme).
  keystore::KeyType key_type = keystore::KeyType::kSecp256k1;
  std::vector<uint8_t> public_key;
  // Pre-EIP-155 legacy transactions decode only when asked; policy must
  // still name them (allow_no_chain_id).
  bool allow_pre_eip155 = true;
};

struct DecodedPayload {
  policy::Kind kind = policy::Kind::kEthTx;
  // The key type this payload needs.
  keystore::KeyType scheme = keystore::KeyType::kSecp256k1;
  // ECDSA / Schnorr: the 32 bytes signed. Ed25519: unused.
  crypto::Hash256 digest{};
  // Ed25519: the message signed.
  Bytes message;
  // SHA-256 of the canonical payload bytes: binds approvals and audit records.
  crypto::Hash256 payload_hash{};
  policy::Facts facts;
  std::optional<eth::Transaction> tx;
  std::optional<eth::TypedData> typed_data;
  std::optional<nostr::UnsignedEvent> event;
};

// InvalidArgument with a field-precise message when the payload is malformed,
// oversized, or of a kind the key cannot sign.
absl::StatusOr<DecodedPayload> DecodePayload(policy::Kind kind, std::span<const uint8_t> canonical,
                                             const DecodeOptions& options);

// The key's display address: EIP-55 for secp256k1, hex x-only for schnorr,
// base58 for ed25519.
std::string KeyAddress(keystore::KeyType type, std::span<const uint8_t> public_key);
// Base58, as Solana tools print keys and signatures.
std::string SolanaAddress(std::span<const uint8_t> public_key);
std::string SolanaSignatureText(std::span<const uint8_t> signature);

}  // namespace sigil::core
