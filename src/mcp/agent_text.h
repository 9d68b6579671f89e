// The sentences a language model reads in tool results: what happened and
// what it may do next. Built from the structured refusal data the daemon
// returns (INTERFACE.md "Refusals are structured"), so the words and the
// structuredContent never disagree.
//
// Amounts are formatted exactly (Uint256); nothing here does arithmetic in
// floating point. Missing or malformed fields are left out of the sentence,
// never guessed. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/uint256.h"
#include "mcp/rpc_caller.h"

namespace sigil::mcp {

// For a refused call, e.g.
//   "Denied by rule small-payments: 24h budget exceeded. At most 0.1 ether
//    remains in the 24h window; retry with a smaller value or ask a human to
//    raise the limit."
//   "Held for approval ap_…: 2 approvers must approve within 1h; call
//    approval_status with this id to collect the signature."
//   "Lockdown in force: incident 42. No key can sign until …; ask a human."
std::string DescribeRefusal(const RpcError& error);

// The structuredContent of a refused call: every non-null member of
// error.data, plus "code" and "message".
nlohmann::json RefusalContent(const RpcError& error);

// One budget entry (explain/getBudget/refusal shape: window, measure, limit,
// spent, requested, remaining, exceeded, rule|rule_id) in words:
//   "small-payments 24h value: 1.9 ether of 2 ether spent, 0.1 ether left".
std::string DescribeBudget(const nlohmann::json& budget);

// The remaining allowance of a budget entry: `remaining`, or limit − spent
// when only those are given; nullopt when neither can be read.
std::optional<Uint256> BudgetRemaining(const nlohmann::json& budget);

// An amount of a budget's measure in words: "0.1 ether" (value), "3
// requests" (count), "5000000 token units" (amount).
std::string MeasureInWords(const Uint256& amount, const std::string& measure);

// An amount of `budget`'s measure in words, in its unit: as MeasureInWords,
// except that a budget in lamports (Solana) reads "2500 lamports", not ether.
std::string BudgetAmountInWords(const Uint256& amount, const nlohmann::json& budget);

// For a sigil_approvalStatus result: pending / approved (with the result) /
// consumed / rejected / expired, and what to do next.
std::string DescribeApprovalStatus(const nlohmann::json& status);

// "2026-01-01T00:00:00Z" for a unix time in seconds or milliseconds; a string
// is returned unchanged; anything else gives "".
std::string TimeInWords(const nlohmann::json& time);

}  // namespace sigil::mcp
