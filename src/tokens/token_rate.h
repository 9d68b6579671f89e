// TokenRate: a per-token request rate ("10/s", "600/m", "5000/h", "20/1m"),
// carried in the token's sealed row and enforced by the front
// (server/token_rate_limiter.h). `count` requests may come at once (the
// burst), then one per per/count.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sigil::tokens {

inline constexpr uint64_t kMaxTokenRateCount = 1'000'000;

struct TokenRate {
  uint64_t count = 0;                        // 1..kMaxTokenRateCount
  absl::Duration per = absl::ZeroDuration(); // 1s..1d

  friend bool operator==(const TokenRate&, const TokenRate&) = default;
};

// "N/s", "N/m", "N/h", "N/d", or "N/<k><unit>" (e.g. "20/10s"). InvalidArgument
// with an example for anything else (zero counts, periods outside 1s..1d).
absl::StatusOr<TokenRate> ParseTokenRate(std::string_view text);

// The canonical text: "10/s", "600/m", "20/10s".
std::string TokenRateText(const TokenRate& rate);

}  // namespace sigil::tokens
