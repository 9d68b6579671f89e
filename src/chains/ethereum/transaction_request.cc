#include "chains/ethereum/transaction_request.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "simdjson.h"

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

// The field parsers below read a JSON value through a small view, so one set
// of checks serves both entry points: an nlohmann object (the RPC layer has
// parsed the request already) and raw text, parsed with simdjson on the hot
// path. A view answers only what the parsers ask.
class NlohmannView {
 public:
  explicit NlohmannView(const json& v) : v_(&v) {}
  bool IsObject() const { return v_->is_object(); }
  bool IsArray() const { return v_->is_array(); }
  bool IsString() const { return v_->is_string(); }
  bool IsFloat() const { return v_->is_number_float(); }
  bool IsInteger() const { return v_->is_number_integer(); }  // signed or unsigned
  bool IsNegative() const { return v_->is_number_integer() && !v_->is_number_unsigned() && v_->get<int64_t>() < 0; }
  uint64_t U64() const { return v_->get<uint64_t>(); }
  std::string_view String() const { return v_->get_ref<const std::string&>(); }
  // The member `key` unless it is missing or null.
  std::optional<NlohmannView> Find(const char* key) const {
    auto it = v_->find(key);
    if (it == v_->end() || it->is_null()) return std::nullopt;
    return NlohmannView(*it);
  }
  std::vector<NlohmannView> Elements() const {
    std::vector<NlohmannView> out;
    for (const json& e : *v_) out.emplace_back(e);
    return out;
  }

 private:
  const json* v_;
};

class SimdjsonView {
 public:
  explicit SimdjsonView(simdjson::dom::element v) : v_(v) {}
  bool IsObject() const { return v_.is_object(); }
  bool IsArray() const { return v_.is_array(); }
  bool IsString() const { return v_.is_string(); }
  bool IsFloat() const { return v_.type() == simdjson::dom::element_type::DOUBLE; }
  bool IsInteger() const { return v_.is_int64() || v_.is_uint64(); }
  bool IsNegative() const { return v_.is_int64() && int64_t(v_.get_int64()) < 0; }
  uint64_t U64() const { return v_.is_uint64() ? uint64_t(v_.get_uint64()) : uint64_t(int64_t(v_.get_int64())); }
  std::string_view String() const { return std::string_view(v_.get_string()); }
  std::optional<SimdjsonView> Find(const char* key) const {
    simdjson::dom::element e;
    if (v_.get_object().at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    return SimdjsonView(e);
  }
  std::vector<SimdjsonView> Elements() const {
    std::vector<SimdjsonView> out;
    for (simdjson::dom::element e : v_.get_array()) out.emplace_back(e);
    return out;
  }

 private:
  simdjson::dom::element v_;
};

template <typename View>
absl::StatusOr<Uint256> Quantity(const View& v, std::string_view name) {
  if (v.IsFloat()) {
    return FieldError(name, "floating-point numbers are not accepted; use a decimal or 0x-hex string");
  }
  if (v.IsInteger()) {
    if (v.IsNegative()) return FieldError(name, "must not be negative");
    uint64_t n = v.U64();
    if (n > kMaxSafeInteger) {
      return FieldError(name, "JSON number above 2^53-1 may have lost precision; use a decimal or 0x-hex string");
    }
    return Uint256(n);
  }
  if (!v.IsString()) return FieldError(name, "expected a 0x-hex or decimal string");
  std::string_view s = v.String();
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

template <typename View>
absl::StatusOr<uint64_t> Quantity64(const View& v, std::string_view name) {
  ASSIGN_OR_RETURN(Uint256 n, Quantity(v, name));
  if (!n.FitsUint64()) return FieldError(name, "does not fit 64 bits (maximum 2^64-1)");
  return n.Low64();
}

template <typename View>
absl::StatusOr<Bytes> HexBytes(const View& v, std::string_view name) {
  if (!v.IsString()) return FieldError(name, "expected a 0x-prefixed hex string");
  std::string_view s = v.String();
  if (s.size() < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) {
    return FieldError(name, "expected a 0x-prefixed hex string");
  }
  auto b = HexDecode(s);
  if (!b.ok()) return FieldError(name, Message(b.status()));
  return b;
}

template <typename View>
absl::StatusOr<Address> AddressField(const View& v, std::string_view name) {
  if (!v.IsString()) return FieldError(name, "expected an address string");
  auto a = Address::Parse(v.String());
  if (!a.ok()) return FieldError(name, Message(a.status()));
  return a;
}

template <typename View>
absl::StatusOr<AccessList> AccessListField(const View& v) {
  if (!v.IsArray()) return FieldError("accessList", "expected an array of {address, storageKeys}");
  AccessList out;
  size_t i = 0;
  for (const View& e : v.Elements()) {
    std::string where = "accessList[" + std::to_string(i++) + "]";
    if (!e.IsObject()) return FieldError(where, "expected an object {address, storageKeys}");
    auto addr = e.Find("address");
    if (!addr) return FieldError(where + ".address", "missing");
    AccessListEntry entry;
    ASSIGN_OR_RETURN(entry.address, AddressField(*addr, where + ".address"));
    if (auto keys = e.Find("storageKeys")) {
      if (!keys->IsArray()) return FieldError(where + ".storageKeys", "expected an array");
      size_t k = 0;
      for (const View& key_value : keys->Elements()) {
        std::string kw = where + ".storageKeys[" + std::to_string(k++) + "]";
        ASSIGN_OR_RETURN(Bytes key, HexBytes(key_value, kw));
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

template <typename View>
absl::StatusOr<TransactionRequest> ParseRequest(const View& object) {
  if (!object.IsObject()) return absl::InvalidArgumentError("transaction must be a JSON object");
  for (const char* blob_key : {"maxFeePerBlobGas", "blobVersionedHashes", "blobs", "sidecars"}) {
    if (object.Find(blob_key)) {
      return FieldError(blob_key, "blob (EIP-4844) transactions cannot be signed");
    }
  }
  // Signing without it would sign another transaction than the one asked.
  if (object.Find("authorizationList")) {
    return FieldError("authorizationList", "set-code (EIP-7702) transactions cannot be signed");
  }
  TransactionRequest r;
  if (auto v = object.Find("type")) {
    ASSIGN_OR_RETURN(Uint256 t, Quantity(*v, "type"));
    if (t == Uint256(3)) return FieldError("type", "blob (EIP-4844) transactions cannot be signed");
    if (t > Uint256(2)) {
      return FieldError("type", "unsupported transaction type " + t.ToHexQuantity() +
                                    " (supported: 0x0 legacy, 0x1 EIP-2930, 0x2 EIP-1559)");
    }
    r.type = static_cast<TxType>(t.Low64());
  }
  if (auto v = object.Find("from")) {
    ASSIGN_OR_RETURN(r.from, AddressField(*v, "from"));
  }
  if (auto v = object.Find("to")) {
    ASSIGN_OR_RETURN(r.to, AddressField(*v, "to"));
  }
  if (auto v = object.Find("nonce")) {
    ASSIGN_OR_RETURN(r.nonce, Quantity64(*v, "nonce"));
    if (*r.nonce == UINT64_MAX) return FieldError("nonce", "must be below 2^64-1 (EIP-2681)");
  }
  auto gas = object.Find("gas");
  auto gas_limit = object.Find("gasLimit");
  if (gas) {
    ASSIGN_OR_RETURN(r.gas_limit, Quantity64(*gas, "gas"));
  }
  if (gas_limit) {
    ASSIGN_OR_RETURN(uint64_t g, Quantity64(*gas_limit, "gasLimit"));
    if (r.gas_limit && *r.gas_limit != g) return FieldError("gasLimit", "differs from 'gas'");
    r.gas_limit = g;
  }
  if (auto v = object.Find("gasPrice")) {
    ASSIGN_OR_RETURN(r.gas_price, Quantity(*v, "gasPrice"));
  }
  if (auto v = object.Find("maxFeePerGas")) {
    ASSIGN_OR_RETURN(r.max_fee_per_gas, Quantity(*v, "maxFeePerGas"));
  }
  if (auto v = object.Find("maxPriorityFeePerGas")) {
    ASSIGN_OR_RETURN(r.max_priority_fee_per_gas, Quantity(*v, "maxPriorityFeePerGas"));
  }
  if (auto v = object.Find("value")) {
    ASSIGN_OR_RETURN(r.value, Quantity(*v, "value"));
  }
  auto data = object.Find("data");
  auto input = object.Find("input");
  if (data) {
    ASSIGN_OR_RETURN(r.data, HexBytes(*data, "data"));
  }
  if (input) {
    ASSIGN_OR_RETURN(Bytes in, HexBytes(*input, "input"));
    if (r.data && *r.data != in) return FieldError("input", "differs from 'data'");
    r.data = std::move(in);
  }
  if (auto v = object.Find("chainId")) {
    ASSIGN_OR_RETURN(Uint256 c, Quantity(*v, "chainId"));
    if (c.IsZero()) return FieldError("chainId", "must not be 0");
    if (c > Uint256(kMaxChainId)) return FieldError("chainId", "too large (maximum " + std::to_string(kMaxChainId) + ")");
    r.chain_id = c.Low64();
  }
  if (auto v = object.Find("accessList")) {
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

}  // namespace

TxType TransactionRequest::InferType() const {
  if (type) return *type;
  if (max_fee_per_gas || max_priority_fee_per_gas) return TxType::kDynamicFee;
  if (gas_price) return access_list ? TxType::kAccessList : TxType::kLegacy;
  return TxType::kDynamicFee;
}

absl::StatusOr<TransactionRequest> ParseTransactionRequest(const json& object) {
  return ParseRequest(NlohmannView(object));
}

// nlohmann keeps the last of two equal names and simdjson the first; a
// signer must not guess which one the sender meant, at any depth (an
// access-list entry's "address" as much as the top-level "to"). The depth is
// bounded by CheckJsonBounds before this runs.
static absl::Status RefuseRepeatedNames(simdjson::dom::element element, std::string_view where) {
  if (element.is_object()) {
    absl::flat_hash_set<std::string_view> seen;
    for (auto field : element.get_object()) {
      if (!seen.insert(field.key).second) {
        if (where.empty()) return FieldError(field.key, "appears twice");
        return FieldError(where, "repeats the name \"" + std::string(field.key.substr(0, 64)) + "\"");
      }
      RETURN_IF_ERROR(RefuseRepeatedNames(field.value, where.empty() ? field.key : where));
    }
  } else if (element.is_array()) {
    for (simdjson::dom::element item : element.get_array()) RETURN_IF_ERROR(RefuseRepeatedNames(item, where));
  }
  return absl::OkStatus();
}

absl::StatusOr<TransactionRequest> ParseTransactionRequest(std::string_view json_text) {
  RETURN_IF_ERROR(CheckJsonBounds(json_text));
  // One parser per thread: it keeps its buffers between calls, which is most
  // of simdjson's speed. CheckJsonBounds has bounded the size it can grow to.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(json_text.data(), json_text.size()).get(root); error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(std::string("transaction: not valid JSON (") + simdjson::error_message(error) + ")");
  }
  RETURN_IF_ERROR(RefuseRepeatedNames(root, ""));
  return ParseRequest(SimdjsonView(root));
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

json AccessListToJson(const AccessList& list) {
  json out = json::array();
  for (const AccessListEntry& e : list) {
    json keys = json::array();
    for (const StorageKey& k : e.storage_keys) keys.push_back(HexEncode0x(k));
    out.push_back(json{{"address", e.address.ToChecksumHex()}, {"storageKeys", std::move(keys)}});
  }
  return out;
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
  if (tx.type() != TxType::kLegacy) out["accessList"] = AccessListToJson(tx.access_list());
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
