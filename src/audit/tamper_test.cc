// Every tamper class the offline verifier must catch, on a 10,000-record
// export with checkpoints every 1,000 records.
#include <chrono>
#include <random>

#include "audit/audit_log.h"
#include "audit/audit_testing.h"
#include "audit/crc32c.h"
#include "audit/log_format.h"
#include "audit/log_verifier.h"
#include "gtest/gtest.h"

namespace sigil::audit {
namespace {

using testing::SampleRecord;
using testing::TestSigner;

constexpr uint64_t kRecords = 10000;

struct FrameSpan {
  FrameType type;
  uint64_t offset;
  uint64_t size;  // header + payload
};

class TamperTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    signer_ = TestSigner().release();
    other_signer_ = TestSigner(0x13).release();
    testing::TempDir dir;
    AuditLogOptions o;
    o.signer = signer_;
    o.sync = false;  // building the fixture; durability is tested elsewhere
    o.background_checkpoints = false;
    o.checkpoint_every_records = 1000;
    auto log = AuditLog::Open(dir.File("audit.log"), o).value();
    for (uint64_t i = 0; i < kRecords; ++i) ASSERT_TRUE(log->Append(SampleRecord(i)).ok());
    ASSERT_TRUE(log->Export(dir.File("export")).ok());
    export_ = new Bytes(PosixEnv().ReadWholeFile(dir.File("export")).value());
  }
  static void TearDownTestSuite() {
    delete export_;
    delete signer_;
    delete other_signer_;
  }

  static std::vector<FrameSpan> Frames(const Bytes& bytes) {
    std::vector<FrameSpan> out;
    const LogScan scan = ScanLog(bytes).value();
    for (const Frame& f : scan.frames) {
      out.push_back({f.type, f.offset, kFrameHeaderSize + f.payload.size()});
    }
    return out;
  }
  static std::vector<FrameSpan> RecordFrames(const Bytes& bytes) {
    std::vector<FrameSpan> out;
    for (const FrameSpan& f : Frames(bytes)) {
      if (f.type == FrameType::kRecord) out.push_back(f);
    }
    return out;
  }
  static std::vector<FrameSpan> CheckpointFrames(const Bytes& bytes) {
    std::vector<FrameSpan> out;
    for (const FrameSpan& f : Frames(bytes)) {
      if (f.type == FrameType::kCheckpoint) out.push_back(f);
    }
    return out;
  }
  static Bytes Slice(const Bytes& b, const FrameSpan& f) {
    return Bytes(b.begin() + static_cast<ptrdiff_t>(f.offset), b.begin() + static_cast<ptrdiff_t>(f.offset + f.size));
  }
  static Bytes FrameOf(FrameType type, const std::string& payload) {
    Bytes out;
    AppendFrame(out, type, AsBytes(payload));
    return out;
  }
  static void RecomputeCrc(Bytes& b, uint64_t offset) {
    const uint32_t length = b[offset] | b[offset + 1] << 8 | b[offset + 2] << 16 | static_cast<uint32_t>(b[offset + 3]) << 24;
    uint32_t crc = Crc32cExtend(Crc32c({b.data() + offset, 5}), {b.data() + offset + kFrameHeaderSize, length});
    for (int i = 0; i < 4; ++i) b[offset + 5 + i] = static_cast<uint8_t>(crc >> (8 * i));
  }
  // Replaces frame `f` by `replacement` (which may be empty).
  static Bytes Replace(const Bytes& b, const FrameSpan& f, const Bytes& replacement) {
    Bytes out(b.begin(), b.begin() + static_cast<ptrdiff_t>(f.offset));
    out.insert(out.end(), replacement.begin(), replacement.end());
    out.insert(out.end(), b.begin() + static_cast<ptrdiff_t>(f.offset + f.size), b.end());
    return out;
  }
  static AuditRecord RecordAt(const Bytes& b, const FrameSpan& f) {
    return ParseRecord({b.data() + f.offset + kFrameHeaderSize, f.size - kFrameHeaderSize}).value();
  }
  static SignedCheckpoint CheckpointAt(const Bytes& b, const FrameSpan& f) {
    return ParseSignedCheckpoint({b.data() + f.offset + kFrameHeaderSize, f.size - kFrameHeaderSize}).value();
  }
  // Rewrites every record from `first` on with seq shifted by `delta` and
  // correct CRCs: what an attacker without the audit key can do.
  static Bytes Renumber(const Bytes& b, size_t first, int64_t delta) {
    Bytes out(b.begin(), b.begin() + kLogHeaderSize);
    size_t index = 0;
    for (const FrameSpan& f : Frames(b)) {
      if (f.type == FrameType::kRecord) {
        if (index >= first) {
          AuditRecord r = RecordAt(b, f);
          r.seq = static_cast<uint64_t>(static_cast<int64_t>(r.seq) + delta);
          Bytes frame = FrameOf(FrameType::kRecord, EncodeRecord(r).value());
          out.insert(out.end(), frame.begin(), frame.end());
          ++index;
          continue;
        }
        ++index;
      }
      Bytes frame = Slice(b, f);
      out.insert(out.end(), frame.begin(), frame.end());
    }
    return out;
  }
  static VerifyReport Verify(const Bytes& b, VerifyOptions o = {}) {
    return VerifyLogBytes(b, signer_->PublicKey(), o);
  }
  static bool AnyErrorContains(const VerifyReport& r, const std::string& needle) {
    for (const auto& e : r.errors) {
      if (e.what.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  static CheckpointSigner* signer_;
  static CheckpointSigner* other_signer_;
  static Bytes* export_;
};

CheckpointSigner* TamperTest::signer_ = nullptr;
CheckpointSigner* TamperTest::other_signer_ = nullptr;
Bytes* TamperTest::export_ = nullptr;

TEST_F(TamperTest, UntouchedExportVerifiesQuickly) {
  const auto start = std::chrono::steady_clock::now();
  VerifyReport report = Verify(*export_);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(report.valid) << report.ToJson().dump();
  EXPECT_EQ(report.records, kRecords);
  EXPECT_EQ(report.checkpoints, 10u);
  EXPECT_LT(seconds, 5.0) << "verifying 10k records took " << seconds << " s";
  EXPECT_EQ(CheckpointFrames(*export_).size(), 10u);
}

TEST_F(TamperTest, EverySingleByteFlipIsDetected) {
  std::mt19937_64 rng(20260101);
  const uint64_t begin = kLogHeaderSize, end = export_->size();
  constexpr int kFlips = 100;
  for (int i = 0; i < kFlips; ++i) {
    const uint64_t pos = begin + rng() % (end - begin);
    Bytes b = *export_;
    b[pos] ^= static_cast<uint8_t>(1 + rng() % 255);
    VerifyReport report = Verify(b);
    ASSERT_FALSE(report.valid) << "flip at offset " << pos << " went unnoticed";
    ASSERT_FALSE(report.errors.empty());
    // The error points at the frame holding the byte (or before it).
    EXPECT_LE(report.errors.front().offset, pos);
  }
  // The header too.
  for (uint64_t pos = 0; pos < kLogHeaderSize; pos += 7) {
    Bytes b = *export_;
    b[pos] ^= 0x01;
    EXPECT_FALSE(Verify(b).valid) << pos;
  }
}

TEST_F(TamperTest, ByteChangesWithRecomputedChecksumAreDetected) {
  // An attacker who knows the framing fixes the CRC; the Merkle root and the
  // signed checkpoints still give the change away.
  std::mt19937_64 rng(7);
  const auto records = RecordFrames(*export_);
  for (int i = 0; i < 40; ++i) {
    const size_t index = rng() % records.size();
    const FrameSpan& f = records[index];
    Bytes b = *export_;
    const uint64_t pos = f.offset + kFrameHeaderSize + rng() % (f.size - kFrameHeaderSize);
    b[pos] ^= static_cast<uint8_t>(1 + rng() % 255);
    RecomputeCrc(b, f.offset);
    VerifyReport report = Verify(b);
    ASSERT_FALSE(report.valid) << "record " << index;
  }
  // A well-formed semantic edit: "deny" becomes "allow" in record 4321.
  const FrameSpan& f = records[4321];
  AuditRecord r = RecordAt(*export_, f);
  r.decision = r.decision == "allow" ? "deny" : "allow";
  Bytes b = Replace(*export_, f, FrameOf(FrameType::kRecord, EncodeRecord(r).value()));
  VerifyReport report = Verify(b);
  ASSERT_FALSE(report.valid);
  // The damage is localised to the checkpoint interval that holds it.
  EXPECT_TRUE(AnyErrorContains(report, "records with seq in [4000, 5000) were altered")) << report.ToJson().dump(1);
}

TEST_F(TamperTest, DeletedRecordsAreDetected) {
  const auto records = RecordFrames(*export_);
  for (size_t index : {size_t{0}, size_t{1}, size_t{999}, size_t{5000}, size_t{7777}, kRecords - 1}) {
    Bytes b = Replace(*export_, records[index], {});
    VerifyReport report = Verify(b);
    ASSERT_FALSE(report.valid) << index;
    EXPECT_EQ(report.errors.front().offset, records[index].offset) << report.ToJson().dump(1);
    // Renumbering the rest so seqs look contiguous does not help.
    Bytes renumbered = Renumber(b, index, -1);
    VerifyReport r2 = Verify(renumbered);
    EXPECT_FALSE(r2.valid) << index;
  }
}

TEST_F(TamperTest, InsertedRecordsAreDetected) {
  const auto records = RecordFrames(*export_);
  for (size_t index : {size_t{0}, size_t{500}, size_t{5000}, kRecords - 1}) {
    AuditRecord forged = SampleRecord(index);
    forged.seq = index;
    forged.reason = "forged";
    Bytes frame = FrameOf(FrameType::kRecord, EncodeRecord(forged).value());
    Bytes b = *export_;
    b.insert(b.begin() + static_cast<ptrdiff_t>(records[index].offset), frame.begin(), frame.end());
    EXPECT_FALSE(Verify(b).valid) << index;
    // With every later seq shifted up to stay contiguous.
    Bytes shifted = Renumber(*export_, index, +1);
    const auto shifted_records = RecordFrames(shifted);
    shifted.insert(shifted.begin() + static_cast<ptrdiff_t>(shifted_records[index].offset), frame.begin(),
                   frame.end());
    VerifyReport report = Verify(shifted);
    ASSERT_FALSE(report.valid) << index;
  }
  // A record appended at the very end (after the last checkpoint).
  AuditRecord extra = SampleRecord(kRecords);
  extra.seq = kRecords;
  Bytes b = *export_;
  Bytes frame = FrameOf(FrameType::kRecord, EncodeRecord(extra).value());
  b.insert(b.end(), frame.begin(), frame.end());
  VerifyReport report = Verify(b);
  ASSERT_FALSE(report.valid);
  EXPECT_TRUE(AnyErrorContains(report, "not covered by a signed checkpoint"));
}

TEST_F(TamperTest, ReorderedRecordsAreDetected) {
  const auto records = RecordFrames(*export_);
  // Rebuilds the file with record frames i and j exchanged for `fi`, `fj`.
  auto rebuild = [&](size_t i, size_t j, const Bytes& fi, const Bytes& fj) {
    const FrameSpan& first = records[i];
    const FrameSpan& second = records[j];
    Bytes out(export_->begin(), export_->begin() + static_cast<ptrdiff_t>(first.offset));
    out.insert(out.end(), fj.begin(), fj.end());
    out.insert(out.end(), export_->begin() + static_cast<ptrdiff_t>(first.offset + first.size),
               export_->begin() + static_cast<ptrdiff_t>(second.offset));
    out.insert(out.end(), fi.begin(), fi.end());
    out.insert(out.end(), export_->begin() + static_cast<ptrdiff_t>(second.offset + second.size), export_->end());
    return out;
  };
  for (auto [i, j] : std::vector<std::pair<size_t, size_t>>{{0, 1}, {10, 11}, {2000, 2500}, {9998, 9999}}) {
    Bytes b = rebuild(i, j, Slice(*export_, records[i]), Slice(*export_, records[j]));
    VerifyReport report = Verify(b);
    ASSERT_FALSE(report.valid) << i << "<->" << j;
    ASSERT_TRUE(report.errors.front().seq.has_value());
    EXPECT_EQ(*report.errors.front().seq, i);
    EXPECT_EQ(report.errors.front().offset, records[i].offset);
    // Exchange the contents but keep the seqs in order: the root catches it.
    AuditRecord ri = RecordAt(*export_, records[i]), rj = RecordAt(*export_, records[j]);
    std::swap(ri.seq, rj.seq);
    Bytes b2 = rebuild(i, j, FrameOf(FrameType::kRecord, EncodeRecord(ri).value()),
                       FrameOf(FrameType::kRecord, EncodeRecord(rj).value()));
    report = Verify(b2);
    ASSERT_FALSE(report.valid) << i << "<->" << j;
    EXPECT_TRUE(AnyErrorContains(report, "were altered")) << report.ToJson().dump(1);
  }
}

TEST_F(TamperTest, DuplicatedRecordsAreDetected) {
  const auto records = RecordFrames(*export_);
  for (size_t index : {size_t{0}, size_t{4999}, kRecords - 1}) {
    Bytes copy = Slice(*export_, records[index]);
    Bytes b = *export_;
    b.insert(b.begin() + static_cast<ptrdiff_t>(records[index].offset + records[index].size), copy.begin(),
             copy.end());
    VerifyReport report = Verify(b);
    ASSERT_FALSE(report.valid) << index;
    EXPECT_TRUE(AnyErrorContains(report, "duplicated or reordered")) << report.ToJson().dump(1);
    EXPECT_EQ(report.errors.front().offset, records[index].offset + records[index].size);
  }
}

TEST_F(TamperTest, TruncationIsDetected) {
  std::mt19937_64 rng(3);
  const auto checkpoints = CheckpointFrames(*export_);
  // Cut anywhere inside the body.
  for (int i = 0; i < 25; ++i) {
    const uint64_t cut = kLogHeaderSize + rng() % (export_->size() - kLogHeaderSize);
    Bytes b(export_->begin(), export_->begin() + static_cast<ptrdiff_t>(cut));
    ASSERT_FALSE(Verify(b).valid) << "cut at " << cut;
  }
  // Cut just before the final checkpoint: the last records are uncovered.
  Bytes before_last(export_->begin(), export_->begin() + static_cast<ptrdiff_t>(checkpoints.back().offset));
  VerifyReport report = Verify(before_last);
  ASSERT_FALSE(report.valid);
  EXPECT_TRUE(AnyErrorContains(report, "not covered by a signed checkpoint"));
  // Drop the last 100 records but keep the final checkpoint.
  const auto records = RecordFrames(*export_);
  Bytes gap(export_->begin(), export_->begin() + static_cast<ptrdiff_t>(records[kRecords - 100].offset));
  Bytes last = Slice(*export_, checkpoints.back());
  gap.insert(gap.end(), last.begin(), last.end());
  report = Verify(gap);
  ASSERT_FALSE(report.valid);
  EXPECT_TRUE(AnyErrorContains(report, "covers more records than the log holds")) << report.ToJson().dump(1);
  // Cut exactly after an earlier checkpoint: self-consistent on its own, so
  // it takes the checkpoint the auditor saw last to notice.
  const FrameSpan& mid = checkpoints[4];  // covers 5000 records
  Bytes clean_cut(export_->begin(), export_->begin() + static_cast<ptrdiff_t>(mid.offset + mid.size));
  EXPECT_TRUE(Verify(clean_cut).valid);
  VerifyOptions with_trusted;
  with_trusted.trusted_checkpoint = CheckpointAt(*export_, checkpoints.back());
  report = Verify(clean_cut, with_trusted);
  ASSERT_FALSE(report.valid);
  EXPECT_TRUE(AnyErrorContains(report, "the log was truncated")) << report.ToJson().dump(1);
  EXPECT_TRUE(Verify(*export_, with_trusted).valid);
}

TEST_F(TamperTest, CheckpointSignedByAnotherKeyIsDetected) {
  const auto checkpoints = CheckpointFrames(*export_);
  for (size_t k : {size_t{0}, size_t{5}, checkpoints.size() - 1}) {
    SignedCheckpoint c = CheckpointAt(*export_, checkpoints[k]);
    c.signature = other_signer_->Sign(AsBytes(CheckpointMessage(c.checkpoint))).value();
    Bytes b = Replace(*export_, checkpoints[k], FrameOf(FrameType::kCheckpoint, EncodeSignedCheckpoint(c)));
    VerifyReport report = Verify(b);
    ASSERT_FALSE(report.valid) << k;
    EXPECT_EQ(report.errors.front().offset, checkpoints[k].offset);
    EXPECT_TRUE(AnyErrorContains(report, "not signed by the audit key"));
  }
  // An attacker who rewrites the whole log under their own key (header and
  // every checkpoint) still fails against the real key.
  Bytes b = *export_;
  LogHeader h = ParseLogHeader(b).value();
  h.audit_key = other_signer_->PublicKey();
  Bytes header = EncodeLogHeader(h);
  std::copy(header.begin(), header.end(), b.begin());
  for (const FrameSpan& f : CheckpointFrames(b)) {
    SignedCheckpoint c = CheckpointAt(b, f);
    c.signature = other_signer_->Sign(AsBytes(CheckpointMessage(c.checkpoint))).value();
    Bytes frame = FrameOf(FrameType::kCheckpoint, EncodeSignedCheckpoint(c));
    std::copy(frame.begin(), frame.end(), b.begin() + static_cast<ptrdiff_t>(f.offset));
  }
  EXPECT_TRUE(VerifyLogBytes(b, other_signer_->PublicKey()).valid);
  VerifyReport report = Verify(b);
  ASSERT_FALSE(report.valid);
  EXPECT_TRUE(AnyErrorContains(report, "the log header names audit key"));
}

TEST_F(TamperTest, InconsistentCheckpointsAreDetected) {
  const auto checkpoints = CheckpointFrames(*export_);
  // The audit key itself signed a checkpoint at 5000 over another history
  // (a split view); the later checkpoints contradict it.
  SignedCheckpoint c = CheckpointAt(*export_, checkpoints[4]);
  ASSERT_EQ(c.checkpoint.tree_size, 5000u);
  c.checkpoint.root = crypto::Sha256(AsBytes("another history"));
  c.signature = signer_->Sign(AsBytes(CheckpointMessage(c.checkpoint))).value();
  Bytes b = Replace(*export_, checkpoints[4], FrameOf(FrameType::kCheckpoint, EncodeSignedCheckpoint(c)));
  VerifyReport report = Verify(b);
  ASSERT_FALSE(report.valid);
  EXPECT_TRUE(AnyErrorContains(report, "is not consistent with the later checkpoint")) << report.ToJson().dump(1);
  EXPECT_EQ(report.errors.front().offset, checkpoints[4].offset);

  // Two checkpoints for the same size with different roots.
  Bytes twice = *export_;
  Bytes frame = FrameOf(FrameType::kCheckpoint, EncodeSignedCheckpoint(c));
  twice.insert(twice.begin() + static_cast<ptrdiff_t>(checkpoints[4].offset + checkpoints[4].size), frame.begin(),
               frame.end());
  report = Verify(twice);
  ASSERT_FALSE(report.valid);
  EXPECT_TRUE(AnyErrorContains(report, "have different roots")) << report.ToJson().dump(1);

  // A genuine checkpoint of another log (different log id) spliced in.
  SignedCheckpoint foreign = CheckpointAt(*export_, checkpoints[2]);
  foreign.checkpoint.log_id[0] ^= 0xff;
  foreign.signature = signer_->Sign(AsBytes(CheckpointMessage(foreign.checkpoint))).value();
  Bytes spliced =
      Replace(*export_, checkpoints[2], FrameOf(FrameType::kCheckpoint, EncodeSignedCheckpoint(foreign)));
  report = Verify(spliced);
  ASSERT_FALSE(report.valid);
  EXPECT_TRUE(AnyErrorContains(report, "belongs to another log"));

  // Checkpoints moved out of order.
  Bytes swapped = Replace(*export_, checkpoints[2], Slice(*export_, checkpoints[3]));
  EXPECT_FALSE(Verify(swapped).valid);
}

TEST_F(TamperTest, ATrustedCheckpointFromAnotherHistoryIsRejected) {
  const auto checkpoints = CheckpointFrames(*export_);
  SignedCheckpoint t = CheckpointAt(*export_, checkpoints[6]);
  t.checkpoint.root[3] ^= 1;
  t.signature = signer_->Sign(AsBytes(CheckpointMessage(t.checkpoint))).value();
  VerifyOptions o;
  o.trusted_checkpoint = t;
  VerifyReport report = Verify(*export_, o);
  ASSERT_FALSE(report.valid);
  EXPECT_TRUE(AnyErrorContains(report, "history was rewritten"));
}

}  // namespace
}  // namespace sigil::audit
