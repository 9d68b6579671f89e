#include "policy/amount_text.h"

namespace sigil::policy {
namespace {

Uint256 PowerOfTen(unsigned n) {
  Uint256 v(1);
  for (unsigned i = 0; i < n; ++i) v = v.Mul(Uint256(10)).value();
  return v;
}

}  // namespace

std::string FormatScaled(const Uint256& value, unsigned decimals) {
  if (decimals == 0) return value.ToDecimal();
  const Uint256 scale = PowerOfTen(decimals);
  const Uint256 whole = value.Div(scale).value();
  const Uint256 frac = value.Sub(whole.Mul(scale).value()).value();
  std::string out = whole.ToDecimal();
  if (frac.IsZero()) return out;
  std::string digits = frac.ToDecimal();
  digits.insert(0, decimals - digits.size(), '0');
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  return out + "." + digits;
}

std::string FormatWei(const Uint256& wei) {
  static const Uint256 kMilliEther = PowerOfTen(15);
  static const Uint256 kMicroGwei = PowerOfTen(6);
  if (wei.IsZero() || wei >= kMilliEther) return FormatScaled(wei, 18) + " ether";
  if (wei >= kMicroGwei) return FormatScaled(wei, 9) + " gwei";
  return wei.ToDecimal() + " wei";
}

}  // namespace sigil::policy
