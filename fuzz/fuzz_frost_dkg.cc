// Fuzzes the FROST DKG's checks of the packages other participants send
// (frost_dkg.h), both ciphersuites, as participant 1 of a 2-of-3 DKG whose
// polynomial is participant 1's in ZcashFoundation's DKG vectors
// (vectors/frost/zcash-frost-*-vectors_dkg.json); participants 2 and 3 have
// fixed polynomials of their own, so the whole DKG is the same in every run.
//
// Input: flags byte (bit 0: secp256k1, else Ed25519; bit 1: DkgPart3, else
// DkgPart2; bit 2: round-one packages are the honest ones of participants 2
// and 3, not read; bit 3: round-two packages are the honest ones addressed
// to participant 1, then patched), then
//   unless bit 2 — k (1 byte, k % 4 round-one packages), each:
//     sender (32) || c (1 byte, c % 4 commitment elements) || c * E || proof (E + 32)
//   for DkgPart3 without bit 3 — r (1 byte, r % 4 round-two packages), each:
//     sender (32) || recipient (32) || signing share (32)
//   for DkgPart3 with bit 3 — p (1 byte, p % 4 patches), each:
//     package (1 byte, % 2) || field (1 byte, % 3: sender, recipient, share)
//     || offset (1 byte, % 32) || xor (1 byte)
// with E = 32 (Ed25519) or 33 (secp256k1).
// DkgPart3 runs as participant 1 after an honest round two: it accepts only
// the round-one packages that round two saw, so without bit 2 it refuses;
// with bits 2 and 3 and no patch it succeeds.
// Invariants: DkgPart2 answers every other participant once, as sender 1;
// a DkgPart3 result is a consistent key package (its verifying share is its
// signing share times G and is the package's share for participant 1, the
// group key is the public package's, the threshold is 2).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
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

// Participant `i`'s round one: participant 1's polynomial is the vectors',
// 2's and 3's are fixed here (scalars canonical in both suites).
DkgRound1Output Round1(Suite suite, uint64_t i = 1) {
  auto id = Identifier::FromInteger(suite, i);
  Require(id.ok());
  if (i == 1) {
    const Polynomial& p = PolynomialFor(suite);
    const SecretBytes coefficients[] = {p.coefficient.Clone()};
    auto out = DkgPart1WithPolynomial(*id, kMaxSigners, p.secret, coefficients);
    Require(out.ok());
    return *std::move(out);
  }
  std::array<uint8_t, 32> secret;
  std::array<uint8_t, 32> coefficient;
  secret.fill(static_cast<uint8_t>(0x10 * i + 1));
  coefficient.fill(static_cast<uint8_t>(0x10 * i + 2));
  // Below 2^252 read little-endian (Ed25519), below n read big-endian.
  secret[0] = secret[31] = coefficient[0] = coefficient[31] = 0x0a;
  const SecretBytes coefficients[] = {SecretBytes::CopyFrom(coefficient)};
  auto out = DkgPart1WithPolynomial(*id, kMaxSigners, SecretBytes::CopyFrom(secret), coefficients);
  Require(out.ok());
  return *std::move(out);
}

// The honest DKG as participant 1 sees it before round three.
struct Honest {
  std::vector<DkgRound1Package> round1;    // from 2 and 3
  DkgRound2Secret secret;                  // participant 1 after round two with them
  std::vector<DkgRound2Package> round2;    // from 2 and 3, to 1
};

const Honest& HonestFor(Suite suite) {
  static const auto make = [](Suite s) {
    std::vector<DkgRound1Output> round1;
    for (uint64_t i = 1; i <= kMaxSigners; ++i) round1.push_back(Round1(s, i));
    auto others_of = [&](size_t me) {
      std::vector<DkgRound1Package> others;
      for (size_t k = 0; k < round1.size(); ++k) {
        if (k != me) others.push_back(round1[k].package);
      }
      return others;
    };
    std::vector<DkgRound2Package> to_one;
    std::optional<DkgRound2Secret> secret;
    for (size_t k = 0; k < round1.size(); ++k) {
      auto round2 = DkgPart2(std::move(round1[k].secret), others_of(k));
      Require(round2.ok());
      if (k == 0) secret.emplace(std::move(round2->secret));
      for (DkgRound2Package& p : round2->packages) {
        if (p.recipient == Self(s)) to_one.push_back(std::move(p));
      }
    }
    Require(secret.has_value() && to_one.size() == kMaxSigners - 1u);
    return new Honest{others_of(0), *std::move(secret), std::move(to_one)};
  };
  static const Honest* const ed25519 = make(Suite::kEd25519Sha512);
  static const Honest* const secp256k1 = make(Suite::kSecp256k1Sha256);
  return suite == Suite::kEd25519Sha512 ? *ed25519 : *secp256k1;
}

// A field of a round-two package with one byte changed; false if the
// result is no identifier (the input is then of no use).
bool Patch(DkgRound2Package& p, uint8_t field, uint8_t offset, uint8_t mask) {
  if (field % 3 == 2) {
    std::array<uint8_t, 32> share;
    const auto bytes = p.signing_share.Reveal(SecretAccess::Get());
    Require(bytes.size() == share.size());
    std::copy(bytes.begin(), bytes.end(), share.begin());
    share[offset % 32] ^= mask;
    p.signing_share = SecretBytes::CopyFrom(share);
    return true;
  }
  Identifier& id = field % 3 == 0 ? p.sender : p.recipient;
  std::array<uint8_t, 32> encoded = id.bytes();
  encoded[offset % encoded.size()] ^= mask;
  auto patched = Identifier::Parse(id.suite(), encoded);
  if (!patched.ok()) return false;
  id = *patched;
  return true;
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

  const bool honest_round1 = (flags->bits & 4) != 0;
  const bool honest_round2 = (flags->bits & 8) != 0;
  std::vector<DkgRound1Package> others;
  if (honest_round1) others = HonestFor(suite).round1;
  const bool read_round1 = honest_round1 || ReadList(in, [&](Reader& r) {
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

  const Honest& honest = HonestFor(suite);
  std::vector<DkgRound2Package> received;
  bool read_round2 = false;
  if (honest_round2) {
    for (const DkgRound2Package& p : honest.round2) {
      received.push_back(DkgRound2Package{p.sender, p.recipient, p.signing_share.Clone()});
    }
    read_round2 = ReadList(in, [&](Reader& r) {
      auto patch = r.Take(4);
      return patch && Patch(received[(*patch)[0] % received.size()], (*patch)[1], (*patch)[2], (*patch)[3]);
    });
  } else {
    read_round2 = ReadList(in, [&](Reader& r) {
      auto sender = r.Id(suite);
      auto recipient = r.Id(suite);
      auto share = r.Take(32);
      if (!sender || !recipient || !share) return false;
      received.push_back(DkgRound2Package{*sender, *recipient, SecretBytes::CopyFrom(*share)});
      return true;
    });
  }
  if (!read_round2) return 0;
  auto result = DkgPart3(honest.secret, others, received);
  if (!result.ok()) return 0;
  const KeyPackage& key = result->key_package;
  const PublicKeyPackage& pub = result->public_key_package;
  Require(key.suite == suite && key.identifier == self && key.min_signers == 2 && pub.min_signers == 2);
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
