#include "chains/ethereum/typed_data.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/json_bounds.h"
#include "base/json_duplicates.h"
#include "base/status.h"
#include "chains/ethereum/abi_type.h"
#include "crypto/secp256k1.h"

namespace sigil::eth {
namespace {

using json = nlohmann::json;
using crypto::Hash256;
using Word = std::array<uint8_t, 32>;

constexpr std::string_view kDomainType = "EIP712Domain";

// A parsed field type. Arrays nest: T[2][] is a dynamic array whose element
// is a T[2].
struct TypeRef {
  enum class Kind { kAddress, kBool, kString, kBytes, kFixedBytes, kUint, kInt, kStruct, kArray };
  Kind kind = Kind::kBool;
  unsigned size = 0;                        // bits for kUint/kInt, bytes for kFixedBytes
  std::string struct_name;                  // kStruct
  std::shared_ptr<const TypeRef> element;   // kArray
  uint64_t length = 0;                      // kArray; 0 = dynamic
};

struct StructDef {
  std::vector<TypedData::Field> fields;
  std::vector<TypeRef> types;  // parallel to fields
};

// Everything the encoder needs; shared by the TypedData's representation.
struct Schema {
  std::map<std::string, StructDef, std::less<>> structs;
  std::map<std::string, std::string, std::less<>> encoded_types;
  std::map<std::string, Hash256, std::less<>> type_hashes;
};

std::string Quote(std::string_view s) {
  // Names in messages come from the document; keep messages short.
  constexpr size_t kMax = 64;
  std::string out = "\"";
  out += s.size() > kMax ? std::string(s.substr(0, kMax)) + "..." : std::string(s);
  out += "\"";
  return out;
}

absl::Status PathError(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(path + ": " + what);
}

bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$'; };
  if (!alpha(s[0])) return false;
  return std::all_of(s.begin() + 1, s.end(), [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

// A positive decimal without leading zeros, at most `max`.
std::optional<uint64_t> ParseCount(std::string_view digits, uint64_t max) {
  if (digits.empty() || digits.size() > 19 || digits[0] == '0') return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

// EIP-712's atomic types: the ABI's elementary types without function and
// fixed-point numbers.
std::optional<TypeRef> ParseAtomic(std::string_view base) {
  using Abi = AbiElementaryType::Kind;
  auto abi = ParseAbiElementaryType(base);
  if (!abi.ok()) return std::nullopt;
  TypeRef t;
  t.size = abi->size;
  switch (abi->kind) {
    case Abi::kAddress: t.kind = TypeRef::Kind::kAddress; break;
    case Abi::kBool: t.kind = TypeRef::Kind::kBool; break;
    case Abi::kString: t.kind = TypeRef::Kind::kString; break;
    case Abi::kBytes: t.kind = TypeRef::Kind::kBytes; break;
    case Abi::kFixedBytes: t.kind = TypeRef::Kind::kFixedBytes; break;
    case Abi::kUint: t.kind = TypeRef::Kind::kUint; break;
    case Abi::kInt: t.kind = TypeRef::Kind::kInt; break;
    case Abi::kFunction:
    case Abi::kFixed:
    case Abi::kUfixed: return std::nullopt;
  }
  return t;
}

// Names that read like an atomic type (or a Solidity alias of one) cannot
// name a struct: "uint", "bytes0", "int7" would make type strings ambiguous.
bool ReservedStructName(std::string_view name) {
  if (name == "address" || name == "bool" || name == "string" || name == "bytes" || name == "function" ||
      name == "fixed" || name == "ufixed") {
    return true;
  }
  for (std::string_view prefix : {"bytes", "uint", "int"}) {
    if (name.starts_with(prefix)) {
      std::string_view rest = name.substr(prefix.size());
      if (std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; })) return true;
    }
  }
  return false;
}

// Parses a field type string against the set of declared struct names.
absl::StatusOr<TypeRef> ParseFieldType(std::string_view type, const std::set<std::string, std::less<>>& struct_names,
                                       const TypedDataLimits& limits, const std::string& path) {
  std::vector<uint64_t> dims;  // 0 = dynamic
  std::string_view base = type;
  while (!base.empty() && base.back() == ']') {
    size_t open = base.rfind('[');
    if (open == std::string_view::npos) return PathError(path, "malformed array type " + Quote(type));
    std::string_view inside = base.substr(open + 1, base.size() - open - 2);
    if (inside.empty()) {
      dims.push_back(0);
    } else {
      auto n = ParseCount(inside, limits.max_fixed_array_length);
      if (!n) {
        return PathError(path, "array length in " + Quote(type) + " must be 1.." +
                                   std::to_string(limits.max_fixed_array_length) + " without leading zeros");
      }
      dims.push_back(*n);
    }
    if (dims.size() > limits.max_array_dimensions) {
      return PathError(path, "type " + Quote(type) + " has more than " + std::to_string(limits.max_array_dimensions) +
                                 " array dimensions");
    }
    base = base.substr(0, open);
  }
  // `dims` was collected from the right, i.e. outermost first; the loop
  // below wraps the innermost dimension first.
  TypeRef t;
  if (auto atomic = ParseAtomic(base)) {
    t = *atomic;
  } else if (struct_names.count(base) != 0) {
    t.kind = TypeRef::Kind::kStruct;
    t.struct_name = std::string(base);
  } else if (base == "uint" || base == "int") {
    return PathError(path, "type " + Quote(type) + " uses the alias " + std::string(base) + "; write " +
                               std::string(base) + "256");
  } else {
    return PathError(path, "unknown type " + Quote(base));
  }
  for (auto it = dims.rbegin(); it != dims.rend(); ++it) {
    TypeRef arr;
    arr.kind = TypeRef::Kind::kArray;
    arr.length = *it;
    arr.element = std::make_shared<const TypeRef>(std::move(t));
    t = std::move(arr);
  }
  return t;
}

// The struct named at the bottom of a (possibly array) type, and whether a
// value of the outer type must contain one (no dynamic dimension on the way).
const TypeRef* BaseOf(const TypeRef& t, bool* mandatory) {
  const TypeRef* p = &t;
  *mandatory = true;
  while (p->kind == TypeRef::Kind::kArray) {
    if (p->length == 0) *mandatory = false;
    p = p->element.get();
  }
  return p;
}

std::string FormatStruct(const std::string& name, const StructDef& def) {
  std::string out = name + "(";
  for (size_t i = 0; i < def.fields.size(); ++i) {
    if (i) out += ",";
    out += def.fields[i].type + " " + def.fields[i].name;
  }
  return out + ")";
}

// Refuses a struct that contains itself through direct fields or fixed-size
// arrays only: no finite value of it exists.
absl::Status CheckNoMandatoryCycle(const Schema& s) {
  enum Color { kWhite, kGrey, kBlack };
  std::map<std::string_view, Color> color;
  std::function<absl::Status(const std::string&)> visit = [&](const std::string& name) -> absl::Status {
    color[name] = kGrey;
    for (const TypeRef& t : s.structs.find(name)->second.types) {
      bool mandatory;
      const TypeRef* base = BaseOf(t, &mandatory);
      if (base->kind != TypeRef::Kind::kStruct || !mandatory) continue;
      Color c = color[base->struct_name];
      if (c == kGrey) {
        return absl::InvalidArgumentError("types." + name + ": struct " + Quote(base->struct_name) +
                                          " contains itself (recursion is allowed only through a dynamic array T[])");
      }
      if (c == kWhite) RETURN_IF_ERROR(visit(base->struct_name));
    }
    color[name] = kBlack;
    return absl::OkStatus();
  };
  for (const auto& [name, def] : s.structs) {
    if (color[name] == kWhite) RETURN_IF_ERROR(visit(name));
  }
  return absl::OkStatus();
}

void ComputeTypeHashes(Schema& s) {
  std::map<std::string, std::string, std::less<>> formatted;
  for (const auto& [name, def] : s.structs) formatted[name] = FormatStruct(name, def);
  for (const auto& [name, def] : s.structs) {
    // Every struct reachable from `name`, excluding itself, sorted by name
    // (std::set orders by bytes; names are ASCII identifiers).
    std::set<std::string, std::less<>> deps;
    std::vector<const std::string*> stack = {&name};
    while (!stack.empty()) {
      const std::string* cur = stack.back();
      stack.pop_back();
      for (const TypeRef& t : s.structs.find(*cur)->second.types) {
        bool mandatory;
        const TypeRef* base = BaseOf(t, &mandatory);
        if (base->kind != TypeRef::Kind::kStruct || base->struct_name == name) continue;
        auto [it, inserted] = deps.insert(base->struct_name);
        if (inserted) stack.push_back(&*it);
      }
    }
    std::string encoded = formatted[name];
    for (const std::string& d : deps) encoded += formatted[d];
    s.type_hashes[name] = crypto::Keccak256(AsBytes(encoded));
    s.encoded_types[name] = std::move(encoded);
  }
}

// --- values ---------------------------------------------------------------

absl::StatusOr<std::pair<bool, Uint256>> ReadInteger(const json& v, const std::string& path) {
  if (v.is_number_unsigned()) return std::make_pair(false, Uint256(v.get<uint64_t>()));
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (i >= 0) return std::make_pair(false, Uint256(static_cast<uint64_t>(i)));
    return std::make_pair(true, Uint256(uint64_t{0} - static_cast<uint64_t>(i)));
  }
  if (v.is_number_float()) {
    return PathError(path, "not an integer (a JSON number with a fraction, an exponent, or beyond 64 bits; "
                           "pass large integers as decimal strings)");
  }
  if (!v.is_string()) return PathError(path, "not an integer (expected a number, decimal string or 0x-hex string)");
  std::string_view text = v.get_ref<const std::string&>();
  bool negative = false;
  if (!text.empty() && text[0] == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  auto parsed = Uint256::ParseInteger(text);
  if (!parsed.ok()) {
    return PathError(path, "not an integer (" + std::string(parsed.status().message()) + ")");
  }
  return std::make_pair(negative, *parsed);
}

absl::StatusOr<Word> EncodeInteger(const TypeRef& t, const json& v, const std::string& path, json* canon) {
  ASSIGN_OR_RETURN(auto parsed, ReadInteger(v, path));
  auto [negative, magnitude] = parsed;
  const std::string type_name = (t.kind == TypeRef::Kind::kInt ? "int" : "uint") + std::to_string(t.size);
  if (magnitude.IsZero()) negative = false;
  Uint256 word_value = magnitude;
  if (t.kind == TypeRef::Kind::kUint) {
    if (negative) return PathError(path, "negative value for " + type_name);
    if (magnitude.BitLength() > t.size) return PathError(path, "value out of range for " + type_name);
  } else {
    // -2^(n-1) <= v <= 2^(n-1) - 1.
    const unsigned bits = magnitude.BitLength();
    bool in_range = bits <= t.size - 1;
    if (negative && bits == t.size) {
      // The one extra negative value, -2^(n-1): magnitude is a power of two
      // exactly when magnitude - 1 has fewer bits.
      auto minus_one = magnitude.Sub(Uint256(1));
      in_range = minus_one.ok() && minus_one->BitLength() < bits;
    }
    if (!in_range) return PathError(path, "value out of range for " + type_name);
    if (negative) {
      // Two's complement over 256 bits: 2^256 - m = (2^256 - 1) - m + 1.
      auto w = Uint256::Max().Sub(magnitude);
      if (w.ok()) w = w->Add(Uint256(1));
      if (!w.ok()) return PathError(path, "value out of range for " + type_name);
      word_value = *w;
    }
  }
  if (canon) *canon = (negative ? "-" : "") + magnitude.ToDecimal();
  return word_value.ToBigEndian();
}

absl::StatusOr<Bytes> ReadHexBytes(const json& v, const std::string& path) {
  if (!v.is_string()) return PathError(path, "not a 0x-hex byte string");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) {
    return PathError(path, "not a 0x-hex byte string (missing 0x prefix)");
  }
  auto bytes = HexDecode(s);
  if (!bytes.ok()) return PathError(path, "not a 0x-hex byte string (" + std::string(bytes.status().message()) + ")");
  return std::move(*bytes);
}

absl::StatusOr<Word> EncodeValue(const Schema& s, const TypeRef& t, const json& v, const std::string& path, json* canon);

// Appends typeHash(name) || enc(field_1) || ... to `out`.
absl::Status EncodeStructInto(const Schema& s, std::string_view name, const json& v, const std::string& path,
                              Bytes& out, json* canon) {
  auto def_it = s.structs.find(name);
  if (def_it == s.structs.end()) return absl::NotFoundError("unknown struct type " + Quote(name));
  const StructDef& def = def_it->second;
  if (!v.is_object()) return PathError(path, "expected an object for struct " + std::string(name));
  for (const auto& item : v.items()) {
    bool known = std::any_of(def.fields.begin(), def.fields.end(),
                             [&](const TypedData::Field& f) { return f.name == item.key(); });
    if (!known) return PathError(path, "unexpected field " + Quote(item.key()) + " (not in struct " + std::string(name) + ")");
  }
  if (canon) *canon = json::object();
  const Hash256& type_hash = s.type_hashes.find(name)->second;
  out.insert(out.end(), type_hash.begin(), type_hash.end());
  for (size_t i = 0; i < def.fields.size(); ++i) {
    const std::string& field = def.fields[i].name;
    const std::string field_path = path + "." + field;
    auto it = v.find(field);
    if (it == v.end()) return PathError(field_path, "missing");
    ASSIGN_OR_RETURN(Word w, EncodeValue(s, def.types[i], *it, field_path, canon ? &(*canon)[field] : nullptr));
    out.insert(out.end(), w.begin(), w.end());
  }
  return absl::OkStatus();
}

absl::StatusOr<Word> EncodeValue(const Schema& s, const TypeRef& t, const json& v, const std::string& path, json* canon) {
  Word w{};
  switch (t.kind) {
    case TypeRef::Kind::kStruct: {
      Bytes data;
      RETURN_IF_ERROR(EncodeStructInto(s, t.struct_name, v, path, data, canon));
      return crypto::Keccak256(data);
    }
    case TypeRef::Kind::kArray: {
      if (!v.is_array()) return PathError(path, "expected an array");
      if (t.length != 0 && v.size() != t.length) {
        return PathError(path, "expected " + std::to_string(t.length) + " elements, got " + std::to_string(v.size()));
      }
      if (canon) *canon = json::array();
      crypto::Keccak256Hasher hasher;
      for (size_t i = 0; i < v.size(); ++i) {
        json* element_canon = nullptr;
        if (canon) {
          canon->push_back(nullptr);
          element_canon = &canon->back();
        }
        ASSIGN_OR_RETURN(Word e, EncodeValue(s, *t.element, v[i], path + "[" + std::to_string(i) + "]", element_canon));
        hasher.Update(e);
      }
      return hasher.Final();
    }
    case TypeRef::Kind::kAddress: {
      if (!v.is_string()) return PathError(path, "not an address");
      auto a = Address::Parse(v.get_ref<const std::string&>());
      if (!a.ok()) return PathError(path, "not an address (" + std::string(a.status().message()) + ")");
      std::copy(a->bytes().begin(), a->bytes().end(), w.begin() + 12);
      if (canon) *canon = a->ToChecksumHex();
      return w;
    }
    case TypeRef::Kind::kBool:
      if (!v.is_boolean()) return PathError(path, "not a boolean (expected true or false)");
      w[31] = v.get<bool>() ? 1 : 0;
      if (canon) *canon = v.get<bool>();
      return w;
    case TypeRef::Kind::kString: {
      if (!v.is_string()) return PathError(path, "not a string");
      const std::string& str = v.get_ref<const std::string&>();
      if (canon) *canon = str;
      return crypto::Keccak256(AsBytes(str));
    }
    case TypeRef::Kind::kBytes: {
      ASSIGN_OR_RETURN(Bytes b, ReadHexBytes(v, path));
      if (canon) *canon = HexEncode0x(b);
      return crypto::Keccak256(b);
    }
    case TypeRef::Kind::kFixedBytes: {
      ASSIGN_OR_RETURN(Bytes b, ReadHexBytes(v, path));
      if (b.size() != t.size) {
        return PathError(path, "expected exactly " + std::to_string(t.size) + " bytes for bytes" +
                                   std::to_string(t.size) + ", got " + std::to_string(b.size()));
      }
      std::copy(b.begin(), b.end(), w.begin());
      if (canon) *canon = HexEncode0x(b);
      return w;
    }
    case TypeRef::Kind::kUint:
    case TypeRef::Kind::kInt:
      return EncodeInteger(t, v, path, canon);
  }
  return absl::InternalError("unhandled EIP-712 type kind");
}

// --- document parsing -----------------------------------------------------

// Parses JSON text after the size/depth guard; refuses duplicate keys.
absl::StatusOr<json> ParseStrictJson(std::string_view text, const TypedDataLimits& limits) {
  RETURN_IF_ERROR(CheckJsonBounds(text, JsonBounds{limits.max_document_bytes, limits.max_json_depth}));
  JsonParsed<json> parsed = ParseNotingDuplicates(text);
  if (parsed.doc.is_discarded()) return absl::InvalidArgumentError("typed data is not valid JSON");
  if (!parsed.duplicates.empty()) {
    return absl::InvalidArgumentError("typed data has a duplicate key " + Quote(parsed.duplicates.front().key));
  }
  return std::move(parsed.doc);
}

absl::Status CheckDepth(const json& v, size_t depth, size_t max_depth) {
  if (!v.is_structured()) return absl::OkStatus();
  if (depth + 1 > max_depth) {
    return absl::InvalidArgumentError("typed data nests deeper than " + std::to_string(max_depth) + " levels");
  }
  for (const auto& child : v) RETURN_IF_ERROR(CheckDepth(child, depth + 1, max_depth));
  return absl::OkStatus();
}

struct DomainFieldSpec {
  std::string_view name;
  std::string_view type;
};
constexpr DomainFieldSpec kDomainFields[] = {
    {"name", "string"}, {"version", "string"}, {"chainId", "uint256"}, {"verifyingContract", "address"}, {"salt", "bytes32"}};

const DomainFieldSpec* FindDomainField(std::string_view name) {
  for (const auto& f : kDomainFields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

absl::Status ParseTypes(const json& types, const TypedDataLimits& limits, Schema& s) {
  if (!types.is_object()) return absl::InvalidArgumentError("types: expected an object of struct definitions");
  if (types.size() > limits.max_struct_types) {
    return absl::InvalidArgumentError("types: more than " + std::to_string(limits.max_struct_types) + " struct types");
  }
  std::set<std::string, std::less<>> names;
  for (const auto& item : types.items()) {
    const std::string& name = item.key();
    if (!IsIdentifier(name) || name.size() > limits.max_identifier_length) {
      return absl::InvalidArgumentError("types: invalid struct name " + Quote(name));
    }
    if (ReservedStructName(name)) {
      return absl::InvalidArgumentError("types: struct name " + Quote(name) + " is reserved for an atomic type");
    }
    names.insert(name);
  }
  for (const auto& item : types.items()) {
    const std::string& name = item.key();
    const std::string path = "types." + name;
    const json& fields = item.value();
    if (!fields.is_array()) return PathError(path, "expected an array of {name, type} fields");
    if (fields.size() > limits.max_fields_per_struct) {
      return PathError(path, "more than " + std::to_string(limits.max_fields_per_struct) + " fields");
    }
    StructDef def;
    std::set<std::string> field_names;
    for (size_t i = 0; i < fields.size(); ++i) {
      const json& f = fields[i];
      const std::string fpath = path + "[" + std::to_string(i) + "]";
      if (!f.is_object() || f.size() != 2 || !f.contains("name") || !f.contains("type") || !f["name"].is_string() ||
          !f["type"].is_string()) {
        return PathError(fpath, "expected {\"name\": string, \"type\": string}");
      }
      TypedData::Field field{f["name"].get<std::string>(), f["type"].get<std::string>()};
      if (!IsIdentifier(field.name) || field.name.size() > limits.max_identifier_length) {
        return PathError(fpath, "invalid field name " + Quote(field.name));
      }
      if (!field_names.insert(field.name).second) return PathError(fpath, "duplicate field name " + Quote(field.name));
      ASSIGN_OR_RETURN(TypeRef t, ParseFieldType(field.type, names, limits, path + "." + field.name));
      def.fields.push_back(std::move(field));
      def.types.push_back(std::move(t));
    }
    s.structs.emplace(name, std::move(def));
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<uint64_t> Eip712Domain::chain_id_u64() const {
  if (!chain_id || !chain_id->FitsUint64()) return std::nullopt;
  return chain_id->Low64();
}

struct TypedData::Rep {
  Schema schema;
  std::string primary_type;
  Eip712Domain domain;
  json domain_json;
  json message;
  Hash256 domain_separator{};
  Hash256 message_hash{};
  Hash256 digest{};
};

absl::StatusOr<TypedData> TypedData::Parse(std::string_view json_text, const TypedDataLimits& limits) {
  ASSIGN_OR_RETURN(json doc, ParseStrictJson(json_text, limits));
  return FromJson(doc, limits);
}

absl::StatusOr<TypedData> TypedData::FromJson(const json& value, const TypedDataLimits& limits) {
  json unwrapped;
  if (value.is_string()) {
    // eth_signTypedData_v4 callers may pass the document as a JSON string
    // (one level of wrapping, no more).
    ASSIGN_OR_RETURN(unwrapped, ParseStrictJson(value.get_ref<const std::string&>(), limits));
    if (!unwrapped.is_object()) {
      return absl::InvalidArgumentError("typed data must be a JSON object (or a JSON string holding one)");
    }
  }
  const json& document = value.is_string() ? unwrapped : value;
  if (!document.is_object()) return absl::InvalidArgumentError("typed data must be a JSON object");
  RETURN_IF_ERROR(CheckDepth(document, 0, limits.max_json_depth));
  for (const auto& item : document.items()) {
    const std::string& k = item.key();
    if (k != "types" && k != "primaryType" && k != "domain" && k != "message") {
      return absl::InvalidArgumentError("typed data has an unexpected top-level key " + Quote(k) +
                                        " (expected types, primaryType, domain, message)");
    }
  }
  for (const char* k : {"types", "primaryType", "domain"}) {
    if (!document.contains(k)) return absl::InvalidArgumentError(std::string(k) + ": missing");
  }

  auto rep = std::make_shared<Rep>();
  Schema& s = rep->schema;
  RETURN_IF_ERROR(ParseTypes(document["types"], limits, s));

  // The domain: declared, or derived from the domain object's keys.
  const json& domain_in = document["domain"];
  if (!domain_in.is_object()) return absl::InvalidArgumentError("domain: expected an object");
  json domain_value = json::object();
  auto declared = s.structs.find(kDomainType);
  if (declared != s.structs.end()) {
    for (size_t i = 0; i < declared->second.fields.size(); ++i) {
      const TypedData::Field& f = declared->second.fields[i];
      const DomainFieldSpec* spec = FindDomainField(f.name);
      if (spec == nullptr) {
        return absl::InvalidArgumentError("types.EIP712Domain." + f.name +
                                          ": not an EIP-712 domain field (name, version, chainId, "
                                          "verifyingContract, salt)");
      }
      if (f.type != spec->type) {
        return absl::InvalidArgumentError("types.EIP712Domain." + f.name + ": must have type " +
                                          std::string(spec->type) + ", not " + Quote(f.type));
      }
    }
    domain_value = domain_in;
    for (const auto& item : domain_in.items()) {
      if (item.value().is_null()) return PathError("domain." + item.key(), "null (omit the field instead)");
    }
  } else {
    StructDef def;
    for (const auto& item : domain_in.items()) {
      if (!FindDomainField(item.key())) {
        return absl::InvalidArgumentError("domain: unexpected key " + Quote(item.key()) +
                                          " (expected name, version, chainId, verifyingContract, salt)");
      }
    }
    for (const auto& spec : kDomainFields) {
      auto it = domain_in.find(std::string(spec.name));
      if (it == domain_in.end() || it->is_null()) continue;
      def.fields.push_back({std::string(spec.name), std::string(spec.type)});
      def.types.push_back(*ParseAtomic(spec.type));
      domain_value[std::string(spec.name)] = *it;
    }
    if (s.structs.size() + 1 > limits.max_struct_types) {
      return absl::InvalidArgumentError("types: more than " + std::to_string(limits.max_struct_types) +
                                        " struct types");
    }
    s.structs.emplace(std::string(kDomainType), std::move(def));
  }

  RETURN_IF_ERROR(CheckNoMandatoryCycle(s));
  ComputeTypeHashes(s);

  {
    Bytes data;
    RETURN_IF_ERROR(EncodeStructInto(s, kDomainType, domain_value, "domain", data, &rep->domain_json));
    rep->domain_separator = crypto::Keccak256(data);
  }
  const json& dj = rep->domain_json;
  if (auto it = dj.find("name"); it != dj.end()) rep->domain.name = it->get<std::string>();
  if (auto it = dj.find("version"); it != dj.end()) rep->domain.version = it->get<std::string>();
  if (auto it = dj.find("chainId"); it != dj.end()) {
    ASSIGN_OR_RETURN(rep->domain.chain_id, Uint256::ParseDecimal(it->get<std::string>()));
  }
  if (auto it = dj.find("verifyingContract"); it != dj.end()) {
    ASSIGN_OR_RETURN(rep->domain.verifying_contract, Address::Parse(it->get<std::string>()));
  }
  if (auto it = dj.find("salt"); it != dj.end()) {
    ASSIGN_OR_RETURN(Bytes salt, HexDecode(it->get<std::string>()));
    std::array<uint8_t, 32> salt_array{};
    std::copy(salt.begin(), salt.end(), salt_array.begin());
    rep->domain.salt = salt_array;
  }

  const json& primary = document["primaryType"];
  if (!primary.is_string()) return absl::InvalidArgumentError("primaryType: expected a string");
  rep->primary_type = primary.get<std::string>();
  const auto message_in = document.find("message");
  Bytes preimage = {0x19, 0x01};
  preimage.insert(preimage.end(), rep->domain_separator.begin(), rep->domain_separator.end());
  if (rep->primary_type == kDomainType) {
    // A domain-only document: keccak256(0x1901 || domainSeparator), as
    // eth-sig-util, viem and MetaMask compute it. Those libraries ignore the
    // message; here it must be absent or empty, so nothing is shown that is
    // not signed.
    if (message_in != document.end() && !(message_in->is_object() && message_in->empty())) {
      return absl::InvalidArgumentError(
          "message: must be absent or {} when primaryType is EIP712Domain (only the domain is signed)");
    }
    rep->message = json::object();
  } else {
    if (message_in == document.end()) return absl::InvalidArgumentError("message: missing");
    if (s.structs.find(rep->primary_type) == s.structs.end()) {
      return absl::InvalidArgumentError("primaryType: " + Quote(rep->primary_type) + " is not defined in types");
    }
    Bytes data;
    RETURN_IF_ERROR(EncodeStructInto(s, rep->primary_type, *message_in, "message", data, &rep->message));
    rep->message_hash = crypto::Keccak256(data);
    preimage.insert(preimage.end(), rep->message_hash.begin(), rep->message_hash.end());
  }
  rep->digest = crypto::Keccak256(preimage);
  return TypedData(std::move(rep));
}

const std::string& TypedData::primary_type() const { return rep_->primary_type; }
const Eip712Domain& TypedData::domain() const { return rep_->domain; }
const json& TypedData::message() const { return rep_->message; }
const json& TypedData::domain_json() const { return rep_->domain_json; }
const crypto::Hash256& TypedData::DomainSeparator() const { return rep_->domain_separator; }
const crypto::Hash256& TypedData::MessageHash() const { return rep_->message_hash; }
const crypto::Hash256& TypedData::Digest() const { return rep_->digest; }

const std::vector<TypedData::Field>* TypedData::FindStruct(std::string_view name) const {
  auto it = rep_->schema.structs.find(name);
  return it == rep_->schema.structs.end() ? nullptr : &it->second.fields;
}

json TypedData::ToJson() const {
  json types = json::object();
  for (const auto& [name, def] : rep_->schema.structs) {
    json fields = json::array();
    for (const Field& f : def.fields) fields.push_back({{"name", f.name}, {"type", f.type}});
    types[name] = std::move(fields);
  }
  return json{{"types", std::move(types)},
              {"primaryType", rep_->primary_type},
              {"domain", rep_->domain_json},
              {"message", rep_->message}};
}

absl::StatusOr<std::string> TypedData::EncodeType(std::string_view name) const {
  auto it = rep_->schema.encoded_types.find(name);
  if (it == rep_->schema.encoded_types.end()) return absl::NotFoundError("unknown struct type " + Quote(name));
  return it->second;
}

absl::StatusOr<crypto::Hash256> TypedData::TypeHash(std::string_view name) const {
  auto it = rep_->schema.type_hashes.find(name);
  if (it == rep_->schema.type_hashes.end()) return absl::NotFoundError("unknown struct type " + Quote(name));
  return it->second;
}

absl::StatusOr<Bytes> TypedData::EncodeData(std::string_view name, const json& value) const {
  Bytes out;
  RETURN_IF_ERROR(EncodeStructInto(rep_->schema, name, value, "value", out, nullptr));
  return out;
}

absl::StatusOr<crypto::Hash256> TypedData::HashStruct(std::string_view name, const json& value) const {
  ASSIGN_OR_RETURN(Bytes data, EncodeData(name, value));
  return crypto::Keccak256(data);
}

absl::StatusOr<std::array<uint8_t, 65>> SignTypedData(const SecretBytes& private_key, const TypedData& data) {
  ASSIGN_OR_RETURN(crypto::RecoverableSignature sig, crypto::SignRecoverable(private_key, data.Digest()));
  std::array<uint8_t, 65> out = sig.ToCompact65();
  out[64] = static_cast<uint8_t>(27 + sig.recovery_id);
  return out;
}

absl::StatusOr<std::array<uint8_t, 65>> SignTypedData(const SecretBytes& private_key, std::string_view json_text) {
  ASSIGN_OR_RETURN(TypedData data, TypedData::Parse(json_text));
  return SignTypedData(private_key, data);
}

}  // namespace sigil::eth
