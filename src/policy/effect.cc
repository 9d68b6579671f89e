#include "policy/effect.h"

namespace sigil::policy {

std::string_view EffectName(Effect effect) {
  switch (effect) {
    case Effect::kAllow: return "allow";
    case Effect::kRequireApproval: return "require_approval";
    case Effect::kDeny: return "deny";
  }
  return "deny";
}

std::optional<Effect> ParseEffect(std::string_view name) {
  if (name == "allow") return Effect::kAllow;
  if (name == "require_approval") return Effect::kRequireApproval;
  if (name == "deny") return Effect::kDeny;
  return std::nullopt;
}

}  // namespace sigil::policy
