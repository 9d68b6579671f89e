// Fail-closed on a real full filesystem: a 256 KiB tmpfs is filled until the
// audit log cannot be written, then space is freed and appends resume by
// themselves. Needs CAP_SYS_ADMIN for mount(2); skipped otherwise.
#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <fstream>

#include "audit/audit_log.h"
#include "audit/audit_testing.h"
#include "gtest/gtest.h"

namespace sigil::audit {
namespace {

class TmpfsMount {
 public:
  explicit TmpfsMount(const std::string& dir) : dir_(dir) {
    ::mkdir(dir.c_str(), 0700);
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=256k") == 0;
    if (!mounted_) error_ = strerror(errno);
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

// Writes `bytes` of filler; returns how many fitted.
size_t Fill(const std::string& path, size_t bytes) {
  std::ofstream out(path, std::ios::binary);
  std::string chunk(4096, 'x');
  size_t written = 0;
  while (written < bytes && out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()))) {
    out.flush();
    if (!out) break;
    written += chunk.size();
  }
  return written;
}

TEST(AuditLogFullDisk, FailsClosedOnFullTmpfsAndResumesWhenSpaceIsFreed) {
  testing::TempDir dir;
  const std::string mnt = dir.File("mnt");
  TmpfsMount mount(mnt);
  if (!mount.mounted()) GTEST_SKIP() << "cannot mount a tmpfs (" << mount.error() << "); needs root";

  auto signer = testing::TestSigner();
  AuditLogOptions o;
  o.signer = signer.get();
  o.background_checkpoints = false;
  o.checkpoint_every_records = 25;
  const std::string path = mnt + "/audit.log";
  auto log = AuditLog::Open(path, o).value();

  // Leave a few pages free, then append until the filesystem is full.
  Fill(mnt + "/filler", 256 * 1024 - 24 * 1024);
  uint64_t appended = 0;
  absl::Status failure;
  for (uint64_t i = 0; i < 10000; ++i) {
    auto receipt = log->Append(testing::SampleRecord(i));
    if (!receipt.ok()) {
      failure = receipt.status();
      break;
    }
    ASSERT_EQ(receipt->seq, appended);
    ++appended;
  }
  ASSERT_FALSE(failure.ok()) << "the tmpfs never filled up";
  EXPECT_GT(appended, 10u);
  EXPECT_TRUE(absl::IsUnavailable(failure)) << failure;
  EXPECT_NE(std::string(failure.message()).find("audit log cannot be written: "), std::string::npos) << failure;
  EXPECT_NE(std::string(failure.message()).find("No space left on device"), std::string::npos) << failure;

  // Still failing, nothing advances, and the file is a valid log throughout.
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(absl::IsUnavailable(log->Append(testing::SampleRecord(99999)).status()));
  }
  EXPECT_EQ(log->Size(), appended);
  VerifyReport while_full = log->Verify();
  EXPECT_TRUE(while_full.valid) << while_full.ToJson().dump();
  EXPECT_EQ(while_full.records, appended);

  // Free space: appends resume by themselves, with the next seq.
  ASSERT_EQ(::unlink((mnt + "/filler").c_str()), 0);
  auto resumed = log->Append(testing::SampleRecord(appended));
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->seq, appended);
  for (uint64_t i = appended + 1; i < appended + 30; ++i) ASSERT_TRUE(log->Append(testing::SampleRecord(i)).ok());
  const uint64_t total = appended + 30;
  ASSERT_TRUE(log->Close().ok());

  VerifyReport report = VerifyExportFile(PosixEnv(), path, signer->PublicKey());
  EXPECT_TRUE(report.valid) << report.ToJson().dump();
  EXPECT_EQ(report.records, total);
  auto reopened = AuditLog::Open(path, o);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->Size(), total);
  EXPECT_EQ((*reopened)->Stats().torn_tail_bytes_truncated, 0u);
}

}  // namespace
}  // namespace sigil::audit
