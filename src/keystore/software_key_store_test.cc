#include "keystore/software_key_store.h"

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <random>
#include <tuple>
#include <functional>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "base/status.h"
#include "crypto/random.h"
#include "crypto/secp256k1.h"
#include "keystore/key_material.h"
#include "keystore/key_store_contract_test.h"
#include "keystore/master_key_file.h"
#include "store/forwarding_store.h"
#include "store/sqlite_store.h"
#include "testing/fault_injecting_store.h"
#include "testing/memory_store.h"
#include "testing/scoped_temp_dir.h"

namespace sigil::keystore {
namespace {

using ::testing::HasSubstr;

SecretBytes Pass(std::string_view text) { return SecretBytes::CopyFrom(text); }

SoftwareKeyStoreOptions OptionsWith(const Clock& clock) {
  SoftwareKeyStoreOptions options;
  options.clock = &clock;
  return options;
}

KeyStoreFixture MakeOnMemory(const Clock& clock) {
  KeyStoreFixture f;
  f.store = std::make_unique<store::MemoryStore>();
  auto ks = SoftwareKeyStore::CreateWithPassphrase(*f.store, Pass("correct horse battery"),
                                                   crypto::Argon2Params::ForTesting(), OptionsWith(clock));
  EXPECT_TRUE(ks.ok()) << ks.status();
  if (ks.ok()) f.keystore = std::move(ks).value();
  return f;
}

// The SQLite store lives in a directory removed when the fixture dies.
class SqliteFixtureStore final : public store::Store {
 public:
  SqliteFixtureStore() {
    auto s = store::SqliteStore::Open(dir_.path() + "/data", store::SqliteStoreOptions{});
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) inner_ = std::move(s).value();
  }
  absl::StatusOr<std::optional<store::Bytes>> Get(std::string_view t, std::string_view k) override {
    return inner_->Get(t, k);
  }
  absl::StatusOr<std::vector<store::Entry>> Scan(std::string_view t, const store::ScanOptions& o) override {
    return inner_->Scan(t, o);
  }
  absl::Status Put(std::string_view t, std::string_view k, std::span<const uint8_t> v) override {
    return inner_->Put(t, k, v);
  }
  absl::Status Delete(std::string_view t, std::string_view k) override { return inner_->Delete(t, k); }
  absl::Status RunTransaction(const store::TransactionFn& fn) override { return inner_->RunTransaction(fn); }

 private:
  ScopedTempDir dir_;
  std::unique_ptr<store::SqliteStore> inner_;
};

KeyStoreFixture MakeOnSqlite(const Clock& clock) {
  KeyStoreFixture f;
  f.store = std::make_unique<SqliteFixtureStore>();
  auto master = crypto::RandomSecret(32);
  auto ks = SoftwareKeyStore::CreateWithMasterKey(*f.store, master, OptionsWith(clock));
  EXPECT_TRUE(ks.ok()) << ks.status();
  if (ks.ok()) f.keystore = std::move(ks).value();
  return f;
}

INSTANTIATE_TEST_SUITE_P(Software, KeyStoreContractTest,
                         ::testing::Values(KeyStoreFactory{"memory_store", MakeOnMemory},
                                           KeyStoreFactory{"sqlite_store", MakeOnSqlite}),
                         [](const auto& info) { return info.param.name; });

// ---------------------------------------------------------------------------

class SoftwareKeyStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<SoftwareKeyStore> Create(store::Store& store, SoftwareKeyStoreOptions options = {}) {
    if (options.clock == nullptr) options.clock = &clock_;
    auto ks = SoftwareKeyStore::CreateWithPassphrase(store, Pass(kPassphrase), crypto::Argon2Params::ForTesting(),
                                                     options);
    EXPECT_TRUE(ks.ok()) << ks.status();
    return ks.ok() ? std::move(ks).value() : nullptr;
  }
  std::unique_ptr<SoftwareKeyStore> Open(store::Store& store, SoftwareKeyStoreOptions options = {}) {
    if (options.clock == nullptr) options.clock = &clock_;
    auto ks = SoftwareKeyStore::OpenWithPassphrase(store, Pass(kPassphrase), options);
    EXPECT_TRUE(ks.ok()) << ks.status();
    return ks.ok() ? std::move(ks).value() : nullptr;
  }
  static std::string RecordKey(const KeyInfo& key) { return SoftwareKeyStore::RecordKey(key.id, key.version); }
  store::Bytes ReadRecord(const KeyInfo& key) {
    auto v = store_.Get(SoftwareKeyStore::kKeysTable, RecordKey(key));
    EXPECT_TRUE(v.ok() && v->has_value());
    return v.ok() && v->has_value() ? **v : store::Bytes{};
  }
  void WriteRecord(const KeyInfo& key, std::span<const uint8_t> bytes) {
    ASSERT_TRUE(store_.Put(SoftwareKeyStore::kKeysTable, RecordKey(key), bytes).ok());
  }

  static constexpr std::string_view kPassphrase = "correct horse battery staple";
  FakeClock clock_;
  store::MemoryStore store_;
};

TEST_F(SoftwareKeyStoreTest, KeysSurviveCloseAndUnlock) {
  KeyInfo trader, nostr;
  {
    auto ks = Create(store_);
    trader = *ks->Generate("trader", KeyType::kSecp256k1, KeyPurpose::kSigning);
    nostr = *ks->Generate("nostr", KeyType::kSchnorr, KeyPurpose::kSigning);
    ASSERT_TRUE(ks->Rotate("nostr").ok());
  }
  auto ks = Open(store_);
  ASSERT_NE(ks, nullptr);
  EXPECT_EQ(ks->unsealed_key_count(), 0u) << "unlock unseals nothing";
  EXPECT_EQ(*ks->Get("trader"), trader);
  EXPECT_EQ(ks->Get("nostr")->version, 2u);
  ExpectSignsAndVerifies(*ks, trader, KeyPurpose::kSigning);
  ExpectSignsAndVerifies(*ks, *ks->Get("nostr"), KeyPurpose::kSigning);
  EXPECT_EQ(ks->unsealed_key_count(), 2u);
  EXPECT_EQ(ks->List()->size(), 3u);
}

TEST_F(SoftwareKeyStoreTest, WrongPassphraseIsClearAndChangesNothingOnDisk) {
  ScopedTempDir dir;
  const std::string data = dir.path() + "/data";
  auto read_dir = [&] {
    std::map<std::string, std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(data)) {
      std::ifstream in(entry.path(), std::ios::binary);
      files[entry.path().filename().string()] =
          std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return files;
  };
  KeyInfo key;
  {
    auto store = store::SqliteStore::Open(data, {});
    ASSERT_TRUE(store.ok());
    auto ks = Create(**store);
    key = *ks->Generate("trader", KeyType::kSecp256k1, KeyPurpose::kSigning);
  }
  const auto before = read_dir();
  ASSERT_TRUE(before.count("sigil.db"));
  {
    auto store = store::SqliteStore::Open(data, {});
    ASSERT_TRUE(store.ok());
    auto ks = SoftwareKeyStore::OpenWithPassphrase(**store, Pass("correct horse battery stapler"), {});
    ASSERT_FALSE(ks.ok());
    EXPECT_EQ(ks.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(std::string(ks.status().message()), HasSubstr("wrong passphrase"));
  }
  EXPECT_EQ(read_dir(), before) << "a failed unlock must not change a byte in the data directory";
  // The right passphrase still works, and the key is intact.
  auto store = store::SqliteStore::Open(data, {});
  ASSERT_TRUE(store.ok());
  auto ks = Open(**store);
  ASSERT_NE(ks, nullptr);
  ExpectSignsAndVerifies(*ks, key, KeyPurpose::kSigning);
}

TEST_F(SoftwareKeyStoreTest, CreateAndOpenPreconditions) {
  EXPECT_EQ(SoftwareKeyStore::OpenWithPassphrase(store_, Pass(kPassphrase), {}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(*SoftwareKeyStore::Exists(store_));
  EXPECT_EQ(SoftwareKeyStore::CreateWithPassphrase(store_, Pass("short"), crypto::Argon2Params::ForTesting(), {})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_NE(Create(store_), nullptr);
  EXPECT_TRUE(*SoftwareKeyStore::Exists(store_));
  EXPECT_EQ(SoftwareKeyStore::CreateWithPassphrase(store_, Pass(kPassphrase), crypto::Argon2Params::ForTesting(), {})
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(SoftwareKeyStore::OpenWithMasterKey(store_, crypto::RandomSecret(32), {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(SoftwareKeyStoreTest, MasterKeyUnlock) {
  SecretBytes master = crypto::RandomSecret(32);
  KeyInfo key;
  {
    auto ks = SoftwareKeyStore::CreateWithMasterKey(store_, master, {});
    ASSERT_TRUE(ks.ok());
    key = *(*ks)->Generate("ed", KeyType::kEd25519, KeyPurpose::kAttestation);
  }
  auto wrong = SoftwareKeyStore::OpenWithMasterKey(store_, crypto::RandomSecret(32), {});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(wrong.status().message()), HasSubstr("wrong master key"));
  EXPECT_EQ(SoftwareKeyStore::OpenWithPassphrase(store_, Pass(kPassphrase), {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SoftwareKeyStore::OpenWithMasterKey(store_, crypto::RandomSecret(16), {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto ks = SoftwareKeyStore::OpenWithMasterKey(store_, master, {});
  ASSERT_TRUE(ks.ok());
  ExpectSignsAndVerifies(**ks, key, KeyPurpose::kAttestation);
}

TEST_F(SoftwareKeyStoreTest, MasterKeyFile) {
  ScopedTempDir dir;
  const std::string path = dir.path() + "/master.key";
  ASSERT_TRUE(CreateMasterKeyFile(path).ok());
  EXPECT_EQ(CreateMasterKeyFile(path).code(), absl::StatusCode::kAlreadyExists) << "never overwritten";
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  auto master = ReadMasterKeyFile(path);
  ASSERT_TRUE(master.ok()) << master.status();
  EXPECT_EQ(master->size(), 32u);
  ASSERT_TRUE(SoftwareKeyStore::CreateWithMasterKey(store_, *master, {}).ok());
  EXPECT_TRUE(SoftwareKeyStore::OpenWithMasterKey(store_, *ReadMasterKeyFile(path), {}).ok());

  ::chmod(path.c_str(), 0644);
  auto loose = ReadMasterKeyFile(path);
  EXPECT_EQ(loose.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(loose.status().message()), HasSubstr("chmod 600"));

  const std::string wrong_size = dir.path() + "/short.key";
  std::ofstream(wrong_size) << "too short";
  ::chmod(wrong_size.c_str(), 0600);
  EXPECT_EQ(ReadMasterKeyFile(wrong_size).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadMasterKeyFile(dir.path() + "/missing.key").status().code(), absl::StatusCode::kNotFound);
}

// Without the record cache, flipping any single byte of a stored record is
// detected on the next read, even when the key's private half is already
// cached, and the error names the key.
TEST_F(SoftwareKeyStoreTest, FlippedByteAnywhereInARecordIsDetected) {
  SoftwareKeyStoreOptions every_read;
  every_read.key_record_max_age = absl::ZeroDuration();
  auto ks = Create(store_, every_read);
  KeyInfo key = *ks->Generate("trader", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ExpectSignsAndVerifies(*ks, key, KeyPurpose::kSigning);  // warm the cache
  const store::Bytes original = ReadRecord(key);
  ASSERT_GT(original.size(), 200u);
  for (size_t i = 0; i < original.size(); ++i) {
    store::Bytes tampered = original;
    tampered[i] ^= 0x01;
    WriteRecord(key, tampered);
    auto got = ks->Get("trader");
    ASSERT_FALSE(got.ok()) << "flip at byte " << i << " went unnoticed";
    std::string msg(got.status().message());
    EXPECT_THAT(msg, HasSubstr("'trader'")) << "byte " << i;
    EXPECT_THAT(msg, HasSubstr(key.id)) << "byte " << i;
    EXPECT_THAT(msg, HasSubstr("sealed record for key 'trader'")) << "byte " << i;
    auto sig = ks->SignEcdsa(key.id, KeyPurpose::kSigning, DigestOf("x"));
    ASSERT_FALSE(sig.ok()) << "signed with a tampered record, flip at byte " << i;
    EXPECT_THAT(std::string(sig.status().message()), HasSubstr(key.id));
  }
  WriteRecord(key, original);
  ExpectSignsAndVerifies(*ks, key, KeyPurpose::kSigning);
}

TEST_F(SoftwareKeyStoreTest, SwappedRecordsAreDetected) {
  auto ks = Create(store_);
  KeyInfo a = *ks->Generate("alice", KeyType::kSecp256k1, KeyPurpose::kSigning);
  KeyInfo b = *ks->Generate("bob", KeyType::kSecp256k1, KeyPurpose::kSigning);
  const store::Bytes ra = ReadRecord(a), rb = ReadRecord(b);

  // Whole records exchanged between the two storage slots.
  WriteRecord(a, rb);
  WriteRecord(b, ra);
  auto got = ks->Get("alice");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("sealed record for key 'alice' (id " + a.id));
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("failed authentication"));
  EXPECT_EQ(ks->SignEcdsa(b.id, KeyPurpose::kSigning, DigestOf("x")).status().code(), absl::StatusCode::kDataLoss);
  WriteRecord(a, ra);
  WriteRecord(b, rb);

  // Only the sealed private keys exchanged (a valid ciphertext in the wrong record).
  auto da = DecodeSealedKeyRecord(ra, "a");
  auto db = DecodeSealedKeyRecord(rb, "b");
  ASSERT_TRUE(da.ok() && db.ok());
  std::swap(da->sealed_private_key, db->sealed_private_key);
  WriteRecord(a, EncodeSealedKeyRecord(*da));
  auto sig = ks->SignEcdsa(a.id, KeyPurpose::kSigning, DigestOf("x"));
  EXPECT_EQ(sig.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(sig.status().message()), HasSubstr("'alice'"));
  WriteRecord(a, ra);

  // The name index pointing "alice" at bob's id.
  ASSERT_TRUE(store_.Put(SoftwareKeyStore::kNamesTable, "alice", AsBytes(b.id)).ok());
  got = ks->Get("alice");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("'alice'"));
  ASSERT_TRUE(store_.Put(SoftwareKeyStore::kNamesTable, "alice", AsBytes(a.id)).ok());
  EXPECT_TRUE(ks->Get("alice").ok());
}

TEST_F(SoftwareKeyStoreTest, TruncatedOrMissingRecordsAreDetected) {
  auto ks = Create(store_);
  KeyInfo key = *ks->Generate("trader", KeyType::kEd25519, KeyPurpose::kSigning);
  const store::Bytes original = ReadRecord(key);
  for (size_t len : {size_t{0}, size_t{1}, original.size() / 2, original.size() - 1}) {
    WriteRecord(key, std::span<const uint8_t>(original.data(), len));
    auto got = ks->Get("trader");
    EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << len;
    EXPECT_THAT(std::string(got.status().message()), HasSubstr("'trader' (id " + key.id)) << len;
  }
  WriteRecord(key, original);

  // Rolling back a rotation by deleting the newest version is detected too.
  KeyInfo v2 = *ks->Rotate("trader");
  ASSERT_TRUE(store_.Delete(SoftwareKeyStore::kKeysTable, RecordKey(v2)).ok());
  auto got = ks->Get("trader");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("'trader'"));
  EXPECT_FALSE(ks->SignEd25519(key.id, KeyPurpose::kSigning, AsBytes("x")).ok());

  // Every record of a key deleted while its name remains.
  ASSERT_TRUE(store_.Delete(SoftwareKeyStore::kKeysTable, RecordKey(key)).ok());
  got = ks->Get("trader");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("'trader'"));
}

TEST_F(SoftwareKeyStoreTest, RecordFromAnotherKeystoreDoesNotOpen) {
  store::MemoryStore other_store;
  auto other = Create(other_store);
  KeyInfo foreign = *other->Generate("trader", KeyType::kSecp256k1, KeyPurpose::kSigning);
  auto ks = Create(store_);
  KeyInfo mine = *ks->Generate("trader", KeyType::kSecp256k1, KeyPurpose::kSigning);
  auto rf = other_store.Get(SoftwareKeyStore::kKeysTable, RecordKey(foreign));
  // Same passphrase, different salt: a different master key.
  WriteRecord(mine, **rf);
  EXPECT_EQ(ks->Get("trader").status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(SoftwareKeyStoreTest, PrivateKeysNeverReachTheStoreInTheClear) {
  auto ks = Create(store_);
  std::vector<Bytes> secrets;
  for (KeyType type : {KeyType::kSecp256k1, KeyType::kSchnorr, KeyType::kEd25519}) {
    KeyInfo key = *ks->Generate("k-" + std::string(KeyTypeName(type)), type, KeyPurpose::kSigning);
    ASSERT_TRUE(ks->WithUnsealedKey(key.id, KeyPurpose::kSigning, [&](const KeyInfo& info, const SecretBytes& priv) {
                    EXPECT_EQ(info, key);
                    EXPECT_EQ(*DerivePublicKey(type, priv), key.public_key);
                    auto raw = priv.Reveal(SecretAccess::Get());
                    secrets.emplace_back(raw.begin(), raw.end());
                    return absl::OkStatus();
                  }).ok());
  }
  std::string everything;
  for (const char* table : {SoftwareKeyStore::kMasterTable, SoftwareKeyStore::kKeysTable,
                            SoftwareKeyStore::kNamesTable}) {
    auto entries = store_.Scan(table, {});
    ASSERT_TRUE(entries.ok());
    for (const auto& e : *entries) everything += e.key + std::string(e.value.begin(), e.value.end());
  }
  for (const Bytes& secret : secrets) {
    EXPECT_EQ(everything.find(std::string(secret.begin(), secret.end())), std::string::npos);
    EXPECT_EQ(everything.find(HexEncode(secret)), std::string::npos);
  }
}

TEST_F(SoftwareKeyStoreTest, LendingChecksPurposeAndStatus) {
  auto ks = Create(store_);
  KeyInfo audit = *ks->Generate("audit", KeyType::kEd25519, KeyPurpose::kAudit);
  int calls = 0;
  auto lend = [&](const KeyInfo&, const SecretBytes&) {
    ++calls;
    return absl::OkStatus();
  };
  EXPECT_EQ(ks->WithUnsealedKey(audit.id, KeyPurpose::kSigning, lend).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(ks->WithUnsealedKey(audit.id, KeyPurpose::kAudit, lend).ok());
  ASSERT_TRUE(ks->Archive("audit").ok());
  EXPECT_EQ(ks->WithUnsealedKey(audit.id, KeyPurpose::kAudit, lend).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(calls, 1);
}

TEST_F(SoftwareKeyStoreTest, ImportIsOffByDefault) {
  auto ks = Create(store_);
  SecretBytes key = crypto::RandomSecret(32);
  auto refused = ks->Import("imported", KeyType::kSecp256k1, KeyPurpose::kSigning, key);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("disabled"));
  EXPECT_EQ(ks->List()->size(), 0u);
}

// Importing the ethers.js test accounts gives exactly their addresses.
TEST_F(SoftwareKeyStoreTest, ImportedKeysMatchEthersAccounts) {
  SoftwareKeyStoreOptions options;
  options.allow_import = true;
  auto ks = Create(store_, options);
  std::ifstream in(std::string(SIGIL_VECTORS_DIR) + "/ethereum/ethers-accounts.json");
  ASSERT_TRUE(in.good());
  nlohmann::json vectors = nlohmann::json::parse(in)["vectors"];
  int checked = 0;
  for (const auto& v : vectors) {
    if (checked == 20) break;
    auto priv = HexDecode(v["privateKey"].get<std::string>());
    ASSERT_TRUE(priv.ok());
    SecretBytes secret = SecretBytes::CopyFrom(*priv);
    auto key = ks->Import("acct-" + std::to_string(checked), KeyType::kSecp256k1, KeyPurpose::kSigning, secret);
    ASSERT_TRUE(key.ok()) << key.status();
    crypto::Hash256 h = crypto::Keccak256(std::span<const uint8_t>(key->public_key).subspan(1));
    std::string address = HexEncode0x(std::span<const uint8_t>(h).subspan(12));
    std::string expected = v["address"].get<std::string>();
    std::transform(expected.begin(), expected.end(), expected.begin(), ::tolower);
    EXPECT_EQ(address, expected);
    ExpectSignsAndVerifies(*ks, *key, KeyPurpose::kSigning);
    ++checked;
  }
  EXPECT_EQ(checked, 20);
  EXPECT_EQ(ks->Import("bad", KeyType::kSecp256k1, KeyPurpose::kSigning, SecretBytes::Zeroed(32)).status().code(),
            absl::StatusCode::kInvalidArgument)
      << "zero is not a valid secp256k1 scalar";
  EXPECT_EQ(ks->Import("bad", KeyType::kEd25519, KeyPurpose::kSigning, SecretBytes::Zeroed(31)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SoftwareKeyStoreTest, UnsealedKeyCacheIsBounded) {
  SoftwareKeyStoreOptions options;
  options.unsealed_key_cache_size = 2;
  std::vector<KeyInfo> keys;
  {
    auto ks = Create(store_, options);
    for (int i = 0; i < 5; ++i) {
      keys.push_back(*ks->Generate("k" + std::to_string(i), KeyType::kEd25519, KeyPurpose::kSigning));
    }
  }
  auto ks = Open(store_, options);
  for (const KeyInfo& key : keys) {
    ExpectSignsAndVerifies(*ks, key, KeyPurpose::kSigning);
    EXPECT_LE(ks->unsealed_key_count(), 2u);
  }
  EXPECT_EQ(ks->unsealed_key_count(), 2u);
  ks->DropUnsealedKeys();
  EXPECT_EQ(ks->unsealed_key_count(), 0u);
  ExpectSignsAndVerifies(*ks, keys[0], KeyPurpose::kSigning);

  options.unsealed_key_cache_size = 0;
  auto uncached = Open(store_, options);
  ExpectSignsAndVerifies(*uncached, keys[1], KeyPurpose::kSigning);
  EXPECT_EQ(uncached->unsealed_key_count(), 0u);
}

TEST_F(SoftwareKeyStoreTest, StoreFailuresLeaveNothingHalfDone) {
  store::FaultInjectingStore faulty(store_);
  auto ks = Create(faulty);
  KeyInfo key = *ks->Generate("trader", KeyType::kSecp256k1, KeyPurpose::kSigning);

  faulty.FailNthWrite(2);  // the record write, after the name index write
  auto generated = ks->Generate("second", KeyType::kSecp256k1, KeyPurpose::kSigning);
  EXPECT_EQ(generated.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ks->Get("second").status().code(), absl::StatusCode::kNotFound) << "no dangling name";

  faulty.FailCommitsFrom(1);
  EXPECT_EQ(ks->Rotate("trader").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ks->Archive("trader").code(), absl::StatusCode::kUnavailable);
  faulty.Heal();
  EXPECT_EQ(*ks->Get("trader"), key) << "failed rotation and archive changed nothing";
  ExpectSignsAndVerifies(*ks, key, KeyPurpose::kSigning);
  EXPECT_EQ(ks->List()->size(), 1u);

  faulty.FailReads(true);
  // The record read just now is served from memory for key_record_max_age;
  // past it, the status must be confirmed by the store again.
  clock_.Advance(SoftwareKeyStoreOptions{}.key_record_max_age);
  EXPECT_EQ(ks->SignEcdsa(key.id, KeyPurpose::kSigning, DigestOf("x")).status().code(),
            absl::StatusCode::kUnavailable)
      << "no signature when the store cannot confirm the key's status";
}

// With the record cache (the default), a record edited on disk is detected
// once the cached copy is older than key_record_max_age, or after
// DropCaches(); never served past that.
TEST_F(SoftwareKeyStoreTest, RecordCacheDetectsTamperingAfterItsMaxAge) {
  auto ks = Create(store_);
  const absl::Duration max_age = SoftwareKeyStoreOptions{}.key_record_max_age;
  KeyInfo key = *ks->Generate("trader", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ExpectSignsAndVerifies(*ks, key, KeyPurpose::kSigning);  // reads and caches the record
  const store::Bytes original = ReadRecord(key);
  store::Bytes tampered = original;
  tampered[tampered.size() / 2] ^= 0x01;
  WriteRecord(key, tampered);
  EXPECT_TRUE(ks->SignEcdsa(key.id, KeyPurpose::kSigning, DigestOf("x")).ok()) << "served from the cache";
  clock_.Advance(max_age);
  auto sig = ks->SignEcdsa(key.id, KeyPurpose::kSigning, DigestOf("x"));
  EXPECT_EQ(sig.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(sig.status().message()), HasSubstr(key.id));
  EXPECT_EQ(ks->Get("trader").status().code(), absl::StatusCode::kDataLoss);

  WriteRecord(key, original);
  ASSERT_TRUE(ks->Get("trader").ok());
  WriteRecord(key, tampered);
  ks->DropCaches();
  EXPECT_EQ(ks->Get("trader").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ks->SignEcdsa(key.id, KeyPurpose::kSigning, DigestOf("x")).status().code(), absl::StatusCode::kDataLoss);
}

// Sigil's own keys cannot be rotated: the daemon holds them, and a new
// version of the audit key would leave every later checkpoint failing its
// self-check (and the state key's, the sealed state unreadable).
TEST_F(SoftwareKeyStoreTest, OnlySigningKeysRotate) {
  auto ks = Create(store_);
  for (auto [name, type, purpose] : {std::tuple{"sigil-audit", KeyType::kEd25519, KeyPurpose::kAudit},
                                     std::tuple{"sigil-attestation", KeyType::kEd25519, KeyPurpose::kAttestation}}) {
    KeyInfo own = *ks->Generate(name, type, purpose);
    auto rotated = ks->Rotate(name);
    EXPECT_EQ(rotated.status().code(), absl::StatusCode::kFailedPrecondition) << name;
    EXPECT_EQ(ks->Get(name)->version, 1u) << name;
    EXPECT_EQ(ks->Get(name)->public_key, own.public_key) << name;
  }
  ASSERT_TRUE(ks->Generate("trader", KeyType::kSecp256k1, KeyPurpose::kSigning).ok());
  EXPECT_EQ(ks->Rotate("trader")->version, 2u);
}

// Changes made through the keystore take effect at once, cache or not.
TEST_F(SoftwareKeyStoreTest, RecordCacheNeverOutlivesRotationOrArchive) {
  auto ks = Create(store_);
  KeyInfo v1 = *ks->Generate("trader", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_EQ(ks->Get("trader")->version, 1u);
  ASSERT_EQ(ks->Get(v1.id)->version, 1u);
  KeyInfo v2 = *ks->Rotate("trader");
  EXPECT_EQ(ks->Get("trader")->version, 2u);
  EXPECT_EQ(ks->Get(v1.id)->public_key, v2.public_key);
  auto sig = ks->SignEcdsa(v1.id, KeyPurpose::kSigning, DigestOf("x"));
  ASSERT_TRUE(sig.ok());
  auto pub = crypto::RecoverPublicKey(DigestOf("x"), *sig);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(Bytes(pub->begin(), pub->end()), v2.public_key) << "signed with the new version at once";
  ASSERT_TRUE(ks->Archive(v1.id).ok());
  EXPECT_EQ(ks->Get("trader")->status, KeyStatus::kArchived);
  EXPECT_EQ(ks->SignEcdsa(v1.id, KeyPurpose::kSigning, DigestOf("x")).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// Runs `after_scan` once, right after the next Scan outside a transaction
// has read the store: the moment a change can slip in behind a reader.
class ScanHookStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  std::function<void()> after_scan;
  absl::StatusOr<std::vector<store::Entry>> Scan(std::string_view table, const store::ScanOptions& options) override {
    auto entries = base().Scan(table, options);
    if (auto hook = std::exchange(after_scan, nullptr)) hook();
    return entries;
  }
};

// A reader that read the store before a rotation or archive committed must
// not put what it read into the cache: once Rotate/Archive returned, no
// Get or signature sees the old state.
TEST_F(SoftwareKeyStoreTest, RecordCacheIsNotRefilledWithStaleReads) {
  ScanHookStore hooked(store_);
  auto ks = Create(hooked);
  KeyInfo v1 = *ks->Generate("busy", KeyType::kSecp256k1, KeyPurpose::kSigning);
  KeyInfo v2;
  hooked.after_scan = [&] { v2 = *ks->Rotate("busy"); };
  auto raced = ks->Get(v1.id);  // read v1, then the rotation committed
  ASSERT_TRUE(raced.ok());
  ASSERT_EQ(v2.version, 2u);
  EXPECT_EQ(ks->Get(v1.id)->version, 2u) << "the read that overlapped the rotation was cached";
  auto sig = ks->SignEcdsa(v1.id, KeyPurpose::kSigning, DigestOf("x"));
  ASSERT_TRUE(sig.ok());
  auto pub = crypto::RecoverPublicKey(DigestOf("x"), *sig);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(Bytes(pub->begin(), pub->end()), v2.public_key);

  ks->DropCaches();
  hooked.after_scan = [&] { ASSERT_TRUE(ks->Archive("busy").ok()); };
  ASSERT_TRUE(ks->Get("busy").ok());
  EXPECT_EQ(ks->SignEcdsa(v1.id, KeyPurpose::kSigning, DigestOf("x")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ks->Get("busy")->status, KeyStatus::kArchived);
}

// 100,000 keys are written directly as sealed records (one Argon2id run for
// the whole keystore, none per key); unlocking reads none of them and any one
// signs at once. Speed is measured in bench/bench_keystore.cc.
TEST_F(SoftwareKeyStoreTest, LazyUnlockWithOneHundredThousandKeys) {
  constexpr int kKeys = 100000;
  ScopedTempDir dir;
  auto store = store::SqliteStore::Open(dir.path() + "/data", {});
  ASSERT_TRUE(store.ok());
  SecretBytes master = crypto::RandomSecret(32);
  ASSERT_TRUE(SoftwareKeyStore::CreateWithMasterKey(**store, master, {}).ok());

  auto sealer = RecordSealer::Create(master.Clone());
  ASSERT_TRUE(sealer.ok());
  std::vector<KeyInfo> infos;
  infos.reserve(kKeys);
  std::vector<std::pair<std::string, std::vector<uint8_t>>> records;
  records.reserve(kKeys);
  for (int i = 0; i < kKeys; ++i) {
    KeyInfo info;
    info.type = i % 2 == 0 ? KeyType::kEd25519 : KeyType::kSecp256k1;
    // Deterministic, distinct private keys: cheap to make, still real keys.
    SecretBytes priv = SecretBytes::CopyFrom(crypto::Sha256(AsBytes("bulk key " + std::to_string(i))));
    info.id = NewKeyId();
    info.name = "bulk-" + std::to_string(i);
    info.purpose = KeyPurpose::kSigning;
    info.backend = "software";
    info.created_at = absl::FromUnixSeconds(1767225600);
    info.public_key = *DerivePublicKey(info.type, priv);
    auto record = (*sealer)->Seal(info, priv);
    ASSERT_TRUE(record.ok());
    records.emplace_back(SoftwareKeyStore::RecordKey(info.id, 1), EncodeSealedKeyRecord(*record));
    infos.push_back(std::move(info));
  }
  ASSERT_TRUE((*store)
                  ->RunTransaction([&](store::Transaction& tx) -> absl::Status {
                    for (int i = 0; i < kKeys; ++i) {
                      RETURN_IF_ERROR(tx.Put(SoftwareKeyStore::kNamesTable, infos[i].name, AsBytes(infos[i].id)));
                      RETURN_IF_ERROR(tx.Put(SoftwareKeyStore::kKeysTable, records[i].first, records[i].second));
                    }
                    return absl::OkStatus();
                  })
                  .ok());

  auto ks = SoftwareKeyStore::OpenWithMasterKey(**store, master, {});
  ASSERT_TRUE(ks.ok()) << ks.status();
  EXPECT_EQ((*ks)->unsealed_key_count(), 0u);
  std::mt19937 rng(12345);
  for (int n = 0; n < 5; ++n) {
    const KeyInfo& pick = infos[std::uniform_int_distribution<int>(0, kKeys - 1)(rng)];
    ExpectSignsAndVerifies(**ks, pick, KeyPurpose::kSigning);
    EXPECT_EQ(*(*ks)->Get(pick.name), pick);
  }
  EXPECT_EQ((*ks)->unsealed_key_count(), 5u) << "only the keys used were unsealed";
  auto list = (*ks)->List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), static_cast<size_t>(kKeys));
}

}  // namespace
}  // namespace sigil::keystore
