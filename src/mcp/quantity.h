// Quantities as tools accept them and as refusal texts show them.
//
// A language model writes amounts as "0.05 ether", "200 gwei", decimal wei
// or 0x-hex; Ethereum JSON-RPC wants 0x-hex quantities. These helpers convert
// exactly (Uint256, no floating point) and refuse JSON floats outright.
// Pure functions; thread-safe.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "base/uint256.h"

namespace sigil::mcp {

enum class QuantityKind {
  kAmount,   // wei: decimal, 0x-hex, or "<decimal> <unit>" (wei … ether)
  kInteger,  // nonce, gas, chain id: decimal or 0x-hex, no unit
};

// A non-negative JSON integer or a string as above → Uint256.
// InvalidArgument (naming `field`) for floats, negatives, bad text.
absl::StatusOr<Uint256> ParseQuantity(const nlohmann::json& value, QuantityKind kind, const std::string& field);

// The same, rendered as an Ethereum JSON-RPC quantity ("0x1bc16d674ec80000").
absl::StatusOr<std::string> ToHexQuantity(const nlohmann::json& value, QuantityKind kind, const std::string& field);

// `value` / 10^decimals as an exact decimal, trailing zeros trimmed
// (FormatUnits(1500000, 6) == "1.5").
std::string FormatUnits(const Uint256& value, unsigned decimals);

// Wei in the unit a person would use: "0.1 ether", "30 gwei", "12 wei".
// Exact: never rounds.
std::string WeiInWords(const Uint256& wei);

}  // namespace sigil::mcp
