// Condition: one test a rule's `match` makes on the Facts of a request
// ("value.lte", "to.in", "erc20.method", ...). Built by the policy parser;
// immutable afterwards, so a Condition is safe to share between threads.
//
// Absent facts: a condition on a fact the request does not carry does not
// hold, except that under kAny a string condition that only excludes holds
// for an absent value its AbsentValueGetter counts (a contract creation's
// recipient is on no list; see AbsentValueGetter). Facts with
// several values (the transfers of a Solana transaction, the `p` tags of a
// Nostr event) are quantified by the caller (MatchContext::quantifier):
// Policy::Evaluate makes a request signable through an allow or
// require_approval rule that holds for EVERY value, denies it through a deny
// rule that holds for ANY value, and holds it through a require_approval
// rule that holds for ANY value. Each is the cautious reading.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/time/time.h"
#include "base/uint256.h"
#include "policy/facts.h"

namespace sigil::policy {

using StringSet = absl::flat_hash_set<std::string>;

// Heterogeneous lookup (Debian's absl has its own string_view type).
inline bool SetContains(const StringSet& set, std::string_view v) {
  return set.contains(absl::string_view(v.data(), v.size()));
}

enum class Quantifier : uint8_t { kAll, kAny };

// Remembers the hash of the few fact strings one evaluation looks up in
// many sets (the same `to` against thousands of rules), keyed by the
// string's address in the Facts being evaluated. Not thread-safe: one per
// evaluation.
class StringHashCache {
 public:
  size_t Hash(std::string_view v);

 private:
  struct Slot {
    const char* data = nullptr;
    size_t size = 0;
    size_t hash = 0;
  };
  std::array<Slot, 8> slots_{};
  size_t next_ = 0;
};

struct MatchContext {
  const Facts& facts;
  Quantifier quantifier;
  std::optional<absl::Time> time;
  StringHashCache* hashes = nullptr;  // optional
};

class Condition {
 public:
  explicit Condition(std::string path) : path_(std::move(path)) {}
  virtual ~Condition() = default;
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  virtual bool Matches(const MatchContext& ctx) const = 0;
  // One phrase saying why Matches(ctx) is false, e.g.
  // "value 0.6 ether is more than 0.5 ether (match.value.lte)".
  virtual std::string Mismatch(const MatchContext& ctx) const = 0;
  // The field path in the policy document ("match.value").
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

using Strings = absl::InlinedVector<std::string_view, 4>;
using Amounts = absl::InlinedVector<Uint256, 4>;
// Getters collect a fact's values (none when the fact is absent).
using StringsGetter = void (*)(const Facts&, Strings&);
using AmountsGetter = void (*)(const Facts&, Amounts&);
using IntGetter = std::optional<uint64_t> (*)(const Facts&);
using BoolGetter = std::optional<bool> (*)(const Facts&);

// What a multi-valued condition says when the fact has no values at all.
enum class WhenEmpty : uint8_t {
  kNoMatch,   // the condition does not hold (default)
  kVacuous,   // holds under kAll ("every value ..."), not under kAny
};

// Says whether a fact with no values is absent for a reason a deny rule
// should see: the request has no value where its kind could have one (a
// transaction's recipient, for a contract creation). Such an absent value is
// on no list, so under kAny (deny, require_approval) a condition that only
// excludes (`not_in`, no `in`) holds for it; allow rules (kAll) still never
// match it. Null: an absent fact is only absent.
using AbsentValueGetter = bool (*)(const Facts&);

struct AmountBounds {
  std::optional<Uint256> lt, lte, gt, gte, eq;
  bool Holds(const Uint256& v) const;
};

enum class AmountStyle : uint8_t { kWei, kPlain };

// A named set of strings: a policy list ("@treasury") or an inline array.
struct NamedSet {
  std::string name;  // "@treasury", or empty for an inline array
  std::shared_ptr<const StringSet> set;
};

struct StringMatch {
  std::vector<NamedSet> in;      // empty: no `in` constraint
  std::vector<NamedSet> not_in;
  bool Holds(std::string_view v) const;
  // The same, with v's hash (StringSet::hasher) computed once by the caller.
  bool Holds(std::string_view v, size_t hash) const;
};

struct TimeWindow {
  uint8_t days_mask = 0x7f;  // bit 0 = Monday ... bit 6 = Sunday (UTC)
  std::optional<int> hour_from, hour_to;  // [from, to), wraps past midnight when from > to
};

std::unique_ptr<Condition> MakeAmountCondition(std::string path, std::string label, AmountsGetter get,
                                               AmountBounds bounds, AmountStyle style);
std::unique_ptr<Condition> MakeStringCondition(std::string path, std::string label, StringsGetter get,
                                               StringMatch match, WhenEmpty when_empty = WhenEmpty::kNoMatch,
                                               AbsentValueGetter absent_value = nullptr);
// `absent_matches`: the condition holds when the fact is absent (used for
// chain_id in a rule that says allow_no_chain_id).
std::unique_ptr<Condition> MakeIntSetCondition(std::string path, std::string label, IntGetter get,
                                               absl::flat_hash_set<uint64_t> values, bool absent_matches = false);
std::unique_ptr<Condition> MakeBoolCondition(std::string path, std::string label, BoolGetter get, bool want);
std::unique_ptr<Condition> MakeTimeWindowCondition(std::string path, TimeWindow window);
std::unique_ptr<Condition> MakeRiskScoreCondition(std::string path, std::optional<int> lt, std::optional<int> lte,
                                                  std::optional<int> gt, std::optional<int> gte);
// The permit's lifetime (PermitLifetimeEnd: the later of its signature
// deadline and its allowances' expirations) ends at most `within` after the
// request time. A permit that never expires does not satisfy it.
std::unique_ptr<Condition> MakePermitDeadlineWithinCondition(std::string path, absl::Duration within);
// Every (kAll) / any (kAny) value of tags named `tag` satisfies `match`;
// vacuously true under kAll when the event has no such tag.
std::unique_ptr<Condition> MakeNostrTagCondition(std::string path, std::string tag, StringMatch match);

}  // namespace sigil::policy
