#include "testing/memory_key_store.h"

#include "keystore/key_store_contract_test.h"
#include "testing/fault_injecting_key_store.h"

namespace sigil::keystore {
namespace {

KeyStoreFixture MakeMemory(const Clock& clock) {
  KeyStoreFixture f;
  f.keystore = std::make_unique<MemoryKeyStore>(&clock);
  return f;
}

// With no fault planned, the injector must be indistinguishable from its base.
KeyStoreFixture MakeFaultInjector(const Clock& clock) {
  KeyStoreFixture f;
  f.wrapped = std::make_unique<MemoryKeyStore>(&clock);
  f.keystore = std::make_unique<FaultInjectingKeyStore>(*f.wrapped);
  return f;
}

INSTANTIATE_TEST_SUITE_P(Fakes, KeyStoreContractTest,
                         ::testing::Values(KeyStoreFactory{"memory", MakeMemory},
                                           KeyStoreFactory{"fault_injecting", MakeFaultInjector}),
                         [](const auto& info) { return info.param.name; });

TEST(FaultInjectingKeyStoreTest, FailsChosenCallsWithChosenStatus) {
  MemoryKeyStore memory;
  FaultInjectingKeyStore ks(memory);
  auto key = ks.Generate("k", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok());
  const crypto::Hash256 digest = DigestOf("x");

  ks.FailNthSign(2, absl::UnavailableError("hsm unplugged"));
  EXPECT_TRUE(ks.SignEcdsa(key->id, KeyPurpose::kSigning, digest).ok());
  auto second = ks.SignEcdsa(key->id, KeyPurpose::kSigning, digest);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(second.status().message()), "hsm unplugged");
  EXPECT_TRUE(ks.SignEcdsa(key->id, KeyPurpose::kSigning, digest).ok());
  EXPECT_EQ(ks.signs_seen(), 3);

  ks.FailSigning(absl::DataLossError("tampered"));
  EXPECT_EQ(ks.SignEcdsa(key->id, KeyPurpose::kSigning, digest).status().code(), absl::StatusCode::kDataLoss);
  ks.FailChanges(absl::UnavailableError("store down"));
  EXPECT_EQ(ks.Rotate("k").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(memory.Get("k")->version, 1u) << "a failed call is not forwarded";
  ks.FailReads(absl::UnavailableError("store down"));
  EXPECT_EQ(ks.List().status().code(), absl::StatusCode::kUnavailable);
  ks.Heal();
  EXPECT_TRUE(ks.SignEcdsa(key->id, KeyPurpose::kSigning, digest).ok());
  EXPECT_TRUE(ks.Rotate("k").ok());
  EXPECT_TRUE(ks.List().ok());
}

}  // namespace
}  // namespace sigil::keystore
