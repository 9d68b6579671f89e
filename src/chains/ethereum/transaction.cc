#include "chains/ethereum/transaction.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "base/status.h"

namespace sigil::eth {
namespace {

// secp256k1 group order n and n/2 (big-endian), for signature range checks.
constexpr std::array<uint8_t, 32> kCurveOrder = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41};
constexpr std::array<uint8_t, 32> kHalfCurveOrder = {
    0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0x5D, 0x57, 0x6E, 0x73, 0x57, 0xA4, 0x50, 0x1D, 0xDF, 0xE9, 0x2F, 0x46, 0x68, 0x1B, 0x20, 0xA0};

bool IsZero32(const std::array<uint8_t, 32>& a) {
  return std::all_of(a.begin(), a.end(), [](uint8_t b) { return b == 0; });
}

std::string Field(std::string_view name) { return "field '" + std::string(name) + "': "; }

absl::Status FieldError(std::string_view name, std::string_view what) {
  return absl::InvalidArgumentError(Field(name) + std::string(what));
}

absl::Status CheckSignatureRanges(const crypto::RecoverableSignature& sig) {
  if (IsZero32(sig.r) || sig.r >= kCurveOrder) {
    return absl::InvalidArgumentError("signature r is out of range (must be in [1, n-1])");
  }
  if (IsZero32(sig.s)) return absl::InvalidArgumentError("signature s is zero");
  if (sig.s > kHalfCurveOrder) {
    return absl::InvalidArgumentError("signature s is high (s > n/2); only low-s signatures are valid (EIP-2)");
  }
  if (sig.recovery_id > 1) return absl::InvalidArgumentError("signature y parity must be 0 or 1");
  return absl::OkStatus();
}

size_t AccessListPayloadSize(const AccessList& list) {
  size_t total = 0;
  for (const AccessListEntry& e : list) {
    size_t keys = RlpListSize(e.storage_keys.size() * 33);  // each key: 0xa0 + 32 bytes
    total += RlpListSize(21 + keys);                       // address: 0x94 + 20 bytes
  }
  return total;
}

void AppendAccessList(const AccessList& list, Bytes& out) {
  RlpAppendListHeader(AccessListPayloadSize(list), out);
  for (const AccessListEntry& e : list) {
    RlpAppendListHeader(21 + RlpListSize(e.storage_keys.size() * 33), out);
    RlpAppendString(e.address.bytes(), out);
    RlpAppendListHeader(e.storage_keys.size() * 33, out);
    for (const StorageKey& k : e.storage_keys) RlpAppendString(k, out);
  }
}

size_t ToSize(const std::optional<Address>& to) { return to ? 21 : 1; }

void AppendTo(const std::optional<Address>& to, Bytes& out) {
  if (to) {
    RlpAppendString(to->bytes(), out);
  } else {
    out.push_back(0x80);
  }
}

// r and s as RLP integers: big-endian without leading zero bytes.
std::span<const uint8_t> Minimal32(const std::array<uint8_t, 32>& be) {
  size_t first = 0;
  while (first < be.size() && be[first] == 0) ++first;
  return std::span<const uint8_t>(be).subspan(first);
}

// --- decoding helpers -------------------------------------------------------

absl::StatusOr<uint64_t> U64(const RlpItem& item, std::string_view name) {
  auto v = RlpToUint64(item, "field '" + std::string(name) + "'");
  return v;
}

absl::StatusOr<Uint256> U256(const RlpItem& item, std::string_view name) {
  return RlpToUint256(item, "field '" + std::string(name) + "'");
}

absl::StatusOr<const Bytes*> ByteString(const RlpItem& item, std::string_view name) {
  if (item.is_list()) return FieldError(name, "expected a byte string, got a list");
  return &item.bytes();
}

absl::StatusOr<std::optional<Address>> OptionalAddress(const RlpItem& item, std::string_view name) {
  ASSIGN_OR_RETURN(const Bytes* b, ByteString(item, name));
  if (b->empty()) return std::optional<Address>();
  if (b->size() != Address::kSize) {
    return FieldError(name, "address must be 20 bytes, got " + std::to_string(b->size()));
  }
  return std::optional<Address>(Address::FromBytes(std::span<const uint8_t, 20>(b->data(), 20)));
}

absl::StatusOr<std::array<uint8_t, 32>> Word32(const RlpItem& item, std::string_view name) {
  ASSIGN_OR_RETURN(const Bytes* b, ByteString(item, name));
  if (b->size() != 32) return FieldError(name, "must be 32 bytes, got " + std::to_string(b->size()));
  std::array<uint8_t, 32> out;
  std::copy(b->begin(), b->end(), out.begin());
  return out;
}

absl::StatusOr<AccessList> DecodeAccessList(const RlpItem& item) {
  if (!item.is_list()) return FieldError("accessList", "expected a list");
  AccessList out;
  out.reserve(item.items().size());
  for (size_t i = 0; i < item.items().size(); ++i) {
    const RlpItem& entry = item.items()[i];
    std::string where = "accessList[" + std::to_string(i) + "]";
    if (!entry.is_list() || entry.items().size() != 2) {
      return FieldError(where, "must be a list [address, storageKeys]");
    }
    ASSIGN_OR_RETURN(std::optional<Address> addr, OptionalAddress(entry.items()[0], where + ".address"));
    if (!addr) return FieldError(where + ".address", "address must be 20 bytes, got 0");
    AccessListEntry e;
    e.address = *addr;
    const RlpItem& keys = entry.items()[1];
    if (!keys.is_list()) return FieldError(where + ".storageKeys", "expected a list");
    e.storage_keys.reserve(keys.items().size());
    for (size_t k = 0; k < keys.items().size(); ++k) {
      ASSIGN_OR_RETURN(StorageKey key,
                       Word32(keys.items()[k], where + ".storageKeys[" + std::to_string(k) + "]"));
      e.storage_keys.push_back(key);
    }
    out.push_back(std::move(e));
  }
  return out;
}

size_t UnsignedFieldCount(TxType type) {
  switch (type) {
    case TxType::kLegacy: return 6;
    case TxType::kAccessList: return 8;
    case TxType::kDynamicFee: return 9;
    case TxType::kBlob: return 11;
  }
  return 0;
}

// Reads the unsigned fields of `type` from items[0 .. UnsignedFieldCount).
absl::StatusOr<TransactionFields> DecodeFields(TxType type, const std::vector<RlpItem>& items) {
  TransactionFields f;
  f.type = type;
  size_t i = 0;
  if (type != TxType::kLegacy) {
    ASSIGN_OR_RETURN(uint64_t chain_id, U64(items[i++], "chainId"));
    f.chain_id = chain_id;
  }
  ASSIGN_OR_RETURN(f.nonce, U64(items[i++], "nonce"));
  if (type == TxType::kLegacy || type == TxType::kAccessList) {
    ASSIGN_OR_RETURN(f.gas_price, U256(items[i++], "gasPrice"));
  } else {
    ASSIGN_OR_RETURN(f.max_priority_fee_per_gas, U256(items[i++], "maxPriorityFeePerGas"));
    ASSIGN_OR_RETURN(f.max_fee_per_gas, U256(items[i++], "maxFeePerGas"));
  }
  ASSIGN_OR_RETURN(f.gas_limit, U64(items[i++], "gasLimit"));
  ASSIGN_OR_RETURN(f.to, OptionalAddress(items[i++], "to"));
  ASSIGN_OR_RETURN(f.value, U256(items[i++], "value"));
  ASSIGN_OR_RETURN(const Bytes* data, ByteString(items[i++], "data"));
  f.data = *data;
  if (type != TxType::kLegacy) {
    ASSIGN_OR_RETURN(f.access_list, DecodeAccessList(items[i++]));
  }
  if (type == TxType::kBlob) {
    ASSIGN_OR_RETURN(f.max_fee_per_blob_gas, U256(items[i++], "maxFeePerBlobGas"));
    const RlpItem& hashes = items[i++];
    if (!hashes.is_list()) return FieldError("blobVersionedHashes", "expected a list");
    for (size_t k = 0; k < hashes.items().size(); ++k) {
      ASSIGN_OR_RETURN(crypto::Hash256 h,
                       Word32(hashes.items()[k], "blobVersionedHashes[" + std::to_string(k) + "]"));
      f.blob_versioned_hashes.push_back(h);
    }
  }
  return f;
}

// Splits `encoded` into its type and top-level RLP list.
struct Envelope {
  TxType type;
  RlpItem list;
};

absl::StatusOr<Envelope> DecodeEnvelope(std::span<const uint8_t> encoded, const RlpLimits& limits) {
  if (encoded.empty()) return absl::InvalidArgumentError("transaction: empty input");
  if (encoded.size() > limits.max_input_size) {
    return absl::InvalidArgumentError("transaction: " + std::to_string(encoded.size()) +
                                      " bytes exceeds the limit of " + std::to_string(limits.max_input_size));
  }
  uint8_t first = encoded[0];
  Envelope env{TxType::kLegacy, RlpItem()};
  std::span<const uint8_t> body = encoded;
  if (first >= 0xc0) {
    env.type = TxType::kLegacy;
  } else if (first >= 1 && first <= 3) {
    env.type = static_cast<TxType>(first);
    body = encoded.subspan(1);
  } else if (first <= 0x7f) {
    return absl::InvalidArgumentError("transaction: unsupported transaction type 0x" +
                                      HexEncode(encoded.subspan(0, 1)) +
                                      " (supported: legacy, 0x01, 0x02, 0x03)");
  } else {
    return absl::InvalidArgumentError(
        "transaction: not a transaction (starts with neither a type byte nor an RLP list)");
  }
  auto item = RlpDecode(body, limits);
  if (!item.ok()) return absl::InvalidArgumentError("transaction: " + std::string(item.status().message()));
  if (!item->is_list()) return absl::InvalidArgumentError("transaction: payload is not an RLP list");
  env.list = *std::move(item);
  return env;
}

absl::StatusOr<std::array<uint8_t, 32>> SignatureScalar(const RlpItem& item, std::string_view name) {
  ASSIGN_OR_RETURN(Uint256 v, U256(item, name));
  return v.ToBigEndian();
}

}  // namespace

std::string_view TxTypeName(TxType type) {
  switch (type) {
    case TxType::kLegacy: return "legacy";
    case TxType::kAccessList: return "eip2930";
    case TxType::kDynamicFee: return "eip1559";
    case TxType::kBlob: return "eip4844";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------
// Transaction

absl::StatusOr<Transaction> Transaction::Create(TransactionFields f, const ParseOptions& options) {
  const bool typed = f.type != TxType::kLegacy;
  const bool dynamic = f.type == TxType::kDynamicFee || f.type == TxType::kBlob;
  switch (f.type) {
    case TxType::kLegacy:
    case TxType::kAccessList:
    case TxType::kDynamicFee:
    case TxType::kBlob:
      break;
    default:
      return FieldError("type", "unsupported transaction type " + std::to_string(static_cast<int>(f.type)));
  }
  if (!f.chain_id) {
    if (typed) return FieldError("chainId", "required for a typed transaction");
    if (!options.allow_pre_eip155) {
      return FieldError("chainId",
                        "missing: a legacy transaction without a chain id (pre-EIP-155) is valid on every "
                        "chain and can be replayed; refused unless explicitly allowed");
    }
  } else if (*f.chain_id == 0) {
    return FieldError("chainId", "must not be 0");
  } else if (*f.chain_id > kMaxChainId) {
    return FieldError("chainId", "too large (maximum " + std::to_string(kMaxChainId) + ")");
  }
  if (dynamic) {
    if (!f.gas_price.IsZero()) {
      return FieldError("gasPrice", std::string("not allowed in an ") + std::string(TxTypeName(f.type)) +
                                        " transaction (use maxFeePerGas)");
    }
    if (f.max_priority_fee_per_gas > f.max_fee_per_gas) {
      return FieldError("maxPriorityFeePerGas", "exceeds maxFeePerGas (" +
                                                    f.max_priority_fee_per_gas.ToDecimal() + " > " +
                                                    f.max_fee_per_gas.ToDecimal() + ")");
    }
  } else {
    if (!f.max_fee_per_gas.IsZero()) return FieldError("maxFeePerGas", "only allowed in EIP-1559 transactions");
    if (!f.max_priority_fee_per_gas.IsZero()) {
      return FieldError("maxPriorityFeePerGas", "only allowed in EIP-1559 transactions");
    }
  }
  if (!typed && !f.access_list.empty()) {
    return FieldError("accessList", "not allowed in a legacy transaction");
  }
  if (f.type == TxType::kBlob) {
    if (!f.to) return FieldError("to", "a blob transaction cannot create a contract");
    for (size_t i = 0; i < f.blob_versioned_hashes.size(); ++i) {
      if (f.blob_versioned_hashes[i][0] != 0x01) {
        return FieldError("blobVersionedHashes[" + std::to_string(i) + "]",
                          "unknown version byte (must be 0x01, KZG)");
      }
    }
  } else {
    if (!f.max_fee_per_blob_gas.IsZero()) {
      return FieldError("maxFeePerBlobGas", "only allowed in blob transactions");
    }
    if (!f.blob_versioned_hashes.empty()) {
      return FieldError("blobVersionedHashes", "only allowed in blob transactions");
    }
  }
  Transaction tx(std::move(f));
  // Bounds the whole object (data, access list) like a decoded one; the
  // slack covers the type byte and the EIP-155 suffix.
  size_t size = RlpListSize(tx.FieldsPayloadSize()) + 1 + 16;
  if (size > options.limits.max_input_size) {
    return absl::InvalidArgumentError("transaction: encoded size " + std::to_string(size) +
                                      " bytes exceeds the limit of " +
                                      std::to_string(options.limits.max_input_size));
  }
  return tx;
}

size_t Transaction::FieldsPayloadSize() const {
  const TransactionFields& f = fields_;
  size_t n = 0;
  if (f.type != TxType::kLegacy) n += RlpUintSize(*f.chain_id);
  n += RlpUintSize(f.nonce);
  if (f.type == TxType::kLegacy || f.type == TxType::kAccessList) {
    n += RlpUintSize(f.gas_price);
  } else {
    n += RlpUintSize(f.max_priority_fee_per_gas) + RlpUintSize(f.max_fee_per_gas);
  }
  n += RlpUintSize(f.gas_limit) + ToSize(f.to) + RlpUintSize(f.value) + RlpStringSize(f.data);
  if (f.type != TxType::kLegacy) n += RlpListSize(AccessListPayloadSize(f.access_list));
  if (f.type == TxType::kBlob) {
    n += RlpUintSize(f.max_fee_per_blob_gas) + RlpListSize(33 * f.blob_versioned_hashes.size());
  }
  return n;
}

void Transaction::AppendFields(Bytes& out) const {
  const TransactionFields& f = fields_;
  if (f.type != TxType::kLegacy) RlpAppendUint(*f.chain_id, out);
  RlpAppendUint(f.nonce, out);
  if (f.type == TxType::kLegacy || f.type == TxType::kAccessList) {
    RlpAppendUint(f.gas_price, out);
  } else {
    RlpAppendUint(f.max_priority_fee_per_gas, out);
    RlpAppendUint(f.max_fee_per_gas, out);
  }
  RlpAppendUint(f.gas_limit, out);
  AppendTo(f.to, out);
  RlpAppendUint(f.value, out);
  RlpAppendString(f.data, out);
  if (f.type != TxType::kLegacy) AppendAccessList(f.access_list, out);
  if (f.type == TxType::kBlob) {
    RlpAppendUint(f.max_fee_per_blob_gas, out);
    RlpAppendListHeader(33 * f.blob_versioned_hashes.size(), out);
    for (const crypto::Hash256& h : f.blob_versioned_hashes) RlpAppendString(h, out);
  }
}

Bytes Transaction::EncodeUnsigned() const {
  size_t payload = FieldsPayloadSize();
  const bool eip155 = type() == TxType::kLegacy && fields_.chain_id.has_value();
  if (eip155) payload += RlpUintSize(*fields_.chain_id) + 2;  // [chainId, 0, 0]
  Bytes out;
  out.reserve(1 + RlpListSize(payload));
  if (type() != TxType::kLegacy) out.push_back(static_cast<uint8_t>(type()));
  RlpAppendListHeader(payload, out);
  AppendFields(out);
  if (eip155) {
    RlpAppendUint(*fields_.chain_id, out);
    out.push_back(0x80);
    out.push_back(0x80);
  }
  return out;
}

crypto::Hash256 Transaction::SigningHash() const { return crypto::Keccak256(EncodeUnsigned()); }

absl::StatusOr<Transaction> Transaction::ParseUnsigned(std::span<const uint8_t> encoded,
                                                       const ParseOptions& options) {
  ASSIGN_OR_RETURN(Envelope env, DecodeEnvelope(encoded, options.limits));
  const std::vector<RlpItem>& items = env.list.items();
  const size_t n = UnsignedFieldCount(env.type);
  if (env.type == TxType::kLegacy) {
    if (items.size() != 6 && items.size() != 9) {
      return absl::InvalidArgumentError("transaction: an unsigned legacy transaction has 6 or 9 fields, got " +
                                        std::to_string(items.size()));
    }
  } else if (items.size() != n) {
    return absl::InvalidArgumentError("transaction: an unsigned " + std::string(TxTypeName(env.type)) +
                                      " transaction has " + std::to_string(n) + " fields, got " +
                                      std::to_string(items.size()));
  }
  ASSIGN_OR_RETURN(TransactionFields f, DecodeFields(env.type, items));
  if (env.type == TxType::kLegacy && items.size() == 9) {
    ASSIGN_OR_RETURN(uint64_t chain_id, U64(items[6], "chainId"));
    if (chain_id == 0) return FieldError("chainId", "must not be 0");
    for (size_t i = 7; i < 9; ++i) {
      if (!items[i].is_bytes() || !items[i].bytes().empty()) {
        return absl::InvalidArgumentError("transaction: EIP-155 signing form must end with [chainId, 0, 0]");
      }
    }
    f.chain_id = chain_id;
  }
  return Create(std::move(f), options);
}

const Uint256& Transaction::FeeCapPerGas() const {
  return (type() == TxType::kLegacy || type() == TxType::kAccessList) ? fields_.gas_price
                                                                       : fields_.max_fee_per_gas;
}

absl::StatusOr<Uint256> Transaction::MaxCost() const {
  auto gas = Uint256(fields_.gas_limit).Mul(FeeCapPerGas());
  if (!gas.ok()) return absl::OutOfRangeError("gas_limit * fee cap does not fit 256 bits");
  auto total = gas->Add(fields_.value);
  if (!total.ok()) return absl::OutOfRangeError("value + gas cost does not fit 256 bits");
  return total;
}

// ---------------------------------------------------------------------------
// SignedTransaction

absl::StatusOr<SignedTransaction> SignedTransaction::Create(Transaction tx, const crypto::RecoverableSignature& sig) {
  RETURN_IF_ERROR(CheckSignatureRanges(sig));
  return SignedTransaction(std::move(tx), sig);
}

absl::StatusOr<SignedTransaction> SignedTransaction::Parse(std::span<const uint8_t> encoded,
                                                           const ParseOptions& options) {
  ASSIGN_OR_RETURN(Envelope env, DecodeEnvelope(encoded, options.limits));
  const std::vector<RlpItem>& items = env.list.items();
  const size_t n = UnsignedFieldCount(env.type);
  if (items.size() != n + 3) {
    return absl::InvalidArgumentError("transaction: a signed " + std::string(TxTypeName(env.type)) +
                                      " transaction has " + std::to_string(n + 3) + " fields, got " +
                                      std::to_string(items.size()));
  }
  ASSIGN_OR_RETURN(TransactionFields f, DecodeFields(env.type, items));
  crypto::RecoverableSignature sig;
  if (env.type == TxType::kLegacy) {
    ASSIGN_OR_RETURN(uint64_t v, U64(items[n], "v"));
    if (v == 27 || v == 28) {
      sig.recovery_id = static_cast<uint8_t>(v - 27);
    } else if (v >= 37) {
      f.chain_id = (v - 35) / 2;
      sig.recovery_id = static_cast<uint8_t>((v - 35) % 2);
    } else {
      return FieldError("v", "must be 27, 28 or chainId * 2 + 35/36, got " + std::to_string(v));
    }
  } else {
    ASSIGN_OR_RETURN(uint64_t y, U64(items[n], "yParity"));
    if (y > 1) return FieldError("yParity", "must be 0 or 1, got " + std::to_string(y));
    sig.recovery_id = static_cast<uint8_t>(y);
  }
  ASSIGN_OR_RETURN(sig.r, SignatureScalar(items[n + 1], "r"));
  ASSIGN_OR_RETURN(sig.s, SignatureScalar(items[n + 2], "s"));
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Create(std::move(f), options));
  auto signed_tx = Create(std::move(tx), sig);
  if (!signed_tx.ok()) return absl::InvalidArgumentError("transaction: " + std::string(signed_tx.status().message()));
  return signed_tx;
}

uint64_t SignedTransaction::v() const {
  if (tx_.type() != TxType::kLegacy) return sig_.recovery_id;
  if (!tx_.chain_id()) return 27u + sig_.recovery_id;
  return *tx_.chain_id() * 2 + 35 + sig_.recovery_id;
}

Bytes SignedTransaction::Encode() const {
  std::span<const uint8_t> r = Minimal32(sig_.r);
  std::span<const uint8_t> s = Minimal32(sig_.s);
  size_t payload = tx_.FieldsPayloadSize() + RlpUintSize(v()) + RlpStringSize(r) + RlpStringSize(s);
  Bytes out;
  out.reserve(1 + RlpListSize(payload));
  if (tx_.type() != TxType::kLegacy) out.push_back(static_cast<uint8_t>(tx_.type()));
  RlpAppendListHeader(payload, out);
  tx_.AppendFields(out);
  RlpAppendUint(v(), out);
  RlpAppendString(r, out);
  RlpAppendString(s, out);
  return out;
}

crypto::Hash256 SignedTransaction::Hash() const { return crypto::Keccak256(Encode()); }

absl::StatusOr<Address> SignedTransaction::RecoverSender() const {
  ASSIGN_OR_RETURN(crypto::Secp256k1PublicKey pub, crypto::RecoverPublicKey(tx_.SigningHash(), sig_));
  return Address::FromPublicKey(pub);
}

bool operator==(const SignedTransaction& a, const SignedTransaction& b) {
  return a.tx_ == b.tx_ && a.sig_.r == b.sig_.r && a.sig_.s == b.sig_.s &&
         a.sig_.recovery_id == b.sig_.recovery_id;
}

absl::StatusOr<SignedTransaction> Sign(const Transaction& tx, const SecretBytes& private_key) {
  if (tx.type() == TxType::kBlob) {
    return absl::FailedPreconditionError(
        "signing blob (EIP-4844, type 3) transactions is not supported; they can only be decoded");
  }
  ASSIGN_OR_RETURN(crypto::RecoverableSignature sig, crypto::SignRecoverable(private_key, tx.SigningHash()));
  return SignedTransaction::Create(tx, sig);
}

}  // namespace sigil::eth
