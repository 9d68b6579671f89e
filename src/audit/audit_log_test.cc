#include "audit/audit_log.h"

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <set>
#include <thread>
#include <utility>

#include "audit/audit_testing.h"
#include "audit/fault_injecting_env.h"
#include "audit/log_format.h"
#include "gtest/gtest.h"

namespace sigil::audit {
namespace {

using testing::SampleRecord;
using testing::TempDir;
using testing::TestSigner;
using Op = FaultInjectingEnv::Op;

class AuditLogTest : public ::testing::Test {
 protected:
  AuditLogOptions Options() {
    AuditLogOptions o;
    o.signer = signer_.get();
    o.clock = &clock_;
    o.env = &env_;
    o.background_checkpoints = false;
    o.checkpoint_every_records = 100;
    return o;
  }
  std::unique_ptr<AuditLog> OpenLog(AuditLogOptions o) {
    auto log = AuditLog::Open(path_, o);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(log).value() : nullptr;
  }
  std::unique_ptr<AuditLog> OpenLog() { return OpenLog(Options()); }
  Bytes FileBytes() { return PosixEnv().ReadWholeFile(path_).value(); }
  void WriteFileBytes(const Bytes& b) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }

  TempDir dir_;
  std::string path_ = dir_.File("audit.log");
  std::unique_ptr<Ed25519SeedSigner> signer_ = TestSigner();
  FakeClock clock_;
  FaultInjectingEnv env_{PosixEnv()};
};

TEST_F(AuditLogTest, AppendAssignsContiguousSeqsAndDurableReceipts) {
  auto log = OpenLog();
  for (uint64_t i = 0; i < 10; ++i) {
    AuditRecord r = SampleRecord(i);
    r.time_ms = 0;  // the log fills it from its clock
    auto receipt = log->Append(r);
    ASSERT_TRUE(receipt.ok()) << receipt.status();
    EXPECT_EQ(receipt->seq, i);
    r.seq = i;
    r.time_ms = static_cast<uint64_t>(clock_.NowUnixMillis());
    EXPECT_EQ(receipt->leaf_hash, HashLeaf(AsBytes(EncodeRecord(r).value())));
  }
  EXPECT_EQ(log->Size(), 10u);
  AuditLogStats stats = log->Stats();
  EXPECT_EQ(stats.records_appended, 10u);
  EXPECT_EQ(stats.fsyncs, 10u);
  auto read = log->ReadRecords(3, 4);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 4u);
  EXPECT_EQ((*read)[0].seq, 3u);
  EXPECT_EQ((*read)[0].principal, SampleRecord(3).principal);
  EXPECT_FALSE(log->ReadRecords(8, 3).ok());
  EXPECT_TRUE(log->Verify().valid);
}

TEST_F(AuditLogTest, InvalidRecordIsRefusedAndConsumesNoSeq) {
  auto log = OpenLog();
  AuditRecord bad = SampleRecord(0);
  bad.type = "NOT VALID";
  EXPECT_TRUE(absl::IsInvalidArgument(log->Append(bad).status()));
  EXPECT_EQ(log->Append(SampleRecord(1)).value().seq, 0u);
}

TEST_F(AuditLogTest, ReopenRestoresTreeAndContinues) {
  Hash root;
  {
    auto log = OpenLog();
    for (uint64_t i = 0; i < 250; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
    root = log->Root();
    ASSERT_TRUE(log->Close().ok());
    EXPECT_FALSE(log->Append(SampleRecord(0)).ok());
    EXPECT_EQ(log->LatestCheckpoint()->checkpoint.tree_size, 250u);
    EXPECT_EQ(log->Stats().checkpoints_written, 3u);  // at 100, 200 and Close
  }
  auto log = OpenLog();
  EXPECT_EQ(log->Size(), 250u);
  EXPECT_EQ(log->Root(), root);
  ASSERT_TRUE(log->LatestCheckpoint().has_value());
  EXPECT_EQ(log->LatestCheckpoint()->checkpoint.root, root);
  EXPECT_EQ(log->Append(SampleRecord(250)).value().seq, 250u);
  EXPECT_TRUE(log->Verify().valid);
}

TEST_F(AuditLogTest, OpenRefusesAnotherAuditKey) {
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->Append(SampleRecord(0)).ok());
  }
  auto other = TestSigner(0x01);
  AuditLogOptions o = Options();
  o.signer = other.get();
  auto log = AuditLog::Open(path_, o);
  EXPECT_TRUE(absl::IsFailedPrecondition(log.status())) << log.status();
}

TEST_F(AuditLogTest, OneWriterAtATime) {
  auto log = OpenLog();
  auto second = AuditLog::Open(path_, Options());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  ASSERT_TRUE(log->Close().ok());
  EXPECT_TRUE(AuditLog::Open(path_, Options()).ok());
}

// Open must read the file only once it holds the lock: a replay taken while
// another writer still had the file is stale by the time the lock is free.
TEST_F(AuditLogTest, OpenReplaysOnlyAfterTakingTheLock) {
  auto first = OpenLog();
  for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(first->Append(SampleRecord(i)).ok());
  // Runs when the second Open asks for the lock: the first writer appends
  // more and closes, as a daemon shutting down while its successor starts.
  struct HandOverEnv : EnvWrapper {
    using EnvWrapper::EnvWrapper;
    absl::StatusOr<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path) override {
      if (hand_over) std::exchange(hand_over, nullptr)();
      return EnvWrapper::OpenWritable(path);
    }
    std::function<void()> hand_over;
  } env(PosixEnv());
  env.hand_over = [&] {
    for (uint64_t i = 3; i < 6; ++i) ASSERT_TRUE(first->Append(SampleRecord(i)).ok());
    ASSERT_TRUE(first->Close().ok());
  };
  AuditLogOptions o = Options();
  o.env = &env;
  auto second = OpenLog(o);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(env.hand_over, nullptr);  // the hand-over ran
  EXPECT_EQ(second->Size(), 6u);      // a clean close: nothing to admit
  EXPECT_TRUE(second->Verify().valid) << second->Verify().ToJson().dump();
  ASSERT_TRUE(second->Append(SampleRecord(6)).ok());
  ASSERT_TRUE(second->Close().ok());
  VerifyOptions vo;
  vo.require_final_checkpoint = true;
  EXPECT_TRUE(VerifyExportFile(PosixEnv(), path_, signer_->PublicKey(), vo).valid);
}

TEST_F(AuditLogTest, OpenRefusesAFileThatIsNotALog) {
  WriteFileBytes(Bytes{'h', 'e', 'l', 'l', 'o'});
  EXPECT_TRUE(absl::IsDataLoss(AuditLog::Open(path_, Options()).status()));
}

TEST_F(AuditLogTest, ProofsVerifyAgainstSignedCheckpoints) {
  AuditLogOptions o = Options();
  o.sync = false;  // durability is not the subject here
  auto log = OpenLog(o);
  for (uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  auto cp1 = log->Checkpoint();
  ASSERT_TRUE(cp1.ok());
  EXPECT_EQ(cp1->checkpoint.tree_size, 1000u);
  EXPECT_TRUE(VerifyCheckpointSignature(*cp1, signer_->PublicKey()));
  for (uint64_t i = 1000; i < 1337; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  auto cp2 = log->Checkpoint();
  ASSERT_TRUE(cp2.ok());
  EXPECT_EQ(cp2->checkpoint.tree_size, 1337u);
  // A second request without new records returns the same checkpoint.
  EXPECT_EQ(log->Checkpoint().value(), *cp2);

  for (uint64_t seq : {0ull, 1ull, 499ull, 999ull, 1000ull, 1336ull}) {
    auto proof = log->ProveInclusion(seq, 1337);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(proof->root, cp2->checkpoint.root);
    EXPECT_TRUE(proof->Verify().ok());
    auto json_round = InclusionProof::FromJson(nlohmann::json::parse(proof->ToJson().dump()));
    ASSERT_TRUE(json_round.ok());
    EXPECT_TRUE(VerifyInclusion(json_round->leaf_index, cp2->checkpoint.tree_size, json_round->leaf_hash,
                                json_round->path, cp2->checkpoint.root)
                    .ok());
    // The record read back hashes to the proven leaf.
    auto record = log->ReadRecords(seq, 1).value()[0];
    EXPECT_EQ(HashLeaf(AsBytes(EncodeRecord(record).value())), proof->leaf_hash);
  }
  auto consistency = log->ProveConsistency(1000, 1337);
  ASSERT_TRUE(consistency.ok());
  auto cjson = ConsistencyProof::FromJson(consistency->ToJson());
  ASSERT_TRUE(cjson.ok());
  EXPECT_TRUE(VerifyConsistency(cp1->checkpoint.tree_size, cp2->checkpoint.tree_size, cp1->checkpoint.root,
                                cp2->checkpoint.root, cjson->path)
                  .ok());
  EXPECT_FALSE(log->ProveInclusion(1337, 1337).ok());
  EXPECT_FALSE(log->ProveInclusion(0, 1338).ok());
  EXPECT_FALSE(log->ProveConsistency(1000, 1338).ok());
}

TEST_F(AuditLogTest, GroupCommitUnderSixteenThreads) {
  // A disk-like 2 ms fsync, so appenders pile up behind the leader.
  env_.SetSyncDelay(absl::Milliseconds(2));
  auto log = OpenLog();
  constexpr int kThreads = 16, kPerThread = 200;
  std::vector<std::vector<AuditReceipt>> receipts(kThreads);
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        AuditRecord r = SampleRecord(static_cast<uint64_t>(t * kPerThread + i));
        r.principal = "thread-" + std::to_string(t);
        r.extra["i"] = std::to_string(i);
        auto receipt = log->Append(r);
        if (!receipt.ok()) {
          failed = true;
          return;
        }
        receipts[t].push_back(*receipt);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_FALSE(failed);
  std::set<uint64_t> seqs;
  for (const auto& v : receipts) {
    for (size_t i = 1; i < v.size(); ++i) EXPECT_LT(v[i - 1].seq, v[i].seq);  // per-thread order kept
    for (const auto& r : v) seqs.insert(r.seq);
  }
  constexpr uint64_t kTotal = kThreads * kPerThread;
  ASSERT_EQ(seqs.size(), kTotal);  // all distinct
  EXPECT_EQ(*seqs.begin(), 0u);
  EXPECT_EQ(*seqs.rbegin(), kTotal - 1);  // contiguous
  AuditLogStats stats = log->Stats();
  EXPECT_EQ(stats.records_appended, kTotal);
  EXPECT_LT(stats.fsyncs, kTotal) << "no two appends shared an fsync";
  EXPECT_GT(stats.max_batch_records, 1u);
  // Each receipt's leaf is what was stored under its seq, with the right author.
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; i += 37) {
      const AuditReceipt& rc = receipts[t][i];
      auto rec = log->ReadRecords(rc.seq, 1).value()[0];
      EXPECT_EQ(rec.principal, "thread-" + std::to_string(t));
      EXPECT_EQ(rec.extra["i"], std::to_string(i));
      EXPECT_TRUE(log->ProveInclusion(rc.seq, log->Size()).value().leaf_hash == rc.leaf_hash);
    }
  }
  ASSERT_TRUE(log->Close().ok());
  auto report = VerifyExportFile(PosixEnv(), path_, signer_->PublicKey());
  EXPECT_TRUE(report.valid) << report.ToJson().dump();
  EXPECT_EQ(report.records, kTotal);
}

// Appends must fail closed and resume by themselves; the file stays valid.
void ExpectFailClosedAndResume(AuditLogTest* test, AuditLog& log, FaultInjectingEnv& env, Op op,
                               FaultInjectingEnv::Fault fault, const std::string& path) {
  const uint64_t size = log.Size();
  const Hash root = log.Root();
  env.InjectFault(op, fault);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto result = log.Append(SampleRecord(1000 + attempt));
    ASSERT_FALSE(result.ok());
    EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
    EXPECT_EQ(std::string(result.status().message()).rfind("audit log cannot be written: ", 0), 0u)
        << result.status();
    EXPECT_EQ(log.Size(), size);
    EXPECT_EQ(log.Root(), root);
    if (fault.times > 0) break;
  }
  // The on-disk log is valid at every moment, even while failing.
  env.ClearAllFaults();
  auto receipt = log.Append(SampleRecord(2000));
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->seq, size);  // nothing of the failed batches was appended
  EXPECT_TRUE(log.Verify().valid) << log.Verify().ToJson().dump();
  VerifyOptions live;
  live.require_final_checkpoint = false;
  auto report = VerifyLogBytes(PosixEnv().ReadWholeFile(path).value(), log.PublicKey(), live);
  EXPECT_TRUE(report.valid) << report.ToJson().dump();
  EXPECT_EQ(report.records, size + 1);
  (void)test;
}

TEST_F(AuditLogTest, FailsClosedOnWriteErrorAndResumes) {
  auto log = OpenLog();
  for (uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  // A short write that leaves half a frame behind, then EIO.
  ExpectFailClosedAndResume(this, *log, env_, Op::kWrite,
                            {absl::UnavailableError("write: Input/output error"), -1, 50}, path_);
  // ENOSPC-like with no bytes written.
  ExpectFailClosedAndResume(this, *log, env_, Op::kWrite, {absl::UnavailableError("No space left on device"), 1, 0},
                            path_);
  EXPECT_GE(log->Stats().failed_batches, 4u);
}

TEST_F(AuditLogTest, FailsClosedOnFsyncErrorAndResumes) {
  auto log = OpenLog();
  for (uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  ExpectFailClosedAndResume(this, *log, env_, Op::kSync, {absl::UnavailableError("fsync: Input/output error"), -1, 0},
                            path_);
}

// Polls `done` every millisecond for up to `limit`; false if it never held.
bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// sync_alongside (the daemon syncs the budget ledger's journal there) runs
// once per batch of records, at the same time as the batch's own write and
// sync, and the batch's appenders wait for it.
TEST_F(AuditLogTest, SyncAlongsideOverlapsTheBatchAndHoldsItsAppenders) {
  AuditLogOptions o = Options();
  std::atomic<int> calls{0};
  std::atomic<uint64_t> grow_past{0};
  std::atomic<bool> armed{false}, hook_started{false}, hook_returned{false}, release{false};
  std::atomic<bool> sync_waited_in_vain{false};
  // The batch's own sync waits for the hook to start: run after that sync,
  // the hook never would.
  env_.SetSyncGate([&] {
    if (armed && !WaitFor([&] { return hook_started.load(); })) sync_waited_in_vain = true;
  });
  o.sync_alongside = [&] {
    ++calls;
    hook_started = true;
    // And the hook waits for the batch to reach the file: run before the
    // write, it gives up and fails the batch.
    if (!WaitFor([&] { return PosixEnv().ReadWholeFile(path_).value().size() > grow_past.load(); })) {
      return absl::UnavailableError("the batch never reached the file");
    }
    (void)WaitFor([&] { return release.load(); }, std::chrono::seconds(30));
    hook_returned = true;
    return absl::OkStatus();
  };
  auto log = OpenLog(o);
  EXPECT_EQ(calls.load(), 0);  // Open's first checkpoint holds no record
  grow_past = FileBytes().size();
  armed = true;

  std::atomic<bool> returned{false};
  bool hook_done_when_returned = false;
  absl::StatusOr<AuditReceipt> receipt;
  std::thread appender([&] {
    receipt = log->Append(SampleRecord(0));
    hook_done_when_returned = hook_returned.load();
    returned = true;
  });
  EXPECT_TRUE(WaitFor([&] { return hook_started.load() && FileBytes().size() > grow_past.load(); }));
  // The record is written, but its appender waits for the other file.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(returned.load());
  release = true;
  appender.join();
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_TRUE(hook_done_when_returned);
  EXPECT_FALSE(sync_waited_in_vain.load());
  EXPECT_EQ(calls.load(), 1);
  armed = false;
  ASSERT_TRUE(log->Checkpoint().ok());  // a checkpoint alone syncs no record: no call
  EXPECT_EQ(calls.load(), 1);
  env_.SetSyncGate(nullptr);  // it refers to this test's locals
}

// A failed sync_alongside fails its batch: the batch's bytes leave the file,
// its appenders are refused, and the next append succeeds.
TEST_F(AuditLogTest, SyncAlongsideFailureFailsTheBatch) {
  AuditLogOptions o = Options();
  std::atomic<bool> fail{false};
  o.sync_alongside = [&] {
    return fail ? absl::UnavailableError("ledger journal x: fdatasync failed") : absl::OkStatus();
  };
  auto log = OpenLog(o);
  ASSERT_TRUE(log->Append(SampleRecord(0)).ok());

  fail = true;
  const uint64_t size = log->Size();
  const Bytes before = FileBytes();
  const uint64_t syncs = env_.CallCount(Op::kSync);
  auto refused = log->Append(SampleRecord(1));
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::IsUnavailable(refused.status()));
  EXPECT_NE(std::string(refused.status().message()).find("ledger journal x: fdatasync failed"), std::string::npos)
      << refused.status();
  EXPECT_EQ(log->Size(), size);
  EXPECT_EQ(FileBytes(), before);
  // The batch reached the disk before the other file failed: the cut that
  // removes it is synced too, so a crash cannot bring it back.
  EXPECT_EQ(env_.CallCount(Op::kSync), syncs + 2);
  fail = false;
  auto receipt = log->Append(SampleRecord(2));
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->seq, size);
  EXPECT_TRUE(log->Verify().valid);
}

// on_batch hears of every group commit that made records durable, with its
// size (the daemon's fsync batch size histogram), and of nothing else.
TEST_F(AuditLogTest, OnBatchReportsEveryGroupCommit) {
  AuditLogOptions o = Options();
  std::atomic<uint64_t> calls{0}, records{0};
  o.on_batch = [&](size_t n) {
    ++calls;
    records += n;
  };
  auto log = OpenLog(o);
  constexpr int kThreads = 8, kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) ASSERT_TRUE(log->Append(SampleRecord(uint64_t(t * kEach + i))).ok());
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(log->Checkpoint().ok());  // no record: not reported
  EXPECT_EQ(records.load(), uint64_t{kThreads * kEach});
  EXPECT_EQ(calls.load(), log->Stats().batches);
  env_.InjectFault(Op::kSync, {absl::UnavailableError("fsync: Input/output error"), 1, 0});
  EXPECT_FALSE(log->Append(SampleRecord(9999)).ok());  // a failed batch is not reported
  EXPECT_EQ(records.load(), uint64_t{kThreads * kEach});
}

TEST_F(AuditLogTest, FailsClosedWhenTruncateAlsoFails) {
  auto log = OpenLog();
  for (uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  const uint64_t size_before = FileBytes().size();
  env_.InjectFault(Op::kWrite, {absl::UnavailableError("EIO"), 1, 30});
  env_.InjectFault(Op::kTruncate, {absl::UnavailableError("EIO"), -1, 0});
  EXPECT_TRUE(absl::IsUnavailable(log->Append(SampleRecord(5)).status()));
  // The partial bytes are still there: the next append must not build on them.
  EXPECT_EQ(FileBytes().size(), size_before + 30);
  EXPECT_TRUE(absl::IsUnavailable(log->Append(SampleRecord(6)).status()));
  env_.ClearAllFaults();
  auto receipt = log->Append(SampleRecord(7));
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->seq, 5u);
  EXPECT_TRUE(log->Verify().valid);
  ASSERT_TRUE(log->Close().ok());
  EXPECT_TRUE(VerifyExportFile(PosixEnv(), path_, signer_->PublicKey()).valid);
}

TEST_F(AuditLogTest, ConcurrentAppendersAllFailThenAllResume) {
  auto log = OpenLog();
  env_.InjectFault(Op::kSync, {absl::UnavailableError("fsync EIO"), -1, 0});
  std::atomic<int> unavailable{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        if (absl::IsUnavailable(log->Append(SampleRecord(static_cast<uint64_t>(t))).status())) ++unavailable;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(unavailable.load(), 80);
  EXPECT_EQ(log->Size(), 0u);
  env_.ClearAllFaults();
  threads.clear();
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) EXPECT_TRUE(log->Append(SampleRecord(static_cast<uint64_t>(t))).ok());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(log->Size(), 80u);
  EXPECT_TRUE(log->Verify().valid);
}

TEST_F(AuditLogTest, TornTailIsTruncatedAtOpen) {
  {
    auto log = OpenLog();
    for (uint64_t i = 0; i < 20; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
    ASSERT_TRUE(log->Close().ok());
  }
  const Bytes clean = FileBytes();
  // Simulate a crash in the middle of appending the next record: half a frame.
  AuditRecord next = SampleRecord(20);
  next.seq = 20;
  Bytes frame;
  AppendFrame(frame, FrameType::kRecord, AsBytes(EncodeRecord(next).value()));
  for (size_t cut : {size_t{1}, size_t{8}, size_t{9}, frame.size() / 2, frame.size() - 1}) {
    Bytes torn = clean;
    torn.insert(torn.end(), frame.begin(), frame.begin() + static_cast<ptrdiff_t>(cut));
    WriteFileBytes(torn);
    auto log = OpenLog();
    ASSERT_NE(log, nullptr);
    // The 20 records, then the log's admission that it cut `cut` bytes.
    EXPECT_EQ(log->Size(), 21u) << cut;
    EXPECT_EQ(log->Stats().torn_tail_bytes_truncated, cut);
    auto recovered = log->ReadRecords(20, 1);
    ASSERT_TRUE(recovered.ok()) << recovered.status();
    EXPECT_EQ((*recovered)[0].type, record_type::kAuditRecovered);
    EXPECT_EQ((*recovered)[0].extra.at("torn_tail_bytes"), std::to_string(cut));
    const Bytes after = FileBytes();
    ASSERT_GT(after.size(), clean.size());
    EXPECT_TRUE(std::equal(clean.begin(), clean.end(), after.begin())) << cut;  // the torn bytes are gone
    (void)log->Close();
    WriteFileBytes(clean);
  }
  // A complete final record survives (it is never dropped) even if it was
  // written but not acknowledged.
  Bytes complete = clean;
  complete.insert(complete.end(), frame.begin(), frame.end());
  WriteFileBytes(complete);
  {
    auto log = OpenLog();
    EXPECT_EQ(log->Size(), 22u);  // and its audit.recovered record
  }
}

// A stopped daemon's log, cut back to a checkpoint and extended with a
// forged record (valid CRC and seq), must not be signed over as if the
// daemon had written it: Open admits the uncovered range in a record that
// the next checkpoint covers.
TEST_F(AuditLogTest, RecordsNoCheckpointCoveredAreAdmittedAtOpen) {
  {
    auto log = OpenLog();
    for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
    ASSERT_TRUE(log->Checkpoint().ok());
    for (uint64_t i = 3; i < 5; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
    ASSERT_TRUE(log->Close().ok());
  }
  {
    auto log = OpenLog();  // a clean close leaves nothing to admit
    EXPECT_EQ(log->Size(), 5u);
    ASSERT_TRUE(log->Close().ok());
  }
  const Bytes closed = FileBytes();
  const LogScan scan = ScanLog(closed).value();
  ASSERT_EQ(scan.frames.back().type, FrameType::kCheckpoint);
  Bytes forged(closed.begin(), closed.begin() + static_cast<ptrdiff_t>(scan.frames.back().offset));
  AuditRecord fake = SampleRecord(99);
  fake.seq = 5;
  AppendFrame(forged, FrameType::kRecord, AsBytes(EncodeRecord(fake).value()));
  WriteFileBytes(forged);

  auto log = OpenLog();
  ASSERT_NE(log, nullptr);
  auto checkpoint = log->Checkpoint();
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  ASSERT_EQ(log->Size(), 7u);
  EXPECT_EQ(checkpoint->checkpoint.tree_size, 7u);  // covers the admission too
  auto records = log->ReadRecords(5, 2);
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ((*records)[0], fake);
  const AuditRecord& recovered = (*records)[1];
  EXPECT_EQ(recovered.type, record_type::kAuditRecovered);
  EXPECT_EQ(recovered.extra.at("covered_size"), "3");  // the checkpoint left in the file
  EXPECT_EQ(recovered.extra.at("records_at_open"), "6");
  EXPECT_EQ(recovered.extra.at("torn_tail_bytes"), "0");
  EXPECT_NE(recovered.reason.find("records [3, 6)"), std::string::npos) << recovered.reason;
  // The verifier reports it: the log verifies, and the range it never
  // vouched for is named where an auditor looks.
  VerifyReport report = log->Verify();
  EXPECT_TRUE(report.valid);
  ASSERT_EQ(report.recovered.size(), 1u);
  EXPECT_EQ(report.recovered[0].seq, 6u);
  EXPECT_EQ(report.recovered[0].covered_size, 3u);
  EXPECT_EQ(report.recovered[0].records_at_open, 6u);
  EXPECT_EQ(report.ToJson().at("recovered").at(0).at("covered_size"), 3);
}

TEST_F(AuditLogTest, DamagedCompleteRecordIsNeverSilentlyDropped) {
  {
    auto log = OpenLog();
    for (uint64_t i = 0; i < 20; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  }
  const Bytes clean = FileBytes();
  // Flip a byte in the last complete frame.
  Bytes damaged = clean;
  damaged[damaged.size() - 10] ^= 0x20;
  WriteFileBytes(damaged);
  auto opened = AuditLog::Open(path_, Options());
  EXPECT_TRUE(absl::IsDataLoss(opened.status())) << opened.status();
  EXPECT_EQ(FileBytes(), damaged);  // nothing was "repaired"
  // A torn-looking tail followed by a valid frame is damage, not a tear.
  auto scan = ScanLog(clean).value();
  const Frame& last = scan.frames.back();
  Bytes spliced(clean.begin(), clean.begin() + static_cast<ptrdiff_t>(last.offset));
  spliced.push_back(0x05);  // garbage byte
  spliced.insert(spliced.end(), clean.begin() + static_cast<ptrdiff_t>(last.offset), clean.end());
  WriteFileBytes(spliced);
  EXPECT_TRUE(absl::IsDataLoss(AuditLog::Open(path_, Options()).status()));
}

TEST_F(AuditLogTest, CheckpointsByTimeInTheBackground) {
  AuditLogOptions o = Options();
  o.checkpoint_every_records = 1000000;
  o.checkpoint_interval = absl::Seconds(30);
  o.background_checkpoints = true;
  auto log = OpenLog(o);
  for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  EXPECT_FALSE(log->LatestCheckpoint().has_value());
  clock_.Advance(absl::Seconds(31));
  for (int i = 0; i < 1500 && !log->LatestCheckpoint().has_value(); ++i) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_TRUE(log->LatestCheckpoint().has_value());
  EXPECT_EQ(log->LatestCheckpoint()->checkpoint.tree_size, 3u);
  // And on the append path: an append after the interval carries one.
  ASSERT_TRUE(log->Append(SampleRecord(3)).ok());
  EXPECT_EQ(log->LatestCheckpoint()->checkpoint.tree_size, 3u);
  clock_.Advance(absl::Seconds(31));
  ASSERT_TRUE(log->Append(SampleRecord(4)).ok());
  EXPECT_EQ(log->LatestCheckpoint()->checkpoint.tree_size, 5u);
  ASSERT_TRUE(log->Close().ok());
}

TEST_F(AuditLogTest, SignerFailureKeepsAppendingAndIsReported) {
  class FailingSigner final : public CheckpointSigner {
   public:
    explicit FailingSigner(CheckpointSigner& real) : real_(real) {}
    absl::StatusOr<crypto::Ed25519Signature> Sign(std::span<const uint8_t> m) override {
      if (fail) return absl::UnavailableError("keystore locked");
      return real_.Sign(m);
    }
    crypto::Ed25519PublicKey PublicKey() const override { return real_.PublicKey(); }
    std::atomic<bool> fail{true};

   private:
    CheckpointSigner& real_;
  } signer(*signer_);
  AuditLogOptions o = Options();
  o.signer = &signer;
  o.checkpoint_every_records = 2;
  auto log = OpenLog(o);
  for (uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  EXPECT_GT(log->Stats().checkpoint_failures, 0u);
  EXPECT_FALSE(log->LatestCheckpoint().has_value());
  EXPECT_TRUE(absl::IsUnavailable(log->Checkpoint().status()));
  signer.fail = false;
  ASSERT_TRUE(log->Append(SampleRecord(5)).ok());
  EXPECT_EQ(log->LatestCheckpoint()->checkpoint.tree_size, 6u);
  ASSERT_TRUE(log->Close().ok());
  EXPECT_TRUE(VerifyExportFile(PosixEnv(), path_, signer_->PublicKey()).valid);
}

TEST_F(AuditLogTest, ExportIsSelfContainedAndVerifiesOffline) {
  AuditLogOptions o = Options();
  o.sync = false;
  auto log = OpenLog(o);
  for (uint64_t i = 0; i < 333; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  const std::string out = dir_.File("export.sigil-audit");
  ASSERT_TRUE(log->Export(out).ok());
  // More appends after the export do not change it.
  for (uint64_t i = 333; i < 340; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
  std::vector<AuditRecord> seen;
  VerifyOptions vo;
  vo.on_record = [&](const AuditRecord& r) { seen.push_back(r); };
  VerifyReport report = VerifyExportFile(PosixEnv(), out, signer_->PublicKey(), vo);
  EXPECT_TRUE(report.valid) << report.ToJson().dump();
  EXPECT_EQ(report.records, 333u);
  ASSERT_TRUE(report.latest_checkpoint.has_value());
  EXPECT_EQ(report.latest_checkpoint->checkpoint.tree_size, 333u);
  EXPECT_EQ(report.root, report.latest_checkpoint->checkpoint.root);
  EXPECT_EQ(seen.size(), 333u);
  EXPECT_EQ(seen[100].principal, SampleRecord(100).principal);
  // Against another key, the export is rejected.
  auto other = TestSigner(0x99);
  VerifyReport wrong = VerifyExportFile(PosixEnv(), out, other->PublicKey());
  EXPECT_FALSE(wrong.valid);
  // The JSON report names the fields the CLI prints.
  nlohmann::json j = report.ToJson();
  EXPECT_TRUE(j["valid"].get<bool>());
  EXPECT_EQ(j["records"], 333);
  EXPECT_TRUE(j["errors"].empty());
}

TEST_F(AuditLogTest, ExportFailsClosedOnIoError) {
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(SampleRecord(0)).ok());
  env_.InjectFault(Op::kRename, {absl::UnavailableError("EROFS"), 1, 0});
  EXPECT_FALSE(log->Export(dir_.File("x")).ok());
  EXPECT_FALSE(PosixEnv().FileExists(dir_.File("x")).value());
  EXPECT_FALSE(PosixEnv().FileExists(dir_.File("x.tmp")).value());
  EXPECT_TRUE(log->Export(dir_.File("x")).ok());
}

TEST_F(AuditLogTest, OpenFailsCleanlyWhenTheFileCannotBeOpened) {
  env_.InjectFault(Op::kOpen, {absl::UnavailableError("EACCES"), 1, 0});
  auto log = AuditLog::Open(path_, Options());
  EXPECT_TRUE(absl::IsUnavailable(log.status())) << log.status();
  EXPECT_TRUE(AuditLog::Open(path_, Options()).ok());
}

// The owner's anchor (doc/audit-log.md §6): a file that does not continue the
// log it last saw is refused before anything is written to it.
class AuditLogAnchorTest : public AuditLogTest {
 protected:
  // A closed log of `n` records with a checkpoint every 3; returns its anchor.
  LogAnchor Write(uint64_t n) {
    AuditLogOptions o = Options();
    o.checkpoint_every_records = 3;
    auto log = OpenLog(o);
    for (uint64_t i = 0; i < n; ++i) EXPECT_TRUE(log->Append(SampleRecord(i)).ok());
    LogAnchor anchor = log->Anchor();
    EXPECT_EQ(anchor.size, n);
    EXPECT_EQ(anchor.root, log->Root());
    EXPECT_EQ(anchor.log_id, log->log_id());
    EXPECT_TRUE(log->Close().ok());
    return anchor;
  }
  absl::Status OpenWith(const LogAnchor& anchor) {
    AuditLogOptions o = Options();
    o.anchor = anchor;
    return AuditLog::Open(path_, o).status();
  }
  // Refused with `what` in the message, and the file left as it was.
  void ExpectRefused(const LogAnchor& anchor, const std::string& what) {
    const Bytes before = FileBytes();
    absl::Status st = OpenWith(anchor);
    EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
    EXPECT_NE(st.message().find(what), std::string::npos) << st;
    EXPECT_EQ(FileBytes(), before);
  }
};

TEST_F(AuditLogAnchorTest, ALogThatContinuesItsAnchorOpens) {
  const LogAnchor anchor = Write(5);
  {
    AuditLogOptions o = Options();
    o.anchor = anchor;
    auto log = OpenLog(o);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->Size(), 5u);  // no admission appended
    ASSERT_TRUE(log->Append(SampleRecord(5)).ok());
    ASSERT_TRUE(log->Close().ok());
  }
  // The anchor of a smaller size is continued too.
  EXPECT_TRUE(OpenWith(anchor).ok());
}

TEST_F(AuditLogAnchorTest, ADeletedLogIsRefused) {
  const LogAnchor anchor = Write(5);
  ASSERT_EQ(std::remove(path_.c_str()), 0);
  absl::Status st = OpenWith(anchor);
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_NE(st.message().find("deleted"), std::string::npos) << st;
  // No header was written: the next start is refused the same way.
  EXPECT_TRUE(absl::IsFailedPrecondition(OpenWith(anchor)));
}

TEST_F(AuditLogAnchorTest, ALogCutBackToAnEarlierCheckpointIsRefused) {
  const LogAnchor anchor = Write(5);
  // Back to the checkpoint after record 3: a log that replays cleanly.
  Bytes bytes = FileBytes();
  LogScan scan = ScanLog(bytes).value();
  uint64_t cut = 0;
  for (const auto& f : scan.frames) {
    if (f.type == FrameType::kCheckpoint) {
      cut = f.offset + kFrameHeaderSize + f.payload.size();
      break;
    }
  }
  ASSERT_GT(cut, 0u);
  bytes.resize(cut);
  WriteFileBytes(bytes);
  ExpectRefused(anchor, "records were cut");
  // Without the anchor the cut is invisible: the file is a clean log of 3.
  auto log = AuditLog::Open(path_, Options());
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)->Size(), 3u);
}

TEST_F(AuditLogAnchorTest, AReplacedLogIsRefused) {
  const LogAnchor anchor = Write(5);
  ASSERT_EQ(std::remove(path_.c_str()), 0);
  Write(7);  // another log, same audit key
  ExpectRefused(anchor, "it was replaced");
}

TEST_F(AuditLogAnchorTest, RewrittenRecordsAreRefused) {
  LogAnchor anchor = Write(5);
  anchor.root[0] ^= 1;
  ExpectRefused(anchor, "they were rewritten");
}

TEST_F(AuditLogAnchorTest, AnAcceptedDiscontinuityIsTheFirstThingTheLogSays) {
  const LogAnchor anchor = Write(5);
  ASSERT_EQ(std::remove(path_.c_str()), 0);
  AuditLogOptions o = Options();
  o.anchor = anchor;
  o.accept_discontinuity = true;
  {
    auto log = OpenLog(o);
    ASSERT_NE(log, nullptr);
    EXPECT_NE(log->log_id(), anchor.log_id);
    auto first = log->ReadRecords(0, 1);
    ASSERT_TRUE(first.ok()) << first.status();
    const AuditRecord& d = (*first)[0];
    EXPECT_EQ(d.type, record_type::kAuditDiscontinuity);
    EXPECT_EQ(d.extra.at("anchored_log_id"), HexEncode(anchor.log_id));
    EXPECT_EQ(d.extra.at("anchored_size"), "5");
    EXPECT_EQ(d.extra.at("anchored_root"), HexEncode(anchor.root));
    EXPECT_NE(d.reason.find("deleted"), std::string::npos);
    ASSERT_TRUE(log->Close().ok());
  }
  VerifyReport report = VerifyExportFile(PosixEnv(), path_, signer_->PublicKey());
  EXPECT_TRUE(report.valid);
  ASSERT_EQ(report.discontinuities.size(), 1u);
  EXPECT_EQ(report.discontinuities[0].seq, 0u);
  EXPECT_EQ(report.discontinuities[0].anchored_size, 5u);
  EXPECT_EQ(report.ToJson()["discontinuities"][0]["anchored_log_id"], HexEncode(anchor.log_id));
}

}  // namespace
}  // namespace sigil::audit
