// Human-readable amounts for decision reasons ("1.9 ether", "200 gwei").
// Exact: the text is the integer scaled by a power of ten, never rounded, so
// an agent that reads "at most 0.1 ether remains" can ask for exactly that.
//
// Stateless and thread-safe.
#pragma once

#include <string>

#include "base/uint256.h"

namespace sigil::policy {

// `value` divided by 10^decimals, with the fraction's trailing zeros removed
// ("1500000", 6 -> "1.5"). decimals <= 77.
std::string FormatScaled(const Uint256& value, unsigned decimals);

// Wei in the unit that reads best: "0 ether", "1.9 ether", "0.001 ether",
// "200 gwei", "21000 wei". The text parses back with Uint256::ParseAmount.
std::string FormatWei(const Uint256& wei);

}  // namespace sigil::policy
