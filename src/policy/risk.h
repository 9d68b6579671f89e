// RiskScorer: a 0..100 score for one request, from the requesting agent's own
// history (history.h), with the factors that contributed:
//
//   new_counterparty  the request pays or empowers someone this agent was
//                     never allowed to pay before (+30)
//   amount_outlier    the amount is far above the agent's usual amounts for
//                     that asset: more than 3 / 6 / 10 robust deviations
//                     (1.4826 x MAD) above the median of recent allowed
//                     amounts (+15 / +25 / +40; needs 5 samples)
//   velocity          a burst: requests in the last minute reach 4x the
//                     agent's usual per-minute rate over the last hour, and
//                     at least 5 (+20; twice that: +30)
//   unusual_hour      the agent has rarely acted in this UTC hour of day
//                     (under 1% of at least 20 allowed requests) (+10)
//
// Amounts are compared in exact Uint256 integer arithmetic; no floating
// point touches an amount. The score feeds the `risk_score` condition of a
// policy and the `risk_score` triggers.
//
// Stateless; thread-safe.
#pragma once

#include <utility>
#include <vector>

#include "base/uint256.h"
#include "policy/decision.h"
#include "policy/facts.h"
#include "policy/history.h"

namespace sigil::policy {

struct RiskAssessment {
  int score = 0;  // 0..100
  std::vector<RiskFactor> factors;
};

class RiskScorer {
 public:
  struct Options {
    int new_counterparty_points = 30;
    int outlier_points_3 = 15;
    int outlier_points_6 = 25;
    int outlier_points_10 = 40;
    size_t outlier_min_samples = 5;
    int velocity_points = 20;
    int burst_points = 30;
    uint32_t velocity_min_requests = 5;
    int unusual_hour_points = 10;
    uint64_t unusual_hour_min_events = 20;
  };
  RiskScorer() : RiskScorer(Options{}) {}
  explicit RiskScorer(Options options) : options_(options) {}

  // Takes `inputs` by value: scoring reorders the samples in place (a median
  // is a selection), so a caller done with them moves them in.
  RiskAssessment Score(const Facts& facts, RiskInputs inputs) const;
  RiskAssessment Score(const Facts& facts, const History& history, absl::Time now) const {
    return Score(facts, history.InputsFor(facts, now));
  }

 private:
  Options options_;
};

// Median (the lower one for an even count) and median absolute deviation of
// `samples`, exactly. Both zero for no samples. Works in place: pass a vector
// that is no longer needed with std::move to avoid a copy.
std::pair<Uint256, Uint256> MedianMad(std::vector<Uint256> samples);

}  // namespace sigil::policy
