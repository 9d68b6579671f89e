// Start-up self-test: known-answer tests for every primitive Sigil uses
// (Keccak-256, SHA-256/512, HMAC, HKDF, Argon2id, XChaCha20-Poly1305,
// secp256k1 ECDSA sign/recover, BIP-340, Ed25519, FROST in both
// ciphersuites). The daemon runs it before it listens and refuses to start
// if it fails.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "crypto/frost.h"

namespace sigil::crypto {

// OK, or Internal naming the first primitive whose answer was wrong.
absl::Status RunSelfTest();

namespace internal {

// A FROST known answer from RFC 9591 Appendix E (hex): participant 1 of the
// vector's 2-of-3 key signs `message` with participants 1 and 3; its
// share plus participant 3's must aggregate to `signature`. Exposed so that
// a test can show that a wrong answer fails the self-test.
struct FrostKnownAnswer {
  frost::Suite suite;
  std::string_view group_public_key;
  std::string_view signing_share_1;
  std::string_view hiding_randomness_1;
  std::string_view binding_randomness_1;
  std::string_view hiding_commitment_3;
  std::string_view binding_commitment_3;
  std::string_view signature_share_3;
  std::string_view message;
  std::string_view signature;
};
extern const FrostKnownAnswer kFrostEd25519KnownAnswer;
extern const FrostKnownAnswer kFrostSecp256k1KnownAnswer;

// True iff round one, round two and aggregation reproduce the answer and
// the signature verifies (and does not once tampered with).
bool CheckFrost(const FrostKnownAnswer& answer);

}  // namespace internal

}  // namespace sigil::crypto
