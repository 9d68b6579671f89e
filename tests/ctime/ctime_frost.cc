// Constant-time check for FROST signing (src/crypto/frost*.cc), run under
// valgrind memcheck (see run_ctime.sh). The signing shares and the nonce
// randomness are marked "undefined"; memcheck then reports every branch and
// memory index that depends on them.
//
//   ctime_frost raw    the library calls FROST is built from (libsodium's
//                      Ed25519 scalar and base-point operations,
//                      libsecp256k1's seckey tweaks and pubkey_create),
//                      called directly on secret operands: the baseline of
//                      what the libraries themselves report (Debian's
//                      libsecp256k1 is built without its valgrind
//                      declassification, so its validity bits show up).
//   ctime_frost sigil  round one and round two for both suites through
//                      sigil::crypto::frost, which must add no report the
//                      baseline does not have.
#include <secp256k1.h>
#include <sodium.h>
#include <valgrind/memcheck.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <vector>

#include "base/secret.h"
#include "ctime_main.h"
#include "crypto/frost.h"
#include "crypto/frost_group.h"

namespace {

using namespace sigil;
using namespace sigil::crypto::frost;

void MarkSecret(SecretBytes& s) {
  auto span = s.RevealMutable(SecretAccess::Get());
  VALGRIND_MAKE_MEM_UNDEFINED(span.data(), span.size());
}

// A scalar canonical in both suites (below 2^252 little-endian, below n
// big-endian), different per `seed`.
std::array<uint8_t, 32> FixedScalar(uint8_t seed) {
  std::array<uint8_t, 32> s;
  s.fill(seed);
  s[0] = s[31] = 0x0a;
  return s;
}

int RunRaw() {
  if (sodium_init() < 0) return 1;
  std::array<uint8_t, 32> a = FixedScalar(0x21);
  std::array<uint8_t, 32> b = FixedScalar(0x43);
  VALGRIND_MAKE_MEM_UNDEFINED(a.data(), a.size());
  VALGRIND_MAKE_MEM_UNDEFINED(b.data(), b.size());
  std::array<uint8_t, 64> wide{};
  std::memcpy(wide.data(), a.data(), 32);
  std::array<uint8_t, 32> r;
  std::array<uint8_t, 32> point;
  int ok = 1;
  // Ed25519: the operations frost_group.cc uses on secrets.
  crypto_core_ed25519_scalar_reduce(r.data(), wide.data());
  crypto_core_ed25519_scalar_add(r.data(), a.data(), b.data());
  crypto_core_ed25519_scalar_mul(r.data(), a.data(), b.data());
  crypto_core_ed25519_scalar_negate(r.data(), a.data());
  ok &= sodium_is_zero(a.data(), a.size()) == 0;
  ok &= crypto_scalarmult_ed25519_base_noclamp(point.data(), r.data()) == 0;
  // secp256k1: the same through libsecp256k1's seckey API.
  secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  std::array<uint8_t, 32> seed{};
  seed[0] = 1;
  if (!secp256k1_context_randomize(ctx, seed.data())) return 1;
  r = a;
  ok &= secp256k1_ec_seckey_tweak_add(ctx, r.data(), b.data());
  ok &= secp256k1_ec_seckey_tweak_mul(ctx, r.data(), b.data());
  ok &= secp256k1_ec_seckey_negate(ctx, r.data());
  ok &= secp256k1_ec_seckey_verify(ctx, a.data());
  secp256k1_pubkey pubkey;
  ok &= secp256k1_ec_pubkey_create(ctx, &pubkey, r.data());
  std::array<uint8_t, 33> compressed;
  size_t length = compressed.size();
  ok &= secp256k1_ec_pubkey_serialize(ctx, compressed.data(), &length, &pubkey, SECP256K1_EC_COMPRESSED);
  secp256k1_pubkey element = pubkey;
  VALGRIND_MAKE_MEM_DEFINED(&element, sizeof(element));
  ok &= secp256k1_ec_pubkey_tweak_mul(ctx, &element, b.data());
  secp256k1_context_destroy(ctx);
  VALGRIND_MAKE_MEM_DEFINED(&ok, sizeof(ok));
  VALGRIND_MAKE_MEM_DEFINED(point.data(), point.size());
  VALGRIND_MAKE_MEM_DEFINED(compressed.data(), compressed.size());
  std::printf("raw: ok=%d point[0]=%02x compressed[0]=%02x\n", ok, point[0], compressed[0]);
  return ok ? 0 : 1;
}

// Dealer, round one and round two of a 2-of-3 session for `suite`, with the
// signing shares and the nonce randomness secret. Returns false on any
// error. The dealer's polynomial is not marked: this checks signing, which
// is what runs for every signature.
bool SignOnce(Suite suite) {
  const SecretBytes group_secret = SecretBytes::CopyFrom(FixedScalar(0x35));
  const SecretBytes coefficients[] = {SecretBytes::CopyFrom(FixedScalar(0x57))};
  auto dealer = SplitSecret(suite, group_secret, coefficients, 3);
  if (!dealer.ok()) return false;
  std::vector<KeyPackage> signers;
  for (size_t k : {0, 2}) {
    const KeyPackage& dealt = dealer->key_packages[k];
    KeyPackage kp{dealt.suite,           dealt.identifier,       dealt.signing_share.Clone(),
                  dealt.verifying_share, dealt.group_public_key, dealt.min_signers};
    MarkSecret(kp.signing_share);
    signers.push_back(std::move(kp));
  }
  std::vector<SigningNonces> nonces;
  std::vector<SigningCommitment> commitments;
  for (const KeyPackage& kp : signers) {
    std::array<uint8_t, 32> hiding = FixedScalar(0x60);
    std::array<uint8_t, 32> binding = FixedScalar(0x62);
    VALGRIND_MAKE_MEM_UNDEFINED(hiding.data(), hiding.size());
    VALGRIND_MAKE_MEM_UNDEFINED(binding.data(), binding.size());
    auto n = internal::CommitWithRandomness(kp, hiding, binding);
    if (!n.ok()) return false;
    commitments.push_back(n->commitment());
    nonces.push_back(*std::move(n));
  }
  const std::array<uint8_t, 4> message = {'t', 'e', 's', 't'};
  std::vector<SignatureShare> shares;
  for (size_t k = 0; k < signers.size(); ++k) {
    auto share = Sign(signers[k], std::move(nonces[k]), message, commitments);
    if (!share.ok()) return false;
    shares.push_back(*std::move(share));
  }
  // The coordinator works on public data only.
  auto signature = Aggregate(dealer->public_key_package, commitments, message, shares);
  if (!signature.ok()) return false;
  VALGRIND_MAKE_MEM_DEFINED(signature->data(), signature->size());
  std::printf("sigil %s: signature[0]=%02x\n", suite == Suite::kEd25519Sha512 ? "ed25519" : "secp256k1",
              (*signature)[0]);
  return true;
}

int RunSigil() {
  const bool ok = SignOnce(Suite::kEd25519Sha512) && SignOnce(Suite::kSecp256k1Sha256);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) { return CtimeMain(argc, argv, RunRaw, RunSigil); }
