// Effect: what a rule (or the whole policy) says about a request.
// The enumerators are ordered by precedence: deny beats require_approval
// beats allow, so the decision is the maximum over everything that applied.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sigil::policy {

enum class Effect : uint8_t { kAllow = 0, kRequireApproval = 1, kDeny = 2 };

std::string_view EffectName(Effect effect);  // "allow", "require_approval", "deny"
std::optional<Effect> ParseEffect(std::string_view name);

}  // namespace sigil::policy
