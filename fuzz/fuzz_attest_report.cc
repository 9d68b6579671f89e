// Fuzzes the attestation report parser and verifier with arbitrary bytes.
// Nothing may crash; whatever parses must re-serialize and re-parse to the
// same report with the same canonical (signed) bytes; a report the verifier
// accepts must carry a signature that verifies; the verifier's JSON output
// must always be printable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "attest/report.h"
#include "attest/verifier.h"
#include "nlohmann/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sigil::attest;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto report = ParseReport(text);
  if (report.ok()) {
    auto again = ParseReport(SerializeReport(*report));
    if (!again.ok() || !(*again == *report)) std::abort();
    if (CanonicalReportBytes(*again) != CanonicalReportBytes(*report)) std::abort();
    if (!ValidateReport(*report).ok()) std::abort();
  }

  // Unpinned, then pinned to the key the report names (if any), with the
  // nonce the report carries: only the signature decides.
  VerifyOptions options;
  if (report.ok()) options.nonce = report->nonce;
  options.allow_debug = true;
  VerifyResult result = Verify(text, options);
  if (result.valid != result.errors.empty()) std::abort();
  if (result.valid && !VerifyReportSignature(*report, report->attestation_public_key)) std::abort();
  if (report.ok()) {
    options.expected_pubkey = report->attestation_public_key;
    VerifyResult pinned = Verify(*report, options);
    if (pinned.valid != result.valid) std::abort();
  } else if (result.report.has_value()) {
    std::abort();
  }
  (void)result.ToJson().dump();
  return 0;
}
