// Fuzzes the TPM 2.0 quote checks (attest/tpm2_quote.h): the TPMS_ATTEST,
// TPMT_SIGNATURE and TPM2B_PUBLIC blobs of a report on platform "tpm2" come
// from the daemon being verified, so they are untrusted input to the
// verifier. Nothing may crash or read out of bounds, and a report whose
// quote was made up by the fuzzer must never pass (it is not signed by any
// TPM): every run must add at least one error.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "attest/report.h"
#include "attest/tpm2_quote.h"
#include "attest/verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sigil::attest;
  FuzzedDataProvider in(data, size);
  AttestationReport report;
  report.platform = kPlatformTpm2;
  report.nonce = in.ConsumeBytes<uint8_t>(16);
  report.nonce.resize(16, 0x5a);
  TpmQuote quote;
  quote.pcrs = {0, 16};
  quote.pcr_values.resize(2);
  for (auto& v : quote.pcr_values) {
    auto bytes = in.ConsumeBytes<uint8_t>(v.size());
    std::copy(bytes.begin(), bytes.end(), v.begin());
  }
  quote.measured_pcr = 16;
  quote.ak_public = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(1, 600));
  quote.signature = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(1, 300));
  quote.attest = in.ConsumeRemainingBytes<uint8_t>();
  if (quote.ak_public.empty() || quote.signature.empty() || quote.attest.empty() || quote.attest.size() > 4096) {
    return 0;
  }
  report.tpm_quote = std::move(quote);
  if (!ValidateReport(report).ok()) return 0;

  VerifyOptions options;
  options.nonce = report.nonce;
  options.expected_pcrs[16] = report.tpm_quote->pcr_values[1];
  std::vector<VerifyError> errors;
  CheckTpmQuote(report, options, errors);
  if (errors.empty()) std::abort();
  return 0;
}
