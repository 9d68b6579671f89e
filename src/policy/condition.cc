#include "policy/condition.h"

#include "absl/time/civil_time.h"
#include "policy/amount_text.h"

namespace sigil::policy {
namespace {

constexpr std::string_view kDayNames[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

std::string Show(const Uint256& v, AmountStyle style) {
  return style == AmountStyle::kWei ? FormatWei(v) : v.ToDecimal();
}

std::string Clip(std::string_view s) {
  if (s.size() <= 70) return std::string(s);
  return std::string(s.substr(0, 66)) + "...";
}

template <typename T, typename Pred>
bool Quantify(const T& values, Quantifier q, Pred pred) {
  if (q == Quantifier::kAll) {
    for (const auto& v : values) {
      if (!pred(v)) return false;
    }
    return true;
  }
  for (const auto& v : values) {
    if (pred(v)) return true;
  }
  return false;
}

std::string SetNames(const std::vector<NamedSet>& sets) {
  std::string out;
  for (const NamedSet& s : sets) {
    if (!out.empty()) out += " or ";
    if (!s.name.empty()) {
      out += s.name;
    } else if (s.set->size() <= 3) {
      std::string items;
      for (const std::string& v : *s.set) items += (items.empty() ? "" : ", ") + Clip(v);
      out += "[" + items + "]";
    } else {
      out += "the rule's list of " + std::to_string(s.set->size());
    }
  }
  return out;
}

class AmountCondition final : public Condition {
 public:
  AmountCondition(std::string path, std::string label, AmountsGetter get, AmountBounds bounds, AmountStyle style)
      : Condition(std::move(path)), label_(std::move(label)), get_(get), bounds_(bounds), style_(style) {}

  bool Matches(const MatchContext& ctx) const override {
    Amounts values;
    get_(ctx.facts, values);
    if (values.empty()) return false;
    return Quantify(values, ctx.quantifier, [&](const Uint256& v) { return bounds_.Holds(v); });
  }

  std::string Mismatch(const MatchContext& ctx) const override {
    Amounts values;
    get_(ctx.facts, values);
    if (values.empty()) return "the request has no " + label_ + " (" + path() + ")";
    for (const Uint256& v : values) {
      std::string why = Why(v);
      if (!why.empty()) return why;
    }
    return label_ + " does not match (" + path() + ")";
  }

 private:
  std::string Why(const Uint256& v) const {
    std::string s = label_ + " " + Show(v, style_);
    if (bounds_.lt && !(v < *bounds_.lt)) return s + " is not below " + Show(*bounds_.lt, style_) + " (" + path() + ".lt)";
    if (bounds_.lte && !(v <= *bounds_.lte)) return s + " is more than " + Show(*bounds_.lte, style_) + " (" + path() + ".lte)";
    if (bounds_.gt && !(v > *bounds_.gt)) return s + " is not above " + Show(*bounds_.gt, style_) + " (" + path() + ".gt)";
    if (bounds_.gte && !(v >= *bounds_.gte)) return s + " is less than " + Show(*bounds_.gte, style_) + " (" + path() + ".gte)";
    if (bounds_.eq && !(v == *bounds_.eq)) return s + " is not " + Show(*bounds_.eq, style_) + " (" + path() + ".eq)";
    return "";
  }

  std::string label_;
  AmountsGetter get_;
  AmountBounds bounds_;
  AmountStyle style_;
};

class StringCondition final : public Condition {
 public:
  StringCondition(std::string path, std::string label, StringsGetter get, StringMatch match, WhenEmpty when_empty,
                  AbsentValueGetter absent_value)
      : Condition(std::move(path)), label_(std::move(label)), get_(get), match_(std::move(match)), when_empty_(when_empty),
        absent_value_(absent_value) {}

  bool Matches(const MatchContext& ctx) const override {
    Strings values;
    get_(ctx.facts, values);
    if (values.empty()) {
      if (ctx.quantifier == Quantifier::kAny) return ExcludesAbsentValue(ctx.facts);
      return when_empty_ == WhenEmpty::kVacuous;
    }
    if (ctx.hashes != nullptr) {
      return Quantify(values, ctx.quantifier,
                      [&](std::string_view v) { return match_.Holds(v, ctx.hashes->Hash(v)); });
    }
    return Quantify(values, ctx.quantifier, [&](std::string_view v) { return match_.Holds(v); });
  }

  std::string Mismatch(const MatchContext& ctx) const override {
    Strings values;
    get_(ctx.facts, values);
    if (values.empty()) return "the request has no " + label_ + " (" + path() + ")";
    for (std::string_view v : values) {
      if (match_.Holds(v) == (ctx.quantifier == Quantifier::kAll)) continue;
      bool in_any = match_.in.empty();
      for (const NamedSet& s : match_.in) in_any |= SetContains(*s.set, v);
      if (!in_any) return label_ + " " + Clip(v) + " is not in " + SetNames(match_.in) + " (" + path() + ")";
      return label_ + " " + Clip(v) + " is in " + SetNames(match_.not_in) + " (" + path() + ".not_in)";
    }
    return label_ + " does not match (" + path() + ")";
  }

 private:
  // An absent value that counts (absent_value_) is on no list: a condition
  // that only excludes holds for it.
  bool ExcludesAbsentValue(const Facts& f) const {
    return absent_value_ != nullptr && match_.in.empty() && !match_.not_in.empty() && absent_value_(f);
  }

  std::string label_;
  StringsGetter get_;
  StringMatch match_;
  WhenEmpty when_empty_;
  AbsentValueGetter absent_value_;
};

class IntSetCondition final : public Condition {
 public:
  IntSetCondition(std::string path, std::string label, IntGetter get, absl::flat_hash_set<uint64_t> values,
                  bool absent_matches)
      : Condition(std::move(path)), label_(std::move(label)), get_(get), values_(std::move(values)),
        absent_matches_(absent_matches) {}

  bool Matches(const MatchContext& ctx) const override {
    std::optional<uint64_t> v = get_(ctx.facts);
    if (!v) return absent_matches_;
    return values_.contains(*v);
  }

  std::string Mismatch(const MatchContext& ctx) const override {
    std::optional<uint64_t> v = get_(ctx.facts);
    if (!v) return "the request has no " + label_ + " (" + path() + ")";
    std::string allowed;
    int shown = 0;
    for (uint64_t x : values_) {
      if (shown++ == 8) {
        allowed += ", ...";
        break;
      }
      allowed += (allowed.empty() ? "" : ", ") + std::to_string(x);
    }
    return label_ + " " + std::to_string(*v) + " is not one of [" + allowed + "] (" + path() + ")";
  }

 private:
  std::string label_;
  IntGetter get_;
  absl::flat_hash_set<uint64_t> values_;
  bool absent_matches_;
};

class BoolCondition final : public Condition {
 public:
  BoolCondition(std::string path, std::string label, BoolGetter get, bool want)
      : Condition(std::move(path)), label_(std::move(label)), get_(get), want_(want) {}
  bool Matches(const MatchContext& ctx) const override {
    std::optional<bool> v = get_(ctx.facts);
    return v && *v == want_;
  }
  std::string Mismatch(const MatchContext& ctx) const override {
    std::optional<bool> v = get_(ctx.facts);
    if (!v) return "the request has no " + label_ + " (" + path() + ")";
    return label_ + " is " + (*v ? "true" : "false") + ", the rule wants " + (want_ ? "true" : "false") + " (" + path() + ")";
  }

 private:
  std::string label_;
  BoolGetter get_;
  bool want_;
};

class TimeWindowCondition final : public Condition {
 public:
  TimeWindowCondition(std::string path, TimeWindow w) : Condition(std::move(path)), w_(w) {}

  bool Matches(const MatchContext& ctx) const override {
    if (!ctx.time) return false;
    auto [day, hour] = DayHour(*ctx.time);
    if (!(w_.days_mask & (1u << day))) return false;
    if (!w_.hour_from) return true;
    int from = *w_.hour_from, to = *w_.hour_to;
    return from < to ? (hour >= from && hour < to) : (hour >= from || hour < to);
  }

  std::string Mismatch(const MatchContext& ctx) const override {
    if (!ctx.time) return "the request has no time (" + path() + ")";
    auto [day, hour] = DayHour(*ctx.time);
    std::string when = std::string(kDayNames[day]) + " " + std::to_string(hour) + ":00-" + std::to_string(hour) + ":59 UTC";
    std::string allowed;
    if (w_.days_mask != 0x7f) {
      for (int d = 0; d < 7; ++d) {
        if (w_.days_mask & (1u << d)) allowed += (allowed.empty() ? "" : ", ") + std::string(kDayNames[d].substr(0, 3));
      }
    } else {
      allowed = "any day";
    }
    if (w_.hour_from) {
      allowed += " " + std::to_string(*w_.hour_from) + ":00-" + std::to_string(*w_.hour_to) + ":00 UTC";
    }
    return "requested on " + when + ", outside the allowed time window (" + allowed + ") (" + path() + ")";
  }

 private:
  static std::pair<int, int> DayHour(absl::Time t) {
    absl::CivilHour h = absl::ToCivilHour(t, absl::UTCTimeZone());
    absl::Weekday wd = absl::GetWeekday(absl::CivilDay(h));
    int day = 0;
    switch (wd) {
      case absl::Weekday::monday: day = 0; break;
      case absl::Weekday::tuesday: day = 1; break;
      case absl::Weekday::wednesday: day = 2; break;
      case absl::Weekday::thursday: day = 3; break;
      case absl::Weekday::friday: day = 4; break;
      case absl::Weekday::saturday: day = 5; break;
      case absl::Weekday::sunday: day = 6; break;
    }
    return {day, h.hour()};
  }
  TimeWindow w_;
};

class RiskScoreCondition final : public Condition {
 public:
  RiskScoreCondition(std::string path, std::optional<int> lt, std::optional<int> lte, std::optional<int> gt,
                     std::optional<int> gte)
      : Condition(std::move(path)), lt_(lt), lte_(lte), gt_(gt), gte_(gte) {}
  bool Matches(const MatchContext& ctx) const override {
    if (!ctx.facts.risk_score) return false;
    int v = *ctx.facts.risk_score;
    return (!lt_ || v < *lt_) && (!lte_ || v <= *lte_) && (!gt_ || v > *gt_) && (!gte_ || v >= *gte_);
  }
  std::string Mismatch(const MatchContext& ctx) const override {
    if (!ctx.facts.risk_score) return "the request has no risk score (" + path() + ")";
    int v = *ctx.facts.risk_score;
    std::string s = "risk score " + std::to_string(v);
    if (lt_ && !(v < *lt_)) return s + " is not below " + std::to_string(*lt_) + " (" + path() + ".lt)";
    if (lte_ && !(v <= *lte_)) return s + " is above " + std::to_string(*lte_) + " (" + path() + ".lte)";
    if (gt_ && !(v > *gt_)) return s + " is not above " + std::to_string(*gt_) + " (" + path() + ".gt)";
    return s + " is below " + std::to_string(gte_.value_or(0)) + " (" + path() + ".gte)";
  }

 private:
  std::optional<int> lt_, lte_, gt_, gte_;
};

class PermitDeadlineWithinCondition final : public Condition {
 public:
  PermitDeadlineWithinCondition(std::string path, absl::Duration within) : Condition(std::move(path)), within_(within) {}
  bool Matches(const MatchContext& ctx) const override {
    std::optional<Uint256> end = End(ctx.facts);
    if (!ctx.time || !end) return false;
    int64_t limit = absl::ToUnixSeconds(*ctx.time) + absl::ToInt64Seconds(within_);
    if (limit < 0) return false;
    return *end <= Uint256(static_cast<uint64_t>(limit));
  }
  std::string Mismatch(const MatchContext& ctx) const override {
    std::optional<Uint256> end = End(ctx.facts);
    if (!end) return "the request has no permit deadline (" + path() + ")";
    std::string what = *end == Uint256::Max() ? "the permit never expires"
                                              : "permit deadline " + end->ToDecimal() + " is more than " +
                                                    std::to_string(absl::ToInt64Seconds(within_)) +
                                                    "s after the request time";
    return what + " (" + path() + ")";
  }

 private:
  // The later of the signature deadline and the allowances' expirations.
  static std::optional<Uint256> End(const Facts& f) {
    if (!f.typed_data || !f.typed_data->permit) return std::nullopt;
    return PermitLifetimeEnd(*f.typed_data->permit);
  }
  absl::Duration within_;
};

class NostrTagCondition final : public Condition {
 public:
  NostrTagCondition(std::string path, std::string tag, StringMatch match)
      : Condition(std::move(path)), tag_(std::move(tag)), match_(std::move(match)) {}

  bool Matches(const MatchContext& ctx) const override {
    if (!ctx.facts.nostr) return false;
    Strings values = Values(ctx.facts);
    if (values.empty()) return ctx.quantifier == Quantifier::kAll;
    return Quantify(values, ctx.quantifier, [&](std::string_view v) { return match_.Holds(v); });
  }
  std::string Mismatch(const MatchContext& ctx) const override {
    if (!ctx.facts.nostr) return "the request is not a Nostr event (" + path() + ")";
    Strings values = Values(ctx.facts);
    if (values.empty()) return "the event has no \"" + tag_ + "\" tag (" + path() + ")";
    for (std::string_view v : values) {
      if (match_.Holds(v) == (ctx.quantifier == Quantifier::kAll)) continue;
      return "tag \"" + tag_ + "\" value " + Clip(v) + " does not satisfy " + path();
    }
    return "tags do not match (" + path() + ")";
  }

 private:
  Strings Values(const Facts& f) const {
    Strings out;
    for (const auto& t : f.nostr->tags) {
      // A tag without a value has the empty string as its value.
      if (!t.empty() && t[0] == tag_) out.push_back(t.size() > 1 ? std::string_view(t[1]) : std::string_view());
    }
    return out;
  }
  std::string tag_;
  StringMatch match_;
};

}  // namespace

bool AmountBounds::Holds(const Uint256& v) const {
  return (!lt || v < *lt) && (!lte || v <= *lte) && (!gt || v > *gt) && (!gte || v >= *gte) && (!eq || v == *eq);
}

size_t StringHashCache::Hash(std::string_view v) {
  for (const Slot& s : slots_) {
    if (s.data == v.data() && s.size == v.size() && s.data != nullptr) return s.hash;
  }
  Slot& slot = slots_[next_++ % slots_.size()];
  slot.data = v.data();
  slot.size = v.size();
  slot.hash = StringSet::hasher{}(absl::string_view(v.data(), v.size()));
  return slot.hash;
}

bool StringMatch::Holds(std::string_view v, size_t hash) const {
  const absl::string_view key(v.data(), v.size());
  if (!in.empty()) {
    bool found = false;
    for (const NamedSet& s : in) {
      if (s.set->find(key, hash) != s.set->end()) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  for (const NamedSet& s : not_in) {
    if (s.set->find(key, hash) != s.set->end()) return false;
  }
  return true;
}

bool StringMatch::Holds(std::string_view v) const {
  if (!in.empty()) {
    bool found = false;
    for (const NamedSet& s : in) {
      if (SetContains(*s.set, v)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  for (const NamedSet& s : not_in) {
    if (SetContains(*s.set, v)) return false;
  }
  return true;
}

std::unique_ptr<Condition> MakeAmountCondition(std::string path, std::string label, AmountsGetter get,
                                               AmountBounds bounds, AmountStyle style) {
  return std::make_unique<AmountCondition>(std::move(path), std::move(label), get, bounds, style);
}
std::unique_ptr<Condition> MakeStringCondition(std::string path, std::string label, StringsGetter get,
                                               StringMatch match, WhenEmpty when_empty,
                                               AbsentValueGetter absent_value) {
  return std::make_unique<StringCondition>(std::move(path), std::move(label), get, std::move(match), when_empty,
                                           absent_value);
}
std::unique_ptr<Condition> MakeIntSetCondition(std::string path, std::string label, IntGetter get,
                                               absl::flat_hash_set<uint64_t> values, bool absent_matches) {
  return std::make_unique<IntSetCondition>(std::move(path), std::move(label), get, std::move(values), absent_matches);
}
std::unique_ptr<Condition> MakeBoolCondition(std::string path, std::string label, BoolGetter get, bool want) {
  return std::make_unique<BoolCondition>(std::move(path), std::move(label), get, want);
}
std::unique_ptr<Condition> MakeTimeWindowCondition(std::string path, TimeWindow window) {
  return std::make_unique<TimeWindowCondition>(std::move(path), window);
}
std::unique_ptr<Condition> MakeRiskScoreCondition(std::string path, std::optional<int> lt, std::optional<int> lte,
                                                  std::optional<int> gt, std::optional<int> gte) {
  return std::make_unique<RiskScoreCondition>(std::move(path), lt, lte, gt, gte);
}
std::unique_ptr<Condition> MakePermitDeadlineWithinCondition(std::string path, absl::Duration within) {
  return std::make_unique<PermitDeadlineWithinCondition>(std::move(path), within);
}
std::unique_ptr<Condition> MakeNostrTagCondition(std::string path, std::string tag, StringMatch match) {
  return std::make_unique<NostrTagCondition>(std::move(path), std::move(tag), std::move(match));
}

}  // namespace sigil::policy
