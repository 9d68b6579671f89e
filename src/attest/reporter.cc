#include "attest/reporter.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <tuple>
#include <utility>

#include "attest/sha256_hasher.h"
#include "base/hex.h"
#include "base/status.h"

namespace sigil::attest {
namespace {

absl::Status ErrnoStatus(int err, const std::string& what) {
  const std::string message = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::InternalError(message);
  }
}

// Closes a descriptor on every return path.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

absl::StatusOr<Reporter> Reporter::Create(ReporterOptions options) {
  if (!options.signer) return absl::InvalidArgumentError("attestation reporter: a signer is required");
  if (options.clock == nullptr) return absl::InvalidArgumentError("attestation reporter: a clock is required");
  // Checked now so that a bad version string fails at start, not at the first report.
  AttestationReport probe;
  probe.nonce.assign(kMinNonceBytes, 0);
  probe.sigil_version = options.sigil_version;
  RETURN_IF_ERROR(ValidateReport(probe));
  return Reporter(std::move(options));
}

absl::StatusOr<AttestationReport> Reporter::Build(std::span<const uint8_t> nonce, const ReportState& state) const {
  if (nonce.size() < kMinNonceBytes || nonce.size() > kMaxNonceBytes) {
    return absl::InvalidArgumentError("attestation nonce must be " + std::to_string(kMinNonceBytes) + ".." +
                                      std::to_string(kMaxNonceBytes) + " bytes (" +
                                      std::to_string(2 * kMinNonceBytes) + ".." + std::to_string(2 * kMaxNonceBytes) +
                                      " hex digits), got " + std::to_string(nonce.size()) +
                                      " bytes; the verifier picks it fresh for each report");
  }
  AttestationReport report;
  report.version = kReportFormatVersion;
  report.nonce.assign(nonce.begin(), nonce.end());
  const int64_t now_ms = options_.clock->NowUnixMillis();
  report.time_ms = now_ms > 0 ? static_cast<uint64_t>(now_ms) : 0;
  report.platform = kPlatformSoftware;
  report.measurement = options_.measurement;
  report.config_hash = state.config_hash;
  report.policy_hash = state.policy_hash;
  report.audit = state.audit;
  report.keys = state.keys;
  std::sort(report.keys.begin(), report.keys.end(), [](const ServedKey& a, const ServedKey& b) {
    return std::tie(a.name, a.public_key) < std::tie(b.name, b.public_key);
  });
  report.audit_public_key = state.audit_public_key;
  report.attestation_public_key = options_.attestation_public_key;
  report.security_version = kSecurityVersion;
  report.sigil_version = options_.sigil_version;
  report.debug = options_.debug;
  if (options_.tpm_quoter) {
    report.platform = kPlatformTpm2;
    ASSIGN_OR_RETURN(TpmQuote quote, options_.tpm_quoter(TpmQuoteQualifyingData(report)));
    report.tpm_quote = std::move(quote);
  }
  RETURN_IF_ERROR(ValidateReport(report));

  const std::string message = CanonicalReportBytes(report);
  ASSIGN_OR_RETURN(report.signature, options_.signer(AsBytes(message)));
  if (!VerifyReportSignature(report, options_.attestation_public_key)) {
    return absl::InternalError(
        "attestation signer returned a signature that does not verify under the attestation public key");
  }
  return report;
}

absl::StatusOr<crypto::Hash256> MeasureFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open " + path + " to measure it");
  FdCloser closer(fd);
  Sha256Hasher hasher;
  std::vector<uint8_t> buffer(1 << 16);
  uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot read " + path + " to measure it");
    }
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    if (total > kMaxMeasuredBytes) {
      return absl::FailedPreconditionError(path + " is larger than " + std::to_string(kMaxMeasuredBytes) +
                                           " bytes; refusing to measure it");
    }
    hasher.Update(std::span<const uint8_t>(buffer.data(), static_cast<size_t>(n)));
  }
  return hasher.Final();
}

absl::StatusOr<crypto::Hash256> MeasureSelf() { return MeasureFile("/proc/self/exe"); }

}  // namespace sigil::attest
