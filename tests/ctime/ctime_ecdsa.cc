// Constant-time check for secp256k1 signing, run under valgrind memcheck
// (see run_ctime.sh). The private key is marked "undefined"; memcheck
// then reports every branch and memory index that depends on it.
//
//   ctime_ecdsa raw    libsecp256k1 called directly: the baseline. The
//                      Debian libsecp256k1 is built without its VALGRIND
//                      declassification, so its few intentional "leaks"
//                      (nonce validity, success bit) show up here too.
//   ctime_ecdsa sigil  the same operations through sigil::crypto, which
//                      must add no report the baseline does not have.
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <valgrind/memcheck.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/secret.h"
#include "ctime_main.h"
#include "crypto/random.h"
#include "crypto/secp256k1.h"

namespace {

constexpr std::array<uint8_t, 32> kDigest = {0xda, 0xf5, 0xa7, 0x79, 0xae, 0x97, 0x2f, 0x97, 0x21, 0x97, 0x30,
                                             0x3d, 0x7b, 0x57, 0x47, 0x46, 0xc7, 0xef, 0x83, 0xea, 0xda, 0xc0,
                                             0xf2, 0x79, 0x1a, 0xd2, 0x3d, 0xb9, 0x2e, 0x4c, 0x8e, 0x53};

sigil::SecretBytes MakeKey() {
  std::array<uint8_t, 32> bytes;
  bytes.fill(0x46);
  return sigil::SecretBytes::CopyFrom(bytes);
}

void MarkSecret(sigil::SecretBytes& key) {
  auto span = key.RevealMutable(sigil::SecretAccess::Get());
  VALGRIND_MAKE_MEM_UNDEFINED(span.data(), span.size());
}

int RunRaw() {
  secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  std::array<uint8_t, 32> seed;
  sigil::crypto::RandomBytes(seed);
  if (!secp256k1_context_randomize(ctx, seed.data())) return 1;
  sigil::SecretBytes key = MakeKey();
  MarkSecret(key);
  const uint8_t* k = key.Reveal(sigil::SecretAccess::Get()).data();

  secp256k1_pubkey pubkey;
  int ok = secp256k1_ec_pubkey_create(ctx, &pubkey, k);
  VALGRIND_MAKE_MEM_DEFINED(&ok, sizeof(ok));
  VALGRIND_MAKE_MEM_DEFINED(&pubkey, sizeof(pubkey));
  if (!ok) return 1;

  secp256k1_ecdsa_recoverable_signature sig;
  ok = secp256k1_ecdsa_sign_recoverable(ctx, &sig, kDigest.data(), k, nullptr, nullptr);
  VALGRIND_MAKE_MEM_DEFINED(&ok, sizeof(ok));
  VALGRIND_MAKE_MEM_DEFINED(&sig, sizeof(sig));
  if (!ok) return 1;
  std::array<uint8_t, 64> compact;
  int recid = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, compact.data(), &recid, &sig);
  std::printf("raw: r[0]=%02x recid=%d\n", compact[0], recid);
  secp256k1_context_destroy(ctx);
  return 0;
}

int RunSigil() {
  sigil::SecretBytes key = MakeKey();
  MarkSecret(key);
  auto pub = sigil::crypto::DeriveSecp256k1PublicKey(key);
  if (!pub.ok()) return 1;
  auto sig = sigil::crypto::SignRecoverable(key, kDigest);
  if (!sig.ok()) return 1;
  std::printf("sigil: r[0]=%02x recid=%d\n", sig->r[0], sig->recovery_id);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return CtimeMain(argc, argv, RunRaw, RunSigil); }
