// Ed25519 (RFC 8032) via libsodium. Private keys are the 32-byte seed.
// Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "base/secret.h"

namespace sigil::crypto {

using Ed25519PublicKey = std::array<uint8_t, 32>;
using Ed25519Signature = std::array<uint8_t, 64>;

// A fresh seed from the CSPRNG, checked by a pairwise sign/verify test.
absl::StatusOr<SecretBytes> GenerateEd25519Seed();
absl::StatusOr<Ed25519PublicKey> DeriveEd25519PublicKey(const SecretBytes& seed);
absl::StatusOr<Ed25519Signature> Ed25519Sign(const SecretBytes& seed, std::span<const uint8_t> message);
// Strict verification: rejects non-canonical s (s >= L) and small-order keys.
bool Ed25519Verify(const Ed25519PublicKey& public_key, std::span<const uint8_t> message, const Ed25519Signature& sig);

}  // namespace sigil::crypto
