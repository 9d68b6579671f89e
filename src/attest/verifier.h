// Verify: checks an attestation report (the text `sigil attest get` wrote)
// the way a relying party does, offline, with no access to the daemon.
//
// A report is valid only if every check passes. Each failed check adds one
// error with a stable code (the constants below) and a sentence; all
// checks that can run do run, so one answer lists every problem:
//   malformed                 not a well-formed version-1 report (nothing else is checked)
//   unsupported_version       a report format this verifier does not read (nothing else is checked)
//   key_mismatch              signed by an attestation key other than the pinned one
//   bad_signature             the signature does not cover these exact fields (altered or forged
//                             report); checked under the pinned key, or under the key the report
//                             names if none is pinned or the report names another one
//   nonce_mismatch            not made for this verifier's nonce (a replayed report)
//   measurement_mismatch      the binary is not the expected one
//   debug_not_allowed         a dev-mode daemon, and allow_debug is false
//   security_version_too_low  security_version below min_security_version
//   tpm_*, pcr_mismatch       platform "tpm2": the TPM quote checks of attest/tpm2_quote.h
//                             (signature, nonce binding, PCR digest, measured PCR, expected PCRs)
//
// Without a pinned key (expected_pubkey) a valid result proves only that the
// report is intact and fresh under the key it names; the caller must still
// trust that key (the result says key_pinned: false).
//
// Thread-safety: stateless; safe to call concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "attest/report.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "nlohmann/json.hpp"

namespace sigil::attest {

inline constexpr char kErrorMalformed[] = "malformed";
inline constexpr char kErrorUnsupportedVersion[] = "unsupported_version";
inline constexpr char kErrorKeyMismatch[] = "key_mismatch";
inline constexpr char kErrorBadSignature[] = "bad_signature";
inline constexpr char kErrorNonceMismatch[] = "nonce_mismatch";
inline constexpr char kErrorMeasurementMismatch[] = "measurement_mismatch";
inline constexpr char kErrorDebugNotAllowed[] = "debug_not_allowed";
inline constexpr char kErrorSecurityVersionTooLow[] = "security_version_too_low";

struct VerifyOptions {
  std::vector<uint8_t> nonce;                                 // the nonce this verifier sent; required
  std::optional<crypto::Hash256> expected_measurement;        // --expected-measurement
  bool allow_debug = false;                                   // --allow-debug
  uint32_t min_security_version = 0;                          // --min-security-version
  std::optional<crypto::Ed25519PublicKey> expected_pubkey;    // --pubkey, or a pinned key
  // Platform "tpm2" only:
  std::map<uint32_t, crypto::Hash256> expected_pcrs;          // --expected-pcr N:HEX (repeatable)
  std::optional<std::vector<uint8_t>> expected_tpm_ak_public; // --tpm-ak: pin the TPM attestation key
};

struct VerifyError {
  std::string code;     // one of the kError* constants
  std::string message;  // a sentence for a person
  friend bool operator==(const VerifyError&, const VerifyError&) = default;
};

struct VerifyResult {
  bool valid = false;
  std::vector<VerifyError> errors;
  bool key_pinned = false;                  // an expected_pubkey was given
  bool tpm_ak_pinned = false;               // an expected_tpm_ak_public was given
  std::optional<AttestationReport> report;  // set once the report parsed, valid or not

  bool HasError(std::string_view code) const;
  // {"valid", "errors": [{"code","message"}], "key_pinned"} (and
  // "tpm_ak_pinned" on platform tpm2) plus, if the
  // report parsed, every report field but `signature` at the top level
  // (platform, security_version, measurement, debug, nonce, time, keys, ...).
  nlohmann::json ToJson() const;
};

// The command-line form of VerifyOptions (`sigil attest verify`): hex text,
// with or without 0x; empty optional fields mean "not given".
struct VerifyFlags {
  std::string nonce_hex;                 // --nonce, required: 16..64 bytes
  std::string expected_measurement_hex;  // --expected-measurement: 32 bytes
  std::string pubkey_hex;                // --pubkey: 32 bytes
  bool allow_debug = false;              // --allow-debug
  uint32_t min_security_version = 0;     // --min-security-version
  std::vector<std::string> expected_pcrs;  // --expected-pcr N:HEX, each a SHA-256 PCR value (32 bytes)
  std::string tpm_ak_hex;                // --tpm-ak: the TPM2B_PUBLIC of the TPM attestation key
};
// InvalidArgument naming the flag if a value is not hex of the right size.
absl::StatusOr<VerifyOptions> VerifyOptionsFromFlags(const VerifyFlags& flags);

VerifyResult Verify(std::string_view report_text, const VerifyOptions& options);
// The same for an already parsed report.
VerifyResult Verify(const AttestationReport& report, const VerifyOptions& options);

}  // namespace sigil::attest
