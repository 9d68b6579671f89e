// Distributed key generation for FROST without a trusted dealer: the
// Pedersen DKG with proofs of knowledge from the FROST paper (Komlo and
// Goldberg, Figure 1), as ZcashFoundation/frost implements it (RFC 9591
// leaves key generation out of scope). Its output is the same KeyPackage /
// PublicKeyPackage that frost.h signs with.
//
// Every participant with identifier i:
//   1. DkgPart1: draws a secret polynomial f_i of degree min_signers-1,
//      broadcasts its coefficient commitments and a Schnorr proof of
//      knowledge of f_i(0) (challenge H_dkg(i || phi_i0 || R), with
//      H_dkg = the suite's hash to scalar under contextString || "dkg").
//   2. DkgPart2: given every other participant's round-one package, checks
//      their proofs and makes one round-two package per other participant
//      holding f_i(recipient).
//   3. DkgPart3: given the same round-one packages and the round-two
//      packages addressed to it, checks each received share against its
//      sender's commitment and derives its KeyPackage and the group's
//      PublicKeyPackage (the same at every participant).
// Failures that a participant causes (bad proof, bad share) are
// FailedPrecondition naming the participant; malformed input is
// InvalidArgument.
//
// Secret: DkgRound1Secret, DkgRound2Secret and every DkgRound2Package (the
// caller must send each to its recipient only, over an encrypted and
// authenticated channel). Round-one packages are public but must reach
// every participant identically (a broadcast channel).
//
// Thread-safety: the functions are thread-safe; the value types are not
// internally synchronised.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "base/hex.h"
#include "base/secret.h"
#include "crypto/frost.h"

namespace sigil::crypto::frost {

struct DkgRound1Package {
  Identifier sender;
  std::vector<Bytes> commitment;  // SerializeElement(a_j * G), j = 0..min_signers-1
  Bytes proof_of_knowledge;       // SerializeElement(R) || SerializeScalar(mu)
};

// SECRET: f_sender(recipient).
struct DkgRound2Package {
  Identifier sender;
  Identifier recipient;
  SecretBytes signing_share;  // SerializeScalar
};

// A participant's secret state between rounds: after round one its
// polynomial's coefficients (a_0 first), after round two its own share
// f_i(i); with its commitment. Move-only, secret. The round is part of the
// type so that one round's state cannot be handed to another round.
template <int kRound>
class DkgSecret {
 public:
  DkgSecret(DkgSecret&&) = default;
  DkgSecret& operator=(DkgSecret&&) = default;
  const Identifier& identifier() const { return identifier_; }

 private:
  friend class DkgAccess;
  DkgSecret(Identifier identifier, SecretBytes secret, std::vector<Bytes> commitment, uint16_t max_signers,
            Bytes verified_round1 = {})
      : identifier_(identifier), secret_(std::move(secret)), commitment_(std::move(commitment)),
        max_signers_(max_signers), verified_round1_(std::move(verified_round1)) {}
  Identifier identifier_;
  SecretBytes secret_;
  std::vector<Bytes> commitment_;
  uint16_t max_signers_;
  // Round 2 only: a digest of the round-one packages DkgPart2 verified the
  // proofs of; DkgPart3 accepts exactly those.
  Bytes verified_round1_;
};
using DkgRound1Secret = DkgSecret<1>;
using DkgRound2Secret = DkgSecret<2>;

struct DkgRound1Output {
  DkgRound1Secret secret;
  DkgRound1Package package;  // broadcast to every other participant
};

struct DkgRound2Output {
  DkgRound2Secret secret;
  std::vector<DkgRound2Package> packages;  // one per other participant, each to its recipient only
};

struct DkgResult {
  KeyPackage key_package;
  PublicKeyPackage public_key_package;
};

// InvalidArgument unless 2 <= min_signers <= max_signers <= kMaxParticipants.
absl::StatusOr<DkgRound1Output> DkgPart1(const Identifier& identifier, uint16_t max_signers, uint16_t min_signers);
// The same with the polynomial given (a_0 = secret, then min_signers-1
// coefficients): for known-answer tests. The proof's nonce is still random.
absl::StatusOr<DkgRound1Output> DkgPart1WithPolynomial(const Identifier& identifier, uint16_t max_signers,
                                                       const SecretBytes& secret,
                                                       std::span<const SecretBytes> coefficients);

// `others`: the round-one packages of the max_signers-1 other participants.
absl::StatusOr<DkgRound2Output> DkgPart2(DkgRound1Secret secret, std::span<const DkgRound1Package> others);

// `others`: the same round-one packages DkgPart2 was given (any order):
// anything else is InvalidArgument. Their proofs of knowledge were checked
// there; a commitment swapped in afterwards, unproven, would let its sender
// pick the group key (a rogue-key attack), so it is refused here.
// `received`: the max_signers-1 round-two packages addressed to this
// participant.
absl::StatusOr<DkgResult> DkgPart3(const DkgRound2Secret& secret, std::span<const DkgRound1Package> others,
                                   std::span<const DkgRound2Package> received);

}  // namespace sigil::crypto::frost
