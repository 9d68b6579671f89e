// The TPM-sealed master key file and the rollback counter, against swtpm.
#include "keystore/tpm2/sealed_master_key.h"

#include <fstream>
#include <memory>

#include "base/hex.h"
#include "crypto/random.h"
#include "gtest/gtest.h"
#include "keystore/tpm2/rollback_counter.h"
#include "testing/memory_store.h"
#include "testing/scoped_temp_dir.h"
#include "testing/swtpm_device_test_base.h"

namespace sigil::keystore::tpm2 {
namespace {

class SealedMasterKeyTest : public sigil::testing::SwtpmDeviceTest {
 protected:
  void SetUp() override {
    SwtpmDeviceTest::SetUp();
    if (HasFatalFailure()) return;
    path_ = dir_.path() + "/master.tpm";
  }
  ScopedTempDir dir_;
  std::string path_;
  crypto::Hash256 v1_ = crypto::Sha256(AsBytes("binary v1 + config"));
  crypto::Hash256 v2_ = crypto::Sha256(AsBytes("binary v2 + config"));
};

TEST_F(SealedMasterKeyTest, CreateUnsealRestartAndChangedMeasurement) {
  auto created = CreateSealedMasterKey(*dev_, path_, 16, v1_);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(*dev_->ReadPcr(16), PcrValueAfter(v1_));
  EXPECT_EQ(CreateSealedMasterKey(*dev_, path_, 16, v1_).status().code(), absl::StatusCode::kAlreadyExists);

  // A restart in the same boot: the PCR already holds the measurement.
  auto again = UnsealMasterKey(*dev_, path_, v1_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(*again == *created);
  // After a "reboot" (PCR reset) too.
  ASSERT_TRUE(dev_->ResetPcr(16).ok());
  ASSERT_TRUE(UnsealMasterKey(*dev_, path_, v1_).ok());

  // Another binary or configuration: refused, with a message that says why.
  auto changed = UnsealMasterKey(*dev_, path_, v2_);
  ASSERT_EQ(changed.status().code(), absl::StatusCode::kFailedPrecondition) << changed.status();
  const std::string msg(changed.status().message());
  EXPECT_NE(msg.find("measured binary or configuration changed"), std::string::npos) << msg;
  EXPECT_NE(msg.find(HexEncode(v2_)), std::string::npos);
  // And the original still works afterwards.
  ASSERT_TRUE(UnsealMasterKey(*dev_, path_, v1_).ok());
}

TEST_F(SealedMasterKeyTest, ResealMovesTheSameKeyToTheNewMeasurement) {
  auto created = CreateSealedMasterKey(*dev_, path_, 16, v1_);
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(ResealMasterKey(*dev_, path_, v2_).ok());
  auto v2 = UnsealMasterKey(*dev_, path_, v2_);
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_TRUE(*v2 == *created);
  EXPECT_EQ(UnsealMasterKey(*dev_, path_, v1_).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SealedMasterKeyTest, MalformedFileIsDataLoss) {
  auto created = CreateSealedMasterKey(*dev_, path_, 16, v1_);
  ASSERT_TRUE(created.ok());
  auto f = ReadSealedMasterKeyFile(path_);
  ASSERT_TRUE(f.ok());
  {
    std::ofstream out(path_, std::ios::trunc);
    out << "{\"version\":1,\"pcr\":16,\"pcr_bank\":\"sha256\",\"event\":\"00\"}";
  }
  EXPECT_EQ(UnsealMasterKey(*dev_, path_, v1_).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(UnsealMasterKey(*dev_, dir_.path() + "/none", v1_).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SealedMasterKeyTest, RollbackCounterDetectsAnOlderCopyOfTheStore) {
  SecretBytes master = crypto::RandomSecret(32);
  store::MemoryStore db;
  auto first = RollbackCounter::CheckAndAdvance(*dev_, db, kDefaultCounterIndex, master);
  ASSERT_TRUE(first.ok()) << first.status();
  // Snapshot the data directory (the store) now...
  auto old_row = db.Get(RollbackCounter::kTable, RollbackCounter::kRow);
  ASSERT_TRUE(old_row.ok() && old_row->has_value());
  // ...two more starts...
  ASSERT_TRUE(RollbackCounter::CheckAndAdvance(*dev_, db, kDefaultCounterIndex, master).ok());
  auto third = RollbackCounter::CheckAndAdvance(*dev_, db, kDefaultCounterIndex, master);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(*third, *first + 2);
  // ...then the old copy is restored: refused.
  ASSERT_TRUE(db.Put(RollbackCounter::kTable, RollbackCounter::kRow, **old_row).ok());
  auto rolled = RollbackCounter::CheckAndAdvance(*dev_, db, kDefaultCounterIndex, master);
  ASSERT_EQ(rolled.status().code(), absl::StatusCode::kFailedPrecondition) << rolled.status();
  EXPECT_NE(std::string(rolled.status().message()).find("rollback detected"), std::string::npos);

  // Editing the stored value to match the TPM fails its MAC.
  std::vector<uint8_t> forged = **old_row;
  forged[7] = static_cast<uint8_t>(*third & 0xff);
  ASSERT_TRUE(db.Put(RollbackCounter::kTable, RollbackCounter::kRow, forged).ok());
  EXPECT_EQ(RollbackCounter::CheckAndAdvance(*dev_, db, kDefaultCounterIndex, master).status().code(),
            absl::StatusCode::kDataLoss);

  // A store with no record while the TPM counter exists: refused too.
  store::MemoryStore fresh;
  EXPECT_EQ(RollbackCounter::CheckAndAdvance(*dev_, fresh, kDefaultCounterIndex, master).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace sigil::keystore::tpm2
