// EIP-1559 "sign from JSON" (the whole path eth_signTransaction takes in the
// core: parse the wallet's JSON object, validate, RLP-encode, keccak, sign,
// serialize) against a bare secp256k1_ecdsa_sign_recoverable over a fixed
// digest, in the same binary. Prints a ratio line; the goal is that the full
// path reaches >= 80% of the raw signing rate.
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "base/hex.h"
#include "base/secret.h"
#include "benchmark/benchmark.h"
#include "chains/ethereum/rlp.h"
#include "chains/ethereum/transaction.h"
#include "chains/ethereum/transaction_request.h"
#include "crypto/hash.h"
#include "nlohmann/json.hpp"

namespace {

using namespace sigil;

const char kKeyHex[] = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

// A typical wallet request (a token transfer with an access list entry),
// compact as JSON.stringify in ethers/viem sends it.
const char kRequest[] =
    R"({"from":"0x2c7536E3605D9C16a7a3D7b1898e529396a65c23","to":"0xA0b86991c6218b36c1d19D4a2e9Eb0cE360)"
    R"(6eB48","value":"0x0","gas":"0x186a0","maxFeePerGas":"0x6fc23ac00","maxPriorityFeePerGas":"0x3b9a)"
    R"(ca00","nonce":"0x2a","chainId":"0x1","type":"0x2","data":"0xa9059cbb0000000000000000000000007099)"
    R"(7970c51812dc3a010c7d01b50e0d17dc79c800000000000000000000000000000000000000000000000000000000000f)"
    R"(4240","accessList":[{"address":"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48","storageKeys":["0x00)"
    R"(00000000000000000000000000000000000000000000000000000000000001"]}]})";

void BM_Eip1559SignFromJson(benchmark::State& state) {
  SecretBytes key = SecretBytes::CopyFrom(*HexDecode(kKeyHex));
  std::string request = kRequest;
  size_t bytes = 0;
  for (auto _ : state) {
    auto tx = eth::TransactionFromJson(std::string_view(request));
    if (!tx.ok()) {
      state.SkipWithError("TransactionFromJson failed");
      break;
    }
    auto signed_tx = eth::Sign(*tx, key);
    if (!signed_tx.ok()) {
      state.SkipWithError("Sign failed");
      break;
    }
    Bytes raw = signed_tx->Encode();
    bytes += raw.size();
    benchmark::DoNotOptimize(raw.data());
  }
  state.SetItemsProcessed(state.iterations());
  benchmark::DoNotOptimize(bytes);
}
BENCHMARK(BM_Eip1559SignFromJson);

void BM_RawSecp256k1SignRecoverable(benchmark::State& state) {
  secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  std::array<uint8_t, 32> seed{};
  seed[0] = 1;
  if (!secp256k1_context_randomize(ctx, seed.data())) state.SkipWithError("randomize failed");
  Bytes key = *HexDecode(kKeyHex);
  crypto::Hash256 digest = crypto::Keccak256(AsBytes("a fixed 1559 signing hash stand-in"));
  secp256k1_ecdsa_recoverable_signature sig;
  for (auto _ : state) {
    int ok = secp256k1_ecdsa_sign_recoverable(ctx, &sig, digest.data(), key.data(), nullptr, nullptr);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(&sig);
  }
  state.SetItemsProcessed(state.iterations());
  secp256k1_context_destroy(ctx);
}
BENCHMARK(BM_RawSecp256k1SignRecoverable);

// The same with the JSON-RPC params object already parsed (the RPC layer
// parses the request text once; FromJson then reads the object).
void BM_Eip1559SignFromJsonObject(benchmark::State& state) {
  SecretBytes key = SecretBytes::CopyFrom(*HexDecode(kKeyHex));
  nlohmann::json object = nlohmann::json::parse(kRequest);
  for (auto _ : state) {
    auto tx = eth::TransactionFromJson(object);
    if (!tx.ok()) {
      state.SkipWithError("TransactionFromJson failed");
      break;
    }
    auto signed_tx = eth::Sign(*tx, key);
    if (!signed_tx.ok()) {
      state.SkipWithError("Sign failed");
      break;
    }
    Bytes raw = signed_tx->Encode();
    benchmark::DoNotOptimize(raw.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Eip1559SignFromJsonObject);

// The parts of the path other than signing, to show where the time goes.
void BM_Eip1559JsonParseEncodeHash(benchmark::State& state) {
  std::string request = kRequest;
  for (auto _ : state) {
    auto tx = eth::TransactionFromJson(std::string_view(request));
    crypto::Hash256 h = tx->SigningHash();
    benchmark::DoNotOptimize(h.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Eip1559JsonParseEncodeHash);

// Records items/s per benchmark so main can print the ratio.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      auto it = run.counters.find("items_per_second");
      if (it != run.counters.end()) {
        std::string name = run.benchmark_name();
        if (name == "BM_Eip1559SignFromJson") from_json_text_ = it->second.value;
        if (name == "BM_Eip1559SignFromJsonObject") from_json_object_ = it->second.value;
        if (name == "BM_RawSecp256k1SignRecoverable") raw_ = it->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  double from_json_text() const { return from_json_text_; }
  double from_json_object() const { return from_json_object_; }
  double raw() const { return raw_; }

 private:
  double from_json_text_ = 0;
  double from_json_object_ = 0;
  double raw_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  if (reporter.raw() > 0) {
    if (reporter.from_json_object() > 0) {
      std::printf("ratio eth sign-from-JSON (params object) / raw secp256k1_ecdsa_sign_recoverable: "
                  "%.0f/s / %.0f/s = %.1f%%\n",
                  reporter.from_json_object(), reporter.raw(), 100.0 * reporter.from_json_object() / reporter.raw());
    }
    if (reporter.from_json_text() > 0) {
      std::printf("ratio eth sign-from-JSON (text, incl. JSON parse) / raw secp256k1_ecdsa_sign_recoverable: "
                  "%.0f/s / %.0f/s = %.1f%% (goal >= 80%%)\n",
                  reporter.from_json_text(), reporter.raw(), 100.0 * reporter.from_json_text() / reporter.raw());
    }
  }
  benchmark::Shutdown();
  return 0;
}
