// Facts as JSON, for `sigil policy test` case files, dry runs from the
// command line and logs. The field names are the policy language's:
//
//   {"kind": "eth_tx", "key": "trader", "agent": "bot-1", "chain_id": 1,
//    "from": "0x..", "to": "0x..", "value": "0.1 ether", "nonce": 7,
//    "gas_limit": 21000, "max_fee_per_gas": "30 gwei",
//    "max_priority_fee_per_gas": "1 gwei", "gas_price": "20 gwei",
//    "method": "transfer(address,uint256)" | "0xa9059cbb", "calldata": true,
//    "erc20": {"token", "method", "from", "to", "amount", "unlimited"},
//    "typed_data": {"domain": {"name", "version", "chain_id", "verifying_contract"},
//                   "primary_type", "permit": {"kind", "token", "spender", "amount",
//                                              "deadline", "unlimited"}},
//      (a Permit2 allowance's "expiration" sits beside its amount; a permit with
//       several tokens lists "allowances": [{"token", "amount", "unlimited",
//       "expiration"}] in place of its token, amount, unlimited and expiration)
//    "nostr": {"event_kind": 1, "tags": [["p", "ab.."]]},
//    "solana": {"programs": ["system"], "transfers": [{"program", "to", "amount", "mint"}]},
//    "risk_score": 10, "time": "2026-01-05T12:00:00Z" | 1767614400}
//
// Amounts follow the policy language (strings with units, decimal or 0x;
// whole JSON numbers; never floats). Unknown fields are errors.
//
// Stateless; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "policy/facts.h"

namespace sigil::policy {

// `path` prefixes error messages ("cases[3]"). Fields listed in `extra` are
// skipped (the caller reads them), e.g. a test case's "name" and "expect".
absl::StatusOr<Facts> FactsFromJson(const nlohmann::json& j, const std::string& path,
                                    std::initializer_list<std::string_view> extra = {});

nlohmann::json FactsToJson(const Facts& facts);

// "transfer(address,uint256)" -> "0xa9059cbb"; a "0x" + 8 hex selector is
// returned lower-cased. InvalidArgument for anything else, including
// non-canonical signatures (spaces, parameter names, "uint" for "uint256").
absl::StatusOr<std::string> MethodSelector(std::string_view selector_or_signature);

}  // namespace sigil::policy
