// Durations as the policy language writes them: "30s", "1m", "24h", "7d",
// "2w", or a sum of such terms ("1h30m"). Whole units only; no fractions, no
// signs, no spaces.
//
// Stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sigil::policy {

// Parses a positive duration of at most 400 days. Errors are InvalidArgument
// with a message that shows an accepted form.
absl::StatusOr<absl::Duration> ParseDurationText(std::string_view text);

// The shortest form ParseDurationText reads back ("24h", "7d", "1h30m").
// Sub-second remainders are dropped.
std::string FormatDurationText(absl::Duration d);

}  // namespace sigil::policy
