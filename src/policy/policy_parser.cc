// Policy::Parse: JSON text -> validated Policy. Every problem is collected
// (not just the first) so an author can fix a document in one pass.
#include <algorithm>
#include <cctype>
#include <initializer_list>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "base/hex.h"
#include "crypto/hash.h"
#include "policy/address_text.h"
#include "policy/duration_text.h"
#include "policy/facts_json.h"
#include "policy/json_source_map.h"
#include "policy/policy.h"

namespace sigil::policy {

using nlohmann::json;

namespace {

constexpr size_t kMaxErrorsReported = 20;

constexpr uint32_t KindBit(Kind k) { return 1u << static_cast<int>(k); }
constexpr size_t kMaxStringLength = 4096;

// ---- fact getters used by the conditions built below ----------------------

// A Solana transaction's recipients are those of all its native transfers,
// quantified like any several-valued fact (a deny rule fires for any of
// them, an allow rule needs every one): a dust transfer to an allowed payee
// put first must not speak for the rest.
void GetTo(const Facts& f, Strings& out) {
  if (f.kind == Kind::kSolanaTx && f.solana) {
    for (const SolanaTransfer& t : f.solana->transfers) {
      if (t.program == kSolanaSystemProgram) out.push_back(t.to);
    }
    return;
  }
  if (f.to) out.push_back(*f.to);
}
// A contract creation is a transaction with no recipient.
bool IsContractCreation(const Facts& f) { return f.kind == Kind::kEthTx && !f.to; }
void GetFrom(const Facts& f, Strings& out) {
  if (f.from) out.push_back(*f.from);
}
void GetMethod(const Facts& f, Strings& out) {
  if (f.method_selector) out.push_back(*f.method_selector);
}
void GetValue(const Facts& f, Amounts& out) {
  if (f.value) out.push_back(*f.value);
}
void GetNonce(const Facts& f, Amounts& out) {
  if (f.nonce) out.push_back(Uint256(*f.nonce));
}
void GetGasLimit(const Facts& f, Amounts& out) {
  if (f.gas_limit) out.push_back(*f.gas_limit);
}
void GetMaxFee(const Facts& f, Amounts& out) {
  if (f.max_fee_per_gas) {
    out.push_back(*f.max_fee_per_gas);
  } else if (f.gas_price) {
    out.push_back(*f.gas_price);
  }
}
void GetMaxPriorityFee(const Facts& f, Amounts& out) {
  if (f.max_priority_fee_per_gas) {
    out.push_back(*f.max_priority_fee_per_gas);
  } else if (f.gas_price) {
    out.push_back(*f.gas_price);
  }
}
std::optional<bool> GetCalldata(const Facts& f) {
  if (f.kind != Kind::kEthTx) return std::nullopt;
  return f.has_calldata;
}
std::optional<uint64_t> GetChainId(const Facts& f) { return f.chain_id; }

void GetErc20Token(const Facts& f, Strings& out) {
  if (f.erc20) out.push_back(f.erc20->token);
}
void GetErc20Method(const Facts& f, Strings& out) {
  if (f.erc20) out.push_back(Erc20MethodName(f.erc20->method));
}
void GetErc20From(const Facts& f, Strings& out) {
  if (f.erc20 && f.erc20->from) out.push_back(*f.erc20->from);
}
void GetErc20To(const Facts& f, Strings& out) {
  if (f.erc20) out.push_back(f.erc20->to);
}
void GetErc20Amount(const Facts& f, Amounts& out) {
  if (f.erc20) out.push_back(f.erc20->unlimited ? Uint256::Max() : f.erc20->amount);
}
std::optional<bool> GetErc20Unlimited(const Facts& f) {
  if (!f.erc20) return std::nullopt;
  return f.erc20->unlimited;
}

void GetDomainName(const Facts& f, Strings& out) {
  if (f.typed_data && f.typed_data->domain_name) out.push_back(*f.typed_data->domain_name);
}
void GetDomainVersion(const Facts& f, Strings& out) {
  if (f.typed_data && f.typed_data->domain_version) out.push_back(*f.typed_data->domain_version);
}
std::optional<uint64_t> GetDomainChainId(const Facts& f) {
  if (!f.typed_data) return std::nullopt;
  return f.typed_data->domain_chain_id;
}
void GetVerifyingContract(const Facts& f, Strings& out) {
  if (f.typed_data && f.typed_data->verifying_contract) out.push_back(*f.typed_data->verifying_contract);
}
void GetPrimaryType(const Facts& f, Strings& out) {
  if (f.typed_data) out.push_back(f.typed_data->primary_type);
}
const PermitFacts* Permit(const Facts& f) {
  return f.typed_data && f.typed_data->permit ? &*f.typed_data->permit : nullptr;
}
void GetPermitKind(const Facts& f, Strings& out) {
  if (const PermitFacts* p = Permit(f)) out.push_back(p->kind);
}
void GetPermitToken(const Facts& f, Strings& out) {
  if (const PermitFacts* p = Permit(f)) {
    for (const PermitAllowance& a : p->allowances) out.push_back(a.token);
  }
}
void GetPermitSpender(const Facts& f, Strings& out) {
  if (const PermitFacts* p = Permit(f)) out.push_back(p->spender);
}
void GetPermitAmount(const Facts& f, Amounts& out) {
  if (const PermitFacts* p = Permit(f)) {
    for (const PermitAllowance& a : p->allowances) out.push_back(a.unlimited ? Uint256::Max() : a.amount);
  }
}
void GetPermitDeadline(const Facts& f, Amounts& out) {
  if (const PermitFacts* p = Permit(f)) {
    if (auto end = PermitLifetimeEnd(*p)) out.push_back(*end);
  }
}
std::optional<bool> GetPermitUnlimited(const Facts& f) {
  if (const PermitFacts* p = Permit(f)) return p->unlimited;
  return std::nullopt;
}

std::optional<uint64_t> GetNostrKind(const Facts& f) {
  if (!f.nostr || f.nostr->event_kind < 0) return std::nullopt;
  return static_cast<uint64_t>(f.nostr->event_kind);
}

void GetSolanaPrograms(const Facts& f, Strings& out) {
  if (!f.solana) return;
  for (const std::string& p : f.solana->programs) out.push_back(p);
}
void GetSolanaTo(const Facts& f, Strings& out) {
  if (!f.solana) return;
  for (const SolanaTransfer& t : f.solana->transfers) out.push_back(t.to);
}
void GetSolanaMint(const Facts& f, Strings& out) {
  if (!f.solana) return;
  for (const SolanaTransfer& t : f.solana->transfers) out.push_back(t.mint ? std::string_view(*t.mint) : "SOL");
}
void GetSolanaAmount(const Facts& f, Amounts& out) {
  if (!f.solana) return;
  for (const SolanaTransfer& t : f.solana->transfers) out.push_back(t.amount);
}

// Well-known Solana program ids, so a policy can say "system" instead of
// 32 ones.
struct ProgramAlias {
  std::string_view alias;
  std::string_view id;
};
constexpr ProgramAlias kProgramAliases[] = {
    {"system", "11111111111111111111111111111111"},
    {"spl_token", "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"},
    {"token_2022", "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"},
    {"associated_token", "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"},
    {"compute_budget", "ComputeBudget111111111111111111111111111111"},
    {"memo", "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"},
};

std::string KeysText(std::initializer_list<std::string_view> keys) {
  std::string out;
  for (std::string_view k : keys) out += (out.empty() ? "" : ", ") + std::string(k);
  return out;
}

bool ValidRuleId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':')) return false;
  }
  return true;
}

}  // namespace

std::string_view BudgetScopeName(BudgetScope scope) {
  switch (scope) {
    case BudgetScope::kRuleKey: return "rule+key";
    case BudgetScope::kRuleAgent: return "rule+agent";
    case BudgetScope::kRule: return "rule";
    case BudgetScope::kKey: return "key";
    case BudgetScope::kAgent: return "agent";
  }
  return "rule+key";
}

std::string_view TriggerActionName(TriggerAction a) {
  switch (a) {
    case TriggerAction::kSuspendAgent: return "suspend_agent";
    case TriggerAction::kLockdown: return "lockdown";
    case TriggerAction::kAlert: return "alert";
  }
  return "alert";
}

std::string PolicyError::ToString() const {
  std::string out = path.empty() ? std::string("policy") : path;
  if (line > 0) out += " (line " + std::to_string(line) + ", column " + std::to_string(column) + ")";
  return out + ": " + message;
}

class PolicyParser {
 public:
  PolicyParser(std::string_view text, ParseMode mode) : text_(text), mode_(mode) {}

  absl::StatusOr<Policy> Run(std::vector<PolicyError>* errors_out) {
    if (text_.size() > kMaxPolicyBytes) {
      Error("", "policy is larger than " + std::to_string(kMaxPolicyBytes >> 20) + " MiB");
      return Finish(errors_out);
    }
    json doc;
    try {
      doc = json::parse(text_);
    } catch (const json::parse_error& e) {
      std::string what = e.what();
      size_t colon = what.find(": ", what.find("parse error"));
      std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
      JsonLocation loc = LocateOffset(text_, e.byte > 0 ? e.byte - 1 : 0);
      errors_.push_back(PolicyError{"", "not valid JSON: " + detail, loc.line, loc.column});
      return Finish(errors_out);
    }
    if (absl::Status st = CheckJsonStructure(text_, kMaxPolicyDepth); !st.ok()) {
      errors_.push_back(PolicyError{"", std::string(st.message()), 0, 0});
      return Finish(errors_out);
    }
    ParseDocument(doc);
    if (errors_.empty()) {
      policy_.canonical_ = doc.dump(-1, ' ', false, json::error_handler_t::strict);
      crypto::Hash256 h = crypto::Sha256(AsBytes(policy_.canonical_));
      policy_.hash_hex_ = HexEncode(h);
    }
    return Finish(errors_out);
  }

 private:
  absl::StatusOr<Policy> Finish(std::vector<PolicyError>* errors_out) {
    if (errors_.empty()) return std::move(policy_);
    for (PolicyError& e : errors_) {
      if (e.line == 0 && !e.path.empty()) {
        if (auto loc = FindJsonValue(text_, e.path)) {
          e.line = loc->line;
          e.column = loc->column;
        }
      }
    }
    std::string message = "invalid policy (" + std::to_string(errors_.size()) +
                          (errors_.size() == 1 ? " problem" : " problems") + "):";
    for (size_t i = 0; i < errors_.size() && i < kMaxErrorsReported; ++i) message += "\n  " + errors_[i].ToString();
    if (errors_.size() > kMaxErrorsReported) {
      message += "\n  ... and " + std::to_string(errors_.size() - kMaxErrorsReported) + " more";
    }
    if (errors_out) *errors_out = errors_;
    return absl::InvalidArgumentError(message);
  }

  void Error(const std::string& path, std::string message) {
    if (errors_.size() < 1000) errors_.push_back(PolicyError{path, std::move(message), 0, 0});
  }

  static std::string Key(const std::string& path, std::string_view key) { return JsonPathKey(path, key); }
  static std::string Index(const std::string& path, size_t i) { return JsonPathIndex(path, i); }

  static std::string TypeName(const json& j) {
    switch (j.type()) {
      case json::value_t::null: return "null";
      case json::value_t::boolean: return "a boolean";
      case json::value_t::string: return "a string";
      case json::value_t::array: return "an array";
      case json::value_t::object: return "an object";
      case json::value_t::number_float: return "a JSON float";
      default: return "a number";
    }
  }

  std::string RawNumber(const std::string& path, const json& j) {
    if (auto loc = FindJsonValue(text_, path)) {
      std::string_view tok = JsonNumberToken(text_, loc->offset);
      if (!tok.empty()) return std::string(tok);
    }
    return j.dump();
  }

  // Checks that `j` is an object whose keys are all in `allowed`.
  bool Object(const json& j, const std::string& path, std::initializer_list<std::string_view> allowed) {
    if (!j.is_object()) {
      Error(path, "expected an object, found " + TypeName(j));
      return false;
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
      bool known = false;
      for (std::string_view a : allowed) known |= (it.key() == a);
      if (!known) Error(Key(path, it.key()), "unknown field; expected one of: " + KeysText(allowed));
    }
    return true;
  }

  std::optional<std::string> String(const json& j, const std::string& path, size_t max_len = kMaxStringLength) {
    if (!j.is_string()) {
      Error(path, "expected a string, found " + TypeName(j));
      return std::nullopt;
    }
    std::string s = j.get<std::string>();
    if (s.size() > max_len) {
      Error(path, "longer than " + std::to_string(max_len) + " characters");
      return std::nullopt;
    }
    return s;
  }

  std::optional<uint64_t> Unsigned(const json& j, const std::string& path, uint64_t max = UINT64_MAX) {
    if (j.is_number_float()) {
      Error(path, RawNumber(path, j) + " is a JSON float; write a whole number");
      return std::nullopt;
    }
    if (j.is_number_integer() && !j.is_number_unsigned()) {
      Error(path, "must not be negative");
      return std::nullopt;
    }
    if (!j.is_number_unsigned()) {
      Error(path, "expected a whole number, found " + TypeName(j));
      return std::nullopt;
    }
    uint64_t v = j.get<uint64_t>();
    if (v > max) {
      Error(path, std::to_string(v) + " is larger than " + std::to_string(max));
      return std::nullopt;
    }
    return v;
  }

  std::optional<bool> Bool(const json& j, const std::string& path) {
    if (!j.is_boolean()) {
      Error(path, "expected true or false, found " + TypeName(j));
      return std::nullopt;
    }
    return j.get<bool>();
  }

  // An amount: "0.5 ether", "200 gwei", "1000000", "0x1bc16d674ec80000", or a
  // JSON whole number. Never a JSON float.
  std::optional<Uint256> Amount(const json& j, const std::string& path) {
    if (j.is_number_float()) {
      Error(path, RawNumber(path, j) + " is a JSON float; write amounts as strings (\"0.5 ether\", \"200 gwei\", "
                                       "decimal wei or 0x hex)");
      return std::nullopt;
    }
    if (j.is_number_unsigned()) return Uint256(j.get<uint64_t>());
    if (j.is_number_integer()) {
      Error(path, "amounts cannot be negative");
      return std::nullopt;
    }
    if (!j.is_string()) {
      Error(path, "expected an amount string such as \"0.5 ether\", found " + TypeName(j));
      return std::nullopt;
    }
    auto v = Uint256::ParseAmount(j.get<std::string>());
    if (!v.ok()) {
      Error(path, std::string(v.status().message()));
      return std::nullopt;
    }
    return *v;
  }

  std::optional<absl::Duration> Duration(const json& j, const std::string& path, std::string* text = nullptr) {
    auto s = String(j, path, 64);
    if (!s) return std::nullopt;
    auto d = ParseDurationText(*s);
    if (!d.ok()) {
      Error(path, std::string(d.status().message()));
      return std::nullopt;
    }
    if (text) *text = *s;
    return *d;
  }

  // {lt, lte, gt, gte, eq} with amounts.
  std::optional<AmountBounds> Bounds(const json& j, const std::string& path) {
    if (!j.is_object()) {
      Error(path, "expected a comparison such as {\"lte\": \"0.5 ether\"}, found " + TypeName(j));
      return std::nullopt;
    }
    if (!Object(j, path, {"lt", "lte", "gt", "gte", "eq"})) return std::nullopt;
    if (j.empty()) {
      Error(path, "a comparison needs at least one of lt, lte, gt, gte, eq");
      return std::nullopt;
    }
    AmountBounds b;
    bool ok = true;
    auto field = [&](const char* name, std::optional<Uint256>& slot) {
      if (auto it = j.find(name); it != j.end()) {
        slot = Amount(*it, Key(path, name));
        ok &= slot.has_value();
      }
    };
    field("lt", b.lt);
    field("lte", b.lte);
    field("gt", b.gt);
    field("gte", b.gte);
    field("eq", b.eq);
    if (!ok) return std::nullopt;
    return b;
  }

  std::shared_ptr<const StringSet> ListRef(const std::string& ref, const std::string& path) {
    std::string name = ref.substr(1);
    auto it = policy_.lists_.find(name);
    if (it == policy_.lists_.end()) {
      Error(path, "unknown list \"" + ref + "\"; define it under \"lists\"");
      return nullptr;
    }
    return it->second;
  }

  // A list used where addresses are expected: every entry, as written, must
  // be one (CheckAddressText, EIP-55 included). Lists also hold names (a
  // domain name, a primary type, a 32-byte id), so entries are kept as
  // written and checked where the list is used as addresses, once per list;
  // the set such a use compares against is the list normalised
  // (NormalizeAddress). Null when an entry is not an address.
  std::shared_ptr<const StringSet> AddressList(const std::string& ref, const std::shared_ptr<const StringSet>& set,
                                               const std::string& use) {
    const std::string name = ref.substr(1);
    if (auto it = address_lists_.find(name); it != address_lists_.end()) return it->second;
    std::shared_ptr<const StringSet> out;
    bool ok = true;
    for (const std::string& entry : *set) {
      if (absl::Status st = CheckAddressText(entry); !st.ok()) {
        Error(Key("lists", name), std::string(st.message()) + " (the list is used as addresses at " + use + ")");
        ok = false;
        break;
      }
    }
    if (ok) out = Normalized(set);
    address_lists_[name] = out;
    return out;
  }

  // The set with every entry normalised (NormalizeAddress), or the set
  // itself when that changes nothing.
  static std::shared_ptr<const StringSet> Normalized(const std::shared_ptr<const StringSet>& set) {
    bool changes = false;
    for (const std::string& v : *set) {
      if (NormalizeAddress(v) != v) {
        changes = true;
        break;
      }
    }
    if (!changes) return set;
    auto out = std::make_shared<StringSet>();
    out->reserve(set->size());
    for (const std::string& v : *set) out->insert(NormalizeAddress(v));
    return out;
  }

  // A set of values: "@list", a single string, or an array of strings and
  // "@list" references. Address-like values are validated and normalised.
  std::optional<std::vector<NamedSet>> Sets(const json& j, const std::string& path, bool addresses) {
    std::vector<NamedSet> out;
    auto inline_set = std::make_shared<StringSet>();
    bool ok = true;
    auto one = [&](const json& v, const std::string& p) {
      auto s = String(v, p, 256);
      if (!s) {
        ok = false;
        return;
      }
      if (!s->empty() && (*s)[0] == '@') {
        auto set = ListRef(*s, p);
        if (set && addresses) set = AddressList(*s, set, p);
        if (!set) {
          ok = false;
          return;
        }
        out.push_back(NamedSet{*s, std::move(set)});
        return;
      }
      if (addresses) {
        if (absl::Status st = CheckAddressText(*s); !st.ok()) {
          Error(p, std::string(st.message()));
          ok = false;
          return;
        }
        inline_set->insert(NormalizeAddress(*s));
      } else {
        inline_set->insert(*s);
      }
    };
    if (j.is_array()) {
      if (j.empty()) {
        Error(path, "an empty list matches nothing; remove the condition or add values");
        return std::nullopt;
      }
      for (size_t i = 0; i < j.size(); ++i) one(j[i], Index(path, i));
    } else {
      one(j, path);
    }
    if (!ok) return std::nullopt;
    if (!inline_set->empty()) out.push_back(NamedSet{"", std::move(inline_set)});
    return out;
  }

  // An address/name condition: {in, not_in}, or the shorthand "x", "@list", [..].
  std::optional<StringMatch> Match(const json& j, const std::string& path, bool addresses) {
    StringMatch m;
    if (j.is_object()) {
      if (!Object(j, path, {"in", "not_in"})) return std::nullopt;
      if (j.empty()) {
        Error(path, "needs \"in\" or \"not_in\"");
        return std::nullopt;
      }
      bool ok = true;
      if (auto it = j.find("in"); it != j.end()) {
        auto s = Sets(*it, Key(path, "in"), addresses);
        ok &= s.has_value();
        if (s) m.in = std::move(*s);
      }
      if (auto it = j.find("not_in"); it != j.end()) {
        auto s = Sets(*it, Key(path, "not_in"), addresses);
        ok &= s.has_value();
        if (s) m.not_in = std::move(*s);
      }
      if (!ok) return std::nullopt;
      return m;
    }
    auto s = Sets(j, path, addresses);
    if (!s) return std::nullopt;
    m.in = std::move(*s);
    return m;
  }

  // A set of whole numbers: 1 or [1, 42161].
  std::optional<absl::flat_hash_set<uint64_t>> Numbers(const json& j, const std::string& path) {
    absl::flat_hash_set<uint64_t> out;
    if (j.is_array()) {
      if (j.empty()) {
        Error(path, "an empty list matches nothing");
        return std::nullopt;
      }
      bool ok = true;
      for (size_t i = 0; i < j.size(); ++i) {
        auto v = Unsigned(j[i], Index(path, i));
        if (v) {
          out.insert(*v);
        } else {
          ok = false;
        }
      }
      if (!ok) return std::nullopt;
      return out;
    }
    auto v = Unsigned(j, path);
    if (!v) return std::nullopt;
    out.insert(*v);
    return out;
  }

  // A fixed vocabulary: "transfer" or ["transfer", "approve"].
  std::optional<StringMatch> Words(const json& j, const std::string& path,
                                   std::initializer_list<std::string_view> allowed) {
    auto sets = Sets(j, path, false);
    if (!sets) return std::nullopt;
    for (const NamedSet& s : *sets) {
      for (const std::string& v : *s.set) {
        if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
          Error(path, "\"" + v + "\" is not one of: " + KeysText(allowed));
          return std::nullopt;
        }
      }
    }
    StringMatch m;
    m.in = std::move(*sets);
    return m;
  }

  // Rule-level keys/agents: ["a", "b"] or "@list".
  std::shared_ptr<const StringSet> Names(const json& j, const std::string& path) {
    if (!j.is_array() && !j.is_string()) {
      Error(path, "expected an array of names or \"@list\", found " + TypeName(j));
      return nullptr;
    }
    auto sets = Sets(j, path, false);
    if (!sets) return nullptr;
    if (sets->size() == 1) return (*sets)[0].set;
    auto merged = std::make_shared<StringSet>();
    for (const NamedSet& s : *sets) merged->insert(s.set->begin(), s.set->end());
    return merged;
  }

  // ---- document ---------------------------------------------------------

  void ParseDocument(const json& doc) {
    if (!Object(doc, "", {"version", "description", "lists", "rules", "rate_limits", "triggers"})) return;
    if (auto it = doc.find("version"); it == doc.end()) {
      Error("version", "missing; every policy has a version counter, e.g. \"version\": 1");
    } else if (auto v = Unsigned(*it, "version", (uint64_t{1} << 53))) {
      if (*v == 0) {
        Error("version", "must be at least 1");
      } else {
        policy_.version_ = *v;
      }
    }
    if (auto it = doc.find("description"); it != doc.end()) String(*it, "description");
    if (auto it = doc.find("lists"); it != doc.end()) ParseLists(*it);
    if (auto it = doc.find("rules"); it == doc.end()) {
      Error("rules", "missing; a policy needs a \"rules\" array (an empty array denies everything)");
    } else if (!it->is_array()) {
      Error("rules", "expected an array, found " + TypeName(*it));
    } else if (it->size() > kMaxRules) {
      Error("rules", "more than " + std::to_string(kMaxRules) + " rules");
    } else {
      policy_.rules_.reserve(it->size());
      for (size_t i = 0; i < it->size(); ++i) ParseRule((*it)[i], i);
    }
    if (auto it = doc.find("rate_limits"); it != doc.end()) ParseRateLimits(*it);
    if (auto it = doc.find("triggers"); it != doc.end()) ParseTriggers(*it);
  }

  void ParseLists(const json& j) {
    if (!j.is_object()) {
      Error("lists", "expected an object of named lists, found " + TypeName(j));
      return;
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string path = Key("lists", it.key());
      const std::string& name = it.key();
      bool name_ok = !name.empty() && name.size() <= 64;
      for (char c : name) name_ok &= (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
      if (!name_ok) {
        Error(path, "list names are 1-64 letters, digits, '_', '-' or '.'");
        continue;
      }
      if (!it->is_array()) {
        Error(path, "expected an array of strings, found " + TypeName(*it));
        continue;
      }
      list_entries_ += it->size();
      if (list_entries_ > kMaxListEntries) {
        Error(path, "lists hold more than " + std::to_string(kMaxListEntries) + " entries in total");
        return;
      }
      auto set = std::make_shared<StringSet>();
      set->reserve(it->size());
      for (size_t i = 0; i < it->size(); ++i) {
        const json& v = (*it)[i];
        if (!v.is_string()) {
          Error(Index(path, i), "expected a string, found " + TypeName(v));
          continue;
        }
        const std::string& s = v.get_ref<const std::string&>();
        if (s.empty() || s.size() > 256) {
          Error(Index(path, i), "entries are 1-256 characters");
          continue;
        }
        if (s[0] == '@') {
          Error(Index(path, i), "lists cannot reference other lists");
          continue;
        }
        set->insert(s);  // as written: checked and normalised where used as addresses (AddressList)
      }
      policy_.lists_[name] = std::move(set);
    }
  }

  void ParseRule(const json& j, size_t index) {
    const std::string path = Index("rules", index);
    if (!Object(j, path, {"id", "effect", "description", "keys", "agents", "match", "reason", "approval", "budgets"})) {
      return;
    }
    Rule rule;
    rule.index = index;
    rule.kinds = (1u << kKindCount) - 1;
    kinds_known_ = true;
    bool ok = true;
    if (auto it = j.find("id"); it == j.end()) {
      Error(path, "missing \"id\"");
      ok = false;
    } else if (auto id = String(*it, Key(path, "id"), 64)) {
      if (!ValidRuleId(*id)) {
        Error(Key(path, "id"), "rule ids are 1-64 letters, digits, '-', '_', '.' or ':'");
        ok = false;
      } else if (!rule_ids_.insert(*id).second) {
        Error(Key(path, "id"), "duplicate rule id \"" + *id + "\"");
        ok = false;
      } else {
        rule.id = *id;
      }
    } else {
      ok = false;
    }
    if (auto it = j.find("effect"); it == j.end()) {
      Error(path, "missing \"effect\" (allow, deny or require_approval)");
      ok = false;
    } else if (auto e = String(*it, Key(path, "effect"), 32)) {
      if (auto effect = ParseEffect(*e)) {
        rule.effect = *effect;
      } else {
        Error(Key(path, "effect"), "\"" + *e + "\" is not one of: allow, deny, require_approval");
        ok = false;
      }
    } else {
      ok = false;
    }
    if (auto it = j.find("description"); it != j.end()) {
      if (auto s = String(*it, Key(path, "description"))) rule.description = *s;
    }
    if (auto it = j.find("reason"); it != j.end()) {
      if (auto s = String(*it, Key(path, "reason"), 1000)) rule.reason = *s;
    }
    if (auto it = j.find("keys"); it != j.end()) {
      rule.keys = Names(*it, Key(path, "keys"));
      ok &= rule.keys != nullptr;
    }
    if (auto it = j.find("agents"); it != j.end()) {
      rule.agents = Names(*it, Key(path, "agents"));
      ok &= rule.agents != nullptr;
    }
    if (auto it = j.find("match"); it != j.end()) ParseMatch(*it, Key(path, "match"), rule);
    bool budget_wants_approval = false;
    if (auto it = j.find("budgets"); it != j.end()) {
      const std::string bpath = Key(path, "budgets");
      if (rule.effect == Effect::kDeny) {
        Error(bpath, "a deny rule has no budgets (budgets limit what allow and require_approval rules let through)");
      } else if (!it->is_array()) {
        Error(bpath, "expected an array, found " + TypeName(*it));
      } else {
        for (size_t i = 0; i < it->size(); ++i) {
          if (auto b = ParseBudget((*it)[i], Index(bpath, i), rule)) {
            budget_wants_approval |= b->on_exceed == Effect::kRequireApproval;
            rule.budgets.push_back(std::move(*b));
          }
        }
      }
    }
    if (auto it = j.find("approval"); it != j.end()) {
      const std::string apath = Key(path, "approval");
      if (rule.effect != Effect::kRequireApproval && !budget_wants_approval) {
        Error(apath, "only a require_approval rule, or a rule with a budget whose on_exceed is require_approval, "
                     "takes an approval block");
      } else {
        rule.approval = ParseApproval(*it, apath);
      }
    }
    if (rule.approval) rule.approval->rule_id = rule.id;
    if (ok) {
      policy_.rule_index_[rule.id] = policy_.rules_.size();
      policy_.rules_.push_back(std::move(rule));
    }
  }

  std::optional<ApprovalRequirement> ParseApproval(const json& j, const std::string& path) {
    if (!Object(j, path, {"quorum", "role", "second_factor", "expires"})) return std::nullopt;
    ApprovalRequirement a;
    if (auto it = j.find("quorum"); it != j.end()) {
      auto q = Unsigned(*it, Key(path, "quorum"), 16);
      if (q && *q == 0) Error(Key(path, "quorum"), "must be at least 1");
      if (q && *q > 0) a.quorum = static_cast<int>(*q);
    }
    if (auto it = j.find("role"); it != j.end()) {
      if (auto s = String(*it, Key(path, "role"), 32)) {
        if (s->empty()) {
          Error(Key(path, "role"), "must not be empty");
        } else {
          a.role = *s;
        }
      }
    }
    if (auto it = j.find("second_factor"); it != j.end()) {
      if (auto s = String(*it, Key(path, "second_factor"), 16)) {
        if (*s == "totp") {
          a.second_factor = SecondFactor::kTotp;
        } else if (*s == "none") {
          a.second_factor = SecondFactor::kNone;
        } else {
          Error(Key(path, "second_factor"), "\"" + *s + "\" is not one of: totp, none");
        }
      }
    }
    if (auto it = j.find("expires"); it != j.end()) {
      if (auto d = Duration(*it, Key(path, "expires"))) {
        if (*d > absl::Hours(24 * 30)) {
          Error(Key(path, "expires"), "an approval may be held at most 30d");
        } else {
          a.expires = *d;
        }
      }
    }
    return a;
  }

  // A max_value that may count lamports: also "1.5 sol" (10^9 lamports a
  // SOL) and "1500000000 lamports". With `lamports_only` (a Solana rule)
  // any other unit is an error: "1 ether" would be read as 10^18 lamports.
  std::optional<Uint256> NativeAmount(const json& j, const std::string& path, bool lamports_only) {
    if (j.is_string()) {
      absl::string_view text = absl::StripAsciiWhitespace(j.get_ref<const std::string&>());
      if (size_t space = text.find(' '); space != absl::string_view::npos) {
        const std::string unit = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text.substr(space + 1)));
        std::optional<unsigned> decimals;
        if (unit == "sol") decimals = 9;
        if (unit == "lamport" || unit == "lamports") decimals = 0;
        if (decimals) {
          auto v = Uint256::ParseScaled(std::string_view(text.data(), space), *decimals);
          if (!v.ok()) {
            Error(path, std::string(v.status().message()));
            return std::nullopt;
          }
          return *v;
        }
        if (lamports_only) {
          Error(path, "a solana_tx budget counts lamports: write \"1.5 sol\", \"1500000000 lamports\" or "
                      "\"1500000000\", not \"" + unit + "\"");
          return std::nullopt;
        }
      }
    }
    return Amount(j, path);
  }

  // `rule`: its kinds are parsed (ParseMatch runs first); max_spend needs
  // eth_tx alone, and max_value one native unit.
  std::optional<BudgetSpec> ParseBudget(const json& j, const std::string& path, const Rule& rule) {
    const uint32_t kinds = rule.kinds;
    if (!Object(j, path, {"window", "max_value", "max_spend", "max_amount", "max_count", "token", "scope", "on_exceed"})) {
      return std::nullopt;
    }
    BudgetSpec b;
    bool ok = true;
    if (auto it = j.find("window"); it == j.end()) {
      Error(path, "missing \"window\" (e.g. \"24h\")");
      ok = false;
    } else if (auto d = Duration(*it, Key(path, "window"), &b.window_text)) {
      b.window = *d;
    } else {
      ok = false;
    }
    if (auto it = j.find("max_value"); it != j.end()) {
      // Native value is wei for eth_tx and lamports for solana_tx. Evaluation
      // keeps the units in separate accounts, but one limit cannot mean
      // both, so a rule that can match both is refused (kStored keeps what
      // earlier releases accepted). Unknown kinds were reported already.
      const std::string vpath = Key(path, "max_value");
      const bool wei = (kinds & KindBit(Kind::kEthTx)) != 0;
      const bool lamports = (kinds & KindBit(Kind::kSolanaTx)) != 0;
      const bool strict = mode_ == ParseMode::kStrict && kinds_known_;
      b.max_value = lamports || !kinds_known_ ? NativeAmount(*it, vpath, strict && !wei) : Amount(*it, vpath);
      ok &= b.max_value.has_value();
      if (b.max_value && strict && wei && lamports) {
        Error(vpath, std::string("max_value counts wei for eth_tx and lamports for solana_tx, and one limit cannot be "
                                 "both; this rule ") +
                         (rule.kinds_named ? "matches both" : "names no kind, so it matches both") +
                         ": split it into a rule with \"kind\": \"eth_tx\" (a limit such as \"1 ether\") and one "
                         "with \"kind\": \"solana_tx\" (a limit such as \"5 sol\"), each with its own budgets");
        ok = false;
      }
    }
    if (auto it = j.find("max_spend"); it != j.end()) {
      b.max_spend = Amount(*it, Key(path, "max_spend"));
      ok &= b.max_spend.has_value();
      // Spend is wei an Ethereum transaction can take from the key. Other
      // kinds either spend in another unit (lamports: summing them with wei
      // would make the limit meaningless) or nothing a budget can bound (a
      // raw digest may be a transaction hash), so the rule must say eth_tx.
      // An invalid "kind" was reported already; the mask would mislead.
      constexpr uint32_t kEthTxOnly = KindBit(Kind::kEthTx);
      if (b.max_spend && kinds_known_ && kinds != kEthTxOnly) {
        std::string others;
        for (int k = 0; k < kKindCount; ++k) {
          if (k == static_cast<int>(Kind::kEthTx) || !((kinds >> k) & 1u)) continue;
          others += (others.empty() ? "" : ", ") + std::string(KindName(static_cast<Kind>(k)));
        }
        Error(Key(path, "max_spend"),
              "max_spend counts the wei an Ethereum transaction can spend (value + gas_limit x max_fee_per_gas or "
              "gas_price), so its rule must match \"kind\": \"eth_tx\" alone; this rule " +
                  (others.empty() ? std::string("matches no kind")
                                  : ((kinds & kEthTxOnly) ? "also covers " : "covers ") + others +
                                        " (put them in a rule of their own, with max_value or max_count)"));
        ok = false;
      }
    }
    if (auto it = j.find("max_amount"); it != j.end()) {
      b.max_amount = Amount(*it, Key(path, "max_amount"));
      ok &= b.max_amount.has_value();
    }
    if (auto it = j.find("max_count"); it != j.end()) {
      b.max_count = Unsigned(*it, Key(path, "max_count"));
      ok &= b.max_count.has_value();
    }
    if (!j.contains("max_value") && !j.contains("max_spend") && !j.contains("max_amount") && !j.contains("max_count")) {
      Error(path, "a budget needs at least one of max_value, max_spend, max_amount, max_count");
      ok = false;
    }
    if (auto it = j.find("token"); it != j.end()) {
      if (!j.contains("max_amount")) Error(Key(path, "token"), "\"token\" restricts max_amount; add max_amount");
      if (auto s = String(*it, Key(path, "token"), 128)) {
        if (absl::Status st = CheckAddressText(*s); !st.ok()) {
          Error(Key(path, "token"), std::string(st.message()));
          ok = false;
        } else {
          b.token = NormalizeAddress(*s);
        }
      } else {
        ok = false;
      }
    }
    if (auto it = j.find("scope"); it != j.end()) {
      if (auto s = String(*it, Key(path, "scope"), 16)) {
        bool found = false;
        for (BudgetScope sc : {BudgetScope::kRuleKey, BudgetScope::kRuleAgent, BudgetScope::kRule, BudgetScope::kKey,
                               BudgetScope::kAgent}) {
          if (*s == BudgetScopeName(sc)) {
            b.scope = sc;
            found = true;
          }
        }
        if (!found) {
          Error(Key(path, "scope"), "\"" + *s + "\" is not one of: rule+key, rule+agent, rule, key, agent");
          ok = false;
        }
      } else {
        ok = false;
      }
    }
    if (auto it = j.find("on_exceed"); it != j.end()) {
      if (auto s = String(*it, Key(path, "on_exceed"), 32)) {
        if (*s == "deny") {
          b.on_exceed = Effect::kDeny;
        } else if (*s == "require_approval") {
          b.on_exceed = Effect::kRequireApproval;
        } else {
          Error(Key(path, "on_exceed"), "\"" + *s + "\" is not one of: deny, require_approval");
          ok = false;
        }
      } else {
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return b;
  }

  // ---- match ------------------------------------------------------------

  void AddString(Rule& rule, const json& j, const std::string& path, std::string label, StringsGetter get,
                 bool addresses, AbsentValueGetter absent_value = nullptr) {
    if (auto m = Match(j, path, addresses)) {
      rule.conditions.push_back(
          MakeStringCondition(path, std::move(label), get, std::move(*m), WhenEmpty::kNoMatch, absent_value));
    }
  }

  void AddAmount(Rule& rule, const json& j, const std::string& path, std::string label, AmountsGetter get,
                 AmountStyle style) {
    if (auto b = Bounds(j, path)) {
      rule.conditions.push_back(MakeAmountCondition(path, std::move(label), get, *b, style));
    }
  }

  void AddBool(Rule& rule, const json& j, const std::string& path, std::string label, BoolGetter get) {
    if (auto b = Bool(j, path)) rule.conditions.push_back(MakeBoolCondition(path, std::move(label), get, *b));
  }

  void ParseMatch(const json& j, const std::string& path, Rule& rule) {
    if (!Object(j, path,
                {"kind", "chain_id", "allow_no_chain_id", "to", "from", "value", "nonce", "gas_limit",
                 "max_fee_per_gas", "max_priority_fee_per_gas", "method", "calldata", "erc20", "typed_data", "domain",
                 "primary_type", "permit", "nostr", "event_kind", "tags", "solana", "time", "risk_score"})) {
      kinds_known_ = false;  // the match was not read, so neither was its "kind"
      return;
    }
    if (auto it = j.find("kind"); it != j.end()) {
      const std::string kpath = Key(path, "kind");
      kinds_known_ = false;
      if (auto sets = Sets(*it, kpath, false)) {
        uint32_t mask = 0;
        kinds_known_ = true;
        for (const NamedSet& s : *sets) {
          for (const std::string& name : *s.set) {
            if (auto k = ParseKind(name)) {
              mask |= 1u << static_cast<int>(*k);
            } else {
              kinds_known_ = false;
              Error(kpath, "\"" + name + "\" is not one of: eth_tx, eth_message, eth_typed_data, nostr_event, "
                                         "solana_tx, raw_digest");
            }
          }
        }
        rule.kinds = mask;
        rule.kinds_named = true;
      }
    }
    if (auto it = j.find("allow_no_chain_id"); it != j.end()) {
      if (auto b = Bool(*it, Key(path, "allow_no_chain_id"))) rule.allow_no_chain_id = *b;
    }
    if (auto it = j.find("chain_id"); it != j.end()) {
      if (auto n = Numbers(*it, Key(path, "chain_id"))) {
        rule.conditions.push_back(MakeIntSetCondition(Key(path, "chain_id"), "chain id", GetChainId, std::move(*n),
                                                      rule.allow_no_chain_id));
      }
    }
    if (auto it = j.find("to"); it != j.end()) AddString(rule, *it, Key(path, "to"), "recipient", GetTo, true, IsContractCreation);
    if (auto it = j.find("from"); it != j.end()) AddString(rule, *it, Key(path, "from"), "sender", GetFrom, true);
    if (auto it = j.find("value"); it != j.end()) {
      AddAmount(rule, *it, Key(path, "value"), "value", GetValue, AmountStyle::kWei);
    }
    if (auto it = j.find("nonce"); it != j.end()) {
      AddAmount(rule, *it, Key(path, "nonce"), "nonce", GetNonce, AmountStyle::kPlain);
    }
    if (auto it = j.find("gas_limit"); it != j.end()) {
      AddAmount(rule, *it, Key(path, "gas_limit"), "gas limit", GetGasLimit, AmountStyle::kPlain);
    }
    if (auto it = j.find("max_fee_per_gas"); it != j.end()) {
      AddAmount(rule, *it, Key(path, "max_fee_per_gas"), "max fee per gas", GetMaxFee, AmountStyle::kWei);
    }
    if (auto it = j.find("max_priority_fee_per_gas"); it != j.end()) {
      AddAmount(rule, *it, Key(path, "max_priority_fee_per_gas"), "max priority fee per gas", GetMaxPriorityFee,
                AmountStyle::kWei);
    }
    if (auto it = j.find("method"); it != j.end()) ParseMethod(*it, Key(path, "method"), rule);
    if (auto it = j.find("calldata"); it != j.end()) {
      AddBool(rule, *it, Key(path, "calldata"), "calldata presence", GetCalldata);
    }
    if (auto it = j.find("erc20"); it != j.end()) ParseErc20(*it, Key(path, "erc20"), rule);
    if (auto it = j.find("typed_data"); it != j.end()) {
      const std::string tpath = Key(path, "typed_data");
      if (Object(*it, tpath, {"domain", "primary_type", "permit"})) ParseTypedData(*it, tpath, rule);
    }
    ParseTypedData(j, path, rule);
    if (auto it = j.find("nostr"); it != j.end()) {
      const std::string npath = Key(path, "nostr");
      if (Object(*it, npath, {"event_kind", "tags"})) ParseNostr(*it, npath, rule);
    }
    ParseNostr(j, path, rule);
    if (auto it = j.find("solana"); it != j.end()) ParseSolana(*it, Key(path, "solana"), rule);
    if (auto it = j.find("time"); it != j.end()) ParseTime(*it, Key(path, "time"), rule);
    if (auto it = j.find("risk_score"); it != j.end()) ParseRiskScore(*it, Key(path, "risk_score"), rule);
  }

  void ParseMethod(const json& j, const std::string& path, Rule& rule) {
    auto selectors = std::make_shared<StringSet>();
    auto one = [&](const json& v, const std::string& p) {
      auto s = String(v, p, 512);
      if (!s) return;
      auto sel = MethodSelector(*s);
      if (!sel.ok()) {
        Error(p, std::string(sel.status().message()));
        return;
      }
      selectors->insert(*sel);
    };
    if (j.is_array()) {
      if (j.empty()) Error(path, "an empty list matches nothing");
      for (size_t i = 0; i < j.size(); ++i) one(j[i], Index(path, i));
    } else {
      one(j, path);
    }
    if (selectors->empty()) return;
    StringMatch m;
    m.in.push_back(NamedSet{"", std::move(selectors)});
    rule.conditions.push_back(MakeStringCondition(path, "method selector", GetMethod, std::move(m)));
  }

  void ParseErc20(const json& j, const std::string& path, Rule& rule) {
    if (!Object(j, path, {"token", "method", "from", "to", "amount", "unlimited"})) return;
    if (auto it = j.find("token"); it != j.end()) {
      AddString(rule, *it, Key(path, "token"), "token", GetErc20Token, true);
    }
    if (auto it = j.find("method"); it != j.end()) {
      if (auto m = Words(*it, Key(path, "method"), {"transfer", "transferFrom", "approve"})) {
        rule.conditions.push_back(MakeStringCondition(Key(path, "method"), "ERC-20 method", GetErc20Method, std::move(*m)));
      }
    }
    if (auto it = j.find("from"); it != j.end()) {
      AddString(rule, *it, Key(path, "from"), "ERC-20 sender", GetErc20From, true);
    }
    if (auto it = j.find("to"); it != j.end()) {
      AddString(rule, *it, Key(path, "to"), "ERC-20 recipient/spender", GetErc20To, true);
    }
    if (auto it = j.find("amount"); it != j.end()) {
      AddAmount(rule, *it, Key(path, "amount"), "token amount", GetErc20Amount, AmountStyle::kPlain);
    }
    if (auto it = j.find("unlimited"); it != j.end()) {
      AddBool(rule, *it, Key(path, "unlimited"), "unlimited approval", GetErc20Unlimited);
    }
  }

  // domain / primary_type / permit, found either directly in `match` or
  // under `match.typed_data`.
  void ParseTypedData(const json& j, const std::string& path, Rule& rule) {
    if (auto it = j.find("domain"); it != j.end()) {
      const std::string dpath = Key(path, "domain");
      if (Object(*it, dpath, {"name", "version", "chain_id", "verifying_contract"})) {
        if (auto f = it->find("name"); f != it->end()) {
          AddString(rule, *f, Key(dpath, "name"), "domain name", GetDomainName, false);
        }
        if (auto f = it->find("version"); f != it->end()) {
          AddString(rule, *f, Key(dpath, "version"), "domain version", GetDomainVersion, false);
        }
        if (auto f = it->find("chain_id"); f != it->end()) {
          if (auto n = Numbers(*f, Key(dpath, "chain_id"))) {
            rule.conditions.push_back(
                MakeIntSetCondition(Key(dpath, "chain_id"), "domain chain id", GetDomainChainId, std::move(*n)));
          }
        }
        if (auto f = it->find("verifying_contract"); f != it->end()) {
          AddString(rule, *f, Key(dpath, "verifying_contract"), "verifying contract", GetVerifyingContract, true);
        }
      }
    }
    if (auto it = j.find("primary_type"); it != j.end()) {
      AddString(rule, *it, Key(path, "primary_type"), "primary type", GetPrimaryType, false);
    }
    if (auto it = j.find("permit"); it != j.end()) {
      const std::string ppath = Key(path, "permit");
      if (!Object(*it, ppath, {"kind", "token", "spender", "amount", "deadline", "max_deadline_in", "unlimited"})) {
        return;
      }
      if (auto f = it->find("kind"); f != it->end()) ParsePermitKind(*f, Key(ppath, "kind"), rule);
      if (auto f = it->find("token"); f != it->end()) {
        AddString(rule, *f, Key(ppath, "token"), "permit token", GetPermitToken, true);
      }
      if (auto f = it->find("spender"); f != it->end()) {
        AddString(rule, *f, Key(ppath, "spender"), "permit spender", GetPermitSpender, true);
      }
      if (auto f = it->find("amount"); f != it->end()) {
        AddAmount(rule, *f, Key(ppath, "amount"), "permit amount", GetPermitAmount, AmountStyle::kPlain);
      }
      if (auto f = it->find("deadline"); f != it->end()) {
        AddAmount(rule, *f, Key(ppath, "deadline"), "permit deadline", GetPermitDeadline, AmountStyle::kPlain);
      }
      if (auto f = it->find("max_deadline_in"); f != it->end()) {
        if (auto d = Duration(*f, Key(ppath, "max_deadline_in"))) {
          rule.conditions.push_back(MakePermitDeadlineWithinCondition(Key(ppath, "max_deadline_in"), *d));
        }
      }
      if (auto f = it->find("unlimited"); f != it->end()) {
        AddBool(rule, *f, Key(ppath, "unlimited"), "unlimited permit", GetPermitUnlimited);
      }
    }
  }

  // permit.kind: families ("permit2") match each of their variants
  // ("permit2_batch", ...), which is what the core reports.
  void ParsePermitKind(const json& j, const std::string& path, Rule& rule) {
    auto sets = Sets(j, path, false);
    if (!sets) return;
    auto expanded = std::make_shared<StringSet>();
    for (const NamedSet& s : *sets) {
      for (const std::string& v : *s.set) {
        std::vector<std::string_view> matching = PermitKindsMatching(v);
        if (matching.empty()) {
          Error(path, "\"" + v + "\" is not one of: " + PermitKindNames());
          return;
        }
        for (std::string_view m : matching) expanded->insert(std::string(m));
      }
    }
    StringMatch m;
    m.in.push_back(NamedSet{"", std::move(expanded)});
    rule.conditions.push_back(MakeStringCondition(path, "permit kind", GetPermitKind, std::move(m)));
  }

  // event_kind / tags, directly in `match` or under `match.nostr`.
  void ParseNostr(const json& j, const std::string& path, Rule& rule) {
    if (auto it = j.find("event_kind"); it != j.end()) {
      if (auto n = Numbers(*it, Key(path, "event_kind"))) {
        rule.conditions.push_back(MakeIntSetCondition(Key(path, "event_kind"), "event kind", GetNostrKind, std::move(*n)));
      }
    }
    if (auto it = j.find("tags"); it != j.end()) {
      const std::string tpath = Key(path, "tags");
      if (!it->is_object()) {
        Error(tpath, "expected an object of tag conditions such as {\"p\": {\"in\": \"@friends\"}}, found " +
                         TypeName(*it));
        return;
      }
      for (auto t = it->begin(); t != it->end(); ++t) {
        if (t.key().empty() || t.key().size() > 64) {
          Error(Key(tpath, t.key()), "tag names are 1-64 characters");
          continue;
        }
        if (auto m = Match(t.value(), Key(tpath, t.key()), false)) {
          // Tag values compare normalised (hex pubkeys and ids in any case).
          for (NamedSet& n : m->in) n.set = Normalized(n.set);
          for (NamedSet& n : m->not_in) n.set = Normalized(n.set);
          rule.conditions.push_back(MakeNostrTagCondition(Key(tpath, t.key()), t.key(), std::move(*m)));
        }
      }
    }
  }

  void ParseSolana(const json& j, const std::string& path, Rule& rule) {
    if (!Object(j, path, {"program", "to", "amount", "mint"})) return;
    if (auto it = j.find("program"); it != j.end()) {
      const std::string ppath = Key(path, "program");
      // Replace aliases ("system") by program ids before building the set.
      json resolved = *it;
      auto resolve = [](json& v) {
        if (!v.is_string()) return;
        for (const ProgramAlias& a : kProgramAliases) {
          if (v.get<std::string>() == a.alias) v = std::string(a.id);
        }
      };
      if (resolved.is_array()) {
        for (json& v : resolved) resolve(v);
      } else if (resolved.is_object()) {
        for (const char* f : {"in", "not_in"}) {
          if (auto x = resolved.find(f); x != resolved.end()) {
            if (x->is_array()) {
              for (json& v : *x) resolve(v);
            } else {
              resolve(*x);
            }
          }
        }
      } else {
        resolve(resolved);
      }
      AddString(rule, resolved, ppath, "program", GetSolanaPrograms, true);
    }
    if (auto it = j.find("to"); it != j.end()) AddString(rule, *it, Key(path, "to"), "transfer recipient", GetSolanaTo, true);
    if (auto it = j.find("mint"); it != j.end()) AddString(rule, *it, Key(path, "mint"), "transfer mint", GetSolanaMint, true);
    if (auto it = j.find("amount"); it != j.end()) {
      AddAmount(rule, *it, Key(path, "amount"), "transfer amount", GetSolanaAmount, AmountStyle::kPlain);
    }
  }

  void ParseTime(const json& j, const std::string& path, Rule& rule) {
    if (!Object(j, path, {"days", "hours"})) return;
    TimeWindow w;
    bool ok = true;
    if (auto it = j.find("days"); it != j.end()) {
      static constexpr std::string_view kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
      const std::string dpath = Key(path, "days");
      if (!it->is_array() || it->empty()) {
        Error(dpath, "expected a non-empty array such as [\"mon\", \"tue\"]");
        ok = false;
      } else {
        w.days_mask = 0;
        for (size_t i = 0; i < it->size(); ++i) {
          auto s = String((*it)[i], Index(dpath, i), 16);
          if (!s) {
            ok = false;
            continue;
          }
          std::string lower = *s;
          for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          bool found = false;
          for (int d = 0; d < 7; ++d) {
            if (lower == kDays[d]) {
              w.days_mask |= static_cast<uint8_t>(1u << d);
              found = true;
            }
          }
          if (!found) {
            Error(Index(dpath, i), "\"" + *s + "\" is not one of: mon, tue, wed, thu, fri, sat, sun");
            ok = false;
          }
        }
      }
    }
    if (auto it = j.find("hours"); it != j.end()) {
      const std::string hpath = Key(path, "hours");
      if (Object(*it, hpath, {"from", "to"})) {
        std::optional<uint64_t> from, to;
        if (auto f = it->find("from"); f != it->end()) from = Unsigned(*f, Key(hpath, "from"), 23);
        if (auto t = it->find("to"); t != it->end()) to = Unsigned(*t, Key(hpath, "to"), 24);
        if (!it->contains("from") || !it->contains("to")) Error(hpath, "needs both \"from\" and \"to\" (UTC hours)");
        if (from && to) {
          if (from.value() == to.value()) {
            Error(hpath, "\"from\" and \"to\" are equal; the window would be empty");
            ok = false;
          } else {
            w.hour_from = static_cast<int>(from.value());
            w.hour_to = static_cast<int>(to.value());
          }
        } else {
          ok = false;
        }
      } else {
        ok = false;
      }
    }
    if (ok) rule.conditions.push_back(MakeTimeWindowCondition(path, w));
  }

  void ParseRiskScore(const json& j, const std::string& path, Rule& rule) {
    if (!Object(j, path, {"lt", "lte", "gt", "gte"})) return;
    if (j.empty()) {
      Error(path, "needs at least one of lt, lte, gt, gte");
      return;
    }
    std::optional<int> v[4];
    const char* names[4] = {"lt", "lte", "gt", "gte"};
    bool ok = true;
    for (int i = 0; i < 4; ++i) {
      if (auto it = j.find(names[i]); it != j.end()) {
        auto n = Unsigned(*it, Key(path, names[i]), 100);
        if (n) {
          v[i] = static_cast<int>(*n);
        } else {
          ok = false;
        }
      }
    }
    if (ok) rule.conditions.push_back(MakeRiskScoreCondition(path, v[0], v[1], v[2], v[3]));
  }

  // ---- rate limits and triggers ------------------------------------------

  void ParseRateLimits(const json& j) {
    if (!j.is_array()) {
      Error("rate_limits", "expected an array, found " + TypeName(j));
      return;
    }
    for (size_t i = 0; i < j.size(); ++i) {
      const std::string path = Index("rate_limits", i);
      const json& r = j[i];
      if (!Object(r, path, {"scope", "keys", "agents", "per", "max"})) continue;
      RateLimitSpec spec;
      bool ok = true;
      if (auto it = r.find("scope"); it != r.end()) {
        if (auto s = String(*it, Key(path, "scope"), 16)) {
          if (*s == "agent") {
            spec.scope = RateLimitSpec::Scope::kAgent;
          } else if (*s == "key") {
            spec.scope = RateLimitSpec::Scope::kKey;
          } else {
            Error(Key(path, "scope"), "\"" + *s + "\" is not one of: agent, key");
            ok = false;
          }
        } else {
          ok = false;
        }
      }
      if (auto it = r.find("keys"); it != r.end()) {
        spec.keys = Names(*it, Key(path, "keys"));
        ok &= spec.keys != nullptr;
      }
      if (auto it = r.find("agents"); it != r.end()) {
        spec.agents = Names(*it, Key(path, "agents"));
        ok &= spec.agents != nullptr;
      }
      if (auto it = r.find("per"); it == r.end()) {
        Error(path, "missing \"per\" (e.g. \"1m\")");
        ok = false;
      } else if (auto d = Duration(*it, Key(path, "per"), &spec.per_text)) {
        spec.per = *d;
      } else {
        ok = false;
      }
      if (auto it = r.find("max"); it == r.end()) {
        Error(path, "missing \"max\" (requests per period)");
        ok = false;
      } else if (auto m = Unsigned(*it, Key(path, "max"), 1000000)) {
        if (*m == 0) {
          Error(Key(path, "max"), "must be at least 1 (use a deny rule to refuse everything)");
          ok = false;
        } else {
          spec.max = *m;
        }
      } else {
        ok = false;
      }
      if (ok) policy_.rate_limits_.push_back(std::move(spec));
    }
  }

  void ParseTriggers(const json& j) {
    if (!j.is_array()) {
      Error("triggers", "expected an array, found " + TypeName(j));
      return;
    }
    for (size_t i = 0; i < j.size(); ++i) {
      const std::string path = Index("triggers", i);
      const json& t = j[i];
      if (!Object(t, path, {"on", "count", "within", "gte", "action"})) continue;
      TriggerSpec spec;
      bool ok = true;
      std::optional<std::string> on;
      if (auto it = t.find("on"); it == t.end()) {
        Error(path, "missing \"on\" (denials or risk_score)");
        ok = false;
      } else {
        on = String(*it, Key(path, "on"), 32);
      }
      if (on && *on == "denials") {
        spec.on = TriggerSpec::On::kDenials;
        if (auto it = t.find("count"); it == t.end()) {
          Error(path, "missing \"count\"");
          ok = false;
        } else if (auto c = Unsigned(*it, Key(path, "count"), 100000); c && *c > 0) {
          spec.count = static_cast<uint32_t>(*c);
        } else {
          if (c) Error(Key(path, "count"), "must be at least 1");
          ok = false;
        }
        if (auto it = t.find("within"); it == t.end()) {
          Error(path, "missing \"within\" (e.g. \"10m\")");
          ok = false;
        } else if (auto d = Duration(*it, Key(path, "within"), &spec.within_text)) {
          spec.within = *d;
        } else {
          ok = false;
        }
        if (t.contains("gte")) Error(Key(path, "gte"), "\"gte\" belongs to an \"on\": \"risk_score\" trigger");
      } else if (on && *on == "risk_score") {
        spec.on = TriggerSpec::On::kRiskScore;
        if (auto it = t.find("gte"); it == t.end()) {
          Error(path, "missing \"gte\" (a score 0-100)");
          ok = false;
        } else if (auto g = Unsigned(*it, Key(path, "gte"), 100)) {
          spec.score_gte = static_cast<int>(*g);
        } else {
          ok = false;
        }
        if (t.contains("count")) Error(Key(path, "count"), "\"count\" belongs to an \"on\": \"denials\" trigger");
        if (t.contains("within")) Error(Key(path, "within"), "\"within\" belongs to an \"on\": \"denials\" trigger");
      } else if (on) {
        Error(Key(path, "on"), "\"" + *on + "\" is not one of: denials, risk_score");
        ok = false;
      } else {
        ok = false;
      }
      if (auto it = t.find("action"); it == t.end()) {
        Error(path, "missing \"action\" (suspend_agent, lockdown or alert)");
        ok = false;
      } else if (auto a = String(*it, Key(path, "action"), 32)) {
        if (*a == "suspend_agent") {
          spec.action = TriggerAction::kSuspendAgent;
        } else if (*a == "lockdown") {
          spec.action = TriggerAction::kLockdown;
        } else if (*a == "alert") {
          spec.action = TriggerAction::kAlert;
        } else {
          Error(Key(path, "action"), "\"" + *a + "\" is not one of: suspend_agent, lockdown, alert");
          ok = false;
        }
      } else {
        ok = false;
      }
      if (ok) policy_.triggers_.push_back(spec);
    }
  }

  std::string_view text_;
  ParseMode mode_;
  // False while parsing a rule whose match or "kind" was invalid (already
  // reported): its kind mask says nothing, so budgets do not check it.
  bool kinds_known_ = true;
  std::vector<PolicyError> errors_;
  Policy policy_;
  size_t list_entries_ = 0;
  absl::flat_hash_set<std::string> rule_ids_;
  // list name -> the list normalised for use as addresses (null: not addresses)
  absl::flat_hash_map<std::string, std::shared_ptr<const StringSet>> address_lists_;
};

absl::StatusOr<Policy> Policy::Parse(std::string_view json_text, std::vector<PolicyError>* errors, ParseMode mode) {
  PolicyParser parser(json_text, mode);
  return parser.Run(errors);
}

}  // namespace sigil::policy
