#include "crypto/frost_dkg.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "crypto/frost_group.h"
#include "crypto/hash.h"

namespace sigil::crypto::frost {

using internal::Element;
using internal::Group;
using internal::GroupFor;
using internal::Scalar;
using internal::ScalarOf;

// Builds and reads the private state of the round secrets.
class DkgAccess {
 public:
  template <int kRound>
  static DkgSecret<kRound> Make(Identifier id, SecretBytes secret, std::vector<Bytes> commitment,
                                uint16_t max_signers, Bytes verified_round1 = {}) {
    return DkgSecret<kRound>(id, std::move(secret), std::move(commitment), max_signers, std::move(verified_round1));
  }
  static const Bytes& VerifiedRound1(const DkgSecret<2>& s) { return s.verified_round1_; }
  template <int kRound>
  static const SecretBytes& Secret(const DkgSecret<kRound>& s) { return s.secret_; }
  template <int kRound>
  static const std::vector<Bytes>& Commitment(const DkgSecret<kRound>& s) { return s.commitment_; }
  template <int kRound>
  static uint16_t MaxSigners(const DkgSecret<kRound>& s) { return s.max_signers_; }
};

namespace {

// SHA-256 over the round-one packages sorted by sender, each field
// length-prefixed: the same set in any order gives the same digest.
Bytes Round1Digest(std::span<const DkgRound1Package> packages) {
  std::vector<const DkgRound1Package*> sorted;
  for (const DkgRound1Package& p : packages) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->sender < b->sender; });
  Bytes text;
  auto put = [&text](std::span<const uint8_t> field) {
    const uint32_t n = static_cast<uint32_t>(field.size());
    for (int shift = 24; shift >= 0; shift -= 8) text.push_back(static_cast<uint8_t>(n >> shift));
    text.insert(text.end(), field.begin(), field.end());
  };
  for (const DkgRound1Package* p : sorted) {
    put(p->sender.bytes());
    put(std::span<const uint8_t>());  // separates the sender from its commitment list
    for (const Bytes& c : p->commitment) put(c);
    put(p->proof_of_knowledge);
  }
  const Hash256 digest = Sha256(text);
  return Bytes(digest.begin(), digest.end());
}

absl::Status CheckCounts(size_t min_signers, size_t max_signers) {
  if (min_signers < 2 || min_signers > max_signers || max_signers > kMaxParticipants) {
    return absl::InvalidArgumentError(absl::StrCat("need 2 <= min_signers <= max_signers <= ", kMaxParticipants,
                                                   ", got min ", min_signers, " max ", max_signers));
  }
  return absl::OkStatus();
}

// H_dkg(identifier || phi_0 || R).
Scalar ProofChallenge(const Group& g, const Identifier& id, const Element& phi0, std::span<const uint8_t> r) {
  return g.HashToScalar("dkg", {id.bytes(), phi0, r});
}

absl::StatusOr<DkgRound1Output> Part1(const Identifier& id, uint16_t max_signers, std::vector<Scalar> coefficients) {
  RETURN_IF_ERROR(CheckCounts(coefficients.size(), max_signers));
  const Group& g = GroupFor(id.suite());
  std::vector<Bytes> commitment;
  SecretBytes packed = SecretBytes::Zeroed(32 * coefficients.size());
  for (size_t j = 0; j < coefficients.size(); ++j) {
    auto phi = g.BaseMul(coefficients[j]);
    if (!phi.ok()) return absl::InvalidArgumentError("a polynomial coefficient is zero");
    commitment.push_back(*std::move(phi));
    std::copy(coefficients[j].bytes.begin(), coefficients[j].bytes.end(),
              packed.RevealMutable(SecretAccess::Get()).begin() + 32 * j);
  }
  // Schnorr proof of knowledge of a_0: R = k*G, mu = k + a_0 * c.
  const Scalar k = internal::RandomNonzeroScalar(g);
  ASSIGN_OR_RETURN(Element r, g.BaseMul(k));
  const Scalar c = ProofChallenge(g, id, commitment[0], r);
  const Scalar mu = g.Add(k, g.Mul(coefficients[0], c));
  Bytes proof = r;
  proof.insert(proof.end(), mu.bytes.begin(), mu.bytes.end());
  DkgRound1Package package{id, commitment, std::move(proof)};
  return DkgRound1Output{DkgAccess::Make<1>(id, std::move(packed), std::move(commitment), max_signers),
                         std::move(package)};
}

absl::Status VerifyProof(const Group& g, const DkgRound1Package& p) {
  const size_t n = g.ElementSize();
  const std::string who = p.sender.ToString();
  if (p.proof_of_knowledge.size() != n + 32) {
    return absl::InvalidArgumentError(absl::StrCat("proof of knowledge of participant ", who, " has the wrong size"));
  }
  const std::span<const uint8_t> r(p.proof_of_knowledge.data(), n);
  auto mu = g.ParseScalar(std::span<const uint8_t>(p.proof_of_knowledge).subspan(n));
  const absl::Status r_valid = g.ValidateElement(r);
  if (!mu.ok() || !r_valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("proof of knowledge of participant ", who, " is malformed"));
  }
  // R == mu*G - c*phi_0
  const Scalar c = ProofChallenge(g, p.sender, p.commitment[0], r);
  auto mu_g = g.BaseMul(*mu);
  auto c_phi = g.Mul(p.commitment[0], g.Negate(c));
  bool ok = mu_g.ok() && c_phi.ok();
  if (ok) {
    const Element terms[] = {*mu_g, *c_phi};
    auto expected = g.Sum(terms);
    ok = expected.ok() && std::equal(expected->begin(), expected->end(), r.begin(), r.end());
  }
  if (!ok) {
    return absl::FailedPreconditionError(absl::StrCat("proof of knowledge of participant ", who, " is invalid"));
  }
  return absl::OkStatus();
}

// The others' round-one packages: one per other participant, well formed.
absl::Status CheckRound1Packages(const Identifier& self, size_t min_signers, size_t max_signers,
                                 std::span<const DkgRound1Package> others) {
  if (others.size() + 1 != max_signers) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", max_signers - 1, " round-one packages, got ", others.size()));
  }
  const Group& g = GroupFor(self.suite());
  std::vector<Identifier> seen = {self};
  for (const DkgRound1Package& p : others) {
    const std::string who = p.sender.ToString();
    if (p.sender.suite() != self.suite()) {
      return absl::InvalidArgumentError(absl::StrCat("participant ", who, " belongs to another ciphersuite"));
    }
    if (std::find(seen.begin(), seen.end(), p.sender) != seen.end()) {
      return absl::InvalidArgumentError(absl::StrCat("participant ", who, " appears twice (or is this participant)"));
    }
    seen.push_back(p.sender);
    if (p.commitment.size() != min_signers) {
      return absl::InvalidArgumentError(absl::StrCat("commitment of participant ", who, " has ", p.commitment.size(),
                                                     " elements, expected ", min_signers));
    }
    for (const Bytes& e : p.commitment) {
      if (absl::Status s = g.ValidateElement(e); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("commitment of participant ", who, ": ", s.message()));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Scalar>> UnpackCoefficients(const Group& g, const SecretBytes& packed) {
  const std::span<const uint8_t> bytes = packed.Reveal(SecretAccess::Get());
  if (bytes.empty() || bytes.size() % 32 != 0) return absl::InvalidArgumentError("round-one secret is empty");
  std::vector<Scalar> out;
  for (size_t off = 0; off < bytes.size(); off += 32) {
    auto a = internal::ParseSecretScalar(g, bytes.subspan(off, 32), "round-one coefficient");
    if (!a.ok()) return absl::InvalidArgumentError("round-one secret is corrupt");
    out.push_back(*a);
  }
  return out;
}

}  // namespace

absl::StatusOr<DkgRound1Output> DkgPart1(const Identifier& identifier, uint16_t max_signers, uint16_t min_signers) {
  RETURN_IF_ERROR(CheckCounts(min_signers, max_signers));
  const Group& g = GroupFor(identifier.suite());
  std::vector<Scalar> coefficients;
  while (coefficients.size() < min_signers) coefficients.push_back(internal::RandomNonzeroScalar(g));
  return Part1(identifier, max_signers, std::move(coefficients));
}

absl::StatusOr<DkgRound1Output> DkgPart1WithPolynomial(const Identifier& identifier, uint16_t max_signers,
                                                       const SecretBytes& secret,
                                                       std::span<const SecretBytes> coefficients) {
  if (coefficients.size() + 1 > kMaxParticipants) return absl::InvalidArgumentError("too many coefficients");
  const Group& g = GroupFor(identifier.suite());
  std::vector<Scalar> all;
  ASSIGN_OR_RETURN(all.emplace_back(), internal::ParseSecretScalar(g, secret, "DKG secret"));
  for (const SecretBytes& a : coefficients) {
    ASSIGN_OR_RETURN(all.emplace_back(), internal::ParseSecretScalar(g, a, "DKG coefficient"));
  }
  return Part1(identifier, max_signers, std::move(all));
}

absl::StatusOr<DkgRound2Output> DkgPart2(DkgRound1Secret secret, std::span<const DkgRound1Package> others) {
  const Identifier self = secret.identifier();
  const Group& g = GroupFor(self.suite());
  const std::vector<Bytes>& own_commitment = DkgAccess::Commitment(secret);
  const uint16_t max_signers = DkgAccess::MaxSigners(secret);
  RETURN_IF_ERROR(CheckRound1Packages(self, own_commitment.size(), max_signers, others));
  for (const DkgRound1Package& p : others) RETURN_IF_ERROR(VerifyProof(g, p));
  ASSIGN_OR_RETURN(std::vector<Scalar> coefficients, UnpackCoefficients(g, DkgAccess::Secret(secret)));
  std::vector<DkgRound2Package> packages;
  for (const DkgRound1Package& p : others) {
    const Scalar share = internal::EvaluatePolynomial(g, coefficients, ScalarOf(p.sender));
    packages.push_back(DkgRound2Package{self, p.sender, SecretBytes::CopyFrom(share.bytes)});
  }
  const Scalar own = internal::EvaluatePolynomial(g, coefficients, ScalarOf(self));
  return DkgRound2Output{DkgAccess::Make<2>(self, SecretBytes::CopyFrom(own.bytes), own_commitment, max_signers,
                                            Round1Digest(others)),
                         std::move(packages)};
}

absl::StatusOr<DkgResult> DkgPart3(const DkgRound2Secret& secret, std::span<const DkgRound1Package> others,
                                   std::span<const DkgRound2Package> received) {
  const Identifier self = secret.identifier();
  const Suite suite = self.suite();
  const Group& g = GroupFor(suite);
  const std::vector<Bytes>& own_commitment = DkgAccess::Commitment(secret);
  const size_t min_signers = own_commitment.size();
  RETURN_IF_ERROR(CheckRound1Packages(self, min_signers, DkgAccess::MaxSigners(secret), others));
  if (Round1Digest(others) != DkgAccess::VerifiedRound1(secret)) {
    return absl::InvalidArgumentError(
        "round-one packages differ from those whose proofs DkgPart2 checked; pass the same packages");
  }
  if (received.size() != others.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", others.size(), " round-two packages, got ", received.size()));
  }
  ASSIGN_OR_RETURN(Scalar signing_share, internal::ParseSecretScalar(g, DkgAccess::Secret(secret), "round-two secret"));
  std::vector<bool> used(others.size(), false);
  for (const DkgRound2Package& p : received) {
    const std::string who = p.sender.ToString();
    if (!(p.recipient == self)) {
      return absl::InvalidArgumentError(absl::StrCat("round-two package from participant ", who,
                                                     " is addressed to participant ", p.recipient.ToString()));
    }
    size_t index = 0;
    while (index < others.size() && !(others[index].sender == p.sender)) ++index;
    if (index == others.size() || used[index]) {
      return absl::InvalidArgumentError(
          absl::StrCat("round-two package from participant ", who, " without a round-one package, or twice"));
    }
    used[index] = true;
    auto f = internal::ParseSecretScalar(g, p.signing_share, absl::StrCat("share from participant ", who));
    if (!f.ok()) return f.status();
    // f_l(i) * G must equal the sender's committed polynomial at i.
    auto expected = internal::EvaluateCommitment(g, others[index].commitment, ScalarOf(self));
    auto actual = g.BaseMul(*f);
    if (!expected.ok() || !actual.ok() || *expected != *actual) {
      return absl::FailedPreconditionError(
          absl::StrCat("share from participant ", who, " does not match its commitment"));
    }
    signing_share = g.Add(signing_share, *f);
  }

  // Public key package: the group key is sum_l phi_l0; participant k's
  // verifying share is sum_l C_l(k) = S(k) for the summed commitment
  // S_j = sum_l phi_lj. Summing first and evaluating S once per participant
  // takes max_signers * min_signers multiplications; evaluating every C_l at
  // every k took max_signers times more (minutes from about a hundred
  // participants on).
  std::vector<const std::vector<Bytes>*> commitments = {&own_commitment};
  std::vector<Identifier> ids = {self};
  for (const DkgRound1Package& p : others) {
    commitments.push_back(&p.commitment);
    ids.push_back(p.sender);
  }
  std::sort(ids.begin(), ids.end());
  // A coefficient whose sum is the identity (by chance, ~2^-252, or by a
  // participant's choice) adds nothing to S(k): nullopt, skipped.
  std::vector<std::optional<Element>> summed(min_signers);
  for (size_t j = 0; j < min_signers; ++j) {
    std::vector<Element> column;
    for (const auto* c : commitments) column.push_back((*c)[j]);
    if (auto sum = g.Sum(column); sum.ok()) summed[j] = *std::move(sum);
  }
  if (!summed[0]) return absl::InvalidArgumentError("the group public key is the identity element");
  PublicKeyPackage package{suite, *summed[0], {}, static_cast<uint16_t>(min_signers)};
  for (const Identifier& id : ids) {
    const Scalar x = ScalarOf(id);
    Scalar power = g.ScalarFromUint64(1);
    std::vector<Element> terms;
    for (const std::optional<Element>& s : summed) {
      if (s) {
        ASSIGN_OR_RETURN(Element term, g.Mul(*s, power));
        terms.push_back(std::move(term));
      }
      power = g.Mul(power, x);
    }
    auto verifying = g.Sum(terms);
    if (!verifying.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the verifying share of participant ", id.ToString(), " is the identity element"));
    }
    package.verifying_shares.push_back(VerifyingShare{id, *std::move(verifying)});
  }
  const Element& group_key = package.group_public_key;
  auto verifying_share = g.BaseMul(signing_share);
  if (!verifying_share.ok()) return absl::FailedPreconditionError("the derived signing share is zero");
  for (const VerifyingShare& v : package.verifying_shares) {
    if (v.identifier == self && v.element != *verifying_share) {
      return absl::InternalError("the derived signing share does not match the commitments");
    }
  }
  KeyPackage key_package{suite,         self, SecretBytes::CopyFrom(signing_share.bytes), *verifying_share,
                         group_key, static_cast<uint16_t>(min_signers)};
  return DkgResult{std::move(key_package), std::move(package)};
}

}  // namespace sigil::crypto::frost
