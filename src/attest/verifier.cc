#include "attest/verifier.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/status/status.h"
#include "attest/tpm2_quote.h"
#include "base/hex.h"
#include "base/secret.h"
#include "base/status.h"

namespace sigil::attest {
namespace {

void AddError(VerifyResult& result, const char* code, std::string message) {
  result.errors.push_back(VerifyError{code, std::move(message)});
}

template <size_t N>
absl::StatusOr<std::array<uint8_t, N>> FixedFromHex(const std::string& hex, const std::string& flag) {
  absl::StatusOr<Bytes> bytes = HexDecode(hex);
  if (!bytes.ok() || bytes->size() != N) {
    return absl::InvalidArgumentError(flag + " must be " + std::to_string(N) + " bytes of hex (" +
                                      std::to_string(2 * N) + " hex digits)");
  }
  std::array<uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

}  // namespace

absl::StatusOr<VerifyOptions> VerifyOptionsFromFlags(const VerifyFlags& flags) {
  VerifyOptions o;
  absl::StatusOr<Bytes> nonce = HexDecode(flags.nonce_hex);
  if (!nonce.ok() || nonce->size() < kMinNonceBytes || nonce->size() > kMaxNonceBytes) {
    return absl::InvalidArgumentError("--nonce must be the hex nonce the report was requested with, " +
                                      std::to_string(kMinNonceBytes) + ".." + std::to_string(kMaxNonceBytes) +
                                      " bytes (" + std::to_string(2 * kMinNonceBytes) + ".." +
                                      std::to_string(2 * kMaxNonceBytes) + " hex digits)");
  }
  o.nonce = std::move(*nonce);
  if (!flags.expected_measurement_hex.empty()) {
    ASSIGN_OR_RETURN(o.expected_measurement, FixedFromHex<32>(flags.expected_measurement_hex, "--expected-measurement"));
  }
  if (!flags.pubkey_hex.empty()) {
    ASSIGN_OR_RETURN(o.expected_pubkey, FixedFromHex<32>(flags.pubkey_hex, "--pubkey"));
  }
  for (const std::string& flag : flags.expected_pcrs) {
    const size_t colon = flag.find(':');
    const std::string index = colon == std::string::npos ? "" : flag.substr(0, colon);
    const bool digits = !index.empty() && index.size() <= 2 &&
                        std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoi(index) > 23) {
      return absl::InvalidArgumentError("--expected-pcr must be N:HEX with N a PCR index 0..23, got \"" +
                                        flag.substr(0, 80) + "\"");
    }
    ASSIGN_OR_RETURN(o.expected_pcrs[static_cast<uint32_t>(std::stoi(index))],
                     FixedFromHex<32>(flag.substr(colon + 1), "--expected-pcr " + index + ":HEX"));
  }
  if (!flags.tpm_ak_hex.empty()) {
    absl::StatusOr<Bytes> ak = HexDecode(flags.tpm_ak_hex);
    if (!ak.ok() || ak->empty() || ak->size() > kMaxTpmBlobBytes) {
      return absl::InvalidArgumentError("--tpm-ak must be the hex TPM2B_PUBLIC of the TPM attestation key "
                                        "(tpm_quote.ak_public of a report you trust)");
    }
    o.expected_tpm_ak_public = std::move(*ak);
  }
  o.allow_debug = flags.allow_debug;
  o.min_security_version = flags.min_security_version;
  return o;
}

bool VerifyResult::HasError(std::string_view code) const {
  return std::any_of(errors.begin(), errors.end(), [&](const VerifyError& e) { return e.code == code; });
}

nlohmann::json VerifyResult::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  if (report) {
    j = report->ToJson();
    j.erase("signature");
  }
  nlohmann::json errs = nlohmann::json::array();
  for (const VerifyError& e : errors) errs.push_back({{"code", e.code}, {"message", e.message}});
  j["valid"] = valid;
  j["errors"] = std::move(errs);
  j["key_pinned"] = key_pinned;
  if (report && report->platform == kPlatformTpm2) j["tpm_ak_pinned"] = tpm_ak_pinned;
  return j;
}

VerifyResult Verify(std::string_view report_text, const VerifyOptions& options) {
  absl::StatusOr<AttestationReport> report = ParseReport(report_text);
  if (!report.ok()) {
    VerifyResult result;
    result.key_pinned = options.expected_pubkey.has_value();
    const bool unsupported = report.status().code() == absl::StatusCode::kFailedPrecondition;
    AddError(result, unsupported ? kErrorUnsupportedVersion : kErrorMalformed, std::string(report.status().message()));
    return result;
  }
  return Verify(*report, options);
}

VerifyResult Verify(const AttestationReport& report, const VerifyOptions& options) {
  VerifyResult result;
  result.key_pinned = options.expected_pubkey.has_value();
  if (absl::Status st = ValidateReport(report); !st.ok()) {
    AddError(result, kErrorMalformed, std::string(st.message()));
    return result;
  }
  result.report = report;

  // With a pinned key, the signature must verify under it. A report naming
  // another key is reported as such, and its signature is then checked under
  // the key it names, so that "re-signed by someone else" and "altered" stay
  // distinguishable.
  const crypto::Ed25519PublicKey* signing_key = &report.attestation_public_key;
  if (options.expected_pubkey && *options.expected_pubkey != report.attestation_public_key) {
    AddError(result, kErrorKeyMismatch,
             "the report is signed by attestation key " + HexEncode(report.attestation_public_key) +
                 ", not the expected " + HexEncode(*options.expected_pubkey));
  } else if (options.expected_pubkey) {
    signing_key = &*options.expected_pubkey;
  }
  if (!VerifyReportSignature(report, *signing_key)) {
    AddError(result, kErrorBadSignature,
             "the signature does not match the report's contents under attestation key " + HexEncode(*signing_key) +
                 ": the report was altered or not signed by that key");
  }

  if (report.nonce.size() != options.nonce.size() || !ConstantTimeEquals(report.nonce, options.nonce)) {
    AddError(result, kErrorNonceMismatch,
             options.nonce.empty()
                 ? std::string("no nonce was given to check the report against; a report is only fresh for the "
                               "nonce the verifier chose")
                 : "the report was made for nonce " + HexEncode(report.nonce) + ", not " + HexEncode(options.nonce) +
                       ": it is not a fresh answer to this request");
  }
  if (options.expected_measurement && *options.expected_measurement != report.measurement) {
    AddError(result, kErrorMeasurementMismatch,
             "the daemon binary measures " + HexEncode(report.measurement) + ", expected " +
                 HexEncode(*options.expected_measurement));
  }
  if (report.debug && !options.allow_debug) {
    AddError(result, kErrorDebugNotAllowed,
             "the daemon runs in dev (debug) mode; pass --allow-debug to accept it for testing");
  }
  if (report.security_version < options.min_security_version) {
    AddError(result, kErrorSecurityVersionTooLow,
             "the daemon's security version is " + std::to_string(report.security_version) +
                 ", below the required minimum " + std::to_string(options.min_security_version) + "; upgrade it");
  }
  if (report.platform == kPlatformTpm2) {
    result.tpm_ak_pinned = options.expected_tpm_ak_public.has_value();
    CheckTpmQuote(report, options, result.errors);
  } else if (!options.expected_pcrs.empty() || options.expected_tpm_ak_public) {
    AddError(result, kErrorPcrMismatch,
             "PCR values or a TPM attestation key are expected, but the report is on platform " + report.platform +
                 " and carries no TPM quote");
  }
  result.valid = result.errors.empty();
  return result;
}

}  // namespace sigil::attest
