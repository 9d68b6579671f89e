// Keystore benchmarks: unlock time with 1 and 100,000 keys (passphrase with
// the production Argon2id cost, and master key), key creation rate, and sign
// rate through the software keystore with the unsealed key cached and not.
//
// Everything runs on the real embedded store (SQLite, WAL, synchronous=FULL)
// in a temporary directory.
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/hex.h"
#include "benchmark/benchmark.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "keystore/key_material.h"
#include "keystore/master_key_record.h"
#include "keystore/sealed_record.h"
#include "keystore/software_key_store.h"
#include "store/sqlite_store.h"

namespace sigil::keystore {
namespace {

const SecretBytes& Passphrase() {
  static const SecretBytes* p = new SecretBytes(SecretBytes::CopyFrom(std::string_view("benchmark passphrase")));
  return *p;
}

std::string TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "sigil-bench-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

// A data directory holding a keystore with `count` keys, unlocked by a
// passphrase (production Argon2id cost) or by a master key. The keys are written as sealed records in one
// transaction rather than by `count` Generate calls, which would measure
// fsync instead of the keystore.
struct Populated {
  std::string dir;
  SecretBytes master;
  std::unique_ptr<store::SqliteStore> store;
  std::vector<KeyInfo> keys;

  ~Populated() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

Populated& PopulatedWith(int count, bool passphrase) {
  static auto* cache = new std::map<std::pair<int, bool>, std::unique_ptr<Populated>>();
  auto& slot = (*cache)[{count, passphrase}];
  if (slot) return *slot;
  slot = std::make_unique<Populated>();
  Populated& p = *slot;
  p.dir = TempDir();
  p.store = std::move(store::SqliteStore::Open(p.dir + "/data", {})).value();
  if (passphrase) {
    if (!SoftwareKeyStore::CreateWithPassphrase(*p.store, Passphrase(), crypto::Argon2Params::Moderate(), {}).ok()) {
      std::abort();
    }
    // The same master key the keystore derives, to seal the bulk records.
    auto master_bytes = p.store->Get(SoftwareKeyStore::kMasterTable, SoftwareKeyStore::kMasterRow);
    MasterKeyRecord record = std::move(DecodeMasterKeyRecord(**master_bytes)).value();
    p.master = std::move(crypto::Argon2id(Passphrase(), record.salt, record.argon2, 32)).value();
  } else {
    p.master = crypto::RandomSecret(32);
    if (!SoftwareKeyStore::CreateWithMasterKey(*p.store, p.master, {}).ok()) std::abort();
  }
  auto sealer = std::move(RecordSealer::Create(p.master.Clone())).value();
  std::vector<std::pair<std::string, std::vector<uint8_t>>> records;
  for (int i = 0; i < count; ++i) {
    KeyInfo info;
    info.id = NewKeyId();
    info.name = "bench-" + std::to_string(i);
    info.type = i % 3 == 0 ? KeyType::kSecp256k1 : (i % 3 == 1 ? KeyType::kSchnorr : KeyType::kEd25519);
    info.backend = "software";
    info.created_at = absl::FromUnixSeconds(1767225600);
    SecretBytes priv = SecretBytes::CopyFrom(crypto::Sha256(AsBytes("bench key " + std::to_string(i))));
    info.public_key = std::move(DerivePublicKey(info.type, priv)).value();
    records.emplace_back(SoftwareKeyStore::RecordKey(info.id, 1),
                         EncodeSealedKeyRecord(std::move(sealer->Seal(info, priv)).value()));
    p.keys.push_back(std::move(info));
  }
  absl::Status st = p.store->RunTransaction([&](store::Transaction& tx) -> absl::Status {
    for (size_t i = 0; i < records.size(); ++i) {
      absl::Status put = tx.Put(SoftwareKeyStore::kNamesTable, p.keys[i].name, AsBytes(p.keys[i].id));
      if (!put.ok()) return put;
      put = tx.Put(SoftwareKeyStore::kKeysTable, records[i].first, records[i].second);
      if (!put.ok()) return put;
    }
    return absl::OkStatus();
  });
  if (!st.ok()) std::abort();
  return p;
}

absl::Status SignOnce(KeyStore& ks, const KeyInfo& key) {
  const crypto::Hash256 digest = crypto::Sha256(AsBytes(key.id));
  switch (key.type) {
    case KeyType::kSecp256k1:
      return ks.SignEcdsa(key.id, KeyPurpose::kSigning, digest).status();
    case KeyType::kSchnorr:
      return ks.SignSchnorr(key.id, KeyPurpose::kSigning, digest).status();
    case KeyType::kEd25519:
      return ks.SignEd25519(key.id, KeyPurpose::kSigning, digest).status();
  }
  return absl::InternalError("unknown type");
}

// Unlock with the passphrase, then the first signature with a random key:
// Argon2id (MODERATE: 3 passes, 256 MiB) dominates and does not grow with the
// number of keys.
void BM_UnlockWithPassphraseAndSign(benchmark::State& state) {
  Populated& p = PopulatedWith(static_cast<int>(state.range(0)), /*passphrase=*/true);
  std::mt19937 rng(1);
  for (auto _ : state) {
    auto ks = SoftwareKeyStore::OpenWithPassphrase(*p.store, Passphrase(), {});
    if (!ks.ok()) {
      state.SkipWithError("unlock failed");
      break;
    }
    if (!SignOnce(**ks, p.keys[rng() % p.keys.size()]).ok()) state.SkipWithError("sign failed");
  }
  state.counters["keys"] = static_cast<double>(p.keys.size());
}
BENCHMARK(BM_UnlockWithPassphraseAndSign)->Arg(1)->Arg(100000)->Iterations(3)->Unit(benchmark::kMillisecond);

// What follows the passphrase check: open with the master key (check value)
// and sign with a random key (read, authenticate and unseal one record).
void BM_UnlockWithMasterKeyAndSign(benchmark::State& state) {
  Populated& p = PopulatedWith(static_cast<int>(state.range(0)), /*passphrase=*/false);
  std::mt19937 rng(2);
  for (auto _ : state) {
    auto ks = SoftwareKeyStore::OpenWithMasterKey(*p.store, p.master, {});
    if (!ks.ok()) {
      state.SkipWithError("unlock failed");
      break;
    }
    if (!SignOnce(**ks, p.keys[rng() % p.keys.size()]).ok()) state.SkipWithError("sign failed");
  }
  state.counters["keys"] = static_cast<double>(p.keys.size());
}
BENCHMARK(BM_UnlockWithMasterKeyAndSign)->Arg(1)->Arg(100000)->Unit(benchmark::kMicrosecond);

// Generate: new key pair, seal, one durable transaction (fsync).
void BM_KeyCreation(benchmark::State& state) {
  std::string dir = TempDir();
  {
    auto store = std::move(store::SqliteStore::Open(dir + "/data", {})).value();
    auto ks = std::move(SoftwareKeyStore::CreateWithMasterKey(*store, crypto::RandomSecret(32), {})).value();
    const KeyType type = static_cast<KeyType>(state.range(0));
    int n = 0;
    for (auto _ : state) {
      if (!ks->Generate("k" + std::to_string(n++), type, KeyPurpose::kSigning).ok()) state.SkipWithError("failed");
    }
    state.SetLabel(std::string(KeyTypeName(type)));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
BENCHMARK(BM_KeyCreation)
    ->Arg(static_cast<int>(KeyType::kSecp256k1))
    ->Arg(static_cast<int>(KeyType::kEd25519))
    ->Unit(benchmark::kMicrosecond);

// Sign through the keystore: every call re-reads and authenticates the key's
// record; with the cache the private key is not unsealed again.
void BM_Sign(benchmark::State& state) {
  const KeyType type = static_cast<KeyType>(state.range(0));
  const bool cached = state.range(1) != 0;
  std::string dir = TempDir();
  {
    auto store = std::move(store::SqliteStore::Open(dir + "/data", {})).value();
    SoftwareKeyStoreOptions options;
    options.unsealed_key_cache_size = cached ? 1000 : 0;
    auto ks =
        std::move(SoftwareKeyStore::CreateWithMasterKey(*store, crypto::RandomSecret(32), options)).value();
    KeyInfo key = std::move(ks->Generate("signer", type, KeyPurpose::kSigning)).value();
    for (auto _ : state) {
      if (!SignOnce(*ks, key).ok()) state.SkipWithError("sign failed");
    }
    state.SetLabel(std::string(KeyTypeName(type)) + (cached ? " cached" : " unsealed each time"));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
BENCHMARK(BM_Sign)
    ->Args({static_cast<int>(KeyType::kSecp256k1), 1})
    ->Args({static_cast<int>(KeyType::kSchnorr), 1})
    ->Args({static_cast<int>(KeyType::kEd25519), 1})
    ->Args({static_cast<int>(KeyType::kSecp256k1), 0})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sigil::keystore

BENCHMARK_MAIN();
