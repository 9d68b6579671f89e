#include "audit/log_format.h"

#include "audit/audit_testing.h"
#include "audit/crc32c.h"
#include "gtest/gtest.h"

namespace sigil::audit {
namespace {

TEST(Crc32c, KnownAnswers) {
  EXPECT_EQ(Crc32c(AsBytes("123456789")), 0xE3069283u);
  EXPECT_EQ(Crc32c(AsBytes("")), 0u);
  Bytes zeros(32, 0);
  EXPECT_EQ(Crc32c(zeros), 0x8A9136AAu);  // RFC 3720 B.4
  Bytes ones(32, 0xff);
  EXPECT_EQ(Crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(Crc32cExtend(Crc32c(AsBytes("1234")), AsBytes("56789")), 0xE3069283u);
}

LogHeader SampleHeader() {
  LogHeader h;
  for (size_t i = 0; i < 16; ++i) h.log_id[i] = static_cast<uint8_t>(0xa0 + i);
  h.audit_key = testing::TestSigner()->PublicKey();
  return h;
}

Bytes SampleLog(int records) {
  Bytes out = EncodeLogHeader(SampleHeader());
  for (int i = 0; i < records; ++i) {
    AuditRecord r = testing::SampleRecord(static_cast<uint64_t>(i));
    r.seq = static_cast<uint64_t>(i);
    AppendFrame(out, FrameType::kRecord, AsBytes(EncodeRecord(r).value()));
  }
  return out;
}

TEST(LogFormat, HeaderRoundTripAndDamage) {
  const LogHeader h = SampleHeader();
  Bytes bytes = EncodeLogHeader(h);
  ASSERT_EQ(bytes.size(), kLogHeaderSize);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), "SIGILAUD");
  auto parsed = ParseLogHeader(bytes);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, h);
  for (size_t i = 0; i < kLogHeaderSize; ++i) {
    Bytes damaged = bytes;
    damaged[i] ^= 0x10;
    EXPECT_FALSE(ParseLogHeader(damaged).ok()) << "byte " << i;
  }
  EXPECT_TRUE(absl::IsDataLoss(ParseLogHeader(Bytes(bytes.begin(), bytes.begin() + 63)).status()));
}

TEST(LogFormat, ScanCleanLog) {
  Bytes log = SampleLog(5);
  auto scan = ScanLog(log);
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->tail, LogScan::Tail::kClean);
  ASSERT_EQ(scan->frames.size(), 5u);
  EXPECT_EQ(scan->valid_end, log.size());
  EXPECT_EQ(scan->frames[0].offset, kLogHeaderSize);
  for (const Frame& f : scan->frames) EXPECT_TRUE(ParseRecord(f.payload).ok());
}

TEST(LogFormat, EveryCutOfTheLastFrameIsTorn) {
  Bytes log = SampleLog(3);
  const size_t last_start = ScanLog(log)->frames.back().offset;
  for (size_t cut = last_start + 1; cut < log.size(); ++cut) {
    Bytes torn(log.begin(), log.begin() + static_cast<ptrdiff_t>(cut));
    auto scan = ScanLog(torn);
    ASSERT_TRUE(scan.ok());
    EXPECT_EQ(scan->tail, LogScan::Tail::kTorn) << cut;
    EXPECT_EQ(scan->valid_end, last_start) << cut;
    EXPECT_EQ(scan->frames.size(), 2u);
  }
}

TEST(LogFormat, ZeroFillIsTornButDamageIsCorrupt) {
  Bytes log = SampleLog(3);
  Bytes zeros = log;
  zeros.resize(log.size() + 4096, 0);
  auto scan = ScanLog(zeros);
  EXPECT_EQ(scan->tail, LogScan::Tail::kTorn);
  EXPECT_EQ(scan->valid_end, log.size());

  // A complete final frame with a bad checksum is not a tear.
  Bytes flipped = log;
  flipped[flipped.size() - 3] ^= 1;
  scan = ScanLog(flipped);
  EXPECT_EQ(scan->tail, LogScan::Tail::kCorrupt);

  // A damaged middle frame, whatever follows.
  Bytes middle = log;
  const size_t second = ScanLog(log)->frames[1].offset;
  middle[second + 20] ^= 1;
  scan = ScanLog(middle);
  EXPECT_EQ(scan->tail, LogScan::Tail::kCorrupt);
  EXPECT_EQ(scan->valid_end, second);

  // A length that runs past the end, with a complete frame after it: damage.
  Bytes lying = log;
  lying[second] = 0xff;
  lying[second + 1] = 0xff;
  scan = ScanLog(lying);
  EXPECT_EQ(scan->tail, LogScan::Tail::kCorrupt);
  EXPECT_EQ(scan->frames.size(), 1u);
}

}  // namespace
}  // namespace sigil::audit
