#include "tokens/token_rate.h"
#include <optional>

namespace sigil::tokens {
namespace {

absl::Status Bad(std::string_view text) {
  std::string shown(text.substr(0, 32));
  return absl::InvalidArgumentError("rate '" + shown + "' must look like 10/s, 600/m, 5000/h or 20/10s");
}

// Digits only, no sign, at most 9 of them; nullopt otherwise.
std::optional<uint64_t> Digits(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

}  // namespace

absl::StatusOr<TokenRate> ParseTokenRate(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return Bad(text);
  auto count = Digits(text.substr(0, slash));
  std::string_view per = text.substr(slash + 1);
  if (!count || *count == 0 || *count > kMaxTokenRateCount || per.empty()) return Bad(text);
  absl::Duration unit;
  switch (per.back()) {
    case 's': unit = absl::Seconds(1); break;
    case 'm': unit = absl::Minutes(1); break;
    case 'h': unit = absl::Hours(1); break;
    case 'd': unit = absl::Hours(24); break;
    default: return Bad(text);
  }
  uint64_t mult = 1;
  if (per.size() > 1) {
    auto m = Digits(per.substr(0, per.size() - 1));
    if (!m || *m == 0) return Bad(text);
    mult = *m;
  }
  absl::Duration d = unit * static_cast<int64_t>(mult);
  if (d < absl::Seconds(1) || d > absl::Hours(24)) {
    return absl::InvalidArgumentError("rate period must be between 1s and 1d");
  }
  return TokenRate{*count, d};
}

std::string TokenRateText(const TokenRate& rate) {
  std::string out = std::to_string(rate.count) + "/";
  int64_t s = absl::ToInt64Seconds(rate.per);
  if (s == 1) return out + "s";
  if (s == 60) return out + "m";
  if (s == 3600) return out + "h";
  if (s == 86400) return out + "d";
  return out + std::to_string(s) + "s";
}

}  // namespace sigil::tokens
