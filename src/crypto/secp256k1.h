// secp256k1 via libsecp256k1: recoverable ECDSA (RFC 6979, always low-s) and
// BIP-340 Schnorr. Private keys are 32-byte SecretBytes; functions take them
// by reference and never copy them out of locked memory except into
// libsecp256k1's own stack frames, which it clears.
//
// Thread-safety: all functions are thread-safe (one process-wide context,
// randomised at first use and read-only afterwards).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "base/secret.h"
#include "crypto/hash.h"

namespace sigil::crypto {

// 65 bytes, 0x04 || X || Y.
using Secp256k1PublicKey = std::array<uint8_t, 65>;
// 32-byte x-only key (BIP-340).
using XOnlyPublicKey = std::array<uint8_t, 32>;
using SchnorrSignature = std::array<uint8_t, 64>;

struct RecoverableSignature {
  std::array<uint8_t, 32> r{};
  std::array<uint8_t, 32> s{};  // always low-s (s <= n/2) when produced here
  uint8_t recovery_id = 0;      // 0 or 1 (y parity of R)

  // r || s || recovery_id, 65 bytes.
  std::array<uint8_t, 65> ToCompact65() const;
};

// A fresh private key from the OS CSPRNG, checked to be a valid scalar and by
// a pairwise sign/verify consistency test before it is returned.
absl::StatusOr<SecretBytes> GenerateSecp256k1PrivateKey();
// InvalidArgument if `private_key` is not a valid scalar (0 or >= n, or not 32 bytes).
absl::StatusOr<Secp256k1PublicKey> DeriveSecp256k1PublicKey(const SecretBytes& private_key);
absl::StatusOr<XOnlyPublicKey> DeriveXOnlyPublicKey(const SecretBytes& private_key);

// Parses a 33- or 65-byte SEC1 public key into the 65-byte uncompressed form.
absl::StatusOr<Secp256k1PublicKey> ParseSecp256k1PublicKey(std::span<const uint8_t> encoded);

// RFC 6979 deterministic ECDSA over a 32-byte digest; s is normalised to low-s.
absl::StatusOr<RecoverableSignature> SignRecoverable(const SecretBytes& private_key, const Hash256& digest);

// Verifies r||s over digest. High-s signatures are rejected (Ethereum/EIP-2 rule).
bool VerifyEcdsa(const Secp256k1PublicKey& public_key, const Hash256& digest, std::span<const uint8_t, 64> rs);

// Recovers the signer's public key. Rejects high-s and recovery ids other than 0/1.
absl::StatusOr<Secp256k1PublicKey> RecoverPublicKey(const Hash256& digest, const RecoverableSignature& sig);

// r||s with s replaced by n - s when s > n/2 (the same signature in the
// form Ethereum accepts). InvalidArgument if r or s is not below n.
absl::StatusOr<std::array<uint8_t, 64>> NormalizeLowS(std::span<const uint8_t, 64> rs);
// The RecoverableSignature of r||s and a recovery id (no check).
RecoverableSignature WithRecoveryId(std::span<const uint8_t, 64> rs, uint8_t recovery_id);

// For signatures made elsewhere (an HSM's CKM_ECDSA): normalises s to low-s
// and finds the recovery id that yields `expected`. Error if none does.
absl::StatusOr<RecoverableSignature> NormalizeAndFindRecoveryId(const Hash256& digest,
                                                                std::span<const uint8_t, 64> rs,
                                                                const Secp256k1PublicKey& expected);

// BIP-340 Schnorr. The message is 32 bytes (BIP-340 as used by Nostr).
// Sign uses 32 bytes of fresh auxiliary randomness from the CSPRNG.
absl::StatusOr<SchnorrSignature> SchnorrSign(const SecretBytes& private_key, const Hash256& message);
// Deterministic variant for known-answer tests (aux_rand given).
absl::StatusOr<SchnorrSignature> SchnorrSignWithAux(const SecretBytes& private_key, const Hash256& message,
                                                    const std::array<uint8_t, 32>& aux_rand);
bool SchnorrVerify(const XOnlyPublicKey& public_key, std::span<const uint8_t> message, const SchnorrSignature& sig);

// --- Additions (verification of signatures made elsewhere; vector tests) ---

// BIP-340 signing of a message of any length (BIP-340 vectors 15-18 use 0, 1,
// 17 and 100-byte messages). Deterministic given aux_rand.
absl::StatusOr<SchnorrSignature> SchnorrSignMessageWithAux(const SecretBytes& private_key,
                                                           std::span<const uint8_t> message,
                                                           const std::array<uint8_t, 32>& aux_rand);

// Whether a verifier accepts s > n/2. Sigil itself only ever emits low-s;
// kAccept exists for checking signatures from systems that do not normalise.
enum class HighS { kReject, kAccept };

// Verifies r||s like VerifyEcdsa, with an explicit high-s rule.
bool VerifyEcdsaWithHighS(const Secp256k1PublicKey& public_key, const Hash256& digest,
                          std::span<const uint8_t, 64> rs, HighS high_s);

// Strict DER (X.690) ECDSA-Sig-Value parser: SEQUENCE { INTEGER r, INTEGER s }
// with minimal definite lengths, minimal non-negative integers, no trailing
// bytes. Returns r||s (each left-padded to 32 bytes). InvalidArgument for any
// BER-only or malformed encoding, or an integer wider than 256 bits. It does
// not range-check r and s against n (verification does).
absl::StatusOr<std::array<uint8_t, 64>> ParseEcdsaDerSignature(std::span<const uint8_t> der);

// Verifies a DER-encoded ECDSA signature (strict DER, as above).
bool VerifyEcdsaDer(const Secp256k1PublicKey& public_key, const Hash256& digest, std::span<const uint8_t> der,
                    HighS high_s);

}  // namespace sigil::crypto
