// The behaviour every KeyStore backend must show (key_store.h), as a
// value-parameterised GoogleTest suite. Instantiate it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Software, KeyStoreContractTest,
//                            ::testing::Values(KeyStoreFactory{"software", MakeSoftware}),
//                            [](const auto& info) { return info.param.name; });
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/hex.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keystore/key_store.h"
#include "keystore/sign_and_verify_test.h"
#include "store/store.h"

namespace sigil::keystore {

struct KeyStoreFixture {
  std::unique_ptr<store::Store> store;    // may be null for backends without one
  std::unique_ptr<KeyStore> wrapped;      // for a decorator under test: the keystore it wraps
  std::unique_ptr<KeyStore> keystore;     // the one under test; destroyed first
};

struct KeyStoreFactory {
  std::string name;
  std::function<KeyStoreFixture(const Clock& clock)> make;
};

inline void PrintTo(const KeyStoreFactory& f, std::ostream* os) { *os << f.name; }

class KeyStoreContractTest : public ::testing::TestWithParam<KeyStoreFactory> {
 protected:
  void SetUp() override {
    fixture_ = GetParam().make(clock_);
    ASSERT_NE(fixture_.keystore, nullptr);
    ks_ = fixture_.keystore.get();
  }

  FakeClock clock_;
  KeyStoreFixture fixture_;
  KeyStore* ks_ = nullptr;
};

TEST_P(KeyStoreContractTest, EveryTypeRoundTrips) {
  for (KeyType type : {KeyType::kSecp256k1, KeyType::kSchnorr, KeyType::kEd25519}) {
    std::string name = "k-" + std::string(KeyTypeName(type));
    auto key = ks_->Generate(name, type, KeyPurpose::kSigning);
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_TRUE(LooksLikeKeyId(key->id)) << key->id;
    EXPECT_EQ(key->name, name);
    EXPECT_EQ(key->type, type);
    EXPECT_EQ(key->purpose, KeyPurpose::kSigning);
    EXPECT_FALSE(key->backend.empty());
    EXPECT_EQ(key->version, 1u);
    EXPECT_EQ(key->status, KeyStatus::kActive);
    EXPECT_EQ(key->created_at, clock_.Now());
    EXPECT_FALSE(key->retired_at.has_value());
    EXPECT_EQ(key->public_key.size(), PublicKeySize(type));
    ExpectSignsAndVerifies(*ks_, *key, KeyPurpose::kSigning);
  }
}

TEST_P(KeyStoreContractTest, GetByNameOrIdAndList) {
  auto a = ks_->Generate("alpha", KeyType::kSecp256k1, KeyPurpose::kSigning);
  auto b = ks_->Generate("beta", KeyType::kEd25519, KeyPurpose::kAudit);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->id, b->id);
  EXPECT_EQ(*ks_->Get("alpha"), *a);
  EXPECT_EQ(*ks_->Get(a->id), *a);
  EXPECT_EQ(*ks_->Get(b->id), *b);
  auto list = ks_->List();
  ASSERT_TRUE(list.ok());
  EXPECT_THAT(*list, ::testing::ElementsAre(*a, *b));
  EXPECT_EQ(ks_->Get("gamma").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ks_->Get("key_aaaaaaaaaaaaaaaaaaaaaaaaaa").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(KeyStoreContractTest, NamesAreValidatedAndUnique) {
  ASSERT_TRUE(ks_->Generate("trader", KeyType::kSecp256k1, KeyPurpose::kSigning).ok());
  EXPECT_EQ(ks_->Generate("trader", KeyType::kEd25519, KeyPurpose::kSigning).status().code(),
            absl::StatusCode::kAlreadyExists);
  for (const std::string& bad : std::vector<std::string>{"", "has space", "key_x", "0xabc", "-dash", std::string(65, 'a'), "semi;colon"}) {
    EXPECT_EQ(ks_->Generate(bad, KeyType::kSecp256k1, KeyPurpose::kSigning).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST_P(KeyStoreContractTest, KeyServesOnlyItsOwnScheme) {
  auto ecdsa = ks_->Generate("ecdsa", KeyType::kSecp256k1, KeyPurpose::kSigning);
  auto schnorr = ks_->Generate("schnorr", KeyType::kSchnorr, KeyPurpose::kSigning);
  auto ed = ks_->Generate("ed", KeyType::kEd25519, KeyPurpose::kSigning);
  ASSERT_TRUE(ecdsa.ok() && schnorr.ok() && ed.ok());
  const crypto::Hash256 digest = DigestOf("x");
  EXPECT_EQ(ks_->SignSchnorr(ecdsa->id, KeyPurpose::kSigning, digest).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ks_->SignEd25519(ecdsa->id, KeyPurpose::kSigning, digest).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ks_->SignEcdsa(schnorr->id, KeyPurpose::kSigning, digest).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ks_->SignEcdsa(ed->id, KeyPurpose::kSigning, digest).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ks_->SignEcdsa("ecdsa", KeyPurpose::kSigning, digest).status().code(),
            absl::StatusCode::kInvalidArgument)
      << "signing takes an id, not a name";
}

TEST_P(KeyStoreContractTest, PurposesAreKeptApart) {
  auto audit = ks_->Generate("audit-key", KeyType::kEd25519, KeyPurpose::kAudit);
  auto signer = ks_->Generate("agent-key", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(audit.ok() && signer.ok());
  const std::string msg = "checkpoint";
  auto refused = ks_->SignEd25519(audit->id, KeyPurpose::kSigning, AsBytes(msg));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("audit-key"));
  EXPECT_EQ(ks_->SignEcdsa(signer->id, KeyPurpose::kAudit, DigestOf("x")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ks_->SignEcdsa(signer->id, KeyPurpose::kAttestation, DigestOf("x")).status().code(),
            absl::StatusCode::kPermissionDenied);
  ExpectSignsAndVerifies(*ks_, *audit, KeyPurpose::kAudit);
  ExpectSignsAndVerifies(*ks_, *signer, KeyPurpose::kSigning);
}

TEST_P(KeyStoreContractTest, RotationRetiresTheOldVersion) {
  auto v1 = ks_->Generate("trader", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(v1.ok());
  const crypto::Hash256 digest = DigestOf("before rotation");
  auto old_sig = ks_->SignEcdsa(v1->id, KeyPurpose::kSigning, digest);
  ASSERT_TRUE(old_sig.ok());

  clock_.Advance(absl::Hours(24 * 30));
  auto v2 = ks_->Rotate("trader");
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->id, v1->id) << "the id is stable across versions";
  EXPECT_EQ(v2->version, 2u);
  EXPECT_EQ(v2->status, KeyStatus::kActive);
  EXPECT_EQ(v2->created_at, clock_.Now());
  EXPECT_NE(v2->public_key, v1->public_key) << "a new key pair, so a new address";
  EXPECT_EQ(*ks_->Get("trader"), *v2);

  auto list = ks_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  const KeyInfo& retired = (*list)[0];
  EXPECT_EQ(retired.version, 1u);
  EXPECT_EQ(retired.status, KeyStatus::kRetired);
  ASSERT_TRUE(retired.retired_at.has_value());
  EXPECT_EQ(*retired.retired_at, clock_.Now());
  EXPECT_EQ(retired.public_key, v1->public_key);
  EXPECT_EQ((*list)[1], *v2);

  // Signing uses the new version; the old signature still verifies with the
  // old (retired, verify-only) public key.
  auto new_sig = ks_->SignEcdsa(v1->id, KeyPurpose::kSigning, digest);
  ASSERT_TRUE(new_sig.ok());
  EXPECT_EQ(*crypto::RecoverPublicKey(digest, *new_sig), *crypto::ParseSecp256k1PublicKey(v2->public_key));
  EXPECT_EQ(*crypto::RecoverPublicKey(digest, *old_sig), *crypto::ParseSecp256k1PublicKey(retired.public_key));

  auto v3 = ks_->Rotate(v1->id);
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(v3->version, 3u);
}

TEST_P(KeyStoreContractTest, ArchivedKeyNeverSignsAgain) {
  auto key = ks_->Generate("old", KeyType::kSchnorr, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(ks_->Rotate("old").ok());
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(ks_->Archive("old").ok());
  auto sig = ks_->SignSchnorr(key->id, KeyPurpose::kSigning, DigestOf("x"));
  EXPECT_EQ(sig.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(sig.status().message()), ::testing::HasSubstr("archived"));
  auto got = ks_->Get("old");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, KeyStatus::kArchived);
  EXPECT_EQ(got->version, 2u);
  EXPECT_EQ(got->retired_at, clock_.Now());
  auto all = ks_->List();
  ASSERT_TRUE(all.ok());
  for (const KeyInfo& info : *all) EXPECT_EQ(info.status, KeyStatus::kArchived);
  EXPECT_EQ(ks_->Rotate("old").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ks_->Generate("old", KeyType::kSchnorr, KeyPurpose::kSigning).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(ks_->Archive("old").ok()) << "archiving twice is harmless";
}

TEST_P(KeyStoreContractTest, ConcurrentSigningAndRotation) {
  auto key = ks_->Generate("busy", KeyType::kEd25519, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        std::string msg = std::to_string(t) + "/" + std::to_string(i);
        if (!ks_->SignEd25519(key->id, KeyPurpose::kSigning, AsBytes(msg)).ok()) failures++;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 3; ++i) {
      if (!ks_->Rotate("busy").ok()) failures++;
    }
  });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ks_->Get("busy")->version, 4u);
}

}  // namespace sigil::keystore
