#include "chains/ethereum/transaction_request.h"

#include <string>
#include <utility>

#include "base/json_bounds.h"
#include "base/status.h"
#include "nlohmann/json.hpp"

namespace sigil::eth {
namespace {

using nlohmann::json;

// Largest integer a JSON number may carry here: beyond 2^53 - 1 a JavaScript
// client has already lost precision, so the value cannot be trusted.
constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;

absl::Status FieldError(std::string_view name, std::string_view what) {
  return absl::InvalidArgumentError("field '" + std::string(name) + "': " + std::string(what));
}

std::string Message(const absl::Status& st) { return std::string(st.message()); }

// A key that is missing or null.
const json* Find(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::StatusOr<Uint256> Quantity(const json& v, std::string_view name) {
  if (v.is_number_float()) {
    return FieldError(name, "floating-point numbers are not accepted; use a decimal or 0x-hex string");
  }
  if (v.is_number_unsigned() || v.is_number_integer()) {
    if (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0) {
      return FieldError(name, "must not be negative");
    }
    uint64_t n = v.get<uint64_t>();
    if (n > kMaxSafeInteger) {
      return FieldError(name, "JSON number above 2^53-1 may have lost precision; use a decimal or 0x-hex string");
    }
    return Uint256(n);
  }
  if (!v.is_string()) return FieldError(name, "expected a 0x-hex or decimal string");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.empty()) return FieldError(name, "empty string");
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    auto r = Uint256::ParseHex(s);
    if (!r.ok()) return FieldError(name, Message(r.status()));
    return r;
  }
  if (s[0] == '-') return FieldError(name, "must not be negative");
  auto r = Uint256::ParseDecimal(s);
  if (!r.ok()) return FieldError(name, Message(r.status()));
  return r;
}

absl::StatusOr<uint64_t> Quantity64(const json& v, std::string_view name) {
  ASSIGN_OR_RETURN(Uint256 n, Quantity(v, name));
  if (!n.FitsUint64()) return FieldError(name, "does not fit 64 bits (maximum 2^64-1)");
  return n.Low64();
}

absl::StatusOr<Bytes> HexBytes(const json& v, std::string_view name) {
  if (!v.is_string()) return FieldError(name, "expected a 0x-prefixed hex string");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) {
    return FieldError(name, "expected a 0x-prefixed hex string");
  }
  auto b = HexDecode(s);
  if (!b.ok()) return FieldError(name, Message(b.status()));
  return b;
}

absl::StatusOr<Address> AddressField(const json& v, std::string_view name) {
  if (!v.is_string()) return FieldError(name, "expected an address string");
  auto a = Address::Parse(v.get_ref<const std::string&>());
  if (!a.ok()) return FieldError(name, Message(a.status()));
  return a;
}

absl::StatusOr<AccessList> AccessListField(const json& v) {
  if (!v.is_array()) return FieldError("accessList", "expected an array of {address, storageKeys}");
  AccessList out;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string where = "accessList[" + std::to_string(i) + "]";
    const json& e = v[i];
    if (!e.is_object()) return FieldError(where, "expected an object {address, storageKeys}");
    const json* addr = Find(e, "address");
    if (!addr) return FieldError(where + ".address", "missing");
    AccessListEntry entry;
    ASSIGN_OR_RETURN(entry.address, AddressField(*addr, where + ".address"));
    if (const json* keys = Find(e, "storageKeys")) {
      if (!keys->is_array()) return FieldError(where + ".storageKeys", "expected an array");
      for (size_t k = 0; k < keys->size(); ++k) {
        std::string kw = where + ".storageKeys[" + std::to_string(k) + "]";
        ASSIGN_OR_RETURN(Bytes key, HexBytes((*keys)[k], kw));
        if (key.size() != 32) return FieldError(kw, "must be 32 bytes, got " + std::to_string(key.size()));
        StorageKey sk;
        std::copy(key.begin(), key.end(), sk.begin());
        entry.storage_keys.push_back(sk);
      }
    }
    out.push_back(std::move(entry));
  }
  return out;
}

std::string U64Hex(uint64_t v) { return Uint256(v).ToHexQuantity(); }

json AccessListJson(const AccessList& list) {
  json out = json::array();
  for (const AccessListEntry& e : list) {
    json keys = json::array();
    for (const StorageKey& k : e.storage_keys) keys.push_back(HexEncode0x(k));
    out.push_back(json{{"address", e.address.ToChecksumHex()}, {"storageKeys", std::move(keys)}});
  }
  return out;
}

}  // namespace

TxType TransactionRequest::InferType() const {
  if (type) return *type;
  if (max_fee_per_gas || max_priority_fee_per_gas) return TxType::kDynamicFee;
  if (gas_price) return access_list ? TxType::kAccessList : TxType::kLegacy;
  return TxType::kDynamicFee;
}

absl::StatusOr<TransactionRequest> ParseTransactionRequest(const json& object) {
  if (!object.is_object()) return absl::InvalidArgumentError("transaction must be a JSON object");
  for (const char* blob_key : {"maxFeePerBlobGas", "blobVersionedHashes", "blobs", "sidecars"}) {
    if (Find(object, blob_key)) {
      return FieldError(blob_key, "blob (EIP-4844) transactions cannot be signed");
    }
  }
  TransactionRequest r;
  if (const json* v = Find(object, "type")) {
    ASSIGN_OR_RETURN(Uint256 t, Quantity(*v, "type"));
    if (t == Uint256(3)) return FieldError("type", "blob (EIP-4844) transactions cannot be signed");
    if (t > Uint256(2)) {
      return FieldError("type", "unsupported transaction type " + t.ToHexQuantity() +
                                    " (supported: 0x0 legacy, 0x1 EIP-2930, 0x2 EIP-1559)");
    }
    r.type = static_cast<TxType>(t.Low64());
  }
  if (const json* v = Find(object, "from")) {
    ASSIGN_OR_RETURN(r.from, AddressField(*v, "from"));
  }
  if (const json* v = Find(object, "to")) {
    ASSIGN_OR_RETURN(r.to, AddressField(*v, "to"));
  }
  if (const json* v = Find(object, "nonce")) {
    ASSIGN_OR_RETURN(r.nonce, Quantity64(*v, "nonce"));
  }
  const json* gas = Find(object, "gas");
  const json* gas_limit = Find(object, "gasLimit");
  if (gas) {
    ASSIGN_OR_RETURN(r.gas_limit, Quantity64(*gas, "gas"));
  }
  if (gas_limit) {
    ASSIGN_OR_RETURN(uint64_t g, Quantity64(*gas_limit, "gasLimit"));
    if (r.gas_limit && *r.gas_limit != g) return FieldError("gasLimit", "differs from 'gas'");
    r.gas_limit = g;
  }
  if (const json* v = Find(object, "gasPrice")) {
    ASSIGN_OR_RETURN(r.gas_price, Quantity(*v, "gasPrice"));
  }
  if (const json* v = Find(object, "maxFeePerGas")) {
    ASSIGN_OR_RETURN(r.max_fee_per_gas, Quantity(*v, "maxFeePerGas"));
  }
  if (const json* v = Find(object, "maxPriorityFeePerGas")) {
    ASSIGN_OR_RETURN(r.max_priority_fee_per_gas, Quantity(*v, "maxPriorityFeePerGas"));
  }
  if (const json* v = Find(object, "value")) {
    ASSIGN_OR_RETURN(r.value, Quantity(*v, "value"));
  }
  const json* data = Find(object, "data");
  const json* input = Find(object, "input");
  if (data) {
    ASSIGN_OR_RETURN(r.data, HexBytes(*data, "data"));
  }
  if (input) {
    ASSIGN_OR_RETURN(Bytes in, HexBytes(*input, "input"));
    if (r.data && *r.data != in) return FieldError("input", "differs from 'data'");
    r.data = std::move(in);
  }
  if (const json* v = Find(object, "chainId")) {
    ASSIGN_OR_RETURN(Uint256 c, Quantity(*v, "chainId"));
    if (c.IsZero()) return FieldError("chainId", "must not be 0");
    if (c > Uint256(kMaxChainId)) return FieldError("chainId", "too large (maximum " + std::to_string(kMaxChainId) + ")");
    r.chain_id = c.Low64();
  }
  if (const json* v = Find(object, "accessList")) {
    ASSIGN_OR_RETURN(r.access_list, AccessListField(*v));
  }

  // Consistency of the type with the fee fields.
  const bool has_1559 = r.max_fee_per_gas || r.max_priority_fee_per_gas;
  if (r.gas_price && has_1559) {
    return FieldError("gasPrice", "cannot be combined with maxFeePerGas/maxPriorityFeePerGas");
  }
  if (r.type) {
    if (*r.type == TxType::kDynamicFee && r.gas_price) {
      return FieldError("gasPrice", "not allowed with type 0x2 (use maxFeePerGas)");
    }
    if (*r.type != TxType::kDynamicFee && has_1559) {
      return FieldError(r.max_fee_per_gas ? "maxFeePerGas" : "maxPriorityFeePerGas",
                        "only allowed with type 0x2 (EIP-1559)");
    }
    if (*r.type == TxType::kLegacy && r.access_list) {
      return FieldError("accessList", "not allowed with type 0x0 (legacy)");
    }
  }
  return r;
}

absl::StatusOr<TransactionRequest> ParseTransactionRequest(std::string_view json_text) {
  RETURN_IF_ERROR(CheckJsonBounds(json_text));
  json object = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return absl::InvalidArgumentError("transaction: not valid JSON");
  return ParseTransactionRequest(object);
}

absl::StatusOr<Transaction> TransactionFromRequest(const TransactionRequest& r, const ParseOptions& options) {
  TransactionFields f;
  f.type = r.InferType();
  if (!r.nonce) return FieldError("nonce", "missing");
  f.nonce = *r.nonce;
  if (!r.gas_limit) return FieldError("gas", "missing");
  f.gas_limit = *r.gas_limit;
  f.chain_id = r.chain_id;
  if (!f.chain_id && !(f.type == TxType::kLegacy && options.allow_pre_eip155)) {
    return FieldError("chainId", "missing");
  }
  switch (f.type) {
    case TxType::kLegacy:
    case TxType::kAccessList:
      if (!r.gas_price) return FieldError("gasPrice", "missing");
      f.gas_price = *r.gas_price;
      break;
    case TxType::kDynamicFee:
      if (!r.max_fee_per_gas) return FieldError("maxFeePerGas", "missing");
      if (!r.max_priority_fee_per_gas) return FieldError("maxPriorityFeePerGas", "missing");
      f.max_fee_per_gas = *r.max_fee_per_gas;
      f.max_priority_fee_per_gas = *r.max_priority_fee_per_gas;
      break;
    case TxType::kBlob:
      return FieldError("type", "blob (EIP-4844) transactions cannot be signed");
  }
  f.to = r.to;
  if (r.value) f.value = *r.value;
  if (r.data) f.data = *r.data;
  if (r.access_list) f.access_list = *r.access_list;
  return Transaction::Create(std::move(f), options);
}

absl::StatusOr<Transaction> TransactionFromJson(const json& object, const ParseOptions& options) {
  ASSIGN_OR_RETURN(TransactionRequest r, ParseTransactionRequest(object));
  return TransactionFromRequest(r, options);
}

absl::StatusOr<Transaction> TransactionFromJson(std::string_view json_text, const ParseOptions& options) {
  ASSIGN_OR_RETURN(TransactionRequest r, ParseTransactionRequest(json_text));
  return TransactionFromRequest(r, options);
}

json ToJson(const Transaction& tx) {
  json out = json::object();
  out["type"] = U64Hex(static_cast<uint64_t>(tx.type()));
  if (tx.chain_id()) out["chainId"] = U64Hex(*tx.chain_id());
  out["nonce"] = U64Hex(tx.nonce());
  out["gas"] = U64Hex(tx.gas_limit());
  if (tx.type() == TxType::kLegacy || tx.type() == TxType::kAccessList) {
    out["gasPrice"] = tx.gas_price().ToHexQuantity();
  } else {
    out["maxFeePerGas"] = tx.max_fee_per_gas().ToHexQuantity();
    out["maxPriorityFeePerGas"] = tx.max_priority_fee_per_gas().ToHexQuantity();
  }
  out["to"] = tx.to() ? json(tx.to()->ToChecksumHex()) : json(nullptr);
  out["value"] = tx.value().ToHexQuantity();
  out["input"] = HexEncode0x(tx.data());
  if (tx.type() != TxType::kLegacy) out["accessList"] = AccessListJson(tx.access_list());
  if (tx.type() == TxType::kBlob) {
    out["maxFeePerBlobGas"] = tx.max_fee_per_blob_gas().ToHexQuantity();
    json hashes = json::array();
    for (const crypto::Hash256& h : tx.blob_versioned_hashes()) hashes.push_back(HexEncode0x(h));
    out["blobVersionedHashes"] = std::move(hashes);
  }
  return out;
}

json ToJson(const SignedTransaction& signed_tx, const std::optional<Address>& from) {
  json out = ToJson(signed_tx.tx());
  out["hash"] = HexEncode0x(signed_tx.Hash());
  out["v"] = U64Hex(signed_tx.v());
  out["r"] = Uint256::FromBigEndian(signed_tx.signature().r)->ToHexQuantity();
  out["s"] = Uint256::FromBigEndian(signed_tx.signature().s)->ToHexQuantity();
  if (signed_tx.tx().type() != TxType::kLegacy) out["yParity"] = U64Hex(signed_tx.y_parity());
  if (from) out["from"] = from->ToChecksumHex();
  return out;
}

}  // namespace sigil::eth
