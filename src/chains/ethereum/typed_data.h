// TypedData: an EIP-712 (eth_signTypedData_v4) document, parsed and validated.
//
// A validated value type: built only by Parse / FromJson, so a live TypedData
// always has a well-formed type set, a domain and a message that encode
// without error, and its domain separator and digest are already computed.
// Copies are cheap (the parsed representation is shared and immutable); safe
// to share between threads.
//
// What Parse accepts (anything else is InvalidArgument, with a message that
// names the offending path, e.g. "message.to.wallet: not an address"):
//  * A JSON object {types, primaryType, domain, message}, or a JSON string
//    whose content is such an object (eth_signTypedData_v4 allows both);
//    message may be absent (or {}) only when primaryType is EIP712Domain.
//    No other top-level keys; duplicate object keys anywhere are refused
//    (two parsers could otherwise disagree on what is signed).
//  * types: struct name -> [{name, type}]. Struct and field names are
//    identifiers ([A-Za-z_$][A-Za-z0-9_$]*); field names are unique per
//    struct. Field types are atomic (address, bool, string, bytes, bytes1..32,
//    uint8..uint256 and int8..int256 in steps of 8), a defined struct, or an
//    array of either: T[] or T[n] (n >= 1), nested to any depth up to the
//    limit (T[2][] is a dynamic array of T[2]). The aliases "uint"/"int" are
//    refused: ethers hashes them as uint256/int256, other libraries verbatim.
//    A struct may refer to itself only through a dynamic array (a value of
//    any other self-containing type would be infinite).
//  * EIP712Domain: if present in types, its fields must be a subset of
//    name:string, version:string, chainId:uint256, verifyingContract:address,
//    salt:bytes32, and the domain object must have exactly those keys. If
//    absent, it is derived from the domain object's non-null keys in that
//    canonical order (as ethers' TypedDataEncoder.hashDomain does).
//  * primaryType: a defined struct, or EIP712Domain for a domain-only
//    document (only the domain is signed; any other message is refused).
//  * Values: a struct value is an object with exactly the struct's fields (a
//    missing or an extra field is an error; extra data would be displayed but
//    not signed). Integers are JSON integers, decimal strings or 0x-hex
//    strings, optionally negative ("-5", "-0x05") for intN; range-checked
//    against the type; negatives are encoded in two's complement. bytes is a
//    0x-hex string of any even length; bytesN is a 0x-hex string of exactly N
//    bytes (ethers v6 rule), right-padded with zeros to 32. bool is a JSON
//    boolean only. string is any JSON string (UTF-8). address is 0x + 40 hex
//    digits with a valid EIP-55 checksum if mixed case. Arrays are JSON arrays;
//    a fixed array must have exactly n elements.
//
// Encoding follows EIP-712: encodeType lists the struct followed by every
// struct it references (transitively) sorted by name; hashStruct(s) =
// keccak256(typeHash || encodeData(s)); digest = keccak256(0x19 0x01 ||
// domainSeparator || hashStruct(primaryType, message)), or keccak256(0x19
// 0x01 || domainSeparator) for a domain-only document (as viem, ethers'
// hashDomain and eth-sig-util compute it; eth-sig-util and MetaMask agree
// only when types.EIP712Domain is declared, since without it they hash an
// empty domain type where this derives one from the domain's keys).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "base/hex.h"
#include "base/secret.h"
#include "base/uint256.h"
#include "chains/ethereum/address.h"
#include "crypto/hash.h"

namespace sigil::eth {

// Bounds on untrusted documents. Every one is checked before the work it
// limits; the encoding work is linear in the document size.
struct TypedDataLimits {
  size_t max_document_bytes = 512 * 1024;
  size_t max_json_depth = 48;
  size_t max_struct_types = 128;
  size_t max_fields_per_struct = 128;
  size_t max_array_dimensions = 8;
  uint64_t max_fixed_array_length = 4096;
  size_t max_identifier_length = 128;
};

// The EIP712Domain fields that policy checks. Absent fields are nullopt.
struct Eip712Domain {
  std::optional<std::string> name;
  std::optional<std::string> version;
  std::optional<Uint256> chain_id;
  std::optional<Address> verifying_contract;
  std::optional<std::array<uint8_t, 32>> salt;

  // The chain id when it is present and fits in 64 bits.
  std::optional<uint64_t> chain_id_u64() const;
};

class TypedData {
 public:
  struct Field {
    std::string name;
    std::string type;
  };

  // Parses JSON text (an object, or a JSON string holding one). The size and
  // nesting bounds are checked before the text is parsed.
  static absl::StatusOr<TypedData> Parse(std::string_view json_text, const TypedDataLimits& limits = {});
  // The same from an already-parsed JSON value (an object or a string holding
  // one); the depth bound is checked on the value.
  static absl::StatusOr<TypedData> FromJson(const nlohmann::json& document, const TypedDataLimits& limits = {});

  const std::string& primary_type() const;
  const Eip712Domain& domain() const;
  // The message in canonical form: addresses EIP-55 checksummed, integers as
  // decimal strings, bytes as lower-case 0x-hex; structure as in the input.
  const nlohmann::json& message() const;
  // The canonical domain object (same conventions as message()).
  const nlohmann::json& domain_json() const;
  // Fields of a defined struct (including EIP712Domain), or nullptr.
  const std::vector<Field>* FindStruct(std::string_view name) const;
  // The whole document in canonical form, EIP712Domain included; Parse of
  // its dump yields the same digest.
  nlohmann::json ToJson() const;

  // encodeType(name), e.g. "Mail(Person from,Person to,string contents)Person(string name,address wallet)".
  // NotFound if `name` is not a defined struct.
  absl::StatusOr<std::string> EncodeType(std::string_view name) const;
  absl::StatusOr<crypto::Hash256> TypeHash(std::string_view name) const;
  // typeHash || encodeData(value) for struct `name` (the EIP-712 "encodeData"
  // with the type hash prefixed, as ethers' TypedDataEncoder.encodeData).
  absl::StatusOr<Bytes> EncodeData(std::string_view name, const nlohmann::json& value) const;
  absl::StatusOr<crypto::Hash256> HashStruct(std::string_view name, const nlohmann::json& value) const;

  const crypto::Hash256& DomainSeparator() const;
  // hashStruct(primaryType, message); all zero for a domain-only document
  // (primaryType EIP712Domain), whose message is not part of the digest.
  const crypto::Hash256& MessageHash() const;
  // keccak256(0x1901 || DomainSeparator() || MessageHash()): what is signed;
  // keccak256(0x1901 || DomainSeparator()) for a domain-only document.
  const crypto::Hash256& Digest() const;

 private:
  struct Rep;
  explicit TypedData(std::shared_ptr<const Rep> rep) : rep_(std::move(rep)) {}
  std::shared_ptr<const Rep> rep_;
};

// Signs Digest() with secp256k1 (RFC 6979, low-s). Returns r || s || v with
// v = 27 + recovery id, the form eth_signTypedData_v4 returns.
// InvalidArgument if `private_key` is not a valid secp256k1 key.
absl::StatusOr<std::array<uint8_t, 65>> SignTypedData(const SecretBytes& private_key, const TypedData& data);
// Parses `json_text` with default limits, then signs it.
absl::StatusOr<std::array<uint8_t, 65>> SignTypedData(const SecretBytes& private_key, std::string_view json_text);

}  // namespace sigil::eth
