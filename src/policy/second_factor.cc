#include "policy/second_factor.h"

namespace sigil::policy {

std::string_view SecondFactorName(SecondFactor f) { return f == SecondFactor::kTotp ? "totp" : "none"; }

std::optional<SecondFactor> ParseSecondFactor(std::string_view name) {
  if (name == "none") return SecondFactor::kNone;
  if (name == "totp") return SecondFactor::kTotp;
  return std::nullopt;
}

}  // namespace sigil::policy
