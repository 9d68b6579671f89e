// TPM 2.0 quote checks for attestation reports on platform "tpm2", and the
// measurement rule that ties a report's `measurement` and `config_hash` to
// a PCR (doc/tpm.md, doc/attestation.md §7).
//
// The daemon extends MeasurementEvent(measurement, config_hash) into its
// measured PCR from the PCR's reset value (all zero), so the PCR then holds
// MeasuredPcrValue(...). A quote over that PCR, signed by a TPM-resident
// restricted key, is the TPM's word (not the daemon's) that a process
// extended exactly this binary+configuration measurement — provided the
// verifier trusts the attestation key (pin it: expected_tpm_ak_public).
//
// CheckTpmQuote adds one VerifyError per failed check:
//   tpm_quote_invalid         the blobs do not parse, the AK is not a restricted ECDSA P-256
//                             signing key, or the quote is not a TPM-generated quote over the
//                             PCRs the report lists
//   tpm_ak_mismatch           an AK is pinned and the report carries another
//   tpm_bad_signature         the quote signature does not verify under the AK
//   tpm_nonce_mismatch        the quote's qualifyingData is not this report's
//                             TpmQuoteQualifyingData (another nonce or altered fields)
//   tpm_pcr_digest_mismatch   the reported PCR values do not hash to the quoted pcrDigest
//   tpm_measurement_mismatch  the measured PCR does not hold MeasuredPcrValue(measurement, config_hash)
//   pcr_mismatch              a PCR differs from an expected value (--expected-pcr N:HEX), or
//                             an expected PCR was not quoted
//
// Stateless; thread-safe. Quote generation lives with the device
// (keystore/tpm2/tpm2_device.h): attest never talks to a TPM.
#pragma once

#include <vector>

#include "attest/report.h"
#include "attest/verifier.h"
#include "crypto/hash.h"

namespace sigil::attest {

inline constexpr char kErrorTpmQuoteInvalid[] = "tpm_quote_invalid";
inline constexpr char kErrorTpmAkMismatch[] = "tpm_ak_mismatch";
inline constexpr char kErrorTpmBadSignature[] = "tpm_bad_signature";
inline constexpr char kErrorTpmNonceMismatch[] = "tpm_nonce_mismatch";
inline constexpr char kErrorTpmPcrDigestMismatch[] = "tpm_pcr_digest_mismatch";
inline constexpr char kErrorTpmMeasurementMismatch[] = "tpm_measurement_mismatch";
inline constexpr char kErrorPcrMismatch[] = "pcr_mismatch";

// SHA-256(measurement || config_hash): the digest the daemon extends.
crypto::Hash256 MeasurementEvent(const crypto::Hash256& measurement, const crypto::Hash256& config_hash);
// SHA-256(0^32 || MeasurementEvent(...)): the PCR value after one extend
// from reset.
crypto::Hash256 MeasuredPcrValue(const crypto::Hash256& measurement, const crypto::Hash256& config_hash);

// REQUIRES: report.platform == "tpm2" and ValidateReport(report).ok().
void CheckTpmQuote(const AttestationReport& report, const VerifyOptions& options, std::vector<VerifyError>& errors);

}  // namespace sigil::attest
