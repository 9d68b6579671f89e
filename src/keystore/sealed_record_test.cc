#include "keystore/sealed_record.h"

#include <random>

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keystore/doc_example_test.h"
#include "keystore/key_material.h"
#include "keystore/master_key_record.h"
#include "keystore/sign_and_verify_test.h"
#include "keystore/software_key_store.h"
#include "testing/memory_store.h"

namespace sigil::keystore {
namespace {

using ::testing::HasSubstr;

SecretBytes PrivateKeyOne() {
  std::vector<uint8_t> one(32, 0);
  one[31] = 1;
  return SecretBytes::CopyFrom(one);
}

// doc/keystore.md: the master key record and the sealed record of `example`
// decode to what the page says, re-encode to the same bytes, and open with
// the page's passphrase to the page's private key.
TEST(SealedRecordTest, DocumentedExamplesRoundTrip) {
  const std::string master_json = DocExample("keystore.md", "master-key-record");
  auto master_record = DecodeMasterKeyRecord(AsBytes(master_json));
  ASSERT_TRUE(master_record.ok()) << master_record.status();
  EXPECT_EQ(master_record->source, MasterKeySource::kPassphrase);
  EXPECT_EQ(master_record->argon2.ops_limit, 1u);
  EXPECT_EQ(master_record->argon2.mem_limit, 8192u);
  EXPECT_EQ(nlohmann::json::parse(EncodeMasterKeyRecord(*master_record)), nlohmann::json::parse(master_json));

  auto master = crypto::Argon2id(SecretBytes::CopyFrom(std::string_view("correct horse battery staple")),
                                 master_record->salt, master_record->argon2, 32);
  ASSERT_TRUE(master.ok());
  auto sealer = RecordSealer::Create(master->Clone());
  ASSERT_TRUE(sealer.ok());
  EXPECT_TRUE((*sealer)->CheckValueOpens(master_record->check_value));

  const Bytes record_bytes = AnnotatedHex(DocExample("keystore.md", "sealed-key-record"));
  auto record = DecodeSealedKeyRecord(record_bytes, "the documented example");
  ASSERT_TRUE(record.ok()) << record.status();
  const KeyInfo& info = record->info;
  EXPECT_EQ(info.id, "key_j2tw67zkz72gxiwk7pyr7miwl4");
  EXPECT_EQ(info.name, "example");
  EXPECT_EQ(info.version, 1u);
  EXPECT_EQ(info.type, KeyType::kSecp256k1);
  EXPECT_EQ(info.purpose, KeyPurpose::kSigning);
  EXPECT_EQ(info.backend, "software");
  EXPECT_EQ(info.status, KeyStatus::kActive);
  EXPECT_EQ(info.created_at, absl::FromUnixSeconds(1767225600));
  EXPECT_FALSE(info.retired_at.has_value());
  EXPECT_EQ(EncodeSealedKeyRecord(*record), record_bytes) << "re-encoding gives the documented bytes";
  EXPECT_TRUE((*sealer)->Verify(*record, "example").ok());

  auto private_key = (*sealer)->Unseal(*record, "example");
  ASSERT_TRUE(private_key.ok()) << private_key.status();
  EXPECT_TRUE(*private_key == PrivateKeyOne());
  crypto::Hash256 h = crypto::Keccak256(std::span<const uint8_t>(info.public_key).subspan(1));
  EXPECT_EQ(HexEncode0x(std::span<const uint8_t>(h).subspan(12)), "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");

  // Placed in a store as the page's layout says, the records form a working keystore.
  store::MemoryStore store;
  ASSERT_TRUE(store.Put(SoftwareKeyStore::kMasterTable, SoftwareKeyStore::kMasterRow, AsBytes(master_json)).ok());
  ASSERT_TRUE(store.Put(SoftwareKeyStore::kKeysTable, "key_j2tw67zkz72gxiwk7pyr7miwl4/0000000001", record_bytes).ok());
  ASSERT_TRUE(store.Put(SoftwareKeyStore::kNamesTable, "example", AsBytes(info.id)).ok());
  auto ks = SoftwareKeyStore::OpenWithPassphrase(store, SecretBytes::CopyFrom(std::string_view("correct horse battery staple")), {});
  ASSERT_TRUE(ks.ok()) << ks.status();
  EXPECT_EQ(*(*ks)->Get("example"), info);
  ExpectSignsAndVerifies(**ks, info, KeyPurpose::kSigning);
}

class RecordSealerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sealer = RecordSealer::Create(crypto::RandomSecret(32));
    ASSERT_TRUE(sealer.ok());
    sealer_ = std::move(sealer).value();
  }
  KeyInfo InfoFor(KeyType type, const SecretBytes& priv) {
    KeyInfo info;
    info.id = NewKeyId();
    info.name = "k";
    info.type = type;
    info.backend = "software";
    info.created_at = absl::FromUnixSeconds(1767225600);
    info.public_key = *DerivePublicKey(type, priv);
    return info;
  }
  std::unique_ptr<RecordSealer> sealer_;
};

TEST_F(RecordSealerTest, RoundTripsEveryTypeAndStatus) {
  for (KeyType type : {KeyType::kSecp256k1, KeyType::kSchnorr, KeyType::kEd25519}) {
    SecretBytes priv = *GeneratePrivateKey(type);
    KeyInfo info = InfoFor(type, priv);
    auto record = sealer_->Seal(info, priv);
    ASSERT_TRUE(record.ok());
    for (KeyStatus status : {KeyStatus::kActive, KeyStatus::kRetired, KeyStatus::kArchived}) {
      record->info.status = status;
      if (status != KeyStatus::kActive) record->info.retired_at = absl::FromUnixSeconds(1767300000);
      ASSERT_TRUE(sealer_->UpdateMac(*record).ok());
      auto decoded = DecodeSealedKeyRecord(EncodeSealedKeyRecord(*record), "k");
      ASSERT_TRUE(decoded.ok()) << decoded.status();
      EXPECT_EQ(*decoded, *record);
      EXPECT_TRUE(sealer_->Verify(*decoded, "k").ok());
      auto opened = sealer_->Unseal(*decoded, "k");
      ASSERT_TRUE(opened.ok());
      EXPECT_TRUE(*opened == priv);
    }
  }
}

TEST_F(RecordSealerTest, RefusesAPrivateKeyThatDoesNotMatch) {
  SecretBytes priv = *GeneratePrivateKey(KeyType::kEd25519);
  KeyInfo info = InfoFor(KeyType::kEd25519, priv);
  EXPECT_EQ(sealer_->Seal(info, *GeneratePrivateKey(KeyType::kEd25519)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RecordSealerTest, StatusChangeWithoutNewMacFails) {
  SecretBytes priv = *GeneratePrivateKey(KeyType::kSecp256k1);
  auto record = sealer_->Seal(InfoFor(KeyType::kSecp256k1, priv), priv);
  ASSERT_TRUE(record.ok());
  record->info.status = KeyStatus::kRetired;
  record->info.retired_at = absl::FromUnixSeconds(1767300000);
  absl::Status st = sealer_->Verify(*record, "key 'k'");
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(st.message()), HasSubstr("sealed record for key 'k' failed authentication"));
}

// Even with a valid MAC (made with the master key), a sealed private key does
// not open under another key's id, version, type, purpose or public key: the
// associated data binds them.
TEST_F(RecordSealerTest, AssociatedDataBindsTheKeyIdentity) {
  SecretBytes priv = *GeneratePrivateKey(KeyType::kSecp256k1);
  auto original = sealer_->Seal(InfoFor(KeyType::kSecp256k1, priv), priv);
  ASSERT_TRUE(original.ok());
  std::vector<std::function<void(KeyInfo&)>> changes = {
      [](KeyInfo& i) { i.id = NewKeyId(); },
      [](KeyInfo& i) { i.version = 2; },
      [](KeyInfo& i) { i.purpose = KeyPurpose::kAudit; },
      [](KeyInfo& i) {
        i.type = KeyType::kSchnorr;
        i.public_key.erase(i.public_key.begin());
        i.public_key.resize(32);
      },
      [](KeyInfo& i) { i.public_key[10] ^= 1; },
  };
  for (size_t n = 0; n < changes.size(); ++n) {
    SealedKeyRecord moved = *original;
    changes[n](moved.info);
    ASSERT_TRUE(sealer_->UpdateMac(moved).ok());
    auto opened = sealer_->Unseal(moved, "key 'k'");
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << "change " << n;
  }
  // Renaming is not a cryptographic binding but is covered by the MAC and the
  // name index; with a fresh MAC the key still opens.
  SealedKeyRecord renamed = *original;
  renamed.info.name = "other";
  ASSERT_TRUE(sealer_->UpdateMac(renamed).ok());
  EXPECT_TRUE(sealer_->Unseal(renamed, "key 'other'").ok());
}

TEST_F(RecordSealerTest, AnotherMasterKeyFails) {
  SecretBytes priv = *GeneratePrivateKey(KeyType::kEd25519);
  auto record = sealer_->Seal(InfoFor(KeyType::kEd25519, priv), priv);
  auto other = RecordSealer::Create(crypto::RandomSecret(32));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->Unseal(*record, "k").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE((*other)->CheckValueOpens(*sealer_->MakeCheckValue()));
  EXPECT_TRUE(sealer_->CheckValueOpens(*sealer_->MakeCheckValue()));
  EXPECT_EQ(RecordSealer::Create(crypto::RandomSecret(31)).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RecordSealerTest, DecodingArbitraryBytesNeverCrashes) {
  SecretBytes priv = *GeneratePrivateKey(KeyType::kSecp256k1);
  const Bytes valid = EncodeSealedKeyRecord(*sealer_->Seal(InfoFor(KeyType::kSecp256k1, priv), priv));
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    Bytes mutated = valid;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) mutated[rng() % mutated.size()] = static_cast<uint8_t>(rng());
    mutated.resize(rng() % (valid.size() + 8));
    auto decoded = DecodeSealedKeyRecord(mutated, "k");
    if (decoded.ok()) {
      EXPECT_FALSE(sealer_->Unseal(*decoded, "k").ok() && mutated != valid);
    }
  }
  EXPECT_EQ(DecodeSealedKeyRecord(Bytes(kMaxSealedKeyRecordSize + 1), "k").status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace sigil::keystore
