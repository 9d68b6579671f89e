// Reporter: builds and signs attestation reports (attest/report.h) for the
// running daemon, and MeasureSelf(), the measurement of the running binary.
//
// The Reporter never sees key material: it is given the attestation public
// key and a signer callback (the daemon lends keystore-backed signing with
// its attestation-purpose key). Every report it returns has been verified
// under that public key, so a signer that signs with the wrong key, or
// returns garbage, yields an error instead of an unverifiable report.
//
// Thread-safety: Build may be called concurrently if the signer may; the
// Reporter holds no mutable state. Ownership: the Reporter borrows `clock`,
// which must outlive it; it owns a copy of the signer callback.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "attest/report.h"
#include "base/clock.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"

namespace sigil::attest {

// Signs `message` (the canonical report bytes) with the attestation key.
using ReportSigner = std::function<absl::StatusOr<crypto::Ed25519Signature>(std::span<const uint8_t> message)>;

// Platform "tpm2": makes a TPM quote whose qualifyingData is
// `qualifying_data` (TpmQuoteQualifyingData of the report being built). The
// daemon lends one backed by keystore/tpm2/tpm2_device.h; attest itself
// never talks to a TPM.
using TpmQuoter = std::function<absl::StatusOr<TpmQuote>(const crypto::Hash256& qualifying_data)>;

// What stays fixed for the life of the process.
struct ReporterOptions {
  ReportSigner signer;                                // required
  crypto::Ed25519PublicKey attestation_public_key{};  // the key `signer` signs with
  crypto::Hash256 measurement{};                      // MeasureSelf(), computed once at start
  std::string sigil_version;                          // e.g. "0.1.0"
  bool debug = false;                                 // true in dev mode
  const Clock* clock = nullptr;                       // required; borrowed
  TpmQuoter tpm_quoter;                               // set: platform "tpm2" reports with a quote
};

// What the daemon states at the moment of a report.
struct ReportState {
  crypto::Hash256 config_hash{};
  crypto::Hash256 policy_hash{};
  AuditHead audit;
  std::vector<ServedKey> keys;  // order does not matter: the report lists them sorted by name, then public key
  crypto::Ed25519PublicKey audit_public_key{};
};

class Reporter {
 public:
  // InvalidArgument if the signer or clock is missing or sigil_version is
  // not 1..64 characters from [A-Za-z0-9.+_-].
  static absl::StatusOr<Reporter> Create(ReporterOptions options);

  // A signed report for platform "software" (or "tpm2" with a quote from
  // options.tpm_quoter, whose error is returned as is) with security_version
  // kSecurityVersion, bound to `nonce` and stamped with the clock's time.
  // InvalidArgument: nonce not kMinNonceBytes..kMaxNonceBytes bytes, or a
  // served key that the format cannot carry (ValidateReport). The signer's
  // error is returned as is; Internal if its signature does not verify under
  // the attestation public key.
  absl::StatusOr<AttestationReport> Build(std::span<const uint8_t> nonce, const ReportState& state) const;

  const crypto::Ed25519PublicKey& attestation_public_key() const { return options_.attestation_public_key; }

 private:
  explicit Reporter(ReporterOptions options) : options_(std::move(options)) {}
  ReporterOptions options_;
};

// SHA-256 of the running executable, read through /proc/self/exe (which
// names the inode the process was started from, even if the file on disk has
// since been replaced). Streams the file; Internal/NotFound if it cannot be
// read, FailedPrecondition if it is larger than kMaxMeasuredBytes.
absl::StatusOr<crypto::Hash256> MeasureSelf();
// The same over any file (MeasureSelf is MeasureFile("/proc/self/exe")).
absl::StatusOr<crypto::Hash256> MeasureFile(const std::string& path);
inline constexpr uint64_t kMaxMeasuredBytes = uint64_t{1} << 30;

}  // namespace sigil::attest
