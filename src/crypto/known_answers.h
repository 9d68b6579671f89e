// Start-up self-test: known-answer tests for every primitive Sigil uses
// (Keccak-256, SHA-256/512, HMAC, HKDF, Argon2id, XChaCha20-Poly1305,
// secp256k1 ECDSA sign/recover, BIP-340, Ed25519). The daemon runs it before
// it listens and refuses to start if it fails.
#pragma once

#include "absl/status/status.h"

namespace sigil::crypto {

// OK, or Internal naming the first primitive whose answer was wrong.
absl::Status RunSelfTest();

}  // namespace sigil::crypto
