// Sigil's crypto wrappers against the raw library calls they wrap, to keep
// the cost of the safety layer (key checks, locked memory, normalisation)
// visible. Each pair signs/hashes the same input; items/s is operations/s.
#include <cryptopp/keccak.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_recovery.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "base/secret.h"
#include "benchmark/benchmark.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "crypto/secp256k1.h"
#include "crypto/secp256k1_key_table.h"

namespace {

using sigil::SecretAccess;
using sigil::SecretBytes;

// A fixed, valid secp256k1 scalar and Ed25519 seed (benchmark data, not a
// secret).
constexpr std::array<uint8_t, 32> kKey = {0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46,
                                          0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46,
                                          0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46, 0x46};
constexpr std::array<uint8_t, 32> kDigest = {0xda, 0xf5, 0xa7, 0x79, 0xae, 0x97, 0x2f, 0x97, 0x21, 0x97, 0x30,
                                             0x3d, 0x7b, 0x57, 0x47, 0x46, 0xc7, 0xef, 0x83, 0xea, 0xda, 0xc0,
                                             0xf2, 0x79, 0x1a, 0xd2, 0x3d, 0xb9, 0x2e, 0x4c, 0x8e, 0x53};

// A context set up the way Sigil's is (created once, randomised).
secp256k1_context* RawContext() {
  static secp256k1_context* ctx = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    std::array<uint8_t, 32> seed;
    sigil::crypto::RandomBytes(seed);
    if (!secp256k1_context_randomize(c, seed.data())) std::abort();
    return c;
  }();
  return ctx;
}

void BM_RawEcdsaSignRecoverable(benchmark::State& state) {
  secp256k1_context* ctx = RawContext();
  secp256k1_ecdsa_recoverable_signature sig;
  std::array<uint8_t, 64> out;
  int recid = 0;
  for (auto _ : state) {
    if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, kDigest.data(), kKey.data(), nullptr, nullptr)) std::abort();
    secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, out.data(), &recid, &sig);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawEcdsaSignRecoverable);

void BM_SigilSignRecoverable(benchmark::State& state) {
  const SecretBytes key = SecretBytes::CopyFrom(kKey);
  for (auto _ : state) {
    auto sig = sigil::crypto::SignRecoverable(key, kDigest);
    if (!sig.ok()) std::abort();
    benchmark::DoNotOptimize(*sig);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SigilSignRecoverable);

// The costs behind an HSM signature's recovery id: the public-key recovery
// and verification primitives, and Sigil's normalise-and-find-v over
// signatures with both recovery ids and both halves of s (as a token gives).
void BM_RawEcdsaRecover(benchmark::State& state) {
  secp256k1_context* ctx = RawContext();
  secp256k1_ecdsa_recoverable_signature sig;
  if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, kDigest.data(), kKey.data(), nullptr, nullptr)) std::abort();
  secp256k1_pubkey pubkey;
  for (auto _ : state) {
    if (!secp256k1_ecdsa_recover(ctx, &pubkey, &sig, kDigest.data())) std::abort();
    benchmark::DoNotOptimize(pubkey);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawEcdsaRecover);

void BM_RawEcdsaVerify(benchmark::State& state) {
  secp256k1_context* ctx = RawContext();
  secp256k1_ecdsa_signature sig;
  secp256k1_pubkey pubkey;
  if (!secp256k1_ecdsa_sign(ctx, &sig, kDigest.data(), kKey.data(), nullptr, nullptr) ||
      !secp256k1_ec_pubkey_create(ctx, &pubkey, kKey.data())) {
    std::abort();
  }
  for (auto _ : state) {
    if (!secp256k1_ecdsa_verify(ctx, &sig, kDigest.data(), &pubkey)) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawEcdsaVerify);

void BM_SigilNormalizeAndFindRecoveryId(benchmark::State& state) {
  const SecretBytes key = SecretBytes::CopyFrom(kKey);
  auto pub = sigil::crypto::DeriveSecp256k1PublicKey(key);
  if (!pub.ok()) std::abort();
  // 64 signatures over different digests; s is flipped to high on every
  // other one, like a token's CKM_ECDSA output.
  std::vector<std::pair<sigil::crypto::Hash256, std::array<uint8_t, 64>>> cases;
  for (int i = 0; i < 64; ++i) {
    sigil::crypto::Hash256 digest = kDigest;
    digest[0] = static_cast<uint8_t>(i);
    auto sig = sigil::crypto::SignRecoverable(key, digest);
    if (!sig.ok()) std::abort();
    std::array<uint8_t, 64> rs;
    std::copy(sig->r.begin(), sig->r.end(), rs.begin());
    std::copy(sig->s.begin(), sig->s.end(), rs.begin() + 32);
    if (i % 2 == 1) {
      secp256k1_ecdsa_signature parsed;
      if (!secp256k1_ecdsa_signature_parse_compact(RawContext(), &parsed, rs.data())) std::abort();
      // n - s by negating the scalar as a secret-key tweak: s is a valid
      // scalar.
      std::array<uint8_t, 32> s;
      std::copy(rs.begin() + 32, rs.end(), s.begin());
      if (!secp256k1_ec_seckey_negate(RawContext(), s.data())) std::abort();
      std::copy(s.begin(), s.end(), rs.begin() + 32);
    }
    cases.emplace_back(digest, rs);
  }
  // Arg 1: through the key's precomputed table (what the HSM store uses).
  auto table = sigil::crypto::Secp256k1KeyTable::Build(*pub);
  if (!table.ok()) std::abort();
  const bool with_table = state.range(0) == 1;
  size_t i = 0;
  for (auto _ : state) {
    const auto& [digest, rs] = cases[i++ % cases.size()];
    auto sig = with_table ? sigil::crypto::NormalizeAndFindRecoveryId(digest, rs, **table)
                          : sigil::crypto::NormalizeAndFindRecoveryId(digest, rs, *pub);
    if (!sig.ok()) std::abort();
    benchmark::DoNotOptimize(*sig);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SigilNormalizeAndFindRecoveryId)->ArgName("table")->Arg(0)->Arg(1);

void BM_RawSchnorrSign32(benchmark::State& state) {
  secp256k1_context* ctx = RawContext();
  secp256k1_keypair keypair;
  if (!secp256k1_keypair_create(ctx, &keypair, kKey.data())) std::abort();
  std::array<uint8_t, 32> aux{};
  std::array<uint8_t, 64> sig;
  for (auto _ : state) {
    // Fresh aux randomness per signature, as SchnorrSign does.
    sigil::crypto::RandomBytes(aux);
    if (!secp256k1_schnorrsig_sign32(ctx, sig.data(), kDigest.data(), &keypair, aux.data())) std::abort();
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawSchnorrSign32);

// What SchnorrSign has to do, since it takes the 32-byte key rather than a
// cached keypair: derive the keypair (one base-point multiplication) first.
void BM_RawSchnorrSign32WithKeypairCreate(benchmark::State& state) {
  secp256k1_context* ctx = RawContext();
  std::array<uint8_t, 32> aux{};
  std::array<uint8_t, 64> sig;
  for (auto _ : state) {
    secp256k1_keypair keypair;
    if (!secp256k1_keypair_create(ctx, &keypair, kKey.data())) std::abort();
    sigil::crypto::RandomBytes(aux);
    if (!secp256k1_schnorrsig_sign32(ctx, sig.data(), kDigest.data(), &keypair, aux.data())) std::abort();
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawSchnorrSign32WithKeypairCreate);

void BM_SigilSchnorrSign(benchmark::State& state) {
  const SecretBytes key = SecretBytes::CopyFrom(kKey);
  for (auto _ : state) {
    // Includes keypair creation from the 32-byte key on every call.
    auto sig = sigil::crypto::SchnorrSign(key, kDigest);
    if (!sig.ok()) std::abort();
    benchmark::DoNotOptimize(*sig);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SigilSchnorrSign);

void BM_RawEd25519SignDetached(benchmark::State& state) {
  if (sodium_init() < 0) std::abort();
  std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> pk;
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> sk;
  crypto_sign_seed_keypair(pk.data(), sk.data(), kKey.data());
  const std::vector<uint8_t> message(static_cast<size_t>(state.range(0)), 0xab);
  std::array<uint8_t, crypto_sign_BYTES> sig;
  for (auto _ : state) {
    crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), sk.data());
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawEd25519SignDetached)->Arg(32)->Arg(1024);

// What Ed25519Sign has to do, since it takes the 32-byte seed: expand it
// (SHA-512 and one base-point multiplication for the public key) first.
void BM_RawEd25519SignWithSeedExpansion(benchmark::State& state) {
  if (sodium_init() < 0) std::abort();
  const std::vector<uint8_t> message(static_cast<size_t>(state.range(0)), 0xab);
  std::array<uint8_t, crypto_sign_BYTES> sig;
  for (auto _ : state) {
    std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> pk;
    std::array<uint8_t, crypto_sign_SECRETKEYBYTES> sk;
    crypto_sign_seed_keypair(pk.data(), sk.data(), kKey.data());
    crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), sk.data());
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawEd25519SignWithSeedExpansion)->Arg(32)->Arg(1024);

void BM_SigilEd25519Sign(benchmark::State& state) {
  const SecretBytes seed = SecretBytes::CopyFrom(kKey);
  const std::vector<uint8_t> message(static_cast<size_t>(state.range(0)), 0xab);
  for (auto _ : state) {
    // Includes expanding the seed (one base-point multiplication) per call.
    auto sig = sigil::crypto::Ed25519Sign(seed, message);
    if (!sig.ok()) std::abort();
    benchmark::DoNotOptimize(*sig);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SigilEd25519Sign)->Arg(32)->Arg(1024);

void BM_RawCryptoppKeccak256(benchmark::State& state) {
  const std::vector<uint8_t> data(static_cast<size_t>(state.range(0)), 0x5a);
  std::array<uint8_t, 32> out;
  for (auto _ : state) {
    CryptoPP::Keccak_256 keccak;
    keccak.Update(data.data(), data.size());
    keccak.Final(out.data());
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RawCryptoppKeccak256)->Arg(32)->Arg(1024);

void BM_SigilKeccak256(benchmark::State& state) {
  const std::vector<uint8_t> data(static_cast<size_t>(state.range(0)), 0x5a);
  for (auto _ : state) {
    auto out = sigil::crypto::Keccak256(data);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SigilKeccak256)->Arg(32)->Arg(1024);

}  // namespace

BENCHMARK_MAIN();
