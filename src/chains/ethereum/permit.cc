#include "chains/ethereum/permit.h"

#include <initializer_list>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "chains/ethereum/erc20.h"

namespace sigil::eth {
namespace {

using json = nlohmann::json;
using FieldList = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// True if struct `name` is defined with exactly these fields, in order.
bool StructIs(const TypedData& data, std::string_view name, FieldList fields) {
  const auto* def = data.FindStruct(name);
  if (def == nullptr || def->size() != fields.size()) return false;
  size_t i = 0;
  for (const auto& [fname, ftype] : fields) {
    if ((*def)[i].name != fname || (*def)[i].type != ftype) return false;
    ++i;
  }
  return true;
}

// The first `fields.size()` fields match, and exactly one more field follows.
bool StructStartsWithPlusOne(const TypedData& data, std::string_view name, FieldList fields) {
  const auto* def = data.FindStruct(name);
  if (def == nullptr || def->size() != fields.size() + 1) return false;
  size_t i = 0;
  for (const auto& [fname, ftype] : fields) {
    if ((*def)[i].name != fname || (*def)[i].type != ftype) return false;
    ++i;
  }
  return true;
}

// The canonical message holds uints as decimal strings and addresses in
// checksum form, both already validated by TypedData::Parse.
Uint256 U(const json& v) { return *Uint256::ParseDecimal(v.get<std::string>()); }
Address A(const json& v) { return *Address::Parse(v.get<std::string>()); }

// Permit2 keeps allowances as uint160 (see the "unlimited" rule in permit.h).
constexpr unsigned kPermit2AmountBits = 160;

const FieldList kPermitDetails = {
    {"token", "address"}, {"amount", "uint160"}, {"expiration", "uint48"}, {"nonce", "uint48"}};
const FieldList kTokenPermissions = {{"token", "address"}, {"amount", "uint256"}};

PermitAllowance Permit2Allowance(const json& v, bool with_details) {
  PermitAllowance a;
  a.token = A(v["token"]);
  a.amount = U(v["amount"]);
  a.unlimited = IsUnlimitedAmount(a.amount, kPermit2AmountBits);
  if (with_details) {
    a.expiration = U(v["expiration"]);
    a.nonce = U(v["nonce"]);
  }
  return a;
}

}  // namespace

std::string_view PermitKindName(PermitKind kind) {
  switch (kind) {
    case PermitKind::kEip2612: return "eip2612";
    case PermitKind::kDaiPermit: return "dai_permit";
    case PermitKind::kPermit2Single: return "permit2_single";
    case PermitKind::kPermit2Batch: return "permit2_batch";
    case PermitKind::kPermit2TransferFrom: return "permit2_transfer_from";
    case PermitKind::kPermit2BatchTransferFrom: return "permit2_batch_transfer_from";
    case PermitKind::kPermit2WitnessTransferFrom: return "permit2_witness_transfer_from";
    case PermitKind::kPermit2BatchWitnessTransferFrom: return "permit2_batch_witness_transfer_from";
    case PermitKind::kCount: break;
  }
  return "unknown";
}

std::string_view PermitKindFamily(PermitKind kind) {
  switch (kind) {
    case PermitKind::kEip2612: return "permit";
    case PermitKind::kDaiPermit: return "dai_permit";
    case PermitKind::kPermit2Single:
    case PermitKind::kPermit2Batch:
    case PermitKind::kPermit2TransferFrom:
    case PermitKind::kPermit2BatchTransferFrom:
    case PermitKind::kPermit2WitnessTransferFrom:
    case PermitKind::kPermit2BatchWitnessTransferFrom: return "permit2";
    case PermitKind::kCount: break;
  }
  return "unknown";
}

std::optional<PermitFacts> RecognizePermit(const TypedData& data) {
  const std::string& primary = data.primary_type();
  const json& m = data.message();
  PermitFacts f;

  if (primary == "Permit") {
    if (StructIs(data, "Permit",
                 {{"owner", "address"}, {"spender", "address"}, {"value", "uint256"}, {"nonce", "uint256"},
                  {"deadline", "uint256"}})) {
      f.kind = PermitKind::kEip2612;
      f.owner = A(m["owner"]);
      f.spender = A(m["spender"]);
      f.nonce = U(m["nonce"]);
      f.deadline = U(m["deadline"]);
      PermitAllowance a;
      a.token = data.domain().verifying_contract;
      a.amount = U(m["value"]);
      a.unlimited = IsUnlimitedApproval(a.amount);
      f.allowances.push_back(a);
    } else if (StructIs(data, "Permit",
                        {{"holder", "address"}, {"spender", "address"}, {"nonce", "uint256"}, {"expiry", "uint256"},
                         {"allowed", "bool"}})) {
      f.kind = PermitKind::kDaiPermit;
      f.owner = A(m["holder"]);
      f.spender = A(m["spender"]);
      f.nonce = U(m["nonce"]);
      f.deadline = U(m["expiry"]);
      PermitAllowance a;
      a.token = data.domain().verifying_contract;
      a.unlimited = m["allowed"].get<bool>();
      a.amount = a.unlimited ? Uint256::Max() : Uint256();
      f.allowances.push_back(a);
    } else {
      return std::nullopt;
    }
  } else if (primary == "PermitSingle" || primary == "PermitBatch") {
    const bool single = primary == "PermitSingle";
    if (!StructIs(data, "PermitDetails", kPermitDetails) ||
        !StructIs(data, primary,
                  {{"details", single ? "PermitDetails" : "PermitDetails[]"}, {"spender", "address"},
                   {"sigDeadline", "uint256"}})) {
      return std::nullopt;
    }
    f.kind = single ? PermitKind::kPermit2Single : PermitKind::kPermit2Batch;
    f.spender = A(m["spender"]);
    f.deadline = U(m["sigDeadline"]);
    if (single) {
      f.allowances.push_back(Permit2Allowance(m["details"], true));
    } else {
      for (const json& d : m["details"]) f.allowances.push_back(Permit2Allowance(d, true));
    }
  } else if (primary == "PermitTransferFrom" || primary == "PermitBatchTransferFrom" ||
             primary == "PermitWitnessTransferFrom" || primary == "PermitBatchWitnessTransferFrom") {
    const bool batch = primary.find("Batch") != std::string::npos;
    const bool witness = primary.find("Witness") != std::string::npos;
    const FieldList fields = {{"permitted", batch ? "TokenPermissions[]" : "TokenPermissions"},
                              {"spender", "address"},
                              {"nonce", "uint256"},
                              {"deadline", "uint256"}};
    if (!StructIs(data, "TokenPermissions", kTokenPermissions)) return std::nullopt;
    if (witness ? !StructStartsWithPlusOne(data, primary, fields) : !StructIs(data, primary, fields)) {
      return std::nullopt;
    }
    if (witness) {
      f.kind = batch ? PermitKind::kPermit2BatchWitnessTransferFrom : PermitKind::kPermit2WitnessTransferFrom;
    } else {
      f.kind = batch ? PermitKind::kPermit2BatchTransferFrom : PermitKind::kPermit2TransferFrom;
    }
    f.spender = A(m["spender"]);
    f.nonce = U(m["nonce"]);
    f.deadline = U(m["deadline"]);
    if (batch) {
      for (const json& p : m["permitted"]) f.allowances.push_back(Permit2Allowance(p, false));
    } else {
      f.allowances.push_back(Permit2Allowance(m["permitted"], false));
    }
  } else {
    return std::nullopt;
  }
  for (const PermitAllowance& a : f.allowances) f.unlimited = f.unlimited || a.unlimited;
  return f;
}

}  // namespace sigil::eth
