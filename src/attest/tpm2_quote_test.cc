// Platform "tpm2" reports with real quotes from swtpm: the daemon's path
// (Reporter + Tpm2Device::MakeQuote) and every verifier check.
#include "attest/tpm2_quote.h"

#include <memory>

#include "attest/reporter.h"
#include "attest/test_attestation_key.h"
#include "attest/verifier.h"
#include "gtest/gtest.h"
#include "keystore/tpm2/tpm2_device.h"
#include "testing/swtpm_device_test_base.h"

namespace sigil::attest {
namespace {

using nlohmann::json;
constexpr uint32_t kPcr = 16;

class Tpm2QuoteTest : public sigil::testing::SwtpmDeviceTest {
 protected:
  void SetUp() override {
    SwtpmDeviceTest::SetUp();
    if (HasFatalFailure()) return;
    // What the daemon does at start: extend its measurement from reset.
    ASSERT_TRUE(dev_->ExtendPcr(kPcr, MeasurementEvent(TestHash("binary"), TestHash("config"))).ok());
  }

  AttestationReport Make() {
    ReporterOptions o{key_.Signer(), key_.public_key(), TestHash("binary"), "0.1.0", false, &clock_, {}};
    o.tpm_quoter = [this](const crypto::Hash256& qd) -> absl::StatusOr<TpmQuote> {
      const uint32_t pcrs[] = {0, kPcr};
      auto q = dev_->MakeQuote(pcrs, qd);
      if (!q.ok()) return q.status();
      return TpmQuote{q->attest, q->signature, q->ak_public, q->pcrs, q->pcr_values, kPcr};
    };
    auto reporter = Reporter::Create(std::move(o));
    EXPECT_TRUE(reporter.ok());
    auto r = reporter->Build(nonce_, SampleState());
    EXPECT_TRUE(r.ok()) << r.status();
    return *r;
  }
  VerifyOptions Options() const {
    VerifyOptions o;
    o.nonce = nonce_;
    o.expected_pubkey = key_.public_key();
    return o;
  }

  TestAttestationKey key_{0x01};
  FakeClock clock_;
  std::vector<uint8_t> nonce_ = TestNonce(0x5a, 32);
};

TEST_F(Tpm2QuoteTest, QuoteVerifies) {
  AttestationReport r = Make();
  EXPECT_EQ(r.platform, kPlatformTpm2);
  const crypto::Hash256 pcr16 = MeasuredPcrValue(TestHash("binary"), TestHash("config"));
  EXPECT_EQ(r.tpm_quote->pcr_values[1], pcr16);
  VerifyOptions o = Options();
  o.expected_pcrs[kPcr] = pcr16;
  o.expected_tpm_ak_public = *dev_->AttestationKeyPublic();  // the AK is stable: pinnable
  VerifyResult v = Verify(SerializeReport(r), o);
  EXPECT_TRUE(v.valid) << v.ToJson().dump(2);
  EXPECT_TRUE(v.tpm_ak_pinned);
}

TEST_F(Tpm2QuoteTest, WrongNonceIsRejectedByBothSignatures) {
  VerifyOptions o = Options();
  o.nonce = TestNonce(0x33, 32);
  EXPECT_EQ(ErrorCodes(Verify(SerializeReport(Make()), o)), std::vector<std::string>{"nonce_mismatch"});

  // A quote made for another report (another nonce) grafted onto this one,
  // re-signed by the attestation key: the TPM's binding still refuses it.
  AttestationReport a = Make();
  nonce_ = TestNonce(0x33, 32);
  AttestationReport b = Make();
  b.tpm_quote = a.tpm_quote;
  key_.Sign(b);
  EXPECT_EQ(ErrorCodes(Verify(SerializeReport(b), o)), std::vector<std::string>{"tpm_nonce_mismatch"});
}

TEST_F(Tpm2QuoteTest, AlteredPcrValueIsRejected) {
  AttestationReport r = Make();
  r.tpm_quote->pcr_values[1][0] ^= 1;
  key_.Sign(r);  // even re-signed by the daemon's key
  const auto codes = ErrorCodes(Verify(SerializeReport(r), Options()));
  EXPECT_NE(std::find(codes.begin(), codes.end(), "tpm_pcr_digest_mismatch"), codes.end());
  EXPECT_NE(std::find(codes.begin(), codes.end(), "tpm_measurement_mismatch"), codes.end());
}

TEST_F(Tpm2QuoteTest, UnexpectedPcrValueIsRejected) {
  VerifyOptions o = Options();
  o.expected_pcrs[kPcr] = TestHash("some other measurement");
  EXPECT_EQ(ErrorCodes(Verify(SerializeReport(Make()), o)), std::vector<std::string>{"pcr_mismatch"});
  o.expected_pcrs.clear();
  o.expected_pcrs[7] = TestHash("not quoted");
  EXPECT_EQ(ErrorCodes(Verify(SerializeReport(Make()), o)), std::vector<std::string>{"pcr_mismatch"});
}

TEST_F(Tpm2QuoteTest, MeasurementClaimNotInThePcrIsRejected) {
  // A daemon that claims another binary than the one it extended.
  AttestationReport r = Make();
  r.measurement = TestHash("other binary");
  r.tpm_quote = TpmQuote{};
  ReporterOptions o{key_.Signer(), key_.public_key(), TestHash("other binary"), "0.1.0", false, &clock_, {}};
  o.tpm_quoter = [this](const crypto::Hash256& qd) -> absl::StatusOr<TpmQuote> {
    const uint32_t pcrs[] = {kPcr};
    auto q = dev_->MakeQuote(pcrs, qd);
    if (!q.ok()) return q.status();
    return TpmQuote{q->attest, q->signature, q->ak_public, q->pcrs, q->pcr_values, kPcr};
  };
  auto lying = Reporter::Create(std::move(o))->Build(nonce_, SampleState());
  ASSERT_TRUE(lying.ok());
  EXPECT_EQ(ErrorCodes(Verify(SerializeReport(*lying), Options())), std::vector<std::string>{"tpm_measurement_mismatch"});
}

TEST_F(Tpm2QuoteTest, TamperedQuoteAndOtherAkAreRejected) {
  AttestationReport r = Make();
  AttestationReport t = r;
  t.tpm_quote->attest.back() ^= 1;  // inside the PCR digest
  key_.Sign(t);
  auto codes = ErrorCodes(Verify(SerializeReport(t), Options()));
  EXPECT_NE(std::find(codes.begin(), codes.end(), "tpm_bad_signature"), codes.end());

  VerifyOptions o = Options();
  o.expected_tpm_ak_public = r.tpm_quote->ak_public;
  o.expected_tpm_ak_public->back() ^= 1;
  EXPECT_EQ(ErrorCodes(Verify(SerializeReport(r), o)), std::vector<std::string>{"tpm_ak_mismatch"});
}

}  // namespace
}  // namespace sigil::attest
