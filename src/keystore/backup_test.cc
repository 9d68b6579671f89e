#include "keystore/backup.h"

#include "base/hex.h"
#include "crypto/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keystore/doc_example_test.h"
#include "keystore/sign_and_verify_test.h"
#include "testing/memory_store.h"

namespace sigil::keystore {
namespace {

using ::testing::HasSubstr;

SecretBytes Pass(std::string_view text) { return SecretBytes::CopyFrom(text); }

BackupOptions TestOptions(const Clock& clock) {
  BackupOptions options;
  options.argon2 = crypto::Argon2Params::ForTesting();
  options.clock = &clock;
  return options;
}

// A keystore with every kind of history: three types, several purposes, a
// rotated key (retired + active versions) and an archived one.
class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = MakeKeystore(source_store_, "source passphrase");
    ASSERT_TRUE(source_->Generate("trader", KeyType::kSecp256k1, KeyPurpose::kSigning).ok());
    ASSERT_TRUE(source_->Generate("nostr", KeyType::kSchnorr, KeyPurpose::kSigning).ok());
    ASSERT_TRUE(source_->Generate("solana", KeyType::kEd25519, KeyPurpose::kSigning).ok());
    ASSERT_TRUE(source_->Generate("audit", KeyType::kEd25519, KeyPurpose::kAudit).ok());
    clock_.Advance(absl::Hours(48));
    ASSERT_TRUE(source_->Rotate("trader").ok());
    ASSERT_TRUE(source_->Generate("old", KeyType::kSecp256k1, KeyPurpose::kSigning).ok());
    clock_.Advance(absl::Hours(1));
    ASSERT_TRUE(source_->Archive("old").ok());
    clock_.Advance(absl::Hours(1));
  }

  std::unique_ptr<SoftwareKeyStore> MakeKeystore(store::Store& store, std::string_view passphrase) {
    SoftwareKeyStoreOptions options;
    options.clock = &clock_;
    auto ks = SoftwareKeyStore::CreateWithPassphrase(store, Pass(passphrase), crypto::Argon2Params::ForTesting(),
                                                     options);
    EXPECT_TRUE(ks.ok()) << ks.status();
    return ks.ok() ? std::move(ks).value() : nullptr;
  }

  // The restored keystore holds exactly the source's keys, and every active
  // key signs with the same public key (so the same address).
  void ExpectSameKeys(SoftwareKeyStore& restored) {
    auto want = source_->List();
    auto got = restored.List();
    ASSERT_TRUE(want.ok() && got.ok());
    EXPECT_EQ(*got, *want);
    for (const KeyInfo& key : *got) {
      if (key.status == KeyStatus::kActive) ExpectSignsAndVerifies(restored, key, key.purpose);
    }
  }

  FakeClock clock_;
  store::MemoryStore source_store_;
  std::unique_ptr<SoftwareKeyStore> source_;
};

TEST_F(BackupTest, PassphraseRoundTrip) {
  auto file = CreateBackup(*source_, Pass("backup passphrase"), TestOptions(clock_));
  ASSERT_TRUE(file.ok()) << file.status();
  auto summary = InspectBackup(*file);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->protection, BackupProtection::kPassphrase);
  EXPECT_EQ(summary->key_count, 6u) << "every version of every key";
  EXPECT_EQ(summary->created_at, clock_.Now());

  store::MemoryStore target_store;
  auto target = MakeKeystore(target_store, "a different keystore passphrase");
  auto restored = RestoreBackup(*file, Pass("backup passphrase"), *target);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->backup_id, summary->backup_id);
  ExpectSameKeys(*target);

  // The restored store stands on its own: reopen it with its own passphrase.
  target.reset();
  auto reopened = SoftwareKeyStore::OpenWithPassphrase(target_store, Pass("a different keystore passphrase"), {});
  ASSERT_TRUE(reopened.ok());
  ExpectSameKeys(**reopened);
}

// A key whose name row is gone (the store edited outside Sigil) would have
// been left out of the backup without a word; the backup is refused.
TEST_F(BackupTest, AKeyNoNameLeadsToRefusesTheBackup) {
  auto keys = source_->List();
  ASSERT_TRUE(keys.ok() && !keys->empty());
  ASSERT_TRUE(source_store_.Delete(SoftwareKeyStore::kNamesTable, keys->front().name).ok());
  source_->DropCaches();
  auto file = CreateBackup(*source_, Pass("backup passphrase"), TestOptions(clock_));
  EXPECT_EQ(file.status().code(), absl::StatusCode::kDataLoss) << file.status();
  EXPECT_THAT(std::string(file.status().message()), HasSubstr("no name leading to it"));
}

TEST_F(BackupTest, WrongPassphraseRestoresNothing) {
  auto file = CreateBackup(*source_, Pass("backup passphrase"), TestOptions(clock_));
  ASSERT_TRUE(file.ok());
  store::MemoryStore target_store;
  auto target = MakeKeystore(target_store, "target passphrase");
  auto restored = RestoreBackup(*file, Pass("backup passphrasf"), *target);
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(restored.status().message()), HasSubstr("wrong backup passphrase"));
  EXPECT_TRUE(target->List()->empty());
}

TEST_F(BackupTest, AnyAlterationOfTheFileIsDetected) {
  auto file = CreateBackup(*source_, Pass("backup passphrase"), TestOptions(clock_));
  ASSERT_TRUE(file.ok());
  store::MemoryStore target_store;
  auto target = MakeKeystore(target_store, "target passphrase");
  for (size_t i = 0; i < file->size(); ++i) {
    std::vector<uint8_t> altered = *file;
    altered[i] ^= 0x01;
    auto restored = RestoreBackup(altered, Pass("backup passphrase"), *target);
    ASSERT_FALSE(restored.ok()) << "flip at byte " << i << " went unnoticed";
  }
  for (size_t len : {size_t{0}, size_t{7}, size_t{60}, file->size() / 2, file->size() - 1}) {
    auto restored = RestoreBackup(std::span<const uint8_t>(file->data(), len), Pass("backup passphrase"), *target);
    EXPECT_FALSE(restored.ok()) << "truncated to " << len;
  }
  std::vector<uint8_t> longer = *file;
  longer.push_back(0);
  EXPECT_EQ(RestoreBackup(longer, Pass("backup passphrase"), *target).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(target->List()->empty()) << "nothing restored from a bad file";
  EXPECT_TRUE(RestoreBackup(*file, Pass("backup passphrase"), *target).ok());
}

TEST_F(BackupTest, ThreeOfFiveShares) {
  auto backup = CreateSharedBackup(*source_, 3, 5, TestOptions(clock_));
  ASSERT_TRUE(backup.ok()) << backup.status();
  ASSERT_EQ(backup->shares.size(), 5u);
  EXPECT_EQ(backup->summary.protection, BackupProtection::kShares);
  EXPECT_EQ(backup->summary.threshold, 3);
  EXPECT_EQ(backup->summary.share_count, 5);

  // Every 3-subset (and more) restores the same keys.
  for (unsigned mask = 0; mask < 32; ++mask) {
    if (__builtin_popcount(mask) < 3) continue;
    std::vector<SecretBytes> chosen;
    for (int i = 0; i < 5; ++i) {
      if (mask & (1u << i)) chosen.push_back(backup->shares[i].Clone());
    }
    store::MemoryStore target_store;
    auto target = MakeKeystore(target_store, "target passphrase");
    auto restored = RestoreSharedBackup(backup->file, chosen, *target);
    ASSERT_TRUE(restored.ok()) << "mask " << mask << ": " << restored.status();
    ExpectSameKeys(*target);
  }
}

TEST_F(BackupTest, TooFewSharesFailClearly) {
  auto backup = CreateSharedBackup(*source_, 3, 5, TestOptions(clock_));
  ASSERT_TRUE(backup.ok());
  store::MemoryStore target_store;
  auto target = MakeKeystore(target_store, "target passphrase");
  std::vector<SecretBytes> two;
  two.push_back(backup->shares[0].Clone());
  two.push_back(backup->shares[3].Clone());
  auto restored = RestoreSharedBackup(backup->file, two, *target);
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(restored.status().message()), HasSubstr("2 share files given, but this backup needs 3 of 5"));

  // The same share twice does not count as two.
  std::vector<SecretBytes> repeated;
  repeated.push_back(backup->shares[0].Clone());
  repeated.push_back(backup->shares[1].Clone());
  repeated.push_back(backup->shares[1].Clone());
  restored = RestoreSharedBackup(backup->file, repeated, *target);
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(restored.status().message()), HasSubstr("repeats share 2"));
  EXPECT_TRUE(target->List()->empty());
}

TEST_F(BackupTest, SharesOfDifferentBackupsAreRefused) {
  auto a = CreateSharedBackup(*source_, 3, 5, TestOptions(clock_));
  auto b = CreateSharedBackup(*source_, 3, 5, TestOptions(clock_));
  ASSERT_TRUE(a.ok() && b.ok());
  store::MemoryStore target_store;
  auto target = MakeKeystore(target_store, "target passphrase");
  std::vector<SecretBytes> mixed;
  mixed.push_back(a->shares[0].Clone());
  mixed.push_back(a->shares[1].Clone());
  mixed.push_back(b->shares[2].Clone());
  auto restored = RestoreSharedBackup(a->file, mixed, *target);
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(restored.status().message()), HasSubstr("share file #3 belongs to another backup"));
  // Three shares of backup B do not open backup A either.
  std::vector<SecretBytes> other;
  for (int i = 0; i < 3; ++i) other.push_back(b->shares[i].Clone());
  EXPECT_EQ(RestoreSharedBackup(a->file, other, *target).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(target->List()->empty());
}

TEST_F(BackupTest, DamagedShareIsDetected) {
  auto backup = CreateSharedBackup(*source_, 2, 3, TestOptions(clock_));
  ASSERT_TRUE(backup.ok());
  store::MemoryStore target_store;
  auto target = MakeKeystore(target_store, "target passphrase");
  SecretBytes damaged = backup->shares[0].Clone();
  auto text = damaged.RevealMutable(SecretAccess::Get());
  // A digit of the share line changed.
  std::string_view view(reinterpret_cast<const char*>(text.data()), text.size());
  size_t pos = view.find("\nshare ") + 11;
  text[pos] = text[pos] == '0' ? '1' : '0';
  std::vector<SecretBytes> shares;
  shares.push_back(std::move(damaged));
  shares.push_back(backup->shares[1].Clone());
  auto restored = RestoreSharedBackup(backup->file, shares, *target);
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(restored.status().message()), HasSubstr("share file #1"));
  EXPECT_THAT(std::string(restored.status().message()), HasSubstr("checksum"));
}

TEST_F(BackupTest, ProtectionModesAreNotInterchangeable) {
  auto passphrase_file = CreateBackup(*source_, Pass("backup passphrase"), TestOptions(clock_));
  auto shared = CreateSharedBackup(*source_, 2, 2, TestOptions(clock_));
  ASSERT_TRUE(passphrase_file.ok() && shared.ok());
  store::MemoryStore target_store;
  auto target = MakeKeystore(target_store, "target passphrase");
  EXPECT_EQ(RestoreBackup(shared->file, Pass("backup passphrase"), *target).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RestoreSharedBackup(*passphrase_file, shared->shares, *target).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(BackupTest, DisabledByConfiguration) {
  BackupOptions options = TestOptions(clock_);
  options.enabled = false;
  auto file = CreateBackup(*source_, Pass("backup passphrase"), options);
  EXPECT_EQ(file.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(file.status().message()), HasSubstr("backups are disabled by configuration"));
  auto shared = CreateSharedBackup(*source_, 3, 5, options);
  EXPECT_EQ(shared.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(BackupTest, RefusesBadArguments) {
  EXPECT_EQ(CreateBackup(*source_, Pass("short"), TestOptions(clock_)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateSharedBackup(*source_, 1, 5, TestOptions(clock_)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateSharedBackup(*source_, 6, 5, TestOptions(clock_)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InspectBackup(AsBytes("definitely not a backup")).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(BackupTest, TamperedKeystoreIsNotBackedUp) {
  KeyInfo trader = *source_->Get("trader");
  const std::string slot = SoftwareKeyStore::RecordKey(trader.id, trader.version);
  store::Bytes record = **source_store_.Get(SoftwareKeyStore::kKeysTable, slot);
  record[record.size() - 40] ^= 0x01;
  ASSERT_TRUE(source_store_.Put(SoftwareKeyStore::kKeysTable, slot, record).ok());
  auto file = CreateBackup(*source_, Pass("backup passphrase"), TestOptions(clock_));
  EXPECT_EQ(file.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(file.status().message()), HasSubstr("'trader'"));
}

TEST_F(BackupTest, RestoreNeedsAnEmptyKeystore) {
  auto file = CreateBackup(*source_, Pass("backup passphrase"), TestOptions(clock_));
  ASSERT_TRUE(file.ok());
  store::MemoryStore target_store;
  auto target = MakeKeystore(target_store, "target passphrase");
  KeyInfo existing = *target->Generate("mine", KeyType::kEd25519, KeyPurpose::kSigning);
  auto restored = RestoreBackup(*file, Pass("backup passphrase"), *target);
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(*target->List(), ::testing::ElementsAre(existing));
}

TEST_F(BackupTest, NoPrivateKeyInTheClearInFilesOrShares) {
  std::vector<std::string> secrets;
  auto keys = source_->List();
  ASSERT_TRUE(keys.ok());
  for (const KeyInfo& key : *keys) {
    if (key.status != KeyStatus::kActive) continue;
    absl::Status lent = source_->WithUnsealedKey(key.id, key.purpose, [&](const KeyInfo&, const SecretBytes& priv) {
      auto raw = priv.Reveal(SecretAccess::Get());
      secrets.emplace_back(raw.begin(), raw.end());
      secrets.push_back(HexEncode(raw));
      return absl::OkStatus();
    });
    ASSERT_TRUE(lent.ok()) << lent;
  }
  auto file = CreateBackup(*source_, Pass("backup passphrase"), TestOptions(clock_));
  auto shared = CreateSharedBackup(*source_, 2, 3, TestOptions(clock_));
  ASSERT_TRUE(file.ok() && shared.ok());
  std::vector<std::string> outputs = {std::string(file->begin(), file->end()),
                                      std::string(shared->file.begin(), shared->file.end())};
  for (const SecretBytes& share : shared->shares) outputs.emplace_back(share.RevealText(SecretAccess::Get()));
  for (const std::string& out : outputs) {
    for (const std::string& secret : secrets) EXPECT_EQ(out.find(secret), std::string::npos);
  }
}

// doc/backup.md: the documented backup files restore the documented key,
// and the share files decode and re-encode to the documented text.
TEST(BackupDocTest, DocumentedExamplesRestore) {
  const Bytes passphrase_file = AnnotatedHex(DocExample("backup.md", "passphrase-backup"));
  const Bytes shared_file = AnnotatedHex(DocExample("backup.md", "shared-backup"));
  std::vector<SecretBytes> shares;
  for (int i = 1; i <= 3; ++i) {
    std::string text = DocExample("backup.md", "share-" + std::to_string(i)) + "\n";
    shares.push_back(SecretBytes::CopyFrom(text));
    auto decoded = DecodeBackupShare(shares.back());
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->share.index, i);
    EXPECT_EQ(EncodeBackupShare(*decoded).RevealText(SecretAccess::Get()), text);
  }

  auto summary = InspectBackup(passphrase_file);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->protection, BackupProtection::kPassphrase);
  EXPECT_EQ(summary->key_count, 1u);
  EXPECT_EQ(summary->created_at, absl::FromUnixSeconds(1767225600));
  auto shared_summary = InspectBackup(shared_file);
  ASSERT_TRUE(shared_summary.ok());
  EXPECT_EQ(shared_summary->threshold, 2);
  EXPECT_EQ(shared_summary->share_count, 3);
  EXPECT_EQ(HexEncode(shared_summary->backup_id), "771dc83e46f96f5a6e15a1a790bf8ee3");

  auto expect_example_key = [](SoftwareKeyStore& ks) {
    auto key = ks.Get("example");
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(key->id, "key_j2tw67zkz72gxiwk7pyr7miwl4");
    crypto::Hash256 h = crypto::Keccak256(std::span<const uint8_t>(key->public_key).subspan(1));
    EXPECT_EQ(HexEncode0x(std::span<const uint8_t>(h).subspan(12)), "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
    ExpectSignsAndVerifies(ks, *key, KeyPurpose::kSigning);
  };
  {
    store::MemoryStore store;
    auto ks = SoftwareKeyStore::CreateWithMasterKey(store, crypto::RandomSecret(32), {});
    ASSERT_TRUE(ks.ok());
    auto restored = RestoreBackup(passphrase_file, Pass("backup passphrase example"), **ks);
    ASSERT_TRUE(restored.ok()) << restored.status();
    expect_example_key(**ks);
  }
  {
    store::MemoryStore store;
    auto ks = SoftwareKeyStore::CreateWithMasterKey(store, crypto::RandomSecret(32), {});
    ASSERT_TRUE(ks.ok());
    std::vector<SecretBytes> one_and_three;
    one_and_three.push_back(shares[0].Clone());
    one_and_three.push_back(shares[2].Clone());
    auto restored = RestoreSharedBackup(shared_file, one_and_three, **ks);
    ASSERT_TRUE(restored.ok()) << restored.status();
    expect_example_key(**ks);
    std::vector<SecretBytes> only_two;
    only_two.push_back(shares[1].Clone());
    store::MemoryStore other_store;
    auto other = SoftwareKeyStore::CreateWithMasterKey(other_store, crypto::RandomSecret(32), {});
    EXPECT_EQ(RestoreSharedBackup(shared_file, only_two, **other).status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
}

}  // namespace
}  // namespace sigil::keystore
