#include "keystore/backup_share.h"

#include "base/hex.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sigil::keystore {
namespace {

using ::testing::HasSubstr;

// A share file whose six lines are `lines` and whose checksum is right.
SecretBytes WithChecksum(const std::string& lines) {
  crypto::Hash256 h = crypto::Sha256(AsBytes(lines));
  return SecretBytes::CopyFrom(lines + "checksum " + HexEncode(std::span<const uint8_t>(h).first(4)) + "\n");
}

BackupShare Example() {
  BackupShare share;
  for (size_t i = 0; i < share.backup_id.size(); ++i) share.backup_id[i] = static_cast<uint8_t>(i);
  share.threshold = 3;
  share.count = 5;
  share.share.index = 4;
  share.share.bytes = crypto::RandomSecret(32);
  return share;
}

TEST(BackupShareTest, RoundTrips) {
  BackupShare share = Example();
  SecretBytes text = EncodeBackupShare(share);
  EXPECT_THAT(std::string(text.RevealText(SecretAccess::Get())),
              HasSubstr("sigil-backup-share 1\nbackup-id 000102030405060708090a0b0c0d0e0f\nthreshold 3\ncount 5\n"
                        "index 4\nshare "));
  auto decoded = DecodeBackupShare(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->backup_id, share.backup_id);
  EXPECT_EQ(decoded->threshold, 3);
  EXPECT_EQ(decoded->count, 5);
  EXPECT_EQ(decoded->share.index, 4);
  EXPECT_TRUE(decoded->share.bytes == share.share.bytes);
}

TEST(BackupShareTest, AcceptsCrLfAndAMissingFinalNewline) {
  const std::string lines =
      "sigil-backup-share 1\r\nbackup-id 000102030405060708090a0b0c0d0e0f\r\nthreshold 2\r\ncount 2\r\nindex 1\r\n"
      "share 00ff\r\n";
  crypto::Hash256 h = crypto::Sha256(AsBytes(lines));
  auto decoded = DecodeBackupShare(
      SecretBytes::CopyFrom(lines + "checksum " + HexEncode(std::span<const uint8_t>(h).first(4))));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->share.bytes.size(), 2u);
}

TEST(BackupShareTest, DetectsDamage) {
  SecretBytes text = EncodeBackupShare(Example());
  auto bytes = text.RevealMutable(SecretAccess::Get());
  std::string_view view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  size_t at = view.find("index 4");
  bytes[at + 6] = '3';  // a mistyped index
  auto decoded = DecodeBackupShare(text);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(decoded.status().message()), HasSubstr("checksum"));
}

TEST(BackupShareTest, RejectsMalformedFiles) {
  const std::string id = "backup-id 000102030405060708090a0b0c0d0e0f\n";
  struct Case {
    std::string lines;
    absl::StatusCode code;
  };
  std::vector<Case> cases = {
      {"sigil-backup-share 2\n" + id + "threshold 2\ncount 3\nindex 1\nshare 00\n", absl::StatusCode::kFailedPrecondition},
      {"sigil-backup-share 1\n" + id + "threshold 1\ncount 3\nindex 1\nshare 00\n", absl::StatusCode::kInvalidArgument},
      {"sigil-backup-share 1\n" + id + "threshold 2\ncount 3\nindex 4\nshare 00\n", absl::StatusCode::kInvalidArgument},
      {"sigil-backup-share 1\n" + id + "threshold 2\ncount 3\nindex 01\nshare 00\n", absl::StatusCode::kInvalidArgument},
      {"sigil-backup-share 1\n" + id + "threshold 2\ncount 3\nindex 1\nshare 0g\n", absl::StatusCode::kInvalidArgument},
      {"sigil-backup-share 1\nbackup-id 00\nthreshold 2\ncount 3\nindex 1\nshare 00\n", absl::StatusCode::kInvalidArgument},
      {"sigil-backup-share 1\n" + id + "count 3\nthreshold 2\nindex 1\nshare 00\n", absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DecodeBackupShare(WithChecksum(c.lines)).status().code(), c.code) << c.lines;
  }
  EXPECT_EQ(DecodeBackupShare(SecretBytes::CopyFrom(std::string_view("hello\n"))).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeBackupShare(SecretBytes::Zeroed(kMaxBackupShareFileSize + 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::keystore
