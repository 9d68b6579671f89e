// AttestationReport: a signed statement by a running Sigil daemon about
// itself — which binary it is (measurement), which configuration and policy
// it enforces, how far its audit log has grown, which keys it serves, and
// whether it runs in dev (debug) mode — bound to a verifier's fresh nonce.
// doc/attestation.md is the normative description of format version 1.
//
// Signed message: kReportDomain ("sigil-attestation/v1") followed by "\n"
// and the canonical JSON of every field except `signature`
// (CanonicalReportBytes). Canonical JSON is the report object with keys in
// byte-wise sorted order at every level, no whitespace, integers in decimal,
// every string restricted to printable ASCII that needs no escaping (the
// parser enforces this), hashes and keys as lower-case hex. So a report has
// exactly one canonical encoding and a changed field changes the signed
// bytes. The domain prefix keeps attestation signatures apart from every
// other Sigil signature (audit checkpoints, backups).
//
// Parsing is strict: unknown or duplicate fields, wrong types, upper-case
// hex, wrong lengths, out-of-range values and oversize input are all
// InvalidArgument. A parsed report is well-formed, not trusted: its
// signature and claims are checked by attest/verifier.h.
//
// Thread-safety: plain values and stateless functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "nlohmann/json.hpp"

namespace sigil::attest {

inline constexpr char kReportDomain[] = "sigil-attestation/v1";
// The value of the report's `version` field this code writes and reads.
inline constexpr uint32_t kReportFormatVersion = 1;
// This build's security version: raised whenever a fix makes older daemons
// unfit to trust, so a verifier can refuse them (--min-security-version).
inline constexpr uint32_t kSecurityVersion = 1;

// Platforms: "software" (a signature by the daemon's attestation key only),
// "tpm2" (a TPM 2.0 quote attached in `tpm_quote`, attest/tpm2_quote.h).
inline constexpr char kPlatformSoftware[] = "software";
inline constexpr char kPlatformTpm2[] = "tpm2";

// Bounds on untrusted input.
inline constexpr size_t kMinNonceBytes = 16;
inline constexpr size_t kMaxNonceBytes = 64;
inline constexpr size_t kMaxReportBytes = 1 << 20;
inline constexpr size_t kMaxReportKeys = 1024;
inline constexpr size_t kMaxTpmBlobBytes = 4096;

// The head of the audit log at the time of the report.
struct AuditHead {
  uint64_t size = 0;      // number of records
  crypto::Hash256 root{};  // RFC 6962 Merkle root over those records
  friend bool operator==(const AuditHead&, const AuditHead&) = default;
};

// One key the daemon serves (active versions only).
struct ServedKey {
  std::string name;               // the operator's key name, [A-Za-z0-9._-]{1,64}
  std::string type;               // "secp256k1" (65-byte public key), "schnorr" or "ed25519" (32 bytes)
  std::vector<uint8_t> public_key;
  std::string address;            // chain address if the key has one ([A-Za-z0-9]{0,128}), else ""
  friend bool operator==(const ServedKey&, const ServedKey&) = default;
};

// Platform "tpm2": the outputs of TPM2_Quote over the report
// (doc/attestation.md §7, attest/tpm2_quote.h). The quote's qualifyingData
// is TpmQuoteQualifyingData(report), so it binds the nonce and every other
// field; the PCR values are carried so a verifier can recompute the quoted
// pcrDigest and compare each PCR with what it expects.
struct TpmQuote {
  std::vector<uint8_t> attest;     // TPM2B_ATTEST contents (TPMS_ATTEST), 1..4096 bytes
  std::vector<uint8_t> signature;  // TPMT_SIGNATURE, 1..4096 bytes
  std::vector<uint8_t> ak_public;  // TPM2B_PUBLIC of the attestation key, 1..4096 bytes
  std::vector<uint32_t> pcrs;      // quoted SHA-256 PCR indices, ascending, each 0..23, at least one
  std::vector<crypto::Hash256> pcr_values;  // the value of each of `pcrs`, same order
  uint32_t measured_pcr = 16;      // the PCR Sigil extends its measurement into; one of `pcrs`
  friend bool operator==(const TpmQuote&, const TpmQuote&) = default;
};

struct AttestationReport {
  uint32_t version = kReportFormatVersion;
  std::vector<uint8_t> nonce;  // kMinNonceBytes..kMaxNonceBytes, chosen by the verifier
  uint64_t time_ms = 0;        // Unix time in milliseconds when the report was made
  std::string platform = kPlatformSoftware;
  crypto::Hash256 measurement{};    // SHA-256 of the running binary
  crypto::Hash256 config_hash{};    // SHA-256 of the effective configuration
  crypto::Hash256 policy_hash{};    // SHA-256 of the active policy document
  AuditHead audit;
  std::vector<ServedKey> keys;
  crypto::Ed25519PublicKey audit_public_key{};
  crypto::Ed25519PublicKey attestation_public_key{};
  uint32_t security_version = kSecurityVersion;
  std::string sigil_version;   // [A-Za-z0-9.+_-]{1,64}
  bool debug = false;          // true in dev mode: never trust such a daemon with real funds
  std::optional<TpmQuote> tpm_quote;
  crypto::Ed25519Signature signature{};

  friend bool operator==(const AttestationReport&, const AttestationReport&) = default;

  // The report object including `signature` (keys sorted).
  nlohmann::json ToJson() const;
  // Strict inverse of ToJson. InvalidArgument on any deviation from the
  // format; FailedPrecondition (code kFailedPrecondition) if `version` is an
  // integer other than kReportFormatVersion. Does not check the signature.
  static absl::StatusOr<AttestationReport> FromJson(const nlohmann::json& j);
};

// Checks every field against the format's rules (what FromJson enforces)
// without parsing; Reporter uses it before signing. InvalidArgument naming
// the field otherwise.
absl::Status ValidateReport(const AttestationReport& report);

// kReportDomain + "\n" + canonical JSON of every field but `signature`.
// REQUIRES: ValidateReport(report).ok() (otherwise the bytes are still
// deterministic but may not be parseable back).
std::string CanonicalReportBytes(const AttestationReport& report);

// The TPM quote's qualifyingData for a report: SHA-256 of kTpmQuoteDomain
// + "\n" + the canonical JSON of every field except `signature` and
// `tpm_quote` (which cannot cover itself). The Ed25519 signature then
// covers the quote too.
inline constexpr char kTpmQuoteDomain[] = "sigil-attestation-tpm-quote/v1";
crypto::Hash256 TpmQuoteQualifyingData(const AttestationReport& report);

// Parses report text as received from a daemon or a file: enforces
// kMaxReportBytes and a nesting bound before parsing, rejects duplicate
// object keys and anything FromJson rejects. Never throws.
absl::StatusOr<AttestationReport> ParseReport(std::string_view text);

// The report as pretty-printed JSON text (two-space indent, sorted keys),
// the form `sigil attest get` writes. ParseReport(SerializeReport(r)) == r.
std::string SerializeReport(const AttestationReport& report);

// True if `report.signature` is a valid Ed25519 signature by `key` over
// CanonicalReportBytes(report).
bool VerifyReportSignature(const AttestationReport& report, const crypto::Ed25519PublicKey& key);

}  // namespace sigil::attest
