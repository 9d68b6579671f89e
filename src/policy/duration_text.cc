#include "policy/duration_text.h"

#include <cstdint>

namespace sigil::policy {
namespace {

constexpr int64_t kMaxSeconds = int64_t{400} * 86400;

struct UnitSpec {
  char letter;
  int64_t seconds;
};
constexpr UnitSpec kUnits[] = {{'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

absl::Status Bad(std::string_view text, std::string_view why) {
  std::string msg = "\"";
  msg += text.substr(0, 40);
  msg += "\" is not a duration (";
  msg += why;
  msg += "); write e.g. \"30s\", \"1m\", \"24h\", \"7d\"";
  return absl::InvalidArgumentError(msg);
}

}  // namespace

absl::StatusOr<absl::Duration> ParseDurationText(std::string_view text) {
  if (text.empty()) return Bad(text, "empty");
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    int64_t n = 0;
    size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > kMaxSeconds) return Bad(text, "longer than 400 days");
      ++i;
      ++digits;
    }
    if (digits == 0) return Bad(text, "expected a whole number");
    if (i == text.size()) return Bad(text, "missing unit s, m, h, d or w");
    const UnitSpec* unit = nullptr;
    for (const UnitSpec& u : kUnits) {
      if (text[i] == u.letter) unit = &u;
    }
    if (unit == nullptr) return Bad(text, "unknown unit; use s, m, h, d or w");
    ++i;
    total += n * unit->seconds;
    if (total > kMaxSeconds) return Bad(text, "longer than 400 days");
  }
  if (total <= 0) return Bad(text, "must be longer than zero");
  return absl::Seconds(total);
}

std::string FormatDurationText(absl::Duration d) {
  int64_t s = absl::ToInt64Seconds(d);
  if (s <= 0) return "0s";
  std::string out;
  for (const UnitSpec& u : kUnits) {
    if (u.letter == 'w') continue;  // "14d" reads better than "2w"
    if (s >= u.seconds) {
      out += std::to_string(s / u.seconds);
      out.push_back(u.letter);
      s %= u.seconds;
    }
  }
  return out;
}

}  // namespace sigil::policy
