// HSM signing throughput: secp256k1 ECDSA through Sigil's Pkcs11KeyStore
// (session pool, key lookup in the store, C_SignInit + C_Sign, low-s
// normalisation and recovery-id search) beside raw C_SignInit + C_Sign on
// the same SoftHSM2 token and key, in the same run, with 1 and 4 threads.
// Prints the ratio; the goal is Sigil >= 90% of raw (overhead <= 10%).
//
// Sets up its own SoftHSM2 token in a temporary directory; skips with a
// message if softhsm2 is not installed.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "base/hex.h"
#include "crypto/hash.h"
#include "keystore/pkcs11/pkcs11_key_store.h"
#include "keystore/pkcs11/pkcs11_module.h"
#include "keystore/pkcs11/session_pool.h"
#include "store/sqlite_store.h"
#include "testing/softhsm_token.h"

namespace {

using namespace sigil;
using namespace sigil::keystore;
using namespace sigil::keystore::pkcs11;

struct HsmBench {
  std::unique_ptr<SoftHsmToken> token;
  std::unique_ptr<store::SqliteStore> store;
  std::shared_ptr<Pkcs11Module> module;
  std::unique_ptr<Pkcs11KeyStore> ks;
  KeyInfo key;
  std::vector<uint8_t> cka_id;
};
HsmBench* g_bench = nullptr;

std::string SetUp(HsmBench& b) {
  auto token = SoftHsmToken::Create("sigil-bench");
  if (!token.ok()) return std::string(token.status().message());
  b.token = std::move(*token);
  auto st = store::SqliteStore::Open(b.token->dir() + "/data", {});
  if (!st.ok()) return std::string(st.status().message());
  b.store = std::move(*st);
  auto module = Pkcs11Module::Load(b.token->module_path());
  if (!module.ok()) return std::string(module.status().message());
  b.module = *module;
  SessionPoolOptions po;
  po.max_sessions = 8;
  auto pool = SessionPool::Open(b.module, b.token->label(), SecretBytes::CopyFrom(b.token->pin()), po);
  if (!pool.ok()) return std::string(pool.status().message());
  auto ks = Pkcs11KeyStore::Open(*b.store, std::move(*pool), {});
  if (!ks.ok()) return std::string(ks.status().message());
  b.ks = std::move(*ks);
  auto key = b.ks->Generate("bench", KeyType::kSecp256k1, KeyPurpose::kSigning);
  if (!key.ok()) return std::string(key.status().message());
  b.key = *key;
  b.cka_id = *HexDecode(*b.ks->TokenObjectId(key->id, 1));
  return "";
}

crypto::Hash256 DigestFor(int64_t i) { return crypto::Keccak256(AsBytes("tx " + std::to_string(i))); }

// Raw PKCS#11: each thread its own logged-in session and the key handle
// found once; the loop is C_SignInit + C_Sign only.
void BM_RawCSign(benchmark::State& state) {
  CK_FUNCTION_LIST& f = g_bench->module->functions();
  CK_ULONG count = 16;
  CK_SLOT_ID slots[16];
  CK_SLOT_ID slot = 0;
  f.C_GetSlotList(CK_TRUE, slots, &count);
  for (CK_ULONG i = 0; i < count; ++i) {
    CK_TOKEN_INFO info{};
    if (f.C_GetTokenInfo(slots[i], &info) == CKR_OK &&
        std::string(reinterpret_cast<char*>(info.label), g_bench->token->label().size()) == g_bench->token->label()) {
      slot = slots[i];
    }
  }
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  if (f.C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &s) != CKR_OK) {
    state.SkipWithError("C_OpenSession failed");
    return;
  }
  std::string pin = g_bench->token->pin();
  (void)f.C_Login(s, CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(pin.data()), pin.size());
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  CK_ATTRIBUTE q[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_ID, g_bench->cka_id.data(), g_bench->cka_id.size()}};
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  CK_ULONG n = 0;
  f.C_FindObjectsInit(s, q, 2);
  f.C_FindObjects(s, &key, 1, &n);
  f.C_FindObjectsFinal(s);
  int64_t i = state.thread_index() * 1000000;
  for (auto _ : state) {
    crypto::Hash256 digest = DigestFor(i++);
    CK_MECHANISM m{CKM_ECDSA, nullptr, 0};
    uint8_t sig[64];
    CK_ULONG len = sizeof sig;
    if (f.C_SignInit(s, &m, key) != CKR_OK || f.C_Sign(s, digest.data(), digest.size(), sig, &len) != CKR_OK) {
      state.SkipWithError("C_Sign failed");
      break;
    }
    benchmark::DoNotOptimize(sig);
  }
  f.C_CloseSession(s);
  state.SetItemsProcessed(state.iterations());
}

// Through Sigil: KeyStore::SignEcdsa (store lookup, pool, sign, low-s,
// recovery id). The digest is computed in both loops alike.
void BM_SigilSignEcdsa(benchmark::State& state) {
  int64_t i = state.thread_index() * 1000000;
  for (auto _ : state) {
    auto sig = g_bench->ks->SignEcdsa(g_bench->key.id, KeyPurpose::kSigning, DigestFor(i++));
    if (!sig.ok()) {
      state.SkipWithError(std::string(sig.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(*sig);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_RawCSign)->Threads(1)->Threads(4)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_SigilSignEcdsa)->Threads(1)->Threads(4)->UseRealTime()->MinTime(1.0);

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      auto it = run.counters.find("items_per_second");
      if (it != run.counters.end()) rates_[run.benchmark_name()] = it->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  double rate(const std::string& name) const {
    auto it = rates_.find(name);
    return it == rates_.end() ? 0 : it->second;
  }

 private:
  std::map<std::string, double> rates_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (!SoftHsmToken::Installed()) {
    std::printf("bench_hsm: SKIPPED -- softhsm2 is not installed (apt-get install softhsm2)\n");
    return 0;
  }
  HsmBench bench;
  std::string error = SetUp(bench);
  if (!error.empty()) {
    std::printf("bench_hsm: SKIPPED -- cannot set up a SoftHSM2 token: %s\n", error.c_str());
    return 0;
  }
  g_bench = &bench;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  for (const char* threads : {"1", "4"}) {
    std::string suffix = std::string("/min_time:1.000/real_time/threads:") + threads;
    double raw = reporter.rate("BM_RawCSign" + suffix);
    double sigil_rate = reporter.rate("BM_SigilSignEcdsa" + suffix);
    if (raw > 0 && sigil_rate > 0) {
      std::printf("ratio HSM secp256k1 sign through Sigil / raw C_SignInit+C_Sign (%s thread%s): %.0f/s / %.0f/s = %.1f%% "
                  "(goal >= 90%%)\n",
                  threads, std::string(threads) == "1" ? "" : "s", sigil_rate, raw, 100.0 * sigil_rate / raw);
    }
  }
  g_bench = nullptr;
  bench.ks.reset();
  bench.module.reset();
  benchmark::Shutdown();
  return 0;
}
