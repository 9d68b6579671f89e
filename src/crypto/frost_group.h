// The prime-order group and hash functions behind a FROST ciphersuite
// (RFC 9591 §6): internal to frost.cc and its tests.
//
// Scalars are their 32-byte SerializeScalar encoding, always canonical
// (below the group order) and wiped when they die, so a secret scalar held
// on the stack does not outlive its use. Elements are their
// SerializeElement encoding; a value of type Element is never the identity
// (every operation that would produce it fails instead, as RFC 9591's
// SerializeElement does).
//
// Thread-safety: the Group objects are immutable singletons; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/hex.h"
#include "base/secret.h"
#include "crypto/frost.h"

namespace sigil::crypto::frost::internal {

struct Scalar {
  std::array<uint8_t, 32> bytes{};

  Scalar() = default;
  Scalar(const Scalar&) = default;
  Scalar& operator=(const Scalar&) = default;
  ~Scalar() { SecureWipe(bytes); }
};

using Element = Bytes;
using HashParts = std::initializer_list<std::span<const uint8_t>>;

class Group {
 public:
  virtual ~Group() = default;

  virtual std::string_view ContextString() const = 0;
  virtual size_t ElementSize() const = 0;

  // Scalar field.
  virtual bool IsCanonicalScalar(std::span<const uint8_t> encoded) const = 0;
  virtual Scalar ScalarFromUint64(uint64_t value) const = 0;
  virtual Scalar Add(const Scalar& a, const Scalar& b) const = 0;
  virtual Scalar Mul(const Scalar& a, const Scalar& b) const = 0;
  virtual Scalar Negate(const Scalar& a) const = 0;
  // Error for zero. Only used on public values (Lagrange denominators).
  virtual absl::StatusOr<Scalar> Invert(const Scalar& a) const = 0;
  // Numeric comparison (<0, 0, >0), variable time: for public identifiers.
  virtual int Compare(const Scalar& a, const Scalar& b) const = 0;

  // Group. Each fails (InvalidArgument) rather than produce the identity.
  virtual absl::StatusOr<Element> BaseMul(const Scalar& k) const = 0;
  virtual absl::StatusOr<Element> Mul(const Element& point, const Scalar& k) const = 0;
  virtual absl::StatusOr<Element> Sum(std::span<const Element> points) const = 0;
  // DeserializeElement's checks: a canonical encoding of a point of the
  // prime-order subgroup that is not the identity.
  virtual absl::Status ValidateElement(std::span<const uint8_t> encoded) const = 0;

  // H1 ("rho"), H2 ("chal"), H3 ("nonce") of the concatenated parts.
  virtual Scalar HashToScalar(std::string_view tag, HashParts parts) const = 0;
  // H4 ("msg"), H5 ("com").
  virtual Bytes Hash(std::string_view tag, HashParts parts) const = 0;

  Scalar Sub(const Scalar& a, const Scalar& b) const { return Add(a, Negate(b)); }
  bool IsZero(const Scalar& a) const;
  absl::StatusOr<Scalar> ParseScalar(std::span<const uint8_t> encoded) const;
};

const Group& GroupFor(Suite suite);

// A secret scalar out of locked memory (or any secret bytes); the error
// names `what`, never the bytes. Unlike Group::ParseScalar it branches only
// on whether the bytes are canonical, so the parse is constant time.
absl::StatusOr<Scalar> ParseSecretScalar(const Group& g, const SecretBytes& secret, std::string_view what);
absl::StatusOr<Scalar> ParseSecretScalar(const Group& g, std::span<const uint8_t> secret, std::string_view what);

// Polynomial helpers shared by the trusted dealer and the DKG.
Scalar ScalarOf(const Identifier& id);
// A uniformly random nonzero scalar from the CSPRNG (RFC 9591 random_scalar).
Scalar RandomNonzeroScalar(const Group& g);
// f(x) for coefficients a_0..a_{t-1} (t >= 1).
Scalar EvaluatePolynomial(const Group& g, std::span<const Scalar> coefficients, const Scalar& x);
// sum_j commitment[j] * x^j, the public image f(x) * G of the polynomial
// whose coefficient commitments are given (t >= 1).
absl::StatusOr<Element> EvaluateCommitment(const Group& g, std::span<const Element> commitment, const Scalar& x);

// RFC 9591 §4.4 compute_binding_factors over a commitment list (checked and
// sorted by identifier first). Defined in frost.cc; exposed for the
// known-answer tests, which pin every intermediate value.
struct BindingFactor {
  Identifier identifier;
  Bytes input;  // rho_input
  Scalar factor;
};
absl::StatusOr<std::vector<BindingFactor>> ComputeBindingFactors(Suite suite, std::span<const uint8_t> group_public_key,
                                                                 std::span<const SigningCommitment> commitments,
                                                                 std::span<const uint8_t> message);

// Round one (frost::Commit) with the 32-byte randomness given, for
// known-answer tests (the start-up self-test, the vector tests) and fuzzing
// only: the same randomness twice with different messages reveals the
// share. Defined in frost.cc.
absl::StatusOr<SigningNonces> CommitWithRandomness(const KeyPackage& key_package,
                                                   std::span<const uint8_t, 32> hiding_randomness,
                                                   std::span<const uint8_t, 32> binding_randomness);

}  // namespace sigil::crypto::frost::internal
