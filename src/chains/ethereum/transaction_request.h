// TransactionRequest: the transaction object of eth_signTransaction /
// eth_sendTransaction as wallets and libraries (ethers, viem, web3.py) send
// it, and its conversion to and from a validated Transaction.
//
// Thread-safety: plain values and pure functions. Errors are InvalidArgument
// whose message names the field ("field 'value': ...").
#pragma once

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/hex.h"
#include "base/uint256.h"
#include "chains/ethereum/address.h"
#include "chains/ethereum/transaction.h"
#include "nlohmann/json_fwd.hpp"

namespace sigil::eth {

// Keys (all optional at this stage): from, to, value, gas or gasLimit,
// gasPrice, maxFeePerGas, maxPriorityFeePerGas, nonce, data or input,
// chainId, type, accessList. A missing key and a null value mean the same.
// Quantities: "0x"-hex strings (1..64 digits), decimal strings, or JSON
// integers up to 2^53 - 1 (larger numbers and any fraction/float/negative
// are refused: amounts never go through floating point). Byte strings: "0x"
// + an even number of hex digits. Addresses: see Address::Parse (a
// mixed-case address must have a valid EIP-55 checksum). Unknown keys are
// ignored (wallets add their own), except blob-transaction keys
// (maxFeePerBlobGas, blobVersionedHashes, blobs), which are refused.
// If both data and input are given they must be equal; likewise gas/gasLimit.
// Errors name the field: "field 'value': ...".
struct TransactionRequest {
  std::optional<Address> from;
  std::optional<TxType> type;
  std::optional<Address> to;  // absent or null: contract creation
  std::optional<uint64_t> nonce;
  std::optional<uint64_t> gas_limit;
  std::optional<Uint256> gas_price;
  std::optional<Uint256> max_fee_per_gas;
  std::optional<Uint256> max_priority_fee_per_gas;
  std::optional<Uint256> value;
  std::optional<Bytes> data;
  std::optional<uint64_t> chain_id;
  std::optional<AccessList> access_list;

  // The type this request becomes (rule, in order):
  //   1. an explicit `type` wins;
  //   2. maxFeePerGas or maxPriorityFeePerGas present -> 2 (EIP-1559);
  //   3. gasPrice present -> 1 if accessList is present, else 0 (legacy);
  //   4. no fee field at all -> 2 (EIP-1559, as geth and ethers default);
  //      TransactionFromRequest then reports the missing fee fields.
  TxType InferType() const;
};

// Parses the object; checks every present field's syntax and range and the
// consistency of `type` with the fee fields (e.g. type 0 with maxFeePerGas,
// or gasPrice together with maxFeePerGas, are refused). Does not require
// completeness: a server may fill nonce, gas and chainId before FromRequest.
absl::StatusOr<TransactionRequest> ParseTransactionRequest(const nlohmann::json& object);
// As above from JSON text (bounded by base/json_bounds.h defaults first).
absl::StatusOr<TransactionRequest> ParseTransactionRequest(std::string_view json_text);

// Builds a Transaction from a complete request. Required: nonce, gas,
// chainId (may be absent only for legacy with allow_pre_eip155), and the fee
// fields of the type (gasPrice; or maxFeePerGas and maxPriorityFeePerGas).
// value defaults to 0 and data to empty. `from` is not part of the
// transaction: the caller checks it against the signing key.
absl::StatusOr<Transaction> TransactionFromRequest(const TransactionRequest& request,
                                                   const ParseOptions& options = {});
// ParseTransactionRequest + TransactionFromRequest.
absl::StatusOr<Transaction> TransactionFromJson(const nlohmann::json& object, const ParseOptions& options = {});
absl::StatusOr<Transaction> TransactionFromJson(std::string_view json_text, const ParseOptions& options = {});

// The reverse, in the shape of geth's RPC transaction object: type, chainId
// (omitted when absent), nonce, gas, gasPrice or maxFeePerGas +
// maxPriorityFeePerGas, to (checksummed, or null for creation), value, input,
// accessList (typed only), maxFeePerBlobGas + blobVersionedHashes (type 3).
// Quantities are 0x-hex. TransactionFromJson(ToJson(tx)) == tx for types 0-2.
nlohmann::json ToJson(const Transaction& tx);
// An access list as RPC carries it: [{address (checksummed), storageKeys}].
nlohmann::json AccessListToJson(const AccessList& list);
// ToJson(tx) plus hash, v, r, s, yParity (typed only) and, when known, `from`.
nlohmann::json ToJson(const SignedTransaction& signed_tx, const std::optional<Address>& from = std::nullopt);

}  // namespace sigil::eth
