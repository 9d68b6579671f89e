// Tpm2Device against a private swtpm (testing/swtpm_process.h).
#include "keystore/tpm2/tpm2_device.h"

#include <memory>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "base/hex.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "gtest/gtest.h"
#include "testing/swtpm_device_test_base.h"

namespace sigil::keystore::tpm2 {
namespace {

constexpr uint32_t kPcr = 16;

class Tpm2DeviceTest : public sigil::testing::SwtpmDeviceTest {
 protected:
  crypto::Hash256 Extended(const crypto::Hash256& from, const crypto::Hash256& digest) {
    uint8_t buf[64];
    std::copy(from.begin(), from.end(), buf);
    std::copy(digest.begin(), digest.end(), buf + 32);
    return crypto::Sha256(buf);
  }

};

TEST_F(Tpm2DeviceTest, ExtendMatchesTheSha256ExtendRule) {
  auto zero = dev_->ReadPcr(kPcr);
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(*zero, crypto::Hash256{});
  crypto::Hash256 m = crypto::Sha256(AsBytes("measurement"));
  ASSERT_TRUE(dev_->ExtendPcr(kPcr, m).ok());
  auto v = dev_->ReadPcr(kPcr);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, Extended({}, m));
  ASSERT_TRUE(dev_->ResetPcr(kPcr).ok());
  EXPECT_EQ(*dev_->ReadPcr(kPcr), crypto::Hash256{});
}

TEST_F(Tpm2DeviceTest, SealUnsealAndPcrChangeRefuses) {
  SecretBytes secret = crypto::RandomSecret(32);
  crypto::Hash256 m = crypto::Sha256(AsBytes("sigil binary+config"));
  crypto::Hash256 expected = Extended({}, m);
  auto sealed = dev_->Seal(secret, kPcr, expected);
  ASSERT_TRUE(sealed.ok()) << sealed.status();

  // Before the measurement is extended the PCR is zero: refused.
  auto early = dev_->Unseal(*sealed, kPcr);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition) << early.status();

  ASSERT_TRUE(dev_->ExtendPcr(kPcr, m).ok());
  auto out = dev_->Unseal(*sealed, kPcr);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(*out == secret);
  // Repeatable while the PCR holds the value.
  ASSERT_TRUE(dev_->Unseal(*sealed, kPcr).ok());

  // A different measurement extended: the TPM refuses.
  ASSERT_TRUE(dev_->ExtendPcr(kPcr, crypto::Sha256(AsBytes("tampered"))).ok());
  auto after = dev_->Unseal(*sealed, kPcr);
  EXPECT_EQ(after.status().code(), absl::StatusCode::kFailedPrecondition) << after.status();
  EXPECT_NE(std::string(after.status().message()).find("PCR 16"), std::string::npos);

  // Reset and re-extend the right measurement: works again.
  ASSERT_TRUE(dev_->ResetPcr(kPcr).ok());
  ASSERT_TRUE(dev_->ExtendPcr(kPcr, m).ok());
  EXPECT_TRUE(dev_->Unseal(*sealed, kPcr).ok());
}

TEST_F(Tpm2DeviceTest, ManySealsAndUnsealsLeaveNoHandles) {
  // Without flushing, swtpm runs out of object slots after 3 objects.
  SecretBytes secret = crypto::RandomSecret(32);
  auto sealed = dev_->Seal(secret, kPcr, crypto::Hash256{});
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(dev_->Unseal(*sealed, kPcr).ok()) << i;
    ASSERT_TRUE(dev_->MakeQuote(std::vector<uint32_t>{kPcr}, AsBytes("nonce")).ok()) << i;
  }
  ASSERT_TRUE(dev_->ExtendPcr(kPcr, crypto::Sha256(AsBytes("x"))).ok());
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(dev_->Unseal(*sealed, kPcr).ok());
  auto counts = dev_->CountHandles();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->transient, 0u);
  EXPECT_EQ(counts->loaded_sessions, 0u);
}

TEST_F(Tpm2DeviceTest, OpenFlushesLeftoversOfACrashedProcess) {
  // swtpm serves one connection at a time: close ours first.
  dev_.reset();
  // A "crashed" client: creates a primary and a session, then disconnects
  // without flushing them.
  {
    TSS2_TCTI_CONTEXT* tcti = nullptr;
    ESYS_CONTEXT* esys = nullptr;
    ASSERT_EQ(Tss2_TctiLdr_Initialize(swtpm_->tcti().c_str(), &tcti), TSS2_RC_SUCCESS);
    ASSERT_EQ(Esys_Initialize(&esys, tcti, nullptr), TSS2_RC_SUCCESS);
    TPM2B_SENSITIVE_CREATE sensitive{};
    TPM2B_PUBLIC tmpl{};
    tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
    tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
    tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                       TPMA_OBJECT_SIGN_ENCRYPT;
    tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_HMAC;
    tmpl.publicArea.parameters.keyedHashDetail.scheme.details.hmac.hashAlg = TPM2_ALG_SHA256;
    TPM2B_DATA outside{};
    TPML_PCR_SELECTION pcrs{};
    ESYS_TR obj = ESYS_TR_NONE, session = ESYS_TR_NONE;
    ASSERT_EQ(Esys_CreatePrimary(esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
                                 &tmpl, &outside, &pcrs, &obj, nullptr, nullptr, nullptr, nullptr),
              TSS2_RC_SUCCESS);
    TPMT_SYM_DEF sym{};
    sym.algorithm = TPM2_ALG_NULL;
    ASSERT_EQ(Esys_StartAuthSession(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                    nullptr, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, &session),
              TSS2_RC_SUCCESS);
    Esys_Finalize(&esys);
    Tss2_TctiLdr_Finalize(&tcti);
  }
  auto dev = Tpm2Device::Open(swtpm_->tcti());
  ASSERT_TRUE(dev.ok()) << dev.status();
  dev_ = std::move(*dev);
  // TearDown asserts zero transient objects and sessions.
}

TEST_F(Tpm2DeviceTest, UnsealRejectsGarbageBlob) {
  SealedObject bad{{1, 2, 3}, {4, 5}};
  EXPECT_EQ(dev_->Unseal(bad, kPcr).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(Tpm2DeviceTest, NvCounterIncrementsAndSurvivesRedefinition) {
  constexpr uint32_t kIndex = kDefaultCounterIndex;
  EXPECT_EQ(dev_->ReadCounter(kIndex).status().code(), absl::StatusCode::kNotFound);
  auto a = dev_->IncrementCounter(kIndex);
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = dev_->IncrementCounter(kIndex);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*b, *a + 1);
  EXPECT_EQ(*dev_->ReadCounter(kIndex), *b);
  ASSERT_TRUE(dev_->UndefineCounter(kIndex).ok());
  EXPECT_EQ(dev_->ReadCounter(kIndex).status().code(), absl::StatusCode::kNotFound);
  auto c = dev_->IncrementCounter(kIndex);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_GE(*c, *b);  // a counter never goes back, even redefined
}

TEST(Tpm2DeviceOpenTest, UnreachableTpmIsUnavailable) {
  auto dev = Tpm2Device::Open("swtpm:host=127.0.0.1,port=1");
  EXPECT_EQ(dev.status().code(), absl::StatusCode::kUnavailable) << dev.status();
  EXPECT_EQ(Tpm2Device::Open("").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sigil::keystore::tpm2
