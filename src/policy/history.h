// History: what each agent has asked for and been given, kept for risk
// scoring (risk.h) and for proposing a tighter policy (suggest.h).
//
// Per agent, bounded: the last `max_events_per_agent` events, the
// counterparties it was allowed to pay (up to `max_counterparties`), the last
// `max_samples` allowed amounts per asset, request times of the last hour and
// a per-UTC-hour histogram of allowed requests.
//
// In memory only: after a restart baselines rebuild from new traffic (every
// counterparty looks new for a while, which errs on the side of caution).
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/uint256.h"
#include "policy/effect.h"
#include "policy/facts.h"

namespace sigil::policy {

struct HistoryEvent {
  absl::Time time;
  std::string agent;
  std::string key;
  Kind kind = Kind::kEthTx;
  std::optional<uint64_t> chain_id;
  std::vector<std::string> counterparties;  // see Counterparties()
  Uint256 value;                            // native value (wei, lamports)
  std::vector<std::pair<std::string, Uint256>> token_amounts;  // token -> base units
  Effect effect = Effect::kDeny;
};

// Who the request pays or empowers: the ERC-20 recipient/spender (else the
// transaction's `to`), a permit's spender (else the verifying contract), and
// Solana transfer recipients. Address text as in Facts.
std::vector<std::string> Counterparties(const Facts& facts);

// The event for `facts` (already normalised) decided as `effect`.
HistoryEvent MakeHistoryEvent(const Facts& facts, Effect effect);

// What the risk scorer needs about one agent, gathered under one lock.
struct RiskInputs {
  uint64_t allowed_events = 0;               // allowed requests seen for this agent
  std::vector<std::string> new_counterparties;  // the request's counterparties never allowed before
  std::vector<Uint256> native_samples;       // recent allowed non-zero native values
  // For each token the request moves: recent allowed amounts of that token.
  std::vector<std::pair<std::string, std::vector<Uint256>>> token_samples;
  uint32_t last_minute = 0;  // requests (any outcome) in the 60 s before `now`
  uint32_t last_hour = 0;    // requests (any outcome) in the hour before `now`
  uint64_t same_hour_events = 0;  // allowed requests in the UTC hour of day of `now`
};

class History {
 public:
  struct Options {
    size_t max_events_per_agent = 4096;
    size_t max_samples = 256;
    size_t max_counterparties = 100000;
    size_t max_agents = 100000;
    // Assets (ERC-20 tokens, permit tokens, SPL mints) with samples, per
    // agent: the agent names them, so without a bound every new token it
    // moves would add a map entry for good. Beyond it, new assets are
    // scored as never seen.
    size_t max_tokens_per_agent = 1024;
  };
  History() : History(Options{}) {}
  explicit History(Options options) : options_(options) {}

  void Record(const HistoryEvent& event);

  // Inputs for scoring `facts` (normalised) at `now`.
  RiskInputs InputsFor(const Facts& facts, absl::Time now) const;

  // Retained events, per agent oldest first (agents in no particular order).
  std::vector<HistoryEvent> Events() const;
  std::vector<HistoryEvent> Events(std::string_view agent) const;

 private:
  struct AgentData {
    std::deque<HistoryEvent> events;
    absl::flat_hash_set<std::string> counterparties;
    std::deque<Uint256> native_samples;
    absl::flat_hash_map<std::string, std::deque<Uint256>> token_samples;
    std::deque<int64_t> request_times;  // unix nanos, last hour
    std::array<uint64_t, 24> hours{};
    uint64_t allowed = 0;
  };

  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, AgentData> agents_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::policy
