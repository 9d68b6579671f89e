// TOTP (RFC 6238) second factor for approvers and admins, computed with
// liboath.
//
// What this file defines:
//  * the algorithm: enrolment (a fresh random secret and its otpauth:// URI),
//    the code for a time, and verification with a +/- window and replay
//    protection expressed as "the last time step this user already used";
//  * SecondFactorVerifier, the seam through which approvals and lockdown ask "is this
//    code valid for this principal right now?". The token store keeps each
//    principal's TOTP secret (sealed) and its last used step; the core adapts
//    it to this interface (doc/approvals.md shows the adapter).
//
// Security contract:
//  * Secrets and provisioning URIs (which contain the secret in base32) are
//    SecretBytes only; no function here puts secret bytes in a std::string or
//    an error message.
//  * VerifyTotp compares every candidate in the window in constant time and
//    does not stop at the first match, so timing does not tell which step
//    matched.
//  * Replay: a code is accepted only if its time step is strictly greater
//    than `last_used_step`. The caller persists the returned step, so the same
//    code (or an older code still inside the window) cannot be used twice.
//
// Thread-safety: every function is thread-safe. Implementations of
// SecondFactorVerifier must be thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/secret.h"

namespace sigil::policy {

enum class TotpAlgorithm { kSha1, kSha256, kSha512 };

struct TotpParams {
  TotpAlgorithm algorithm = TotpAlgorithm::kSha1;
  int digits = 6;                            // 6, 7 or 8
  absl::Duration period = absl::Seconds(30);  // whole seconds, >= 1 s
  int window = 1;                            // steps accepted either side of now, 0..10
};

// Secret sizes accepted by the functions below (RFC 4226 asks for >= 128 bits).
inline constexpr size_t kTotpMinSecretSize = 16;
inline constexpr size_t kTotpMaxSecretSize = 64;
// Size of a secret made by NewTotpSecret (160 bits, RFC 4226's recommendation).
inline constexpr size_t kTotpSecretSize = 20;
// "No code used yet": pass as last_used_step for a fresh enrolment.
inline constexpr int64_t kTotpNeverUsed = -1;

// A fresh random 20-byte secret from the OS CSPRNG.
SecretBytes NewTotpSecret();

// The otpauth:// provisioning URI for authenticator apps (Google Key URI
// format): otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER
// &algorithm=SHA1&digits=6&period=30. Issuer and account are percent-encoded.
// The result contains the secret: show it once, never log it.
// InvalidArgument: bad secret size, bad params, empty issuer/account, or an
// issuer/account longer than 128 bytes.
absl::StatusOr<SecretBytes> TotpProvisioningUri(const SecretBytes& secret, std::string_view issuer,
                                                std::string_view account, const TotpParams& params = {});

// RFC 4648 base32 (upper case, no padding) of the secret, as the URI holds it.
SecretBytes TotpBase32Secret(const SecretBytes& secret);

// The time step that contains `t`: floor(unix seconds / period).
// InvalidArgument for times before 1970 or bad params.
absl::StatusOr<int64_t> TotpTimeStep(absl::Time t, const TotpParams& params = {});

// The code for time `t` (for authenticator-side tools and tests).
absl::StatusOr<std::string> TotpCode(const SecretBytes& secret, absl::Time t, const TotpParams& params = {});

// Checks `code` against the steps [step(now) - window, step(now) + window].
// Returns the matched step, which the caller must persist as the new
// last_used_step.
//  InvalidArgument     the code is not exactly `digits` ASCII digits, or bad params/secret
//  PermissionDenied    the code matches no step in the window ("invalid TOTP code")
//  PermissionDenied    the code matches a step <= last_used_step ("TOTP code already used")
absl::StatusOr<int64_t> VerifyTotp(const SecretBytes& secret, std::string_view code, absl::Time now,
                                   int64_t last_used_step, const TotpParams& params = {});

// The second-factor check approvals and lockdown depend on. Verify returns OK
// exactly when `code` is a valid, unused code of `principal`'s enrolled
// second factor now, and records it as used.
//  PermissionDenied    the principal has no second factor enrolled, or the code
//                      is wrong or was already used
//  InvalidArgument     the code is malformed
class SecondFactorVerifier {
 public:
  virtual ~SecondFactorVerifier() = default;
  virtual absl::Status Verify(std::string_view principal, std::string_view code) = 0;
};

}  // namespace sigil::policy
