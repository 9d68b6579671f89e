#include "keystore/routing_key_store.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keystore/sign_and_verify_test.h"
#include "testing/fault_injecting_key_store.h"
#include "testing/memory_key_store.h"

namespace sigil::keystore {
namespace {

class RoutingKeyStoreTest : public ::testing::Test {
 protected:
  RoutingKeyStoreTest() : faulty_(hsm_), router_("software", software_) { router_.AddBackend("pkcs11", faulty_); }
  MemoryKeyStore software_, hsm_;
  FaultInjectingKeyStore faulty_;
  RoutingKeyStore router_;
};

TEST_F(RoutingKeyStoreTest, GenerateGoesWhereAskedAndEveryCallFollowsTheKey) {
  auto soft = router_.Generate("soft", KeyType::kSchnorr, KeyPurpose::kSigning);
  auto hard = router_.GenerateOn("pkcs11", "hard", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(soft.ok() && hard.ok());
  EXPECT_TRUE(software_.Get("soft").ok());
  EXPECT_EQ(software_.Get("hard").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(hsm_.Get("hard").ok());
  ExpectSignsAndVerifies(router_, *soft, KeyPurpose::kSigning);
  ExpectSignsAndVerifies(router_, *hard, KeyPurpose::kSigning);
  auto list = router_.List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "hard");
  EXPECT_EQ((*list)[1].name, "soft");
  auto v2 = router_.Rotate("hard");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(hsm_.Get("hard")->version, 2u);
  ASSERT_TRUE(router_.Archive(hard->id).ok());
  EXPECT_EQ(hsm_.Get("hard")->status, KeyStatus::kArchived);
}

TEST_F(RoutingKeyStoreTest, NamesAreUniqueAcrossBackendsAndBackendsMustExist) {
  ASSERT_TRUE(router_.Generate("taken", KeyType::kEd25519, KeyPurpose::kSigning).ok());
  EXPECT_EQ(router_.GenerateOn("pkcs11", "taken", KeyType::kEd25519, KeyPurpose::kSigning).status().code(),
            absl::StatusCode::kAlreadyExists);
  auto unknown = router_.GenerateOn("tpm", "x", KeyType::kEd25519, KeyPurpose::kSigning);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unknown.status().message()), ::testing::HasSubstr("software, pkcs11"));
  EXPECT_EQ(router_.SignEcdsa("taken", KeyPurpose::kSigning, DigestOf("x")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router_.Get("nobody").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RoutingKeyStoreTest, AnUnavailableBackendFailsItsKeysOnly) {
  auto soft = router_.Generate("soft", KeyType::kEd25519, KeyPurpose::kSigning);
  auto hard = router_.GenerateOn("pkcs11", "hard", KeyType::kEd25519, KeyPurpose::kSigning);
  ASSERT_TRUE(soft.ok() && hard.ok());
  faulty_.FailSigning(absl::UnavailableError("token removed"));
  EXPECT_EQ(router_.SignEd25519(hard->id, KeyPurpose::kSigning, AsBytes("m")).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(router_.SignEd25519(soft->id, KeyPurpose::kSigning, AsBytes("m")).ok());
  faulty_.Heal();
  EXPECT_TRUE(router_.SignEd25519(hard->id, KeyPurpose::kSigning, AsBytes("m")).ok());
}

}  // namespace
}  // namespace sigil::keystore
