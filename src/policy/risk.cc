#include "policy/risk.h"

#include <algorithm>

#include "policy/amount_text.h"
#include "absl/time/civil_time.h"

namespace sigil::policy {
namespace {

Uint256 MulSmall(const Uint256& v, uint64_t m) {
  auto r = v.Mul(Uint256(m));
  return r.ok() ? *r : Uint256::Max();
}

Uint256 Median(std::vector<Uint256>& v) {
  const size_t mid = (v.size() - 1) / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

// How many robust deviations `x` lies above the samples' median: 0, 3, 6 or 10.
int Deviations(const Uint256& x, std::vector<Uint256>&& samples, Uint256* median_out) {
  auto [median, mad] = MedianMad(std::move(samples));
  *median_out = median;
  if (x <= median) return 0;
  const Uint256 dev = x.Sub(median).value();
  // scale = 1.4826 * MAD, kept as (MAD * 14826) / 10000 by comparing
  // dev * 10000 against k * MAD * 14826. With no spread at all (MAD = 0)
  // use 5% of the median (and at least 1) as the unit.
  Uint256 lhs = MulSmall(dev, 10000);
  Uint256 unit = mad.IsZero() ? MulSmall(std::max(median.Div(Uint256(20)).value(), Uint256(1)), 10000)
                              : MulSmall(mad, 14826);
  for (int k : {10, 6, 3}) {
    if (lhs > MulSmall(unit, static_cast<uint64_t>(k))) return k;
  }
  return 0;
}

std::string Short(const std::string& s) { return s.size() > 14 ? s.substr(0, 8) + "..." + s.substr(s.size() - 4) : s; }

}  // namespace

std::pair<Uint256, Uint256> MedianMad(std::vector<Uint256> samples) {
  if (samples.empty()) return {Uint256(), Uint256()};
  const Uint256 median = Median(samples);
  // The samples become their deviations: no second vector.
  for (Uint256& s : samples) s = s >= median ? s.SaturatingSub(median) : median.SaturatingSub(s);
  return {median, Median(samples)};
}

RiskAssessment RiskScorer::Score(const Facts& f, RiskInputs in) const {
  RiskAssessment out;
  auto add = [&](std::string name, int points, std::string detail) {
    out.factors.push_back(RiskFactor{std::move(name), points, std::move(detail)});
    out.score += points;
  };

  if (!in.new_counterparties.empty()) {
    std::string who = Short(in.new_counterparties[0]);
    add("new_counterparty", options_.new_counterparty_points,
        in.allowed_events == 0 ? "agent \"" + f.agent + "\" has no history yet; " + who + " is a new counterparty"
                               : "first request involving " + who);
  }

  int worst = 0;
  std::string worst_detail;
  if (f.kind == Kind::kEthTx || f.kind == Kind::kSolanaTx) {
    Uint256 native = f.value.value_or(Uint256());
    if (f.kind == Kind::kSolanaTx && !f.value && f.solana) {
      for (const SolanaTransfer& t : f.solana->transfers) {
        if (!t.mint) native = native.SaturatingAdd(t.amount);
      }
    }
    if (!native.IsZero() && in.native_samples.size() >= options_.outlier_min_samples) {
      Uint256 median;
      int k = Deviations(native, std::move(in.native_samples), &median);
      if (k > worst) {
        worst = k;
        worst_detail = "value " + (f.kind == Kind::kEthTx ? FormatWei(native) : native.ToDecimal()) +
                       " is more than " + std::to_string(k) + " deviations above the agent's median " +
                       (f.kind == Kind::kEthTx ? FormatWei(median) : median.ToDecimal());
      }
    }
  }
  HistoryEvent probe = MakeHistoryEvent(f, Effect::kAllow);
  for (const auto& [token, amount] : probe.token_amounts) {
    for (auto& [t, samples] : in.token_samples) {
      if (t != token || samples.size() < options_.outlier_min_samples || amount.IsZero()) continue;
      Uint256 median;
      // A token listed twice in one request reads its samples again.
      int k = Deviations(amount, std::vector<Uint256>(samples), &median);
      if (k > worst) {
        worst = k;
        worst_detail = "amount " + amount.ToDecimal() + " of token " + Short(token) + " is more than " +
                       std::to_string(k) + " deviations above the agent's median " + median.ToDecimal();
      }
    }
  }
  if (worst > 0) {
    int points = worst >= 10 ? options_.outlier_points_10 : worst >= 6 ? options_.outlier_points_6 : options_.outlier_points_3;
    add("amount_outlier", points, worst_detail);
  }

  const uint32_t in_minute = in.last_minute + 1;  // this request too
  const uint32_t usual = in.last_hour > in.last_minute ? (in.last_hour - in.last_minute) / 59 : 0;
  const uint32_t threshold = std::max(options_.velocity_min_requests, 4 * std::max<uint32_t>(usual, 1));
  if (in_minute >= threshold) {
    add("velocity", in_minute >= 2 * threshold ? options_.burst_points : options_.velocity_points,
        std::to_string(in_minute) + " requests in the last minute (usual rate about " + std::to_string(usual) +
            " per minute)");
  }

  if (f.time && in.allowed_events >= options_.unusual_hour_min_events && in.same_hour_events * 100 < in.allowed_events) {
    int hour = absl::ToCivilHour(*f.time, absl::UTCTimeZone()).hour();
    add("unusual_hour", options_.unusual_hour_points,
        "the agent made " + std::to_string(in.same_hour_events) + " of its " + std::to_string(in.allowed_events) +
            " allowed requests at " + std::to_string(hour) + ":00 UTC");
  }
  out.score = std::clamp(out.score, 0, 100);
  return out;
}

}  // namespace sigil::policy
