#include "chains/ethereum/selector.h"

#include <algorithm>

#include "base/hex.h"
#include "crypto/hash.h"

namespace sigil::eth {

std::optional<Selector> FunctionSelector(std::span<const uint8_t> calldata) {
  if (calldata.size() < 4) return std::nullopt;
  Selector s;
  std::copy(calldata.begin(), calldata.begin() + 4, s.begin());
  return s;
}

Selector SelectorFromSignature(std::string_view signature) {
  crypto::Hash256 h = crypto::Keccak256(AsBytes(signature));
  Selector s;
  std::copy(h.begin(), h.begin() + 4, s.begin());
  return s;
}

std::string SelectorHex(const Selector& selector) { return HexEncode0x(selector); }

}  // namespace sigil::eth
