// The audit log's costs: durable append throughput with group commit (1, 8
// and 64 concurrent appenders, real fsync), raw append cost without fsync,
// offline verification throughput, and proof generation at 10,000 and
// 1,000,000 records.
//
// Counters: items/s is records/s (or proofs/s); records_per_fsync shows how
// many appends one fsync covered.
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_log.h"
#include "audit/checkpoint_signer.h"
#include "audit/log_verifier.h"
#include "audit/merkle.h"
#include "base/hex.h"
#include "benchmark/benchmark.h"
#include "crypto/hash.h"

namespace {

using namespace sigil::audit;

class BenchDir {
 public:
  BenchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sigil-bench-audit-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

CheckpointSigner& Signer() {
  static auto* signer = Ed25519SeedSigner::Create(sigil::SecretBytes::CopyFrom(sigil::Bytes(32, 0x42)))->release();
  return *signer;
}

AuditRecord Record(uint64_t i) {
  AuditRecord r;
  r.type = "sign.request";
  r.time_ms = 1767225600000 + i;
  r.principal = "agent-" + std::to_string(i % 16);
  r.key = "trader";
  r.decision = "allow";
  r.rule = "small-payments";
  r.reason = "within the 24h budget";
  r.payload_hash = sigil::HexEncode(sigil::crypto::Sha256(sigil::AsBytes(std::to_string(i))));
  r.signature_hash = r.payload_hash;
  r.extra = {{"chain_id", "1"}, {"to", "0x1111111111111111111111111111111111111111"}, {"value", "1000"}};
  return r;
}

std::unique_ptr<AuditLog> OpenLog(const std::string& path, bool sync) {
  AuditLogOptions o;
  o.signer = &Signer();
  o.sync = sync;
  o.background_checkpoints = false;
  auto log = AuditLog::Open(path, o);
  if (!log.ok()) std::abort();
  return std::move(log).value();
}

// state.range(0) appenders share one log; each iteration appends 256
// records in total, durably.
void BM_AppendGroupCommit(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  constexpr int kPerIteration = 256;
  BenchDir dir;
  auto log = OpenLog(dir.File("audit.log"), /*sync=*/true);
  uint64_t next = 0;
  for (auto _ : state) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      const int share = kPerIteration / threads + (t < kPerIteration % threads ? 1 : 0);
      const uint64_t base = next;
      next += static_cast<uint64_t>(share);
      pool.emplace_back([&log, share, base] {
        for (int i = 0; i < share; ++i) {
          if (!log->Append(Record(base + static_cast<uint64_t>(i))).ok()) std::abort();
        }
      });
    }
    for (auto& th : pool) th.join();
  }
  const AuditLogStats stats = log->Stats();
  state.SetItemsProcessed(static_cast<int64_t>(stats.records_appended));
  state.counters["records_per_fsync"] =
      static_cast<double>(stats.records_appended) / static_cast<double>(std::max<uint64_t>(1, stats.fsyncs));
  state.counters["max_batch"] = static_cast<double>(stats.max_batch_records);
}
BENCHMARK(BM_AppendGroupCommit)->Arg(1)->Arg(8)->Arg(64)->UseRealTime()->Unit(benchmark::kMillisecond);

// Encoding, hashing, framing and write(2) without fsync: the CPU side.
void BM_AppendNoSync(benchmark::State& state) {
  BenchDir dir;
  auto log = OpenLog(dir.File("audit.log"), /*sync=*/false);
  uint64_t i = 0;
  for (auto _ : state) {
    if (!log->Append(Record(i++)).ok()) std::abort();
  }
  state.SetItemsProcessed(static_cast<int64_t>(i));
}
BENCHMARK(BM_AppendNoSync);

// Offline verification of a 10,000-record export.
void BM_VerifyExport(benchmark::State& state) {
  const uint64_t records = static_cast<uint64_t>(state.range(0));
  BenchDir dir;
  sigil::Bytes bytes;
  {
    auto log = OpenLog(dir.File("audit.log"), /*sync=*/false);
    for (uint64_t i = 0; i < records; ++i) {
      if (!log->Append(Record(i)).ok()) std::abort();
    }
    if (!log->Export(dir.File("export")).ok()) std::abort();
    bytes = PosixEnv().ReadWholeFile(dir.File("export")).value();
  }
  for (auto _ : state) {
    VerifyReport report = VerifyLogBytes(bytes, Signer().PublicKey());
    if (!report.valid) std::abort();
    benchmark::DoNotOptimize(report.root);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_VerifyExport)->Arg(10000)->Unit(benchmark::kMillisecond);

// A tree of n leaves, built once per size from leaf hashes.
const MerkleTree& Tree(uint64_t n) {
  static std::map<uint64_t, std::unique_ptr<MerkleTree>> trees;
  auto& tree = trees[n];
  if (!tree) {
    tree = std::make_unique<MerkleTree>();
    tree->Reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      uint8_t le[8];
      for (int k = 0; k < 8; ++k) le[k] = static_cast<uint8_t>(i >> (8 * k));
      tree->Append(HashLeaf(le));
    }
  }
  return *tree;
}

// Building the tree from leaf hashes (what Open does after reading records).
void BM_BuildTree(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  std::vector<Hash> leaves(n);
  for (uint64_t i = 0; i < n; ++i) leaves[i] = HashLeaf(sigil::AsBytes(std::to_string(i)));
  for (auto _ : state) {
    MerkleTree tree;
    tree.Reserve(n);
    for (const Hash& h : leaves) tree.Append(h);
    benchmark::DoNotOptimize(tree.Root());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_BuildTree)->Arg(10000)->Arg(1000000)->Unit(benchmark::kMillisecond);

void BM_InclusionProof(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  const MerkleTree& tree = Tree(n);
  const Hash root = tree.Root();
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    const uint64_t i = rng() % n;
    auto path = tree.InclusionPath(i, n);
    benchmark::DoNotOptimize(path);
    state.PauseTiming();
    if (!VerifyInclusion(i, n, tree.LeafHash(i), *path, root).ok()) std::abort();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InclusionProof)->Arg(10000)->Arg(1000000)->Unit(benchmark::kMicrosecond);

void BM_ConsistencyProof(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  const MerkleTree& tree = Tree(n);
  std::mt19937_64 rng(2);
  for (auto _ : state) {
    const uint64_t old_size = 1 + rng() % (n - 1);
    auto path = tree.ConsistencyPath(old_size, n);
    benchmark::DoNotOptimize(path);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConsistencyProof)->Arg(10000)->Arg(1000000)->Unit(benchmark::kMicrosecond);

// Root at an arbitrary earlier size (what checkpoint verification needs).
void BM_RootAt(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  const MerkleTree& tree = Tree(n);
  std::mt19937_64 rng(3);
  for (auto _ : state) benchmark::DoNotOptimize(tree.RootAt(1 + rng() % n));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RootAt)->Arg(1000000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
