// SecondFactor: whether approving a held request needs a second factor
// (a TOTP code) beside the approver's token. One type for the policy's
// decision, the stored approval and the check that one covers the other.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sigil::policy {

enum class SecondFactor : uint8_t { kNone, kTotp };

// "none", "totp" (the policy language's "second_factor" values).
std::string_view SecondFactorName(SecondFactor f);
std::optional<SecondFactor> ParseSecondFactor(std::string_view name);

}  // namespace sigil::policy
