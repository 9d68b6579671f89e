#include "mcp/quantity.h"

namespace sigil::mcp {

absl::StatusOr<Uint256> ParseQuantity(const nlohmann::json& value, QuantityKind kind, const std::string& field) {
  if (value.is_number_unsigned()) return Uint256(value.get<uint64_t>());
  if (value.is_number_integer()) {
    const int64_t v = value.get<int64_t>();
    if (v < 0) return absl::InvalidArgumentError(field + " must not be negative");
    return Uint256(static_cast<uint64_t>(v));
  }
  if (value.is_number_float()) {
    return absl::InvalidArgumentError(field + " is a floating-point number; write it as a string, e.g. \"0.05 ether\" or \"50000000000000000\"");
  }
  if (!value.is_string()) return absl::InvalidArgumentError(field + " must be a string or an integer");
  const std::string& text = value.get_ref<const std::string&>();
  absl::StatusOr<Uint256> parsed =
      kind == QuantityKind::kAmount ? Uint256::ParseAmount(text) : Uint256::ParseInteger(text);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        field + " \"" + text.substr(0, 80) + "\" is not " +
        (kind == QuantityKind::kAmount ? "an amount (decimal wei, 0x-hex, or a number with a unit such as \"0.05 ether\" or \"30 gwei\")"
                                       : "a whole number (decimal or 0x-hex)"));
  }
  return parsed;
}

absl::StatusOr<std::string> ToHexQuantity(const nlohmann::json& value, QuantityKind kind, const std::string& field) {
  absl::StatusOr<Uint256> v = ParseQuantity(value, kind, field);
  if (!v.ok()) return v.status();
  return v->ToHexQuantity();
}

std::string FormatUnits(const Uint256& value, unsigned decimals) {
  std::string digits = value.ToDecimal();
  if (decimals == 0) return digits;
  if (digits.size() <= decimals) digits.insert(0, decimals + 1 - digits.size(), '0');
  std::string whole = digits.substr(0, digits.size() - decimals);
  std::string frac = digits.substr(digits.size() - decimals);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return frac.empty() ? whole : whole + "." + frac;
}

std::string WeiInWords(const Uint256& wei) {
  static const Uint256 kMicroEther(1000000000000ULL);  // 1e12 wei
  static const Uint256 kGwei(1000000000ULL);
  if (wei.IsZero()) return "0 ether";
  if (wei >= kMicroEther) return FormatUnits(wei, 18) + " ether";
  if (wei >= kGwei) return FormatUnits(wei, 9) + " gwei";
  return wei.ToDecimal() + " wei";
}

}  // namespace sigil::mcp
