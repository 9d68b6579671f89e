#include "crypto/frost.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "crypto/ed25519.h"
#include "crypto/frost_group.h"
#include "crypto/internal/declassify.h"
#include "crypto/random.h"

namespace sigil::crypto::frost {

using internal::BindingFactor;
using internal::Element;
using internal::Group;
using internal::GroupFor;
using internal::Scalar;
using internal::ScalarOf;

// Builds SigningNonces (whose constructor is private so that only round one
// makes them).
class NoncesFactory {
 public:
  static SigningNonces Make(SecretBytes hiding, SecretBytes binding, SigningCommitment commitment) {
    return SigningNonces(std::move(hiding), std::move(binding), std::move(commitment));
  }
};

namespace {

SecretBytes ToSecret(const Scalar& s) { return SecretBytes::CopyFrom(s.bytes); }

absl::Status CheckMessage(std::span<const uint8_t> message) {
  if (message.size() > kMaxMessageBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("message is ", message.size(), " bytes, more than the limit of ", kMaxMessageBytes));
  }
  return absl::OkStatus();
}

absl::Status CheckSuite(Suite expected, const Identifier& id) {
  if (id.suite() != expected) {
    return absl::InvalidArgumentError(absl::StrCat("participant ", id.ToString(), " belongs to another ciphersuite"));
  }
  return absl::OkStatus();
}

// The commitment list checked (suite, element validity, no identity, no
// duplicate) and sorted by identifier, as RFC 9591 §5.2 requires.
absl::StatusOr<std::vector<SigningCommitment>> SortedCommitments(Suite suite,
                                                                 std::span<const SigningCommitment> commitments) {
  if (commitments.empty() || commitments.size() > kMaxParticipants) {
    return absl::InvalidArgumentError(
        absl::StrCat("need 1 to ", kMaxParticipants, " commitments, got ", commitments.size()));
  }
  const Group& g = GroupFor(suite);
  std::vector<SigningCommitment> sorted(commitments.begin(), commitments.end());
  for (const SigningCommitment& c : sorted) {
    RETURN_IF_ERROR(CheckSuite(suite, c.identifier));
    for (const Bytes* element : {&c.hiding, &c.binding}) {
      if (absl::Status s = g.ValidateElement(*element); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("commitment of participant ", c.identifier.ToString(), ": ", s.message()));
      }
    }
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const SigningCommitment& a, const SigningCommitment& b) { return a.identifier < b.identifier; });
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i].identifier == sorted[i - 1].identifier) {
      return absl::InvalidArgumentError(
          absl::StrCat("participant ", sorted[i].identifier.ToString(), " has more than one commitment"));
    }
  }
  return sorted;
}

std::vector<BindingFactor> BindingFactorsOfSorted(const Group& g, std::span<const uint8_t> group_public_key,
                                                  std::span<const SigningCommitment> sorted,
                                                  std::span<const uint8_t> message) {
  Bytes encoded_list;
  for (const SigningCommitment& c : sorted) {
    encoded_list.insert(encoded_list.end(), c.identifier.bytes().begin(), c.identifier.bytes().end());
    encoded_list.insert(encoded_list.end(), c.hiding.begin(), c.hiding.end());
    encoded_list.insert(encoded_list.end(), c.binding.begin(), c.binding.end());
  }
  const Bytes msg_hash = g.Hash("msg", {message});
  const Bytes commitment_hash = g.Hash("com", {encoded_list});
  Bytes prefix(group_public_key.begin(), group_public_key.end());
  prefix.insert(prefix.end(), msg_hash.begin(), msg_hash.end());
  prefix.insert(prefix.end(), commitment_hash.begin(), commitment_hash.end());
  std::vector<BindingFactor> factors;
  factors.reserve(sorted.size());
  for (const SigningCommitment& c : sorted) {
    Bytes input = prefix;
    input.insert(input.end(), c.identifier.bytes().begin(), c.identifier.bytes().end());
    Scalar rho = g.HashToScalar("rho", {input});
    factors.push_back(BindingFactor{c.identifier, std::move(input), rho});
  }
  return factors;
}

// RFC 9591 §4.2 derive_interpolating_value. Identifiers are public, so
// variable time is fine; `ids` is sorted and duplicate-free.
absl::StatusOr<Scalar> Lagrange(const Group& g, std::span<const SigningCommitment> sorted, const Identifier& x_i) {
  const Scalar xi = ScalarOf(x_i);
  Scalar numerator = g.ScalarFromUint64(1);
  Scalar denominator = g.ScalarFromUint64(1);
  bool found = false;
  for (const SigningCommitment& c : sorted) {
    if (c.identifier == x_i) {
      found = true;
      continue;
    }
    const Scalar xj = ScalarOf(c.identifier);
    numerator = g.Mul(numerator, xj);
    denominator = g.Mul(denominator, g.Sub(xj, xi));
  }
  if (!found) return absl::InvalidArgumentError(absl::StrCat("participant ", x_i.ToString(), " is not a signer"));
  ASSIGN_OR_RETURN(Scalar inverse, g.Invert(denominator));
  return g.Mul(numerator, inverse);
}

// Everything about one signing session that every participant and the
// coordinator derive alike from the public inputs.
struct Session {
  std::vector<SigningCommitment> commitments;  // sorted
  std::vector<BindingFactor> factors;          // same order
  Element group_commitment;                    // R
  Scalar challenge;                            // c

  size_t IndexOf(const Identifier& id) const {
    for (size_t i = 0; i < commitments.size(); ++i) {
      if (commitments[i].identifier == id) return i;
    }
    return commitments.size();
  }
};

absl::StatusOr<Session> MakeSession(Suite suite, std::span<const uint8_t> group_public_key,
                                    std::span<const SigningCommitment> commitments, std::span<const uint8_t> message) {
  RETURN_IF_ERROR(CheckMessage(message));
  const Group& g = GroupFor(suite);
  if (absl::Status s = g.ValidateElement(group_public_key); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("group public key: ", s.message()));
  }
  Session session;
  ASSIGN_OR_RETURN(session.commitments, SortedCommitments(suite, commitments));
  session.factors = BindingFactorsOfSorted(g, group_public_key, session.commitments, message);
  // RFC 9591 §4.5 compute_group_commitment.
  std::vector<Element> terms;
  for (size_t i = 0; i < session.commitments.size(); ++i) {
    terms.push_back(session.commitments[i].hiding);
    ASSIGN_OR_RETURN(Element bound, g.Mul(session.commitments[i].binding, session.factors[i].factor));
    terms.push_back(std::move(bound));
  }
  auto r = g.Sum(terms);
  if (!r.ok()) return absl::InvalidArgumentError("the group commitment is the identity element");
  session.group_commitment = *std::move(r);
  // RFC 9591 §4.6 compute_challenge.
  session.challenge = g.HashToScalar("chal", {session.group_commitment, group_public_key, message});
  return session;
}

const VerifyingShare* FindVerifyingShare(const PublicKeyPackage& package, const Identifier& id) {
  for (const VerifyingShare& v : package.verifying_shares) {
    if (v.identifier == id) return &v;
  }
  return nullptr;
}

// RFC 9591 §5.4 verify_signature_share within a session.
absl::Status CheckShare(const Group& g, const PublicKeyPackage& package, const Session& session,
                        const SignatureShare& share) {
  const std::string who = share.identifier.ToString();
  const size_t index = session.IndexOf(share.identifier);
  if (index == session.commitments.size()) {
    return absl::InvalidArgumentError(absl::StrCat("participant ", who, " sent a share but no commitment"));
  }
  const VerifyingShare* verifying = FindVerifyingShare(package, share.identifier);
  if (verifying == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("participant ", who, " has no verifying share in the package"));
  }
  auto z = g.ParseScalar(share.share);
  if (!z.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("signature share of participant ", who, " is not a scalar"));
  }
  const SigningCommitment& c = session.commitments[index];
  ASSIGN_OR_RETURN(Scalar lambda, Lagrange(g, session.commitments, share.identifier));
  ASSIGN_OR_RETURN(Element bound, g.Mul(c.binding, session.factors[index].factor));
  const Element commitment_share[] = {c.hiding, bound};
  ASSIGN_OR_RETURN(Element expected_r, g.Sum(commitment_share));
  ASSIGN_OR_RETURN(Element key_term, g.Mul(verifying->element, g.Mul(session.challenge, lambda)));
  const Element rhs_terms[] = {expected_r, key_term};
  auto rhs = g.Sum(rhs_terms);
  auto lhs = g.BaseMul(*z);
  if (!lhs.ok() || !rhs.ok() || *lhs != *rhs) {
    return absl::FailedPreconditionError(absl::StrCat("signature share of participant ", who, " is invalid"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Scalar> CheckKeyPackage(const KeyPackage& kp) {
  RETURN_IF_ERROR(CheckSuite(kp.suite, kp.identifier));
  if (kp.min_signers < 2) return absl::InvalidArgumentError("key package: min_signers must be at least 2");
  const Group& g = GroupFor(kp.suite);
  if (absl::Status s = g.ValidateElement(kp.group_public_key); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("key package: group public key: ", s.message()));
  }
  return internal::ParseSecretScalar(g, kp.signing_share, "key package: signing share");
}

// RFC 9591 §4.1 nonce_generate: H3(random_bytes || SerializeScalar(secret)).
SecretBytes NonceGenerate(const Group& g, std::span<const uint8_t, 32> randomness, const Scalar& secret) {
  return ToSecret(g.HashToScalar("nonce", {randomness, secret.bytes}));
}

absl::StatusOr<DealerOutput> Split(Suite suite, std::vector<Scalar> coefficients, uint16_t max_signers) {
  const Group& g = GroupFor(suite);
  const size_t min_signers = coefficients.size();
  if (min_signers < 2 || min_signers > max_signers || max_signers > kMaxParticipants) {
    return absl::InvalidArgumentError(absl::StrCat("need 2 <= min_signers <= max_signers <= ", kMaxParticipants,
                                                   ", got min ", min_signers, " max ", max_signers));
  }
  if (g.IsZero(coefficients.back())) {
    // The polynomial would have a lower degree: fewer signers would do.
    return absl::InvalidArgumentError("the highest polynomial coefficient is zero");
  }
  DealerOutput out;
  for (const Scalar& a : coefficients) {
    auto commitment = g.BaseMul(a);
    if (!commitment.ok()) return absl::InvalidArgumentError("a polynomial coefficient (or the secret) is zero");
    out.vss_commitment.push_back(*std::move(commitment));
  }
  out.public_key_package.suite = suite;
  out.public_key_package.group_public_key = out.vss_commitment[0];
  out.public_key_package.min_signers = static_cast<uint16_t>(min_signers);
  for (uint16_t i = 1; i <= max_signers; ++i) {
    ASSIGN_OR_RETURN(Identifier id, Identifier::FromInteger(suite, i));
    const Scalar value = internal::EvaluatePolynomial(g, coefficients, ScalarOf(id));
    ASSIGN_OR_RETURN(Element verifying, g.BaseMul(value));
    out.public_key_package.verifying_shares.push_back(VerifyingShare{id, verifying});
    out.key_packages.push_back(KeyPackage{suite, id, ToSecret(value), verifying, out.vss_commitment[0],
                                          static_cast<uint16_t>(min_signers)});
  }
  return out;
}

}  // namespace

// --- Identifier -------------------------------------------------------------

absl::StatusOr<Identifier> Identifier::FromInteger(Suite suite, uint64_t value) {
  if (value == 0) return absl::InvalidArgumentError("participant identifier must not be zero");
  return Identifier(suite, GroupFor(suite).ScalarFromUint64(value).bytes);
}

absl::StatusOr<Identifier> Identifier::Parse(Suite suite, std::span<const uint8_t> encoded) {
  const Group& g = GroupFor(suite);
  ASSIGN_OR_RETURN(Scalar s, g.ParseScalar(encoded));
  if (g.IsZero(s)) return absl::InvalidArgumentError("participant identifier must not be zero");
  return Identifier(suite, s.bytes);
}

std::string Identifier::ToString() const {
  // Byte k (from the least significant end) of the scalar.
  const auto byte = [this](size_t k) {
    return suite_ == Suite::kEd25519Sha512 ? bytes_[k] : bytes_[31 - k];
  };
  uint64_t value = 0;
  for (size_t k = 0; k < 8; ++k) value |= uint64_t{byte(k)} << (8 * k);
  for (size_t k = 8; k < 32; ++k) {
    if (byte(k) != 0) return HexEncode0x(bytes_);
  }
  return std::to_string(value);
}

bool operator<(const Identifier& a, const Identifier& b) {
  if (a.suite_ != b.suite_) return a.suite_ < b.suite_;
  return GroupFor(a.suite_).Compare(ScalarOf(a), ScalarOf(b)) < 0;
}

// --- Key generation ---------------------------------------------------------

absl::StatusOr<DealerOutput> TrustedDealerKeygen(Suite suite, uint16_t max_signers, uint16_t min_signers) {
  if (min_signers < 2 || min_signers > max_signers || max_signers > kMaxParticipants) {
    return absl::InvalidArgumentError(absl::StrCat("need 2 <= min_signers <= max_signers <= ", kMaxParticipants,
                                                   ", got min ", min_signers, " max ", max_signers));
  }
  const Group& g = GroupFor(suite);
  std::vector<Scalar> coefficients;
  while (coefficients.size() < min_signers) coefficients.push_back(internal::RandomNonzeroScalar(g));
  return Split(suite, std::move(coefficients), max_signers);
}

absl::StatusOr<DealerOutput> SplitSecret(Suite suite, const SecretBytes& group_secret,
                                         std::span<const SecretBytes> coefficients, uint16_t max_signers) {
  if (coefficients.size() + 1 > kMaxParticipants) return absl::InvalidArgumentError("too many coefficients");
  const Group& g = GroupFor(suite);
  std::vector<Scalar> all;
  ASSIGN_OR_RETURN(all.emplace_back(), internal::ParseSecretScalar(g, group_secret, "group secret"));
  for (const SecretBytes& c : coefficients) {
    ASSIGN_OR_RETURN(all.emplace_back(), internal::ParseSecretScalar(g, c, "polynomial coefficient"));
  }
  return Split(suite, std::move(all), max_signers);
}

absl::Status VerifyShareAgainstCommitment(const KeyPackage& key_package, std::span<const Bytes> vss_commitment) {
  ASSIGN_OR_RETURN(Scalar share, CheckKeyPackage(key_package));
  const Group& g = GroupFor(key_package.suite);
  if (vss_commitment.size() < 2 || vss_commitment.size() > kMaxParticipants) {
    return absl::InvalidArgumentError("VSS commitment must have 2 to kMaxParticipants elements");
  }
  // The shares must be able to sign for the key the package names: the
  // commitment's constant term is that key, and its degree is what
  // min_signers shares can interpolate. A dealer showing one group key and
  // dealing shares of another (or of a higher-degree polynomial) would
  // otherwise pass.
  if (vss_commitment.size() != key_package.min_signers) {
    return absl::FailedPreconditionError(absl::StrCat("the VSS commitment has ", vss_commitment.size(),
                                                      " elements; min_signers ", key_package.min_signers, " needs as many"));
  }
  if (vss_commitment[0] != key_package.group_public_key) {
    return absl::FailedPreconditionError("the VSS commitment is not for this package's group public key");
  }
  // S_i' = sum_j commitment[j] * id^j.
  auto expected = internal::EvaluateCommitment(g, vss_commitment, ScalarOf(key_package.identifier));
  if (!expected.ok()) return absl::InvalidArgumentError(absl::StrCat("VSS commitment: ", expected.status().message()));
  ASSIGN_OR_RETURN(Element actual, g.BaseMul(share));
  if (*expected != actual || actual != key_package.verifying_share) {
    return absl::FailedPreconditionError(absl::StrCat("the share of participant ", key_package.identifier.ToString(),
                                                      " does not match the VSS commitment"));
  }
  return absl::OkStatus();
}

// --- Round one ----------------------------------------------------------------

absl::StatusOr<SigningNonces> Commit(const KeyPackage& key_package) {
  SecretBytes randomness = RandomSecret(64);
  const std::span<const uint8_t> r = randomness.Reveal(SecretAccess::Get());
  return internal::CommitWithRandomness(key_package, r.subspan<0, 32>(), r.subspan<32, 32>());
}

// --- Round two ----------------------------------------------------------------

absl::StatusOr<SignatureShare> Sign(const KeyPackage& key_package, SigningNonces nonces,
                                    std::span<const uint8_t> message, std::span<const SigningCommitment> commitments) {
  ASSIGN_OR_RETURN(Scalar share, CheckKeyPackage(key_package));
  const Group& g = GroupFor(key_package.suite);
  const Identifier& me = key_package.identifier;
  if (!(nonces.commitment().identifier == me)) {
    return absl::InvalidArgumentError(absl::StrCat("nonces of participant ", nonces.commitment().identifier.ToString(),
                                                   " used with the key package of participant ", me.ToString()));
  }
  ASSIGN_OR_RETURN(Session session, MakeSession(key_package.suite, key_package.group_public_key, commitments, message));
  if (session.commitments.size() < key_package.min_signers) {
    return absl::InvalidArgumentError(absl::StrCat(session.commitments.size(), " commitments, fewer than min_signers (",
                                                   key_package.min_signers, ")"));
  }
  const size_t index = session.IndexOf(me);
  if (index == session.commitments.size()) {
    return absl::InvalidArgumentError(absl::StrCat("the commitment list lacks participant ", me.ToString()));
  }
  const SigningCommitment& mine = session.commitments[index];
  if (mine.hiding != nonces.commitment().hiding || mine.binding != nonces.commitment().binding) {
    return absl::InvalidArgumentError(
        absl::StrCat("the commitment list holds another commitment for participant ", me.ToString()));
  }
  ASSIGN_OR_RETURN(Scalar lambda, Lagrange(g, session.commitments, me));
  ASSIGN_OR_RETURN(Scalar d, internal::ParseSecretScalar(g, nonces.hiding(SecretAccess::Get()), "hiding nonce"));
  ASSIGN_OR_RETURN(Scalar e, internal::ParseSecretScalar(g, nonces.binding(SecretAccess::Get()), "binding nonce"));
  // z_i = d + e * rho_i + lambda_i * s_i * c
  const Scalar z = g.Add(g.Add(d, g.Mul(e, session.factors[index].factor)),
                         g.Mul(g.Mul(lambda, share), session.challenge));
  // The share is sent to the coordinator: public from here on.
  SIGIL_DECLASSIFY(z.bytes.data(), z.bytes.size());
  return SignatureShare{me, Bytes(z.bytes.begin(), z.bytes.end())};
}

// --- Coordinator ----------------------------------------------------------------

absl::Status VerifySignatureShare(const PublicKeyPackage& public_key_package,
                                  std::span<const SigningCommitment> commitments, std::span<const uint8_t> message,
                                  const SignatureShare& share) {
  RETURN_IF_ERROR(CheckSuite(public_key_package.suite, share.identifier));
  ASSIGN_OR_RETURN(Session session,
                   MakeSession(public_key_package.suite, public_key_package.group_public_key, commitments, message));
  return CheckShare(GroupFor(public_key_package.suite), public_key_package, session, share);
}

absl::StatusOr<Bytes> Aggregate(const PublicKeyPackage& public_key_package,
                                std::span<const SigningCommitment> commitments, std::span<const uint8_t> message,
                                std::span<const SignatureShare> shares) {
  const Suite suite = public_key_package.suite;
  const Group& g = GroupFor(suite);
  ASSIGN_OR_RETURN(Session session, MakeSession(suite, public_key_package.group_public_key, commitments, message));
  if (session.commitments.size() < public_key_package.min_signers) {
    return absl::InvalidArgumentError(absl::StrCat(session.commitments.size(), " commitments, fewer than min_signers (",
                                                   public_key_package.min_signers, ")"));
  }
  if (shares.size() != session.commitments.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(shares.size(), " signature shares for ", session.commitments.size(), " commitments"));
  }
  std::vector<bool> seen(session.commitments.size(), false);
  Scalar z;
  for (const SignatureShare& share : shares) {
    RETURN_IF_ERROR(CheckSuite(suite, share.identifier));
    const size_t index = session.IndexOf(share.identifier);
    if (index == session.commitments.size() || seen[index]) {
      return absl::InvalidArgumentError(absl::StrCat("participant ", share.identifier.ToString(),
                                                     " sent a share without a commitment, or two shares"));
    }
    seen[index] = true;
    auto z_i = g.ParseScalar(share.share);
    if (!z_i.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("signature share of participant ", share.identifier.ToString(), " is not a scalar"));
    }
    z = g.Add(z, *z_i);
  }
  Bytes signature = session.group_commitment;
  signature.insert(signature.end(), z.bytes.begin(), z.bytes.end());
  if (VerifySignature(suite, public_key_package.group_public_key, message, signature)) return signature;
  // RFC 9591 §5.3: find the culprits.
  std::vector<std::string> culprits;
  for (const SignatureShare& share : shares) {
    absl::Status s = CheckShare(g, public_key_package, session, share);
    if (!s.ok()) culprits.push_back(share.identifier.ToString());
  }
  if (culprits.empty()) {
    return absl::FailedPreconditionError(
        "the aggregate signature does not verify although every share does: the verifying shares do not match "
        "the group public key");
  }
  return absl::FailedPreconditionError(
      absl::StrCat("invalid signature shares from participants ", absl::StrJoin(culprits, ", ")));
}

bool VerifySignature(Suite suite, std::span<const uint8_t> group_public_key, std::span<const uint8_t> message,
                     std::span<const uint8_t> signature) {
  if (message.size() > kMaxMessageBytes) return false;
  const Group& g = GroupFor(suite);
  if (suite == Suite::kEd25519Sha512) {
    Ed25519PublicKey pk;
    Ed25519Signature sig;
    if (group_public_key.size() != pk.size() || signature.size() != sig.size()) return false;
    std::copy(group_public_key.begin(), group_public_key.end(), pk.begin());
    std::copy(signature.begin(), signature.end(), sig.begin());
    return Ed25519Verify(pk, message, sig);
  }
  // RFC 9591 §6.5 (cofactor 1): z * G == R + c * PK.
  const size_t element_size = g.ElementSize();
  if (signature.size() != element_size + 32 || !g.ValidateElement(group_public_key).ok()) return false;
  const Element r(signature.begin(), signature.begin() + element_size);
  auto z = g.ParseScalar(signature.subspan(element_size));
  if (!g.ValidateElement(r).ok() || !z.ok()) return false;
  const Scalar c = g.HashToScalar("chal", {r, group_public_key, message});
  auto lhs = g.BaseMul(*z);
  auto key_term = g.Mul(Element(group_public_key.begin(), group_public_key.end()), c);
  if (!lhs.ok() || !key_term.ok()) return false;
  const Element terms[] = {r, *key_term};
  auto rhs = g.Sum(terms);
  return rhs.ok() && *lhs == *rhs;
}

namespace internal {

absl::StatusOr<SigningNonces> CommitWithRandomness(const KeyPackage& key_package,
                                                   std::span<const uint8_t, 32> hiding_randomness,
                                                   std::span<const uint8_t, 32> binding_randomness) {
  ASSIGN_OR_RETURN(Scalar share, CheckKeyPackage(key_package));
  const Group& g = GroupFor(key_package.suite);
  SecretBytes hiding = NonceGenerate(g, hiding_randomness, share);
  SecretBytes binding = NonceGenerate(g, binding_randomness, share);
  ASSIGN_OR_RETURN(Scalar d, internal::ParseSecretScalar(g, hiding, "hiding nonce"));
  ASSIGN_OR_RETURN(Scalar e, internal::ParseSecretScalar(g, binding, "binding nonce"));
  auto hiding_commitment = g.BaseMul(d);
  auto binding_commitment = g.BaseMul(e);
  if (!hiding_commitment.ok() || !binding_commitment.ok()) return absl::InternalError("a nonce is zero");
  return NoncesFactory::Make(
      std::move(hiding), std::move(binding),
      SigningCommitment{key_package.identifier, *std::move(hiding_commitment), *std::move(binding_commitment)});
}

absl::StatusOr<std::vector<BindingFactor>> ComputeBindingFactors(Suite suite, std::span<const uint8_t> group_public_key,
                                                                 std::span<const SigningCommitment> commitments,
                                                                 std::span<const uint8_t> message) {
  ASSIGN_OR_RETURN(std::vector<SigningCommitment> sorted, SortedCommitments(suite, commitments));
  return BindingFactorsOfSorted(GroupFor(suite), group_public_key, sorted, message);
}

}  // namespace internal
}  // namespace sigil::crypto::frost
