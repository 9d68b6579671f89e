// Fuzzes the decoding and checking of FROST signing messages from other
// parties (RFC 9591 §5): commitment lists, signature shares and final
// signatures, both ciphersuites, against the RFC 9591 Appendix E key
// (dealer secret and coefficient below; identifiers 1..3).
//
// Input: flags byte (bit 0: secp256k1, else Ed25519; bits 1-2: operation),
// then for operations 0-2:
//   n (1 byte, n % 4 commitments), each: identifier (32) || hiding (E) || binding (E)
//   m (1 byte, m % 4 shares),      each: identifier (32) || share (32)
//   the rest: the message
// with E = 32 (Ed25519) or 33 (secp256k1). Operations:
//   0  VerifySignatureShare of each share, and the binding factors of the list;
//   1  Aggregate;
//   2  Sign as participant 1 with the Appendix E nonce randomness (the shares
//      read are ignored);
//   3  VerifySignature: L (1 byte), an L-byte signature, the rest the message.
// Invariants: a share that verifies is a canonical scalar of a participant
// in the list; an aggregate is a signature that verifies under the group
// key; a share that Sign makes verifies with the same list and message.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "frost_fuzz_input.h"

using namespace sigil;
using namespace sigil::crypto::frost;
using namespace sigil::crypto::frost::fuzzing;

namespace {

struct Fixture {
  DealerOutput dealer;
  Bytes hiding_randomness;  // participant 1, round one
  Bytes binding_randomness;
};

Fixture Make(Suite suite, std::string_view secret, std::string_view coefficient, std::string_view hiding,
             std::string_view binding) {
  const SecretBytes coefficients[] = {SecretBytes::CopyFrom(Literal(coefficient))};
  auto dealer = SplitSecret(suite, SecretBytes::CopyFrom(Literal(secret)), coefficients, 3);
  Require(dealer.ok());
  return Fixture{*std::move(dealer), Literal(hiding), Literal(binding)};
}

const Fixture& FixtureFor(Suite suite) {
  // RFC 9591 Appendix E.1 and E.5.
  static const Fixture* const ed25519 =
      new Fixture(Make(Suite::kEd25519Sha512, "7b1c33d3f5291d85de664833beb1ad469f7fb6025a0ec78b3a790c6e13a98304",
                       "178199860edd8c62f5212ee91eff1295d0d670ab4ed4506866bae57e7030b204",
                       "0fd2e39e111cdc266f6c0f4d0fd45c947761f1f5d3cb583dfcb9bbaf8d4c9fec",
                       "69cd85f631d5f7f2721ed5e40519b1366f340a87c2f6856363dbdcda348a7501"));
  static const Fixture* const secp256k1 =
      new Fixture(Make(Suite::kSecp256k1Sha256, "0d004150d27c3bf2a42f312683d35fac7394b1e9e318249c1bfe7f0795a83114",
                       "fbf85eadae3058ea14f19148bb72b45e4399c0b16028acaf0395c9b03c823579",
                       "7ea5ed09af19f6ff21040c07ec2d2adbd35b759da5a401d4c99dd26b82391cb2",
                       "47acab018f116020c10cb9b9abdc7ac10aae1b48ca6e36dc15acb6ec9be5cdc5"));
  return suite == Suite::kEd25519Sha512 ? *ed25519 : *secp256k1;
}

bool Contains(std::span<const SigningCommitment> list, const Identifier& id) {
  for (const SigningCommitment& c : list) {
    if (c.identifier == id) return true;
  }
  return false;
}

void CheckSignature(Suite suite, const PublicKeyPackage& package, Reader& in) {
  auto length = in.Byte();
  if (!length) return;
  auto signature = in.Take(*length);
  if (!signature) return;
  if (!VerifySignature(suite, package.group_public_key, in.Rest(), *signature)) return;
  const internal::Group& g = internal::GroupFor(suite);
  Require(signature->size() == g.ElementSize() + 32);
  Require(g.ValidateElement(signature->first(g.ElementSize())).ok());
  Require(g.IsCanonicalScalar(signature->subspan(g.ElementSize())));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  auto flags = ReadFlags(in);
  if (!flags) return 0;
  const Suite suite = flags->suite;
  const int operation = (flags->bits >> 1) & 3;
  const Fixture& fixture = FixtureFor(suite);
  const PublicKeyPackage& package = fixture.dealer.public_key_package;
  if (operation == 3) {
    CheckSignature(suite, package, in);
    return 0;
  }
  const size_t element_size = flags->group->ElementSize();

  std::vector<SigningCommitment> commitments;
  const bool read_commitments = ReadList(in, [&](Reader& r) {
    auto id = r.Id(suite);
    auto hiding = r.TakeBytes(element_size);
    auto binding = r.TakeBytes(element_size);
    if (!id || !hiding || !binding) return false;
    commitments.push_back(SigningCommitment{*id, *std::move(hiding), *std::move(binding)});
    return true;
  });
  if (!read_commitments) return 0;
  std::vector<SignatureShare> shares;
  const bool read_shares = ReadList(in, [&](Reader& r) {
    auto id = r.Id(suite);
    auto share = r.TakeBytes(32);
    if (!id || !share) return false;
    shares.push_back(SignatureShare{*id, *std::move(share)});
    return true;
  });
  if (!read_shares) return 0;
  const std::span<const uint8_t> message = in.Rest();

  if (operation == 0) {
    auto factors = internal::ComputeBindingFactors(suite, package.group_public_key, commitments, message);
    if (factors.ok()) {
      Require(factors->size() == commitments.size());
      for (size_t i = 1; i < factors->size(); ++i) Require((*factors)[i - 1].identifier < (*factors)[i].identifier);
    }
    for (const SignatureShare& share : shares) {
      if (!VerifySignatureShare(package, commitments, message, share).ok()) continue;
      Require(factors.ok());
      Require(Contains(commitments, share.identifier));
      Require(flags->group->IsCanonicalScalar(share.share));
    }
  } else if (operation == 1) {
    auto signature = Aggregate(package, commitments, message, shares);
    if (signature.ok()) {
      Require(shares.size() == commitments.size());
      Require(VerifySignature(suite, package.group_public_key, message, *signature));
    }
  } else {
    const KeyPackage& signer = fixture.dealer.key_packages[0];
    auto nonces = sigil::crypto::frost::internal::CommitWithRandomness(signer, std::span<const uint8_t, 32>(fixture.hiding_randomness.data(), 32),
                                       std::span<const uint8_t, 32>(fixture.binding_randomness.data(), 32));
    Require(nonces.ok());
    auto share = Sign(signer, *std::move(nonces), message, commitments);
    if (share.ok()) {
      Require(share->identifier == signer.identifier);
      Require(VerifySignatureShare(package, commitments, message, *share).ok());
    }
  }
  return 0;
}
