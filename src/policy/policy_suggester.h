// Suggest a tighter policy from what agents actually did: for each agent,
// key and kind that was allowed, a rule limited to the counterparties seen
// (as a named list), the chain ids seen, a per-request ceiling at a high
// percentile of the amounts seen, and a rolling budget at the largest spend
// seen in one window. The result is a policy document (JSON) that
// Policy::Parse accepts; an operator reviews it before applying it.
//
// Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "policy/history.h"

namespace sigil::policy {

struct SuggestOptions {
  unsigned percentile = 95;  // 1..100, nearest-rank, of per-request amounts
  absl::Duration budget_window = absl::Hours(24);  // whole hours
  uint64_t version = 1;
};

// Only allowed events count. Events of agents with no allowed event give no
// rule; with no events at all the policy has no rules (denies everything).
nlohmann::json SuggestPolicy(std::span<const HistoryEvent> events, const SuggestOptions& options = {});

}  // namespace sigil::policy
