// Fuzzes the FROST DKG's checks of the packages other participants send
// (frost_dkg.h), both ciphersuites, as participant 1 of a 2-of-3 DKG whose
// polynomial is participant 1's in ZcashFoundation's DKG vectors
// (vectors/frost/zcash-frost-*-vectors_dkg.json).
//
// Input: flags byte (bit 0: secp256k1, else Ed25519; bit 1: DkgPart3, else
// DkgPart2), then
//   k (1 byte, k % 4 round-one packages), each:
//     sender (32) || c (1 byte, c % 4 commitment elements) || c * E || proof (E + 32)
//   for DkgPart3: r (1 byte, r % 4 round-two packages), each:
//     sender (32) || recipient (32) || signing share (32)
// with E = 32 (Ed25519) or 33 (secp256k1).
// Invariants: DkgPart2 answers every other participant once, as sender 1;
// a DkgPart3 result is a consistent key package (its verifying share is its
// signing share times G and is the package's share for participant 1, the
// group key is the public package's).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "crypto/frost_dkg.h"
#include "frost_fuzz_input.h"

using namespace sigil;
using namespace sigil::crypto::frost;
using namespace sigil::crypto::frost::fuzzing;

namespace {

constexpr uint16_t kMaxSigners = 3;

struct Polynomial {
  Suite suite;
  SecretBytes secret;
  SecretBytes coefficient;
};

const Polynomial& PolynomialFor(Suite suite) {
  static const Polynomial* const ed25519 = new Polynomial{
      Suite::kEd25519Sha512,
      SecretBytes::CopyFrom(Literal("fc36bff380c95d607cd78080f493dd382df50f7007ec1b150b9bfbd8041fd208")),
      SecretBytes::CopyFrom(Literal("2d2c3e2b558e555b1608838e0ded66cd36d8aaa9ed1e39ce8474855d0825b20e"))};
  static const Polynomial* const secp256k1 = new Polynomial{
      Suite::kSecp256k1Sha256,
      SecretBytes::CopyFrom(Literal("e7a3cf1fdb1e17d4c3e8a7f663803ef305d03bdfdc930b824b0664c6b853156d")),
      SecretBytes::CopyFrom(Literal("819adb51466d687c3944f8dad799a09551af9c083c918a50d9a24a883ae86e2a"))};
  return suite == Suite::kEd25519Sha512 ? *ed25519 : *secp256k1;
}

Identifier Self(Suite suite) {
  auto id = Identifier::FromInteger(suite, 1);
  Require(id.ok());
  return *id;
}

DkgRound1Output Round1(Suite suite) {
  const Polynomial& p = PolynomialFor(suite);
  const SecretBytes coefficients[] = {p.coefficient.Clone()};
  auto out = DkgPart1WithPolynomial(Self(suite), kMaxSigners, p.secret, coefficients);
  Require(out.ok());
  return *std::move(out);
}

// Participant 1 after round two. Its state depends only on its own
// polynomial, so honest round-one packages from 2 and 3 (random ones) do.
const DkgRound2Secret& Round2SecretFor(Suite suite) {
  static const auto make = [](Suite s) {
    std::vector<DkgRound1Package> others;
    for (uint64_t i = 2; i <= kMaxSigners; ++i) {
      auto id = Identifier::FromInteger(s, i);
      Require(id.ok());
      auto other = DkgPart1(*id, kMaxSigners, 2);
      Require(other.ok());
      others.push_back(other->package);
    }
    auto round2 = DkgPart2(Round1(s).secret, others);
    Require(round2.ok());
    return new DkgRound2Secret(std::move(round2->secret));
  };
  static const DkgRound2Secret* const ed25519 = make(Suite::kEd25519Sha512);
  static const DkgRound2Secret* const secp256k1 = make(Suite::kSecp256k1Sha256);
  return suite == Suite::kEd25519Sha512 ? *ed25519 : *secp256k1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  auto flags = ReadFlags(in);
  if (!flags) return 0;
  const Suite suite = flags->suite;
  const bool part3 = (flags->bits & 2) != 0;
  const internal::Group& g = *flags->group;
  const size_t element_size = g.ElementSize();

  std::vector<DkgRound1Package> others;
  const bool read_round1 = ReadList(in, [&](Reader& r) {
    auto sender = r.Id(suite);
    if (!sender) return false;
    DkgRound1Package package{*sender, {}, {}};
    const bool read_commitment = ReadList(r, [&](Reader& e) {
      auto element = e.TakeBytes(element_size);
      if (element) package.commitment.push_back(*std::move(element));
      return element.has_value();
    });
    auto proof = r.TakeBytes(element_size + 32);
    if (!read_commitment || !proof) return false;
    package.proof_of_knowledge = *std::move(proof);
    others.push_back(std::move(package));
    return true;
  });
  if (!read_round1) return 0;

  const Identifier self = Self(suite);
  if (!part3) {
    auto round2 = DkgPart2(Round1(suite).secret, others);
    if (!round2.ok()) return 0;
    Require(round2->secret.identifier() == self);
    Require(round2->packages.size() == others.size() && others.size() == kMaxSigners - 1u);
    for (size_t i = 0; i < others.size(); ++i) {
      const DkgRound2Package& p = round2->packages[i];
      Require(p.sender == self && p.recipient == others[i].sender);
      Require(g.IsCanonicalScalar(p.signing_share.Reveal(SecretAccess::Get())));
    }
    return 0;
  }

  std::vector<DkgRound2Package> received;
  const bool read_round2 = ReadList(in, [&](Reader& r) {
    auto sender = r.Id(suite);
    auto recipient = r.Id(suite);
    auto share = r.Take(32);
    if (!sender || !recipient || !share) return false;
    received.push_back(DkgRound2Package{*sender, *recipient, SecretBytes::CopyFrom(*share)});
    return true;
  });
  if (!read_round2) return 0;
  auto result = DkgPart3(Round2SecretFor(suite), others, received);
  if (!result.ok()) return 0;
  const KeyPackage& key = result->key_package;
  const PublicKeyPackage& pub = result->public_key_package;
  Require(key.suite == suite && key.identifier == self && key.min_signers == 2);
  auto share = internal::ParseSecretScalar(g, key.signing_share, "signing share");
  Require(share.ok());
  auto verifying = g.BaseMul(*share);
  Require(verifying.ok() && *verifying == key.verifying_share);
  Require(pub.group_public_key == key.group_public_key && g.ValidateElement(pub.group_public_key).ok());
  Require(pub.verifying_shares.size() == kMaxSigners);
  bool found = false;
  for (const VerifyingShare& v : pub.verifying_shares) {
    if (v.identifier == self) found = v.element == key.verifying_share;
  }
  Require(found);
  return 0;
}
