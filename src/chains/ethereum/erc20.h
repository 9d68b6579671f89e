// ERC-20 call decoding: the facts a policy needs from a token call's calldata.
//
// Recognised (selector → method):
//   0xa9059cbb transfer(address to, uint256 amount)
//   0x23b872dd transferFrom(address from, address to, uint256 amount)
//   0x095ea7b3 approve(address spender, uint256 amount)
// Strict ABI: calldata is exactly 4 + 32 * (number of arguments) bytes, and
// each address word has 12 zero high bytes. A recognised selector with any
// other shape is an error (InvalidArgument), never "not ERC-20": a token
// would likely revert, but a policy must not guess what it would do.
//
// Unlimited approval rule: approve(spender, amount) with amount >= 2^255.
// This covers type(uint256).max (the usual "infinite" approval, which many
// tokens never decrement) and every value so large that it is unlimited in
// practice (no real token has a supply near 2^255). Smaller amounts are
// reported as they are; a policy may still cap them. It is one case of the
// rule every token allowance follows (IsUnlimitedAmount, also used for
// EIP-2612 and Permit2 permits): at least half the range of the amount's type.
//
// Thread-safe pure functions; the result is a plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/uint256.h"
#include "chains/ethereum/address.h"
#include "chains/ethereum/selector.h"

namespace sigil::eth {

enum class Erc20Method { kTransfer, kTransferFrom, kApprove };

// "transfer", "transferFrom", "approve".
std::string_view Erc20MethodName(Erc20Method method);

struct Erc20Call {
  Erc20Method method = Erc20Method::kTransfer;
  // transferFrom only: the account the tokens are taken from.
  std::optional<Address> from;
  // transfer/transferFrom: the recipient; approve: the spender.
  Address to = Address::Zero();
  Uint256 amount;
  // approve only: amount >= 2^255 (see the file comment).
  bool unlimited_approval = false;
};

inline constexpr Selector kErc20TransferSelector = {0xa9, 0x05, 0x9c, 0xbb};
inline constexpr Selector kErc20TransferFromSelector = {0x23, 0xb8, 0x72, 0xdd};
inline constexpr Selector kErc20ApproveSelector = {0x09, 0x5e, 0xa7, 0xb3};

// The one "unlimited" rule for token allowances: the amount is at least half
// the range of its Solidity type, i.e. >= 2^(type_bits - 1): 2^255 for a
// uint256 amount, 2^159 for Permit2's uint160 allowances.
bool IsUnlimitedAmount(const Uint256& amount, unsigned type_bits);

// True when amount >= 2^255 (IsUnlimitedAmount for uint256).
bool IsUnlimitedApproval(const Uint256& amount);

// nullopt if the selector is none of the three (or calldata is shorter than
// 4 bytes); the decoded call if it is one and well-formed; InvalidArgument if
// it is one but malformed.
absl::StatusOr<std::optional<Erc20Call>> DecodeErc20Call(std::span<const uint8_t> calldata);

}  // namespace sigil::eth
