// Streaming verification (LogFrameStream, ReplayLogFile) and trusted state
// (trusted checkpoint / tree head) for the offline verifier.
#include <algorithm>
#include <random>

#include "audit/audit_log.h"
#include "audit/audit_testing.h"
#include "audit/log_format.h"
#include "audit/log_verifier.h"
#include "gtest/gtest.h"

namespace sigil::audit {
namespace {

using testing::SampleRecord;
using testing::TestSigner;

// Counts reads and remembers the largest one.
class ReadCountingEnv : public EnvWrapper {
 public:
  using EnvWrapper::EnvWrapper;
  absl::StatusOr<Bytes> ReadFile(const std::string& path, uint64_t offset, uint64_t length) override {
    auto out = EnvWrapper::ReadFile(path, offset, length);
    if (out.ok()) max_read = std::max<uint64_t>(max_read, out->size());
    ++reads;
    return out;
  }
  uint64_t max_read = 0;
  uint64_t reads = 0;
};

// A log of `n` records with a checkpoint every `every`, exported; returns the export bytes.
Bytes BuildExport(const testing::TempDir& dir, CheckpointSigner* signer, uint64_t n, uint64_t every) {
  AuditLogOptions o;
  o.signer = signer;
  o.sync = false;
  o.background_checkpoints = false;
  o.checkpoint_every_records = every;
  auto log = AuditLog::Open(dir.File("audit.log"), o).value();
  for (uint64_t i = 0; i < n; ++i) EXPECT_TRUE(log->Append(SampleRecord(i)).ok());
  EXPECT_TRUE(log->Export(dir.File("export")).ok());
  EXPECT_TRUE(log->Close().ok());
  return PosixEnv().ReadWholeFile(dir.File("export")).value();
}

LogFrameStream StreamOver(const Bytes& bytes, size_t chunk) {
  return LogFrameStream(
      [&bytes](uint64_t offset, uint64_t length) -> absl::StatusOr<Bytes> {
        if (offset >= bytes.size()) return Bytes();
        const uint64_t n = std::min<uint64_t>(length, bytes.size() - offset);
        return Bytes(bytes.begin() + static_cast<ptrdiff_t>(offset), bytes.begin() + static_cast<ptrdiff_t>(offset + n));
      },
      chunk);
}

// The stream must describe any bytes exactly as ScanLog does.
void ExpectSameAsScan(const Bytes& bytes, size_t chunk) {
  auto scan = ScanLog(bytes);
  LogFrameStream stream = StreamOver(bytes, chunk);
  auto header = stream.ReadHeader();
  ASSERT_EQ(scan.ok(), header.ok()) << chunk;
  if (!scan.ok()) return;
  size_t i = 0;
  for (;;) {
    auto next = stream.Next();
    ASSERT_TRUE(next.ok());
    if (!next->has_value()) break;
    ASSERT_LT(i, scan->frames.size());
    const Frame& want = scan->frames[i++];
    EXPECT_EQ((*next)->offset, want.offset);
    EXPECT_EQ((*next)->type, want.type);
    EXPECT_TRUE(std::equal((*next)->payload.begin(), (*next)->payload.end(), want.payload.begin(), want.payload.end()));
  }
  EXPECT_EQ(i, scan->frames.size()) << "chunk " << chunk;
  EXPECT_EQ(stream.valid_end(), scan->valid_end);
  EXPECT_EQ(stream.tail(), scan->tail);
  EXPECT_EQ(stream.tail_problem(), scan->tail_problem);
  EXPECT_EQ(stream.total_size(), bytes.size());
}

TEST(LogFrameStreamTest, MatchesScanLogOnIntactAndDamagedLogs) {
  auto signer = TestSigner();
  testing::TempDir dir;
  const Bytes good = BuildExport(dir, signer.get(), 60, 16);
  std::mt19937_64 rng(7);
  std::vector<Bytes> cases = {good};
  for (int k = 0; k < 40; ++k) {
    Bytes b = good;
    const uint64_t at = kLogHeaderSize + rng() % (b.size() - kLogHeaderSize);
    switch (k % 5) {
      case 0: b[at] ^= 0x20; break;                                    // changed byte
      case 1: b.resize(at); break;                                     // truncated anywhere
      case 2: b.insert(b.end(), 1 + rng() % 40, 0); break;            // zero fill
      case 3: b.erase(b.begin() + static_cast<ptrdiff_t>(at), b.begin() + static_cast<ptrdiff_t>(std::min<uint64_t>(at + 5, b.size()))); break;
      case 4: b.resize(at); b.insert(b.end(), good.begin() + static_cast<ptrdiff_t>(kLogHeaderSize), good.end()); break;
    }
    cases.push_back(std::move(b));
  }
  cases.push_back(Bytes(good.begin(), good.begin() + 30));  // header cut
  for (const Bytes& b : cases) {
    for (size_t chunk : {9, 64, 1000, 1 << 20}) ExpectSameAsScan(b, chunk);
  }
}

TEST(LogFrameStreamTest, OpenAndVerifyReadInBoundedChunks) {
  auto signer = TestSigner();
  testing::TempDir dir;
  ReadCountingEnv env(PosixEnv());
  AuditLogOptions o;
  o.signer = signer.get();
  o.sync = false;
  o.background_checkpoints = false;
  o.checkpoint_every_records = 1000;
  o.env = &env;
  {
    auto log = AuditLog::Open(dir.File("audit.log"), o).value();
    for (uint64_t i = 0; i < 12000; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
    ASSERT_TRUE(log->Close().ok());
  }
  const uint64_t size = PosixEnv().ReadWholeFile(dir.File("audit.log")).value().size();
  const uint64_t bound = LogFrameStream::kDefaultChunkBytes + kFrameHeaderSize + kMaxFramePayload;
  ASSERT_GT(size, 2 * bound) << "the log must be larger than a read for this test to mean anything";
  env.max_read = 0;
  auto log = AuditLog::Open(dir.File("audit.log"), o).value();
  EXPECT_EQ(log->Size(), 12000u);
  EXPECT_LE(env.max_read, bound);
  EXPECT_GT(env.reads, 2u);
  env.max_read = 0;
  VerifyReport report = log->Verify();
  EXPECT_TRUE(report.valid) << report.ToJson().dump();
  EXPECT_EQ(report.records, 12000u);
  EXPECT_LE(env.max_read, bound);
  env.max_read = 0;
  VerifyOptions vo;
  vo.require_final_checkpoint = false;
  report = VerifyExportFile(env, dir.File("audit.log"), signer->PublicKey(), vo);
  EXPECT_TRUE(report.valid) << report.ToJson().dump();
  EXPECT_LE(env.max_read, bound);
  // Export copies in chunks too, and the copy is the whole durable log.
  env.max_read = 0;
  ASSERT_TRUE(log->Export(dir.File("export.log")).ok());
  EXPECT_LE(env.max_read, bound);
  const Bytes exported = PosixEnv().ReadWholeFile(dir.File("export.log")).value();
  EXPECT_GE(exported.size(), size);
  report = VerifyExportFile(PosixEnv(), dir.File("export.log"), signer->PublicKey(), VerifyOptions{});
  EXPECT_TRUE(report.valid) << report.ToJson().dump();
  EXPECT_EQ(report.records, 12000u);
}

class TrustedStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signer_ = TestSigner();
    full_ = BuildExport(dir_, signer_.get(), 2500, 1000);  // checkpoints at 1000, 2000, 2500 (final)
    VerifyReport report = VerifyLogBytes(full_, signer_->PublicKey());
    ASSERT_TRUE(report.valid) << report.ToJson().dump();
    ASSERT_TRUE(report.latest_checkpoint.has_value());
    latest_ = *report.latest_checkpoint;
    ASSERT_EQ(latest_.checkpoint.tree_size, 2500u);
    // The attacker's export: cut right after the checkpoint at 2000, so that
    // it ends on a checkpoint and verifies on its own.
    const LogScan scan = ScanLog(full_).value();
    uint64_t cut = 0;
    uint64_t records = 0;
    for (const Frame& f : scan.frames) {
      if (f.type == FrameType::kRecord) ++records;
      if (f.type == FrameType::kCheckpoint && records == 2000) cut = f.offset + kFrameHeaderSize + f.payload.size();
    }
    ASSERT_GT(cut, 0u);
    stripped_ = Bytes(full_.begin(), full_.begin() + static_cast<ptrdiff_t>(cut));
  }
  testing::TempDir dir_;
  std::unique_ptr<Ed25519SeedSigner> signer_;
  Bytes full_, stripped_;
  SignedCheckpoint latest_;
};

TEST_F(TrustedStateTest, StrippedExportVerifiesAloneButNotAgainstTrustedCheckpoint) {
  VerifyReport alone = VerifyLogBytes(stripped_, signer_->PublicKey());
  EXPECT_TRUE(alone.valid) << "without trusted state, a cut at a checkpoint boundary is undetectable";
  EXPECT_EQ(alone.records, 2000u);

  VerifyOptions vo;
  vo.trusted_checkpoint = latest_;
  VerifyReport cut = VerifyLogBytes(stripped_, signer_->PublicKey(), vo);
  EXPECT_FALSE(cut.valid);
  ASSERT_FALSE(cut.errors.empty());
  EXPECT_NE(cut.errors[0].what.find("truncated"), std::string::npos) << cut.errors[0].what;
  EXPECT_TRUE(VerifyLogBytes(full_, signer_->PublicKey(), vo).valid);

  // A checkpoint signed by another key is not trusted.
  auto other = TestSigner(0x13);
  SignedCheckpoint forged = latest_;
  forged.signature = other->Sign(AsBytes(CheckpointMessage(forged.checkpoint))).value();
  vo.trusted_checkpoint = forged;
  EXPECT_FALSE(VerifyLogBytes(full_, signer_->PublicKey(), vo).valid);
}

TEST_F(TrustedStateTest, TrustedTreeHead) {
  VerifyOptions vo;
  vo.trusted_head = VerifyOptions::TreeHead{2500, latest_.checkpoint.root};
  EXPECT_TRUE(VerifyLogBytes(full_, signer_->PublicKey(), vo).valid);
  VerifyReport cut = VerifyLogBytes(stripped_, signer_->PublicKey(), vo);
  EXPECT_FALSE(cut.valid);
  EXPECT_NE(cut.errors.at(0).what.find("truncated"), std::string::npos) << cut.errors.at(0).what;

  // A smaller trusted head that the stripped export does extend is fine.
  MerkleTree tree;
  const LogScan scan = ScanLog(full_).value();
  for (const Frame& f : scan.frames) {
    if (f.type == FrameType::kRecord) tree.Append(HashLeaf(f.payload));
  }
  vo.trusted_head = VerifyOptions::TreeHead{1500, tree.RootAt(1500).value()};
  EXPECT_TRUE(VerifyLogBytes(stripped_, signer_->PublicKey(), vo).valid);
  // A different root at that size: the history was rewritten.
  vo.trusted_head->root[0] ^= 1;
  VerifyReport rewritten = VerifyLogBytes(stripped_, signer_->PublicKey(), vo);
  EXPECT_FALSE(rewritten.valid);
  EXPECT_NE(rewritten.errors.at(0).what.find("rewritten"), std::string::npos);
}

TEST_F(TrustedStateTest, ParseTrustedCheckpointAcceptsEverySavedForm) {
  auto from_json = ParseTrustedCheckpoint(latest_.ToJson().dump());
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  EXPECT_EQ(*from_json, latest_);
  VerifyReport report = VerifyLogBytes(full_, signer_->PublicKey());
  auto from_report = ParseTrustedCheckpoint(report.ToJson().dump(2));
  ASSERT_TRUE(from_report.ok()) << from_report.status();
  EXPECT_EQ(*from_report, latest_);
  auto from_text = ParseTrustedCheckpoint(EncodeSignedCheckpoint(latest_));
  ASSERT_TRUE(from_text.ok()) << from_text.status();
  EXPECT_EQ(*from_text, latest_);
  EXPECT_FALSE(ParseTrustedCheckpoint("not a checkpoint").ok());
  EXPECT_FALSE(ParseTrustedCheckpoint(R"({"valid": true, "records": 3})").ok());
  EXPECT_FALSE(ParseTrustedCheckpoint(R"({"tree_size": -1})").ok());
}

}  // namespace
}  // namespace sigil::audit
