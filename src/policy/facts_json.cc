#include "policy/facts_json.h"

#include <algorithm>
#include <cctype>

#include "base/hex.h"
#include "base/status.h"
#include "chains/ethereum/abi_type.h"
#include "chains/ethereum/erc20.h"
#include "crypto/hash.h"
#include "policy/address_text.h"

namespace sigil::policy {

using nlohmann::json;

namespace {

absl::Status Bad(const std::string& path, const std::string& why) {
  return absl::InvalidArgumentError(path + ": " + why);
}

std::string Sub(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

absl::Status Fields(const json& j, const std::string& path, std::initializer_list<std::string_view> allowed,
                    std::initializer_list<std::string_view> extra = {}) {
  if (!j.is_object()) return Bad(path.empty() ? "facts" : path, "expected an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end() ||
              std::find(extra.begin(), extra.end(), it.key()) != extra.end();
    if (!ok) return Bad(Sub(path, it.key()), "unknown field");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Str(const json& j, const std::string& path) {
  if (!j.is_string()) return Bad(path, "expected a string");
  std::string s = j.get<std::string>();
  if (s.size() > 4096) return Bad(path, "longer than 4096 characters");
  return s;
}

absl::StatusOr<std::string> Addr(const json& j, const std::string& path) {
  ASSIGN_OR_RETURN(std::string s, Str(j, path));
  if (absl::Status st = CheckAddressText(s); !st.ok()) return Bad(path, std::string(st.message()));
  return NormalizeAddress(s);
}

absl::StatusOr<Uint256> Amount(const json& j, const std::string& path) {
  if (j.is_number_float()) return Bad(path, j.dump() + " is a JSON float; write amounts as strings");
  if (j.is_number_unsigned()) return Uint256(j.get<uint64_t>());
  if (j.is_number_integer()) return Bad(path, "amounts cannot be negative");
  if (!j.is_string()) return Bad(path, "expected an amount string such as \"0.5 ether\"");
  auto v = Uint256::ParseAmount(j.get<std::string>());
  if (!v.ok()) return Bad(path, std::string(v.status().message()));
  return *v;
}

absl::StatusOr<uint64_t> U64(const json& j, const std::string& path) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer() && j.get<int64_t>() >= 0) return static_cast<uint64_t>(j.get<int64_t>());
  if (j.is_string()) {
    auto v = Uint256::ParseInteger(j.get<std::string>());
    if (v.ok() && v->FitsUint64()) return v->Low64();
  }
  return Bad(path, "expected a whole number");
}

absl::StatusOr<bool> Bool(const json& j, const std::string& path) {
  if (!j.is_boolean()) return Bad(path, "expected true or false");
  return j.get<bool>();
}

constexpr std::pair<std::string_view, std::string_view> kPrograms[] = {
    {"system", kSolanaSystemProgram},
    {"spl_token", "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"},
    {"token_2022", "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"},
    {"associated_token", "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"},
    {"compute_budget", "ComputeBudget111111111111111111111111111111"},
    {"memo", "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"},
};

std::string Program(std::string s) {
  for (const auto& [alias, id] : kPrograms) {
    if (s == alias) return std::string(id);
  }
  return s;
}

}  // namespace

absl::StatusOr<std::string> MethodSelector(std::string_view text) {
  std::string sig(text);
  if (sig.size() == 10 && sig[0] == '0' && (sig[1] == 'x' || sig[1] == 'X')) {
    if (!HexDecode(sig).ok()) return absl::InvalidArgumentError("\"" + sig + "\" is not a hex selector");
    return NormalizeAddress(sig);
  }
  size_t open = sig.find('(');
  if (open == std::string::npos || open == 0 || sig.back() != ')') {
    return absl::InvalidArgumentError("\"" + sig.substr(0, 80) +
                                      "\" is neither a 4-byte selector (\"0xa9059cbb\") nor a signature "
                                      "(\"transfer(address,uint256)\")");
  }
  for (size_t i = 0; i < open; ++i) {
    char c = sig[i];
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
    if (!ok || (i == 0 && std::isdigit(static_cast<unsigned char>(c)))) {
      return absl::InvalidArgumentError("\"" + sig.substr(0, 80) + "\" has an invalid function name");
    }
  }
  if (sig.find_first_of(" \t") != std::string::npos) {
    return absl::InvalidArgumentError(
        "\"" + sig.substr(0, 80) +
        "\" contains a space; write the canonical signature without spaces or parameter names, e.g. "
        "\"transfer(address,uint256)\"");
  }
  if (absl::Status st = eth::CheckAbiParameterList(std::string_view(sig).substr(open)); !st.ok()) {
    return absl::InvalidArgumentError("\"" + sig.substr(0, 80) + "\" is not a canonical signature: " +
                                      std::string(st.message()) +
                                      "; the selector would match no function (e.g. \"transfer(address,uint256)\")");
  }
  crypto::Hash256 h = crypto::Keccak256(AsBytes(sig));
  return HexEncode0x(std::span<const uint8_t>(h.data(), 4));
}

absl::StatusOr<Facts> FactsFromJson(const json& j, const std::string& path,
                                    std::initializer_list<std::string_view> extra) {
  RETURN_IF_ERROR(Fields(j, path,
                         {"kind", "key", "agent", "chain_id", "from", "to", "value", "nonce", "gas_limit",
                          "max_fee_per_gas", "max_priority_fee_per_gas", "gas_price", "method", "calldata", "erc20",
                          "typed_data", "nostr", "solana", "risk_score", "time"},
                         extra));
  Facts f;
  auto it = j.find("kind");
  if (it == j.end()) return Bad(Sub(path, "kind"), "missing");
  ASSIGN_OR_RETURN(std::string kind, Str(*it, Sub(path, "kind")));
  auto k = ParseKind(kind);
  if (!k) return Bad(Sub(path, "kind"), "\"" + kind + "\" is not a kind");
  f.kind = *k;
  if (auto x = j.find("key"); x != j.end()) {
    ASSIGN_OR_RETURN(f.key, Str(*x, Sub(path, "key")));
  }
  if (auto x = j.find("agent"); x != j.end()) {
    ASSIGN_OR_RETURN(f.agent, Str(*x, Sub(path, "agent")));
  }
  if (auto x = j.find("chain_id"); x != j.end() && !x->is_null()) {
    ASSIGN_OR_RETURN(f.chain_id, U64(*x, Sub(path, "chain_id")));
  }
  if (auto x = j.find("from"); x != j.end()) {
    ASSIGN_OR_RETURN(f.from, Addr(*x, Sub(path, "from")));
  }
  if (auto x = j.find("to"); x != j.end() && !x->is_null()) {
    ASSIGN_OR_RETURN(f.to, Addr(*x, Sub(path, "to")));
  }
  if (auto x = j.find("value"); x != j.end()) {
    ASSIGN_OR_RETURN(f.value, Amount(*x, Sub(path, "value")));
  }
  if (auto x = j.find("nonce"); x != j.end()) {
    ASSIGN_OR_RETURN(f.nonce, U64(*x, Sub(path, "nonce")));
  }
  if (auto x = j.find("gas_limit"); x != j.end()) {
    ASSIGN_OR_RETURN(f.gas_limit, Amount(*x, Sub(path, "gas_limit")));
  }
  if (auto x = j.find("max_fee_per_gas"); x != j.end()) {
    ASSIGN_OR_RETURN(f.max_fee_per_gas, Amount(*x, Sub(path, "max_fee_per_gas")));
  }
  if (auto x = j.find("max_priority_fee_per_gas"); x != j.end()) {
    ASSIGN_OR_RETURN(f.max_priority_fee_per_gas, Amount(*x, Sub(path, "max_priority_fee_per_gas")));
  }
  if (auto x = j.find("gas_price"); x != j.end()) {
    ASSIGN_OR_RETURN(f.gas_price, Amount(*x, Sub(path, "gas_price")));
  }
  if (auto x = j.find("method"); x != j.end()) {
    ASSIGN_OR_RETURN(std::string m, Str(*x, Sub(path, "method")));
    auto sel = MethodSelector(m);
    if (!sel.ok()) return Bad(Sub(path, "method"), std::string(sel.status().message()));
    f.method_selector = *sel;
    f.has_calldata = true;
  }
  if (auto x = j.find("calldata"); x != j.end()) {
    ASSIGN_OR_RETURN(f.has_calldata, Bool(*x, Sub(path, "calldata")));
  }
  if (auto x = j.find("erc20"); x != j.end()) {
    const std::string p = Sub(path, "erc20");
    RETURN_IF_ERROR(Fields(*x, p, {"token", "method", "from", "to", "amount", "unlimited"}));
    Erc20Facts e;
    if (!x->contains("token") || !x->contains("method") || !x->contains("to")) {
      return Bad(p, "needs token, method and to");
    }
    ASSIGN_OR_RETURN(e.token, Addr((*x)["token"], Sub(p, "token")));
    ASSIGN_OR_RETURN(std::string method, Str((*x)["method"], Sub(p, "method")));
    auto m = ParseErc20Method(method);
    if (!m) return Bad(Sub(p, "method"), "\"" + method + "\" is not transfer, transferFrom or approve");
    e.method = *m;
    if (x->contains("from")) {
      ASSIGN_OR_RETURN(e.from, Addr((*x)["from"], Sub(p, "from")));
    }
    ASSIGN_OR_RETURN(e.to, Addr((*x)["to"], Sub(p, "to")));
    if (x->contains("amount")) {
      ASSIGN_OR_RETURN(e.amount, Amount((*x)["amount"], Sub(p, "amount")));
    }
    if (x->contains("unlimited")) {
      ASSIGN_OR_RETURN(e.unlimited, Bool((*x)["unlimited"], Sub(p, "unlimited")));
      if (e.unlimited && e.method != Erc20Method::kApprove) {
        return Bad(Sub(p, "unlimited"), "only an approve is unlimited (a transfer moves its amount)");
      }
    }
    // As the core decodes a call (eth::DecodeErc20Call): only an approve is unlimited.
    if (e.method == Erc20Method::kApprove && eth::IsUnlimitedApproval(e.amount)) e.unlimited = true;
    if (!f.to) f.to = e.token;
    if (!f.method_selector) {
      static constexpr std::string_view kSelectors[] = {"0xa9059cbb", "0x23b872dd", "0x095ea7b3"};
      f.method_selector = std::string(kSelectors[static_cast<int>(e.method)]);
      f.has_calldata = true;
    }
    f.erc20 = std::move(e);
  }
  if (auto x = j.find("typed_data"); x != j.end()) {
    const std::string p = Sub(path, "typed_data");
    RETURN_IF_ERROR(Fields(*x, p, {"domain", "primary_type", "permit"}));
    TypedDataFacts t;
    if (auto d = x->find("domain"); d != x->end()) {
      const std::string dp = Sub(p, "domain");
      RETURN_IF_ERROR(Fields(*d, dp, {"name", "version", "chain_id", "verifying_contract"}));
      if (d->contains("name")) {
        ASSIGN_OR_RETURN(t.domain_name, Str((*d)["name"], Sub(dp, "name")));
      }
      if (d->contains("version")) {
        ASSIGN_OR_RETURN(t.domain_version, Str((*d)["version"], Sub(dp, "version")));
      }
      if (d->contains("chain_id")) {
        ASSIGN_OR_RETURN(t.domain_chain_id, U64((*d)["chain_id"], Sub(dp, "chain_id")));
      }
      if (d->contains("verifying_contract")) {
        ASSIGN_OR_RETURN(t.verifying_contract, Addr((*d)["verifying_contract"], Sub(dp, "verifying_contract")));
      }
    }
    if (x->contains("primary_type")) {
      ASSIGN_OR_RETURN(t.primary_type, Str((*x)["primary_type"], Sub(p, "primary_type")));
    }
    if (auto pm = x->find("permit"); pm != x->end()) {
      const std::string pp = Sub(p, "permit");
      RETURN_IF_ERROR(Fields(*pm, pp,
                             {"kind", "token", "spender", "amount", "deadline", "unlimited", "expiration", "allowances"}));
      PermitFacts permit;
      permit.kind = "eip2612";
      if (pm->contains("kind")) {
        ASSIGN_OR_RETURN(permit.kind, Str((*pm)["kind"], Sub(pp, "kind")));
        if (!PermitKindFamily(permit.kind)) {
          return Bad(Sub(pp, "kind"), "\"" + permit.kind + "\" is not one of: " + PermitKindNames());
        }
      }
      // "permit" is EIP-2612, the one variant of its family.
      if (permit.kind == "permit") permit.kind = "eip2612";
      // One allowance: {token, amount, unlimited}; the token defaults to the
      // verifying contract (EIP-2612 and DAI permits).
      auto allowance = [&](const json& a, const std::string& ap) -> absl::StatusOr<PermitAllowance> {
        PermitAllowance out;
        if (a.contains("token")) {
          ASSIGN_OR_RETURN(out.token, Addr(a["token"], Sub(ap, "token")));
        } else if (t.verifying_contract) {
          out.token = *t.verifying_contract;
        }
        if (a.contains("amount")) {
          ASSIGN_OR_RETURN(out.amount, Amount(a["amount"], Sub(ap, "amount")));
        }
        if (a.contains("unlimited")) {
          ASSIGN_OR_RETURN(out.unlimited, Bool(a["unlimited"], Sub(ap, "unlimited")));
        }
        if (a.contains("expiration")) {
          ASSIGN_OR_RETURN(out.expiration, Amount(a["expiration"], Sub(ap, "expiration")));
        }
        // The core's rule (chains/ethereum/permit.h): half the amount type's range.
        if (eth::IsUnlimitedAmount(out.amount, PermitKindFamily(permit.kind) == "permit2" ? 160 : 256)) {
          out.unlimited = true;
        }
        return out;
      };
      if (auto list = pm->find("allowances"); list != pm->end()) {
        const std::string lp = Sub(pp, "allowances");
        for (const char* k : {"token", "amount", "unlimited", "expiration"}) {
          if (pm->contains(k)) return Bad(Sub(pp, k), "give it per entry under \"allowances\"");
        }
        if (!list->is_array() || list->empty()) {
          return Bad(lp, "expected a non-empty array of {token, amount, unlimited, expiration}");
        }
        for (size_t i = 0; i < list->size(); ++i) {
          const std::string ap = lp + "[" + std::to_string(i) + "]";
          RETURN_IF_ERROR(Fields((*list)[i], ap, {"token", "amount", "unlimited", "expiration"}));
          ASSIGN_OR_RETURN(PermitAllowance a, allowance((*list)[i], ap));
          permit.allowances.push_back(std::move(a));
        }
      } else {
        ASSIGN_OR_RETURN(PermitAllowance a, allowance(*pm, pp));
        permit.allowances.push_back(std::move(a));
      }
      if (!pm->contains("spender")) return Bad(pp, "needs spender");
      ASSIGN_OR_RETURN(permit.spender, Addr((*pm)["spender"], Sub(pp, "spender")));
      if (pm->contains("deadline")) {
        ASSIGN_OR_RETURN(permit.deadline, Amount((*pm)["deadline"], Sub(pp, "deadline")));
      }
      for (const PermitAllowance& a : permit.allowances) permit.unlimited = permit.unlimited || a.unlimited;
      t.permit = std::move(permit);
    }
    f.typed_data = std::move(t);
  }
  if (auto x = j.find("nostr"); x != j.end()) {
    const std::string p = Sub(path, "nostr");
    RETURN_IF_ERROR(Fields(*x, p, {"event_kind", "tags"}));
    NostrFacts n;
    if (!x->contains("event_kind")) return Bad(p, "needs event_kind");
    ASSIGN_OR_RETURN(uint64_t ek, U64((*x)["event_kind"], Sub(p, "event_kind")));
    if (ek > 65535) return Bad(Sub(p, "event_kind"), "event kinds are 0..65535");
    n.event_kind = static_cast<int64_t>(ek);
    if (auto tags = x->find("tags"); tags != x->end()) {
      if (!tags->is_array()) return Bad(Sub(p, "tags"), "expected an array of arrays of strings");
      for (const json& tag : *tags) {
        if (!tag.is_array()) return Bad(Sub(p, "tags"), "expected an array of arrays of strings");
        std::vector<std::string> t;
        for (const json& s : tag) {
          if (!s.is_string()) return Bad(Sub(p, "tags"), "tag elements are strings");
          t.push_back(s.get<std::string>());
        }
        n.tags.push_back(std::move(t));
      }
    }
    f.nostr = std::move(n);
  }
  if (auto x = j.find("solana"); x != j.end()) {
    const std::string p = Sub(path, "solana");
    RETURN_IF_ERROR(Fields(*x, p, {"programs", "transfers"}));
    SolanaFacts s;
    if (auto pr = x->find("programs"); pr != x->end()) {
      if (!pr->is_array()) return Bad(Sub(p, "programs"), "expected an array");
      for (const json& v : *pr) {
        ASSIGN_OR_RETURN(std::string id, Str(v, Sub(p, "programs")));
        s.programs.push_back(Program(std::move(id)));
      }
    }
    if (auto tr = x->find("transfers"); tr != x->end()) {
      if (!tr->is_array()) return Bad(Sub(p, "transfers"), "expected an array");
      for (size_t i = 0; i < tr->size(); ++i) {
        const json& t = (*tr)[i];
        const std::string tp = Sub(p, "transfers") + "[" + std::to_string(i) + "]";
        RETURN_IF_ERROR(Fields(t, tp, {"program", "to", "amount", "mint"}));
        SolanaTransfer st;
        st.program = kSolanaSystemProgram;
        if (t.contains("program")) {
          ASSIGN_OR_RETURN(std::string prog, Str(t["program"], Sub(tp, "program")));
          st.program = Program(std::move(prog));
        }
        if (!t.contains("to")) return Bad(tp, "needs to");
        ASSIGN_OR_RETURN(st.to, Addr(t["to"], Sub(tp, "to")));
        if (t.contains("amount")) {
          ASSIGN_OR_RETURN(st.amount, Amount(t["amount"], Sub(tp, "amount")));
        }
        if (t.contains("mint")) {
          ASSIGN_OR_RETURN(st.mint, Addr(t["mint"], Sub(tp, "mint")));
        }
        s.transfers.push_back(std::move(st));
      }
    }
    // Programs the transfers use are invoked too.
    for (const SolanaTransfer& t : s.transfers) {
      if (std::find(s.programs.begin(), s.programs.end(), t.program) == s.programs.end()) s.programs.push_back(t.program);
    }
    f.solana = std::move(s);
  }
  if (auto x = j.find("risk_score"); x != j.end()) {
    ASSIGN_OR_RETURN(uint64_t r, U64(*x, Sub(path, "risk_score")));
    if (r > 100) return Bad(Sub(path, "risk_score"), "scores are 0..100");
    f.risk_score = static_cast<int>(r);
  }
  if (auto x = j.find("time"); x != j.end()) {
    if (x->is_number_unsigned()) {
      f.time = absl::FromUnixSeconds(x->get<int64_t>());
    } else if (x->is_string()) {
      absl::Time t;
      std::string err;
      if (!absl::ParseTime(absl::RFC3339_full, x->get<std::string>(), &t, &err)) {
        return Bad(Sub(path, "time"), "expected RFC 3339 (\"2026-01-05T12:00:00Z\") or unix seconds");
      }
      f.time = t;
    } else {
      return Bad(Sub(path, "time"), "expected RFC 3339 (\"2026-01-05T12:00:00Z\") or unix seconds");
    }
  }
  return f;
}

json FactsToJson(const Facts& f) {
  json j;
  j["kind"] = std::string(KindName(f.kind));
  j["key"] = f.key;
  j["agent"] = f.agent;
  if (f.chain_id) j["chain_id"] = *f.chain_id;
  if (f.from) j["from"] = *f.from;
  if (f.to) j["to"] = *f.to;
  if (f.value) j["value"] = f.value->ToDecimal();
  if (f.nonce) j["nonce"] = *f.nonce;
  if (f.gas_limit) j["gas_limit"] = f.gas_limit->ToDecimal();
  if (f.max_fee_per_gas) j["max_fee_per_gas"] = f.max_fee_per_gas->ToDecimal();
  if (f.max_priority_fee_per_gas) j["max_priority_fee_per_gas"] = f.max_priority_fee_per_gas->ToDecimal();
  if (f.gas_price) j["gas_price"] = f.gas_price->ToDecimal();
  if (f.method_selector) j["method"] = *f.method_selector;
  if (f.kind == Kind::kEthTx) j["calldata"] = f.has_calldata;
  if (f.erc20) {
    json e = {{"token", f.erc20->token}, {"method", std::string(Erc20MethodName(f.erc20->method))},
              {"to", f.erc20->to}, {"amount", f.erc20->amount.ToDecimal()}, {"unlimited", f.erc20->unlimited}};
    if (f.erc20->from) e["from"] = *f.erc20->from;
    j["erc20"] = std::move(e);
  }
  if (f.typed_data) {
    const TypedDataFacts& t = *f.typed_data;
    json d = json::object();
    if (t.domain_name) d["name"] = *t.domain_name;
    if (t.domain_version) d["version"] = *t.domain_version;
    if (t.domain_chain_id) d["chain_id"] = *t.domain_chain_id;
    if (t.verifying_contract) d["verifying_contract"] = *t.verifying_contract;
    json td = {{"domain", std::move(d)}, {"primary_type", t.primary_type}};
    if (t.permit) {
      json p = {{"kind", t.permit->kind}, {"spender", t.permit->spender}};
      json allowances = json::array();
      for (const PermitAllowance& a : t.permit->allowances) {
        json x = {{"token", a.token}, {"amount", a.amount.ToDecimal()}, {"unlimited", a.unlimited}};
        if (a.expiration) x["expiration"] = a.expiration->ToDecimal();
        allowances.push_back(std::move(x));
      }
      if (allowances.size() == 1) {
        p.update(allowances[0]);
      } else {
        p["allowances"] = std::move(allowances);
      }
      if (t.permit->deadline) p["deadline"] = t.permit->deadline->ToDecimal();
      td["permit"] = std::move(p);
    }
    j["typed_data"] = std::move(td);
  }
  if (f.nostr) j["nostr"] = {{"event_kind", f.nostr->event_kind}, {"tags", f.nostr->tags}};
  if (f.solana) {
    json transfers = json::array();
    for (const SolanaTransfer& t : f.solana->transfers) {
      json x = {{"program", t.program}, {"to", t.to}, {"amount", t.amount.ToDecimal()}};
      if (t.mint) x["mint"] = *t.mint;
      transfers.push_back(std::move(x));
    }
    j["solana"] = {{"programs", f.solana->programs}, {"transfers", std::move(transfers)}};
  }
  if (f.risk_score) j["risk_score"] = *f.risk_score;
  if (f.time) j["time"] = absl::FormatTime(absl::RFC3339_sec, *f.time, absl::UTCTimeZone());
  return j;
}

}  // namespace sigil::policy
