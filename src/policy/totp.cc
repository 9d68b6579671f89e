#include "policy/totp.h"

#include <oath.h>

#include <array>
#include <mutex>
#include <string>
#include <utility>

#include "base/hex.h"
#include "base/status.h"
#include "crypto/random.h"

namespace sigil::policy {
namespace {

constexpr size_t kMaxLabelSize = 128;
constexpr int kMaxWindow = 10;

absl::Status CheckParams(const TotpParams& p) {
  if (p.digits < 6 || p.digits > 8) return absl::InvalidArgumentError("TOTP digits must be 6, 7 or 8");
  if (p.period < absl::Seconds(1) || p.period > absl::Hours(1) ||
      p.period != absl::Seconds(absl::ToInt64Seconds(p.period))) {
    return absl::InvalidArgumentError("TOTP period must be a whole number of seconds between 1 and 3600");
  }
  if (p.window < 0 || p.window > kMaxWindow) {
    return absl::InvalidArgumentError("TOTP window must be between 0 and 10 steps");
  }
  return absl::OkStatus();
}

absl::Status CheckSecret(const SecretBytes& secret) {
  if (secret.size() < kTotpMinSecretSize || secret.size() > kTotpMaxSecretSize) {
    return absl::InvalidArgumentError("TOTP secret must be between 16 and 64 bytes");
  }
  return absl::OkStatus();
}

// liboath keeps global state (its crypto backend); oath_init is documented as
// safe to call more than once but not concurrently, hence call_once.
absl::Status InitOath() {
  static std::once_flag once;
  static int rc = OATH_OK;
  std::call_once(once, [] { rc = oath_init(); });
  if (rc != OATH_OK) return absl::InternalError("liboath failed to initialise");
  return absl::OkStatus();
}

int OathFlags(TotpAlgorithm a) {
  switch (a) {
    case TotpAlgorithm::kSha1:
      return 0;
    case TotpAlgorithm::kSha256:
      return OATH_TOTP_HMAC_SHA256;
    case TotpAlgorithm::kSha512:
      return OATH_TOTP_HMAC_SHA512;
  }
  return 0;
}

const char* AlgorithmName(TotpAlgorithm a) {
  switch (a) {
    case TotpAlgorithm::kSha1:
      return "SHA1";
    case TotpAlgorithm::kSha256:
      return "SHA256";
    case TotpAlgorithm::kSha512:
      return "SHA512";
  }
  return "SHA1";
}

// Code for one time step, written into `out` (digits + NUL). The buffer is a
// fixed array on the caller's stack so it can be wiped.
absl::Status CodeForStep(const SecretBytes& secret, int64_t step, const TotpParams& p, std::array<char, 16>& out) {
  RETURN_IF_ERROR(InitOath());
  const int64_t period = absl::ToInt64Seconds(p.period);
  auto key = secret.Reveal(SecretAccess::Get());
  // Generating at the first second of the step with start offset 0 gives
  // exactly counter = step.
  int rc = oath_totp_generate2(reinterpret_cast<const char*>(key.data()), key.size(),
                               static_cast<time_t>(step * period), static_cast<unsigned>(period), 0,
                               static_cast<unsigned>(p.digits), OathFlags(p.algorithm), out.data());
  if (rc != OATH_OK) return absl::InternalError("liboath could not compute a TOTP code");
  return absl::OkStatus();
}

constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (IsUnreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

}  // namespace

SecretBytes NewTotpSecret() { return crypto::RandomSecret(kTotpSecretSize); }

SecretBytes TotpBase32Secret(const SecretBytes& secret) {
  auto in = secret.Reveal(SecretAccess::Get());
  SecretBytes out = SecretBytes::Zeroed((in.size() * 8 + 4) / 5);
  auto dst = out.RevealMutable(SecretAccess::Get());
  size_t o = 0;
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t b : in) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      dst[o++] = static_cast<uint8_t>(kBase32Alphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) dst[o++] = static_cast<uint8_t>(kBase32Alphabet[(buffer << (5 - bits)) & 31]);
  buffer = 0;
  return out;
}

absl::StatusOr<SecretBytes> TotpProvisioningUri(const SecretBytes& secret, std::string_view issuer,
                                                std::string_view account, const TotpParams& params) {
  RETURN_IF_ERROR(CheckParams(params));
  RETURN_IF_ERROR(CheckSecret(secret));
  if (issuer.empty() || account.empty()) {
    return absl::InvalidArgumentError("TOTP issuer and account name must not be empty");
  }
  if (issuer.size() > kMaxLabelSize || account.size() > kMaxLabelSize) {
    return absl::InvalidArgumentError("TOTP issuer and account name must be at most 128 bytes");
  }
  const std::string enc_issuer = PercentEncode(issuer);
  const std::string prefix = "otpauth://totp/" + enc_issuer + ":" + PercentEncode(account) + "?secret=";
  const std::string suffix = "&issuer=" + enc_issuer + "&algorithm=" + AlgorithmName(params.algorithm) +
                             "&digits=" + std::to_string(params.digits) +
                             "&period=" + std::to_string(absl::ToInt64Seconds(params.period));
  SecretBytes b32 = TotpBase32Secret(secret);
  auto b32_bytes = b32.Reveal(SecretAccess::Get());
  SecretBytes uri = SecretBytes::Zeroed(prefix.size() + b32_bytes.size() + suffix.size());
  auto dst = uri.RevealMutable(SecretAccess::Get());
  size_t o = 0;
  for (char c : prefix) dst[o++] = static_cast<uint8_t>(c);
  for (uint8_t c : b32_bytes) dst[o++] = c;
  for (char c : suffix) dst[o++] = static_cast<uint8_t>(c);
  return uri;
}

absl::StatusOr<int64_t> TotpTimeStep(absl::Time t, const TotpParams& params) {
  RETURN_IF_ERROR(CheckParams(params));
  const int64_t unix_seconds = absl::ToUnixSeconds(t);
  if (unix_seconds < 0) return absl::InvalidArgumentError("TOTP time is before 1970");
  return unix_seconds / absl::ToInt64Seconds(params.period);
}

absl::StatusOr<std::string> TotpCode(const SecretBytes& secret, absl::Time t, const TotpParams& params) {
  RETURN_IF_ERROR(CheckSecret(secret));
  ASSIGN_OR_RETURN(int64_t step, TotpTimeStep(t, params));
  std::array<char, 16> buf{};
  RETURN_IF_ERROR(CodeForStep(secret, step, params, buf));
  std::string code(buf.data(), static_cast<size_t>(params.digits));
  SecureWipe(std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf.data()), buf.size()));
  return code;
}

absl::StatusOr<int64_t> VerifyTotp(const SecretBytes& secret, std::string_view code, absl::Time now,
                                   int64_t last_used_step, const TotpParams& params) {
  RETURN_IF_ERROR(CheckSecret(secret));
  ASSIGN_OR_RETURN(int64_t now_step, TotpTimeStep(now, params));
  if (code.size() != static_cast<size_t>(params.digits)) {
    return absl::InvalidArgumentError("TOTP code must be " + std::to_string(params.digits) + " digits");
  }
  for (char c : code) {
    if (c < '0' || c > '9') return absl::InvalidArgumentError("TOTP code must contain only digits");
  }
  // Every candidate is computed and compared; the match is selected without
  // branching on the comparison result.
  int64_t matched = -1;
  std::array<char, 16> buf{};
  for (int64_t step = now_step - params.window; step <= now_step + params.window; ++step) {
    if (step < 0) continue;
    RETURN_IF_ERROR(CodeForStep(secret, step, params, buf));
    const bool eq = ConstantTimeEquals(AsBytes(std::string_view(buf.data(), code.size())), AsBytes(code));
    const int64_t mask = -static_cast<int64_t>(eq);  // all ones when equal
    matched = (step & mask) | (matched & ~mask);
  }
  SecureWipe(std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf.data()), buf.size()));
  if (matched < 0) return absl::PermissionDeniedError("invalid TOTP code");
  if (matched <= last_used_step) return absl::PermissionDeniedError("TOTP code already used");
  return matched;
}

}  // namespace sigil::policy
