// Recognition of token-approval signatures inside EIP-712 documents: EIP-2612
// Permit, the DAI-style Permit, and Uniswap Permit2 (AllowanceTransfer and
// SignatureTransfer, including the witness variants). A signed permit lets
// the spender move the owner's tokens without any transaction from the owner,
// so policy must see it as an approval.
//
// Recognition is by exact type definition, not by name alone: the primary
// type and every struct it uses must match the canonical definition field for
// field (names, types, order). A document that merely calls its type "Permit"
// has a different type hash, so a token contract would not accept its
// signature as a permit; it is reported as not a permit (policy still sees the
// primary type name and domain through TypedData).
//
// "Unlimited" is one rule for every allowance (erc20.h IsUnlimitedAmount):
// the amount is at least half the range of the type it is held in, as for
// an ERC-20 approve (>= 2^255).
//   * EIP-2612: value >= 2^255 (type(uint256).max, which OpenZeppelin and
//     most tokens treat as infinite, and anything near it).
//   * DAI permit: allowed == true (sets the allowance to 2^256 - 1).
//   * Permit2: amount >= 2^159, half of uint160, the type Permit2 keeps
//     allowances in (type(uint160).max is its infinite, never-decremented
//     allowance). SignatureTransfer amounts are written as uint256 but are
//     Permit2 amounts too, and follow the same bound.
//
// Stateless functions over an immutable TypedData; thread-safe.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "base/uint256.h"
#include "chains/ethereum/address.h"
#include "chains/ethereum/typed_data.h"

namespace sigil::eth {

enum class PermitKind {
  // Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)
  kEip2612,
  // Permit(address holder,address spender,uint256 nonce,uint256 expiry,bool allowed)
  kDaiPermit,
  // PermitSingle(PermitDetails details,address spender,uint256 sigDeadline)
  kPermit2Single,
  // PermitBatch(PermitDetails[] details,address spender,uint256 sigDeadline)
  kPermit2Batch,
  // PermitTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline)
  kPermit2TransferFrom,
  // PermitBatchTransferFrom(TokenPermissions[] permitted,address spender,uint256 nonce,uint256 deadline)
  kPermit2BatchTransferFrom,
  // PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,<W> <w>)
  kPermit2WitnessTransferFrom,
  // PermitBatchWitnessTransferFrom(TokenPermissions[] permitted,address spender,uint256 nonce,uint256 deadline,<W> <w>)
  kPermit2BatchWitnessTransferFrom,
  // Not a kind: how many there are (kinds are 0 .. kCount-1). Keep it last,
  // so code that covers every kind (the policy's permit.kind names) cannot
  // miss a new one.
  kCount,
};

// "eip2612", "dai_permit", "permit2_single", "permit2_batch",
// "permit2_transfer_from", "permit2_batch_transfer_from",
// "permit2_witness_transfer_from", "permit2_batch_witness_transfer_from".
std::string_view PermitKindName(PermitKind kind);

// The family a kind belongs to, which a policy may name to cover all of its
// kinds: "permit" (EIP-2612), "dai_permit" or "permit2".
std::string_view PermitKindFamily(PermitKind kind);

// One token the permit lets the spender move.
struct PermitAllowance {
  // The token. For EIP-2612/DAI it is the domain's verifyingContract (the
  // token signs its own permits); nullopt if the domain has none.
  std::optional<Address> token;
  Uint256 amount;
  bool unlimited = false;
  // Permit2 AllowanceTransfer only: when the allowance itself expires
  // (uint48 seconds; 0 means "the block timestamp at approval").
  std::optional<Uint256> expiration;
  // Permit2 AllowanceTransfer only: the per-token nonce.
  std::optional<Uint256> nonce;
};

struct PermitFacts {
  PermitKind kind = PermitKind::kEip2612;
  // The owner named in the message (EIP-2612 owner, DAI holder). Permit2
  // messages do not name the owner: it is the signer.
  std::optional<Address> owner;
  Address spender = Address::Zero();
  std::vector<PermitAllowance> allowances;  // one per token
  // When the signature stops being usable (EIP-2612 deadline, DAI expiry
  // where 0 means never, Permit2 sigDeadline/deadline), in Unix seconds.
  Uint256 deadline;
  // The signature nonce (EIP-2612, DAI, Permit2 SignatureTransfer).
  std::optional<Uint256> nonce;
  // True if any allowance is unlimited (see the rule above).
  bool unlimited = false;
};

// The permit facts, or nullopt if the document is not one of the kinds above.
std::optional<PermitFacts> RecognizePermit(const TypedData& data);

}  // namespace sigil::eth
