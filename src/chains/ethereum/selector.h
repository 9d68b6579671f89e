// Solidity function selectors: the first 4 bytes of calldata, which name the
// called function as keccak256("name(type1,type2,...)")[0:4].
// Thread-safe pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sigil::eth {

using Selector = std::array<uint8_t, 4>;

// The selector of `calldata`, or nullopt if it is shorter than 4 bytes (a
// plain transfer or a fallback call).
std::optional<Selector> FunctionSelector(std::span<const uint8_t> calldata);

// keccak256(signature)[0:4]. `signature` is the canonical form, without
// spaces or parameter names: "transfer(address,uint256)".
Selector SelectorFromSignature(std::string_view signature);

// "0xa9059cbb".
std::string SelectorHex(const Selector& selector);

}  // namespace sigil::eth
