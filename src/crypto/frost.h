// FROST threshold Schnorr signatures (RFC 9591), two ciphersuites:
//   FROST(Ed25519, SHA-512)   -- the signature is a plain RFC 8032 Ed25519
//                                signature (R || z, 64 bytes) of the group key;
//   FROST(secp256k1, SHA-256) -- the signature is SerializeElement(R) ||
//                                SerializeScalar(z), 33 + 32 = 65 bytes,
//                                checked by VerifySignature (RFC 9591 §6.5).
//
// Flow: a trusted dealer splits a secret (TrustedDealerKeygen) into one
// KeyPackage per participant plus a PublicKeyPackage; to sign, each chosen
// participant makes SigningNonces (Commit) and publishes their commitment;
// with the message and every commitment each one makes a SignatureShare
// (Sign, which consumes the nonces); the coordinator checks the shares and
// combines them (Aggregate).
//
// Secret: a KeyPackage's signing share, the dealer's secret and coefficients
// and SigningNonces. They live only in SecretBytes (locked, wiped) and in
// wiped stack copies while arithmetic runs; no error message carries them.
// Public: identifiers, commitments, verifying shares, group key, signature
// shares and the signature.
//
// Misuse the API refuses: identifier zero, duplicate identifiers, a
// commitment list that does not contain the signer's own commitment (or
// holds a different one), an element that is not a valid encoding of a
// point of the prime-order group or is the identity, a non-canonical scalar,
// fewer commitments than min_signers, mixing ciphersuites. Nonces are used
// once: Sign takes them by value and wipes them.
//
// Constant time: scalar arithmetic on secrets uses libsodium / libsecp256k1
// (constant time); a secret being exactly zero (probability ~2^-252) takes
// a different branch in the secp256k1 suite.
//
// Thread-safety: all functions are thread-safe; the value types are not
// internally synchronised (share them read-only).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/hex.h"
#include "base/secret.h"

namespace sigil::crypto::frost {

enum class Suite { kEd25519Sha512, kSecp256k1Sha256 };

// Bounds on outside input (clear InvalidArgument errors beyond them).
inline constexpr size_t kMaxParticipants = 4096;
inline constexpr size_t kMaxMessageBytes = 16 << 20;

// A participant identifier: a nonzero scalar of the suite. Public.
// Ordered by numeric value, which is the order RFC 9591 sorts lists in.
class Identifier {
 public:
  // InvalidArgument for 0.
  static absl::StatusOr<Identifier> FromInteger(Suite suite, uint64_t value);
  // SerializeScalar encoding (32 bytes; little-endian for Ed25519, big-endian
  // for secp256k1). InvalidArgument if zero, not below the group order, or
  // the wrong size.
  static absl::StatusOr<Identifier> Parse(Suite suite, std::span<const uint8_t> encoded);

  Suite suite() const { return suite_; }
  const std::array<uint8_t, 32>& bytes() const { return bytes_; }
  // Decimal when it fits 64 bits, otherwise 0x-hex of the encoding: for
  // error messages that name a participant.
  std::string ToString() const;

  friend bool operator==(const Identifier& a, const Identifier& b) {
    return a.suite_ == b.suite_ && a.bytes_ == b.bytes_;
  }
  friend bool operator<(const Identifier& a, const Identifier& b);

 private:
  Identifier(Suite suite, const std::array<uint8_t, 32>& bytes) : suite_(suite), bytes_(bytes) {}
  Suite suite_;
  std::array<uint8_t, 32> bytes_;
};

struct VerifyingShare {
  Identifier identifier;
  Bytes element;  // SerializeElement(signing_share * G)
};

// Everything a coordinator (or anyone) needs to check shares and signatures.
struct PublicKeyPackage {
  Suite suite = Suite::kEd25519Sha512;
  Bytes group_public_key;                      // SerializeElement
  std::vector<VerifyingShare> verifying_shares;  // sorted by identifier
  // The threshold, so a coordinator refuses a session too small to sign
  // (instead of aggregating and blaming honest participants for a
  // signature that cannot verify). 0: unknown (frost-core's None), not
  // checked.
  uint16_t min_signers = 0;
};

// One participant's long-lived signing material. signing_share is SECRET.
struct KeyPackage {
  Suite suite = Suite::kEd25519Sha512;
  Identifier identifier;
  SecretBytes signing_share;  // SerializeScalar, 32 bytes
  Bytes verifying_share;      // SerializeElement(signing_share * G)
  Bytes group_public_key;
  uint16_t min_signers = 0;
};

struct DealerOutput {
  std::vector<KeyPackage> key_packages;  // identifiers 1..max_signers
  PublicKeyPackage public_key_package;
  std::vector<Bytes> vss_commitment;  // coefficient_i * G, i = 0..min_signers-1
};

struct SigningCommitment {
  Identifier identifier;
  Bytes hiding;   // SerializeElement(hiding_nonce * G)
  Bytes binding;  // SerializeElement(binding_nonce * G)
};

// A participant's round-one secret. Move-only; Sign consumes it.
class SigningNonces {
 public:
  SigningNonces(SigningNonces&&) = default;
  SigningNonces& operator=(SigningNonces&&) = default;

  const SigningCommitment& commitment() const { return commitment_; }
  const SecretBytes& hiding(SecretAccess) const { return hiding_; }
  const SecretBytes& binding(SecretAccess) const { return binding_; }

 private:
  friend class NoncesFactory;
  SigningNonces(SecretBytes hiding, SecretBytes binding, SigningCommitment commitment)
      : hiding_(std::move(hiding)), binding_(std::move(binding)), commitment_(std::move(commitment)) {}
  SecretBytes hiding_;
  SecretBytes binding_;
  SigningCommitment commitment_;
};

struct SignatureShare {
  Identifier identifier;
  Bytes share;  // SerializeScalar(z_i)
};

// RFC 9591 Appendix C trusted dealer: a fresh random group secret split
// among identifiers 1..max_signers, any min_signers of which can sign.
// REQUIRES-checked (InvalidArgument): 2 <= min_signers <= max_signers <= kMaxParticipants.
absl::StatusOr<DealerOutput> TrustedDealerKeygen(Suite suite, uint16_t max_signers, uint16_t min_signers);

// The same with the secret and the min_signers-1 polynomial coefficients
// given (SerializeScalar each): for importing an existing key and for
// known-answer tests.
absl::StatusOr<DealerOutput> SplitSecret(Suite suite, const SecretBytes& group_secret,
                                         std::span<const SecretBytes> coefficients, uint16_t max_signers);

// RFC 9591 Appendix C.2 vss_verify: the share matches the dealer's
// commitment, the commitment's constant term is the package's group public
// key and it has min_signers elements. FailedPrecondition if not.
absl::Status VerifyShareAgainstCommitment(const KeyPackage& key_package, std::span<const Bytes> vss_commitment);

// Round one: fresh nonces from the CSPRNG (RFC 9591 §5.1). (Known-answer
// tests give the randomness with internal::CommitWithRandomness, in
// crypto/frost_group.h; nothing else may.)
absl::StatusOr<SigningNonces> Commit(const KeyPackage& key_package);

// Round two (RFC 9591 §5.2). `commitments` is every chosen signer's
// commitment, in any order; it must contain `nonces.commitment()`.
absl::StatusOr<SignatureShare> Sign(const KeyPackage& key_package, SigningNonces nonces,
                                    std::span<const uint8_t> message, std::span<const SigningCommitment> commitments);

// RFC 9591 §5.4. FailedPrecondition naming the participant if the share is
// wrong; InvalidArgument for malformed input.
absl::Status VerifySignatureShare(const PublicKeyPackage& public_key_package,
                                  std::span<const SigningCommitment> commitments, std::span<const uint8_t> message,
                                  const SignatureShare& share);

// RFC 9591 §5.3: sums the shares and verifies the result. If the result does
// not verify, every share is checked and the error (FailedPrecondition)
// names the participants whose shares are wrong.
absl::StatusOr<Bytes> Aggregate(const PublicKeyPackage& public_key_package,
                                std::span<const SigningCommitment> commitments, std::span<const uint8_t> message,
                                std::span<const SignatureShare> shares);

// Verifies a final signature against a group public key. Ed25519: strict
// RFC 8032 verification (libsodium); secp256k1: RFC 9591 §6.5
// prime-order verification.
bool VerifySignature(Suite suite, std::span<const uint8_t> group_public_key, std::span<const uint8_t> message,
                     std::span<const uint8_t> signature);

}  // namespace sigil::crypto::frost
