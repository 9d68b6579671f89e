#include "chains/ethereum/erc20.h"

#include <algorithm>
#include <string>

#include "base/status.h"

namespace sigil::eth {
namespace {

using Word = std::span<const uint8_t, 32>;

Word ArgWord(std::span<const uint8_t> calldata, size_t index) {
  return Word(calldata.data() + 4 + 32 * index, 32);
}

absl::StatusOr<Address> AddressArg(std::span<const uint8_t> calldata, size_t index, std::string_view name) {
  Word w = ArgWord(calldata, index);
  if (!std::all_of(w.begin(), w.begin() + 12, [](uint8_t b) { return b == 0; })) {
    return absl::InvalidArgumentError("erc20: argument '" + std::string(name) +
                                      "' is not a valid address word (high 12 bytes must be zero)");
  }
  return Address::FromBytes(std::span<const uint8_t, 20>(w.data() + 12, 20));
}

Uint256 UintArg(std::span<const uint8_t> calldata, size_t index) {
  // 32 bytes always fit; FromBigEndian cannot fail here.
  return *Uint256::FromBigEndian(ArgWord(calldata, index));
}

}  // namespace

std::string_view Erc20MethodName(Erc20Method method) {
  switch (method) {
    case Erc20Method::kTransfer: return "transfer";
    case Erc20Method::kTransferFrom: return "transferFrom";
    case Erc20Method::kApprove: return "approve";
  }
  return "unknown";
}

bool IsUnlimitedAmount(const Uint256& amount, unsigned type_bits) { return amount.BitLength() >= type_bits; }

bool IsUnlimitedApproval(const Uint256& amount) { return IsUnlimitedAmount(amount, 256); }

absl::StatusOr<std::optional<Erc20Call>> DecodeErc20Call(std::span<const uint8_t> calldata) {
  std::optional<Selector> sel = FunctionSelector(calldata);
  if (!sel) return std::optional<Erc20Call>();
  Erc20Call call;
  size_t args;
  if (*sel == kErc20TransferSelector) {
    call.method = Erc20Method::kTransfer;
    args = 2;
  } else if (*sel == kErc20TransferFromSelector) {
    call.method = Erc20Method::kTransferFrom;
    args = 3;
  } else if (*sel == kErc20ApproveSelector) {
    call.method = Erc20Method::kApprove;
    args = 2;
  } else {
    return std::optional<Erc20Call>();
  }
  if (calldata.size() != 4 + 32 * args) {
    return absl::InvalidArgumentError("erc20: " + std::string(Erc20MethodName(call.method)) + " calldata must be " +
                                      std::to_string(4 + 32 * args) + " bytes, got " +
                                      std::to_string(calldata.size()));
  }
  size_t i = 0;
  if (call.method == Erc20Method::kTransferFrom) {
    ASSIGN_OR_RETURN(call.from, AddressArg(calldata, i++, "from"));
  }
  ASSIGN_OR_RETURN(call.to, AddressArg(calldata, i++, call.method == Erc20Method::kApprove ? "spender" : "to"));
  call.amount = UintArg(calldata, i);
  call.unlimited_approval = call.method == Erc20Method::kApprove && IsUnlimitedApproval(call.amount);
  return std::optional<Erc20Call>(call);
}

}  // namespace sigil::eth
