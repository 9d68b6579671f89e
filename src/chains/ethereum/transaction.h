// Ethereum transactions: a validated Transaction value type, its canonical
// (RLP / EIP-2718) encodings, signing hashes, signing and sender recovery.
//
// Supported:
//   legacy (type 0) with an EIP-155 chain id; without one ("pre-EIP-155",
//     replayable on every chain) only when ParseOptions::allow_pre_eip155 is set;
//   EIP-2930 (type 1, access list);
//   EIP-1559 (type 2, dynamic fee);
//   EIP-4844 (type 3, blob) -- decode, hash and recover only: signing one is
//     refused (FailedPrecondition). Only the canonical (non-network) form is
//     accepted: the network wrapper with blobs/commitments/proofs is refused.
//
// Validity (enforced by every constructor, so a live Transaction is valid):
//   * chain id, when present, is in [1, kMaxChainId] (so EIP-155's
//     v = chain_id * 2 + 36 fits 64 bits); typed transactions require one;
//   * nonce and gas_limit fit 64 bits (EIP-2681); fee fields and value fit 256 bits;
//   * max_priority_fee_per_gas <= max_fee_per_gas (types 2 and 3);
//   * fields that the type does not have are zero/empty (a legacy transaction
//     with an access list or max_fee_per_gas is refused, not silently dropped);
//   * blob transactions have a `to`, and each versioned hash starts with the
//     KZG version byte 0x01 (an empty hash list, invalid on chain, is still
//     decoded: such transactions are never signed here);
//   * the unsigned encoding is at most ParseOptions::limits.max_input_size bytes.
// Decoding is strict: canonical RLP (see rlp.h), integers without leading
// zero bytes, addresses exactly 20 bytes (or empty for contract creation),
// storage keys and blob hashes exactly 32 bytes, the exact field count,
// no trailing bytes. For every accepted input, re-encoding gives the input.
//
// Signatures: r in [1, n-1], s in [1, n/2] (low-s, EIP-2), y parity 0/1;
// anything else is refused at parse time. Signing always produces low-s
// (crypto::SignRecoverable, RFC 6979).
//
// The JSON shape wallets send (eth_signTransaction) is in transaction_request.h.
//
// All types here are values: copyable, immutable after construction, safe to
// share read-only between threads. Errors are InvalidArgument with a message
// naming the field, unless stated otherwise.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/hex.h"
#include "base/secret.h"
#include "base/uint256.h"
#include "chains/ethereum/address.h"
#include "chains/ethereum/rlp.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"

namespace sigil::eth {

enum class TxType : uint8_t {
  kLegacy = 0,
  kAccessList = 1,  // EIP-2930
  kDynamicFee = 2,  // EIP-1559
  kBlob = 3,        // EIP-4844 (decode only)
};

// "legacy", "eip2930", "eip1559", "eip4844".
std::string_view TxTypeName(TxType type);

// Largest chain id accepted: (2^64 - 1 - 36) / 2, so that the EIP-155 v
// value of a legacy transaction fits 64 bits (the bound EIP-2294 proposes).
inline constexpr uint64_t kMaxChainId = (UINT64_MAX - 36) / 2;

using StorageKey = std::array<uint8_t, 32>;

struct AccessListEntry {
  Address address = Address::Zero();
  std::vector<StorageKey> storage_keys;
  friend bool operator==(const AccessListEntry&, const AccessListEntry&) = default;
};
using AccessList = std::vector<AccessListEntry>;

// The plain fields of a transaction, before validation. Fill the ones the
// type has; leave the others at their defaults (zero/empty).
struct TransactionFields {
  TxType type = TxType::kDynamicFee;
  std::optional<uint64_t> chain_id;
  uint64_t nonce = 0;
  Uint256 gas_price;                 // types 0, 1
  Uint256 max_priority_fee_per_gas;  // types 2, 3
  Uint256 max_fee_per_gas;           // types 2, 3
  uint64_t gas_limit = 0;
  std::optional<Address> to;  // absent: contract creation (not allowed for type 3)
  Uint256 value;
  Bytes data;
  AccessList access_list;                      // types 1, 2, 3
  Uint256 max_fee_per_blob_gas;                // type 3
  std::vector<crypto::Hash256> blob_versioned_hashes;  // type 3
  friend bool operator==(const TransactionFields&, const TransactionFields&) = default;
};

struct ParseOptions {
  // Accept legacy transactions without a chain id (replayable across chains).
  // Off by default; DESIGN.md invariant 5 wants a policy to opt in by name.
  bool allow_pre_eip155 = false;
  RlpLimits limits;
};

class Transaction {
 public:
  // Validates `fields` (see the file comment).
  static absl::StatusOr<Transaction> Create(TransactionFields fields, const ParseOptions& options = {});
  // Strict decode of an unsigned transaction: legacy RLP list (6 fields
  // pre-EIP-155, or 9 with [chain_id, 0, 0]) or type byte || RLP list.
  static absl::StatusOr<Transaction> ParseUnsigned(std::span<const uint8_t> encoded,
                                                   const ParseOptions& options = {});

  // Canonical unsigned encoding (what ParseUnsigned accepts).
  Bytes EncodeUnsigned() const;
  // The digest that is signed: keccak256 of the unsigned encoding (for legacy
  // with a chain id, the EIP-155 form with [chain_id, 0, 0]).
  crypto::Hash256 SigningHash() const;

  const TransactionFields& fields() const { return fields_; }
  TxType type() const { return fields_.type; }
  std::optional<uint64_t> chain_id() const { return fields_.chain_id; }
  uint64_t nonce() const { return fields_.nonce; }
  const Uint256& gas_price() const { return fields_.gas_price; }
  const Uint256& max_priority_fee_per_gas() const { return fields_.max_priority_fee_per_gas; }
  const Uint256& max_fee_per_gas() const { return fields_.max_fee_per_gas; }
  uint64_t gas_limit() const { return fields_.gas_limit; }
  const std::optional<Address>& to() const { return fields_.to; }
  bool is_contract_creation() const { return !fields_.to.has_value(); }
  const Uint256& value() const { return fields_.value; }
  const Bytes& data() const { return fields_.data; }
  const AccessList& access_list() const { return fields_.access_list; }
  const Uint256& max_fee_per_blob_gas() const { return fields_.max_fee_per_blob_gas; }
  const std::vector<crypto::Hash256>& blob_versioned_hashes() const {
    return fields_.blob_versioned_hashes;
  }

  // The most the sender can pay per unit of gas: gas_price for types 0/1,
  // max_fee_per_gas for types 2/3. What a policy's "max_fee_per_gas" caps.
  const Uint256& FeeCapPerGas() const;
  // value + gas_limit * FeeCapPerGas() (+ blob gas is not included). Error
  // (OutOfRange) if it does not fit 256 bits.
  absl::StatusOr<Uint256> MaxCost() const;

  friend bool operator==(const Transaction&, const Transaction&) = default;

 private:
  friend class SignedTransaction;
  explicit Transaction(TransactionFields fields) : fields_(std::move(fields)) {}
  // The unsigned fields (without signature and without the EIP-155 suffix),
  // written as consecutive RLP items, and the exact size they take.
  size_t FieldsPayloadSize() const;
  void AppendFields(Bytes& out) const;
  TransactionFields fields_;
};

class SignedTransaction {
 public:
  // Strict decode of a signed transaction (the raw bytes of
  // eth_sendRawTransaction). Rejects high-s, r or s out of range, and a legacy
  // v that is neither 27/28 (pre-EIP-155, needs allow_pre_eip155) nor
  // chain_id * 2 + 35/36 with a valid chain id.
  static absl::StatusOr<SignedTransaction> Parse(std::span<const uint8_t> encoded,
                                                 const ParseOptions& options = {});
  // Attaches a signature made elsewhere (e.g. by an HSM, then normalised with
  // crypto::NormalizeAndFindRecoveryId). Checks r, s ranges and low-s; does not
  // check who signed (use RecoverSender).
  static absl::StatusOr<SignedTransaction> Create(Transaction tx, const crypto::RecoverableSignature& sig);

  const Transaction& tx() const { return tx_; }
  const crypto::RecoverableSignature& signature() const { return sig_; }
  uint8_t y_parity() const { return sig_.recovery_id; }
  // The v as serialised: 27/28 (legacy without chain id), chain_id * 2 + 35/36
  // (EIP-155), or the y parity 0/1 (typed transactions).
  uint64_t v() const;

  // The raw signed bytes (for eth_sendRawTransaction).
  Bytes Encode() const;
  // The transaction hash: keccak256(Encode()).
  crypto::Hash256 Hash() const;
  // The sender, recovered from the signature over tx().SigningHash().
  absl::StatusOr<Address> RecoverSender() const;

  friend bool operator==(const SignedTransaction&, const SignedTransaction&);

 private:
  SignedTransaction(Transaction tx, const crypto::RecoverableSignature& sig) : tx_(std::move(tx)), sig_(sig) {}
  Transaction tx_;
  crypto::RecoverableSignature sig_;
};

// Convenience free functions with the names used across the codebase.
inline absl::StatusOr<Transaction> ParseUnsigned(std::span<const uint8_t> encoded,
                                                 const ParseOptions& options = {}) {
  return Transaction::ParseUnsigned(encoded, options);
}
inline absl::StatusOr<SignedTransaction> ParseSigned(std::span<const uint8_t> encoded,
                                                     const ParseOptions& options = {}) {
  return SignedTransaction::Parse(encoded, options);
}

// Signs tx.SigningHash() with `private_key` (RFC 6979, low-s) and returns the
// signed transaction; .Encode() gives the raw bytes and .v() the v value.
// FailedPrecondition for a blob (type 3) transaction; InvalidArgument for a
// key that is not a valid secp256k1 scalar.
absl::StatusOr<SignedTransaction> Sign(const Transaction& tx, const SecretBytes& private_key);

}  // namespace sigil::eth
