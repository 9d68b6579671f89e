#include "server/api_server.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "base/json_bounds.h"
#include "base/json_duplicates.h"
#include "audit/compliance_report.h"
#include "base/hex.h"
#include "base/status.h"
#include "chains/ethereum/message.h"
#include "chains/ethereum/transaction_request.h"
#include "chains/ethereum/typed_data.h"
#include "chains/solana/base58.h"
#include "crypto/random.h"
#include "policy/duration_text.h"
#include "policy/policy_suggester.h"
#include "policy/totp.h"
#include "server/audit_report.h"
#include "server/json_log.h"
#include "server/nonce_book.h"
#include "server/policy_view.h"
#include "server/rest_routes.h"
#include "server/token_rate_limiter.h"
#include "net/request_id.h"
#include "net/wiping_allocator.h"

namespace sigil::server {
namespace {

using nlohmann::json;
using tokens::Permission;

// What the caller of a signing method gets back from a signed result.
// kSignedTxObject: eth_signTransaction as geth answers it, {raw, tx} (RpcContext).
enum class ResultShape { kRawTx, kSignedTxObject, kSendTx, kSignature, kNostrEvent, kBase58Signature };

struct BuiltRequest {
  core::SignRequest request;
  ResultShape shape = ResultShape::kSignature;
  // Set when Sigil chose the nonce for eth_sendTransaction: {from, nonce}.
  std::optional<std::pair<std::string, uint64_t>> filled_nonce;
};

net::HttpResponse JsonResponse(int status, const json& body) {
  return net::HttpResponse::Json(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

net::HttpResponse ErrorResponse(int status, const std::string& message, json extra = json::object()) {
  extra["error"] = message;
  return JsonResponse(status, extra);
}

// 405 naming the methods the path serves, in the Allow header (RFC 9110
// §15.5.6) and in the body.
net::HttpResponse MethodNotAllowed(const std::string& message, const std::string& allowed) {
  net::HttpResponse r = ErrorResponse(405, message, {{"allow", allowed}});
  r.headers.Set("Allow", allowed);
  return r;
}

int HttpStatusForStatus(const absl::Status& st) {
  switch (st.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists: return 409;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kFailedPrecondition: return 409;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

net::HttpResponse StatusResponse(const absl::Status& st) { return ErrorResponse(HttpStatusForStatus(st), std::string(st.message())); }

std::string TimeText(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

json ApprovalToJson(const policy::Approval& a) {
  json votes = json::array();
  for (const auto& v : a.approvals) votes.push_back({{"approver", v.approver}, {"time", TimeText(v.time)}});
  json j = {{"approval_id", a.id},
            {"state", std::string(policy::ApprovalStateName(a.state))},
            {"key", a.key},
            {"agent", a.agent},
            {"rule", a.rule_id},
            {"quorum", a.quorum},
            {"approvals", a.approvals.size()},
            {"approvers", votes},
            {"required_role", a.required_role},
            {"second_factor", std::string(policy::SecondFactorName(a.second_factor))},
            {"created_at", TimeText(a.created)},
            {"expires_at", TimeText(a.expires)},
            {"payload_hash", HexEncode(a.payload_hash)}};
  if (!a.rejected_by.empty()) {
    j["rejected_by"] = a.rejected_by;
    j["reject_reason"] = a.reject_reason;
  }
  return j;
}

json KeyToJson(const keystore::KeyInfo& k, absl::Time now, absl::Duration max_age) {
  json j = {{"id", k.id},
            {"name", k.name},
            {"type", std::string(keystore::KeyTypeName(k.type))},
            {"purpose", std::string(keystore::KeyPurposeName(k.purpose))},
            {"backend", k.backend},
            {"version", k.version},
            {"status", std::string(keystore::KeyStatusName(k.status))},
            {"created_at", TimeText(k.created_at)},
            {"address", core::KeyAddress(k.type, k.public_key)},
            {"public_key", HexEncode(k.public_key)}};
  if (k.retired_at) j["retired_at"] = TimeText(*k.retired_at);
  if (!k.refused.empty()) j["refused"] = k.refused;
  if (k.status == keystore::KeyStatus::kActive && k.purpose == keystore::KeyPurpose::kSigning &&
      now - k.created_at > max_age) {
    j["warning"] = "key is older than the configured maximum age; rotate it";
  }
  return j;
}

// The `data` of a refused JSON-RPC call (INTERFACE.md "Refusals are structured").
json RefusalData(const core::SignResponse& r) {
  json data = r.decision ? policy::DecisionToJson(*r.decision) : json::object();
  if (!r.decision) {
    data["decision"] = r.outcome == core::Outcome::kLockdown ? "lockdown" : "deny";
    data["reason"] = r.message;
  }
  if (r.receipt) data["audit_seq"] = r.receipt->seq;
  if (r.approval) {
    data["approval_id"] = r.approval->id;
    data["expires_at"] = TimeText(r.approval->expires);
    data["quorum"] = r.approval->quorum;
    data["approvals"] = r.approval->approvals.size();
    data["state"] = std::string(policy::ApprovalStateName(r.approval->state));
  }
  if (r.retry_after_ms > 0) data["retry_after_ms"] = r.retry_after_ms;
  if (!r.address.empty()) data["key"] = r.address;
  return data;
}

// -32602's data names the field and what was wrong with it, as INTERFACE.md
// asks: {"field": "to", "reason": "address must be ..."}. Messages name the
// field as "field 'to': ..." (chains/ethereum) or start with "params[0]",
// "params" or "params[0].domain"; any other message gives the reason only.
json InvalidParamsData(const std::string& message) {
  json data = json::object();
  constexpr std::string_view kField = "field '";
  if (message.rfind(kField, 0) == 0) {
    const size_t end = message.find('\'', kField.size());
    if (end != std::string::npos) {
      data["field"] = message.substr(kField.size(), end - kField.size());
      size_t rest = end + 1;
      if (message.compare(rest, 2, ": ") == 0) rest += 2;
      data["reason"] = message.substr(rest);
      return data;
    }
  }
  if (message.rfind("params", 0) == 0) {
    const size_t end = message.find_first_of(" :");
    data["field"] = message.substr(0, end);
  }
  data["reason"] = message;
  return data;
}

RpcError RefusalToRpc(const core::SignResponse& r) {
  switch (r.outcome) {
    case core::Outcome::kDenied: return {kDeniedByPolicy, r.message, RefusalData(r)};
    case core::Outcome::kPendingApproval: return {kApprovalRequired, r.message, RefusalData(r)};
    case core::Outcome::kLockdown: return {kLockdown, r.message, RefusalData(r)};
    case core::Outcome::kRateLimited: return {kRateLimited, r.message, RefusalData(r)};
    case core::Outcome::kUnauthorized: return {kUnauthenticated, r.message, {}};
    case core::Outcome::kUnavailable: return {kUnavailable, r.message, {{"decision", "unavailable"}, {"reason", r.message}}};
    case core::Outcome::kNotFound:
    case core::Outcome::kInvalid:
    default: return {kInvalidParams, r.message, InvalidParamsData(r.message)};
  }
}

int HttpStatusForOutcome(core::Outcome o) {
  switch (o) {
    case core::Outcome::kSigned:
    case core::Outcome::kExplained: return 200;
    case core::Outcome::kPendingApproval: return 202;
    case core::Outcome::kDenied: return 403;
    case core::Outcome::kLockdown: return 423;
    case core::Outcome::kRateLimited: return 429;
    case core::Outcome::kUnauthorized: return 403;
    case core::Outcome::kNotFound: return 404;
    case core::Outcome::kInvalid: return 400;
    case core::Outcome::kUnavailable: return 503;
  }
  return 500;
}

// An agent token gets the same answer for a key that does not exist as for
// one outside its scope (INTERFACE.md -32001, "token lacks the role/key";
// the core's own words for the latter): two answers would tell it which key
// names and addresses exist. Other roles keep the precise one.
core::SignResponse MissingKeyAsOutOfScope(const tokens::Principal& p, const std::string& asked, core::SignResponse r) {
  if (p.role != tokens::Role::kAgent || r.outcome != core::Outcome::kNotFound) return r;
  r.outcome = core::Outcome::kUnauthorized;
  r.message = "this token may not use key '" + asked + "'";
  return r;
}

RpcError InvalidParams(const std::string& message) { return {kInvalidParams, message, InvalidParamsData(message)}; }

// Why a request could not be built, as the caller should see it: the node
// unreachable is -32006; an error the node answered while filling the
// transaction (a call that reverts in eth_estimateGas) is the caller's to fix
// and keeps the node's code and data (revert data included); anything else is
// -32602 naming the field.
RpcError BuildFailure(const absl::Status& st) {
  const std::string message(st.message());
  if (st.code() == absl::StatusCode::kUnavailable) {
    return RpcError{kUnavailable, message, {{"decision", "unavailable"}, {"reason", message}}};
  }
  if (auto upstream = UpstreamNode::UpstreamError(st)) return *upstream;
  return InvalidParams(message);
}

const json* Param(const json& params, size_t index) {
  if (params.is_array() && index < params.size() && !params[index].is_null()) return &params[index];
  return nullptr;
}

// %XX escapes decoded; a '%' not followed by two hex digits stays as is.
std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      auto b = HexDecode(text.substr(i + 1, 2));
      if (b.ok() && b->size() == 1) {
        out.push_back(static_cast<char>((*b)[0]));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && text[i] == '+' ? ' ' : text[i]);
  }
  return out;
}

// The decoded value of `name` in the query; "" when absent. A name given
// twice is refused (?seq=1&seq=9, ?agent=a&agent=b): which one the client
// meant is unknown, as with a name repeated in a JSON body.
absl::StatusOr<std::string> QueryValue(std::string_view query, const std::string& name) {
  std::optional<std::string> found;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string_view part = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    size_t eq = part.find('=');
    if (PercentDecode(part.substr(0, eq), /*plus_is_space=*/true) == name) {
      if (found) return absl::InvalidArgumentError("query parameter '" + name + "' is given more than once");
      found = PercentDecode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1), /*plus_is_space=*/true);
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return found.value_or("");
}

// A query parameter that is a whole number: 1 to 20 decimal digits, at most
// `max`; nullopt when absent. std::stoull would read "-1" as 2^64-1, "1abc"
// as 1 and " 7" as 7.
absl::StatusOr<std::optional<uint64_t>> QueryWholeNumber(std::string_view query, const std::string& name,
                                                         uint64_t max = UINT64_MAX) {
  ASSIGN_OR_RETURN(std::string text, QueryValue(query, name));
  if (text.empty()) return std::nullopt;
  uint64_t n = 0;
  // Digits only (SimpleAtoi alone takes a sign and spaces); SimpleAtoi
  // refuses what overflows.
  const bool digits =
      text.size() <= 20 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || !absl::SimpleAtoi(text, &n) || n > max) {
    return absl::InvalidArgumentError("query parameter '" + name + "' must be a whole number" +
                                      (max == UINT64_MAX ? std::string() : " of at most " + std::to_string(max)));
  }
  return n;
}

// eth_signTransaction as geth answers it ({raw, tx}; RpcContext): asked for
// with /rpc?signed_tx=object or a "Sigil-Signed-Tx: object" header (a
// web3.py HTTPProvider given its own headers, the Authorization one Sigil
// needs, sends python-requests' User-Agent), or assumed for web3.py's own
// User-Agent. "raw" asks for the hex string whoever the client is; any
// other value is refused rather than read as one of them.
absl::StatusOr<bool> WantsSignedTxObject(const net::HttpRequest& req) {
  ASSIGN_OR_RETURN(std::string asked, QueryValue(req.query(), "signed_tx"));
  if (asked.empty()) asked = req.headers.Get("Sigil-Signed-Tx").value_or("");
  if (asked == "object") return true;
  if (asked == "raw") return false;
  if (!asked.empty()) return absl::InvalidArgumentError("signed_tx (query) or Sigil-Signed-Tx (header) is \"object\" or \"raw\"");
  std::optional<std::string> agent = req.headers.Get("User-Agent");
  return agent && absl::StartsWith(*agent, "web3.py/");
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos);
    std::string_view part = path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (!part.empty()) parts.push_back(PercentDecode(part, /*plus_is_space=*/false));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return parts;
}

// Refuses a body member the route does not read (RestBodyFields): a typo
// ("expire", "rates", "key" for "keys") is an error the client sees, not a
// token that never expires or has no rate limit.
template <typename Json>
absl::Status CheckKnownFields(const Json& body, const std::vector<std::string>& parts, const std::string& method) {
  const std::optional<std::string> allowed = RestBodyFields(parts, method);
  if (!allowed || !body.is_object()) return absl::OkStatus();
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string name(it.key().data(), it.key().size());
    bool known = false;
    for (absl::string_view f : absl::StrSplit(*allowed, ',', absl::SkipEmpty())) known = known || f == name;
    if (known) continue;
    std::string path;
    for (size_t i = 0; i < parts.size(); ++i) path += "/" + (i >= 2 && parts[i].size() > 32 ? parts[i].substr(0, 32) + "..." : parts[i]);
    return absl::InvalidArgumentError(
        "unknown field '" + name.substr(0, 64) + "' in the request body; " + method + " " + path +
        (allowed->empty() ? " takes no body members" : " takes " + absl::StrReplaceAll(*allowed, {{",", ", "}})));
  }
  return absl::OkStatus();
}

// The body members the REST handlers read as text. One of another type
// (a number, an array, an object) is refused rather than read as absent:
// {"type": 5} must not make the default key type, nor {"name": 7} a made-up
// name. null stays "absent", as for `expires` and `rate`.
template <typename Json>
absl::Status CheckTextFields(const Json& body) {
  for (const char* name : {"name", "type", "backend", "document_text", "key", "kind", "message", "message_base64", "role",
                           "expires", "rate", "totp", "reason", "nonce", "passphrase", "private_key"}) {
    auto it = body.find(name);
    if (it != body.end() && !it->is_null() && !it->is_string()) {
      return absl::InvalidArgumentError(std::string("field '") + name + "' must be a string");
    }
  }
  return absl::OkStatus();
}

}  // namespace

class ApiServer::Impl {
 public:
  Impl(ApiDeps deps, ApiOptions options, ApiHooks hooks)
      : d_(deps), o_(std::move(options)), h_(std::move(hooks)), upstream_(o_.upstream_url), limiter_(d_.clock) {
    RegisterRpc();
  }

  // Handle with its access-log line.
  net::HttpResponse Handle(const net::HttpRequest& req);
  net::HttpResponse Route(const net::HttpRequest& req, AccessLogEntry& log, RpcCallLog& calls);
  // Forwards to the upstream node, the answer counted against the request's
  // share (UpstreamNode::kMaxRequestAnswerBytes; unbounded share without a log).
  RpcOutcome ForwardWithinBudget(const std::string& method, const json& params, const RpcContext& ctx);
  RpcOutcome CallRpc(const tokens::Principal& p, const std::string& method, const json& params) {
    json call = {{"jsonrpc", "2.0"}, {"id", 0}, {"method", method}, {"params", params}};
    json response = rpc_.HandleOne(call, RpcContext{p, ""});
    if (response.contains("error")) {
      const json& e = response["error"];
      return RpcError{e.value("code", static_cast<int>(kInternalError)), e.value("message", ""), e.value("data", json())};
    }
    return response["result"];
  }

 private:
  absl::StatusOr<tokens::Principal> Authenticate(const net::HttpRequest& req);
  // The token's own rate, else the role's default; nullopt = unlimited.
  std::optional<tokens::TokenRate> RateFor(const tokens::Principal& p) const;
  TokenRateLimiter::Result ChargeRate(const tokens::Principal& p);
  // POST /v1/keys/import, parsed apart from other bodies so that no copy of
  // the private key is left in freed memory.
  net::HttpResponse ImportKey(const net::HttpRequest& req, const tokens::Principal& p);
  net::HttpResponse Rest(const net::HttpRequest& req, const tokens::Principal& p);
  std::vector<std::string> Roles(const tokens::Principal& p) { return {std::string(tokens::RoleName(p.role))}; }
  // Whether a token that is not revoked (expired ones count) has this name.
  absl::StatusOr<bool> LiveTokenNamed(std::string_view name);
  void RefreshGauges();

  // JSON-RPC
  void RegisterRpc();
  absl::StatusOr<BuiltRequest> BuildRequest(const std::string& method, const json& params, const tokens::Principal& p,
                                            bool reserve_nonce = true);
  absl::StatusOr<std::string> DefaultKey(const tokens::Principal& p, keystore::KeyType type);
  RpcOutcome SignVia(const std::string& method, const json& params, const RpcContext& ctx);
  // eth_signTransaction's result as geth shapes it: {raw, tx} (see RpcContext).
  RpcOutcome SignedTxObject(const core::SignResponse& r);
  // The daemon's signing precondition as an RPC error, or nullopt when signing may proceed.
  std::optional<RpcError> SigningBlocked();
  // `node_refused` (may be null) is set when an eth_sendTransaction's
  // broadcast was refused by the node, so its nonce is free again.
  RpcOutcome ShapeResult(ResultShape shape, const core::SignResponse& r, bool* node_refused = nullptr);
  json ApprovalStatusJson(const core::SignResponse& r, bool send);

  ApiDeps d_;
  ApiOptions o_;
  ApiHooks h_;
  UpstreamNode upstream_;
  JsonRpcDispatcher<RpcContext> rpc_;
  TokenRateLimiter limiter_;
  absl::Mutex mu_;
  NonceBook nonces_;
  absl::flat_hash_map<std::string, bool> send_approvals_ ABSL_GUARDED_BY(mu_);  // approval id → broadcast on sign
};

absl::StatusOr<std::string> ApiServer::Impl::DefaultKey(const tokens::Principal& p, keystore::KeyType type) {
  ASSIGN_OR_RETURN(auto keys, d_.core.ListKeys(p));
  std::string found;
  for (const auto& k : keys) {
    if (k.info.type != type || k.info.status != keystore::KeyStatus::kActive) continue;
    if (!found.empty()) return absl::InvalidArgumentError("several keys match; name the key or address to sign with");
    found = k.info.name;
  }
  if (found.empty()) return absl::InvalidArgumentError("no " + std::string(keystore::KeyTypeName(type)) + " key is available to this token");
  return found;
}

absl::StatusOr<BuiltRequest> ApiServer::Impl::BuildRequest(const std::string& method, const json& params,
                                                           const tokens::Principal& p, bool reserve_nonce) {
  BuiltRequest b;
  if (method == "eth_signTransaction" || method == "eth_sendTransaction") {
    const json* tx = Param(params, 0);
    if (tx == nullptr || !tx->is_object()) return absl::InvalidArgumentError("params[0] must be a transaction object");
    ASSIGN_OR_RETURN(eth::TransactionRequest r, eth::ParseTransactionRequest(*tx));
    if (!r.from) {
      ASSIGN_OR_RETURN(auto name, DefaultKey(p, keystore::KeyType::kSecp256k1));
      ASSIGN_OR_RETURN(auto key, d_.core.ResolveKey(name));
      ASSIGN_OR_RETURN(auto from, eth::Address::Parse(key.address));
      r.from = from;
    }
    bool nonce_missing = !r.nonce;
    if (!r.chain_id && !upstream_.configured()) r.chain_id = o_.default_chain_id;
    RETURN_IF_ERROR(upstream_.Fill(r));
    if (method == "eth_sendTransaction" && r.chain_id) {
      // Broadcasting to a node of another chain only hands out a signed
      // transaction that chain's nodes would accept.
      RETURN_IF_ERROR(upstream_.CheckChain(*r.chain_id, "nothing was signed"));
    }
    if (nonce_missing && method == "eth_sendTransaction" && reserve_nonce) {
      r.nonce = nonces_.Next(r.from->ToLowerHex(), *r.nonce);
      b.filled_nonce = std::make_pair(r.from->ToLowerHex(), *r.nonce);
    }
    auto t = eth::TransactionFromRequest(r);
    if (!t.ok()) {
      if (b.filled_nonce) nonces_.Release(b.filled_nonce->first, b.filled_nonce->second);
      return t.status();
    }
    b.request.key = r.from->ToChecksumHex();
    b.request.kind = policy::Kind::kEthTx;
    b.request.payload = t->EncodeUnsigned();
    b.shape = method == "eth_sendTransaction" ? ResultShape::kSendTx : ResultShape::kRawTx;
    return b;
  }
  if (method == "personal_sign" || method == "eth_sign") {
    const json* a = Param(params, method == "personal_sign" ? 1 : 0);
    const json* m = Param(params, method == "personal_sign" ? 0 : 1);
    if (a == nullptr || !a->is_string()) return absl::InvalidArgumentError("the address parameter must be a string");
    if (m == nullptr || !m->is_string()) return absl::InvalidArgumentError("the message parameter must be a string");
    b.request.key = a->get<std::string>();
    b.request.kind = policy::Kind::kEthMessage;
    b.request.payload = eth::DecodeMessageParam(m->get<std::string>());
    return b;
  }
  if (method == "eth_signTypedData_v4" || method == "eth_signTypedData") {
    const json* a = Param(params, 0);
    const json* doc = Param(params, 1);
    if (a == nullptr || !a->is_string()) return absl::InvalidArgumentError("params[0] must be the signer address");
    if (doc == nullptr || (!doc->is_object() && !doc->is_string())) {
      return absl::InvalidArgumentError("params[1] must be the typed data (object or JSON string)");
    }
    ASSIGN_OR_RETURN(auto td, eth::TypedData::FromJson(*doc));
    std::string text = td.ToJson().dump();
    b.request.key = a->get<std::string>();
    b.request.kind = policy::Kind::kEthTypedData;
    b.request.payload.assign(text.begin(), text.end());
    return b;
  }
  if (method == "sigil_signNostrEvent") {
    const json* k = Param(params, 0);
    const json* ev = Param(params, 1);
    if (ev == nullptr || !ev->is_object()) return absl::InvalidArgumentError("params[1] must be the event template object");
    if (k != nullptr && !k->is_string()) return absl::InvalidArgumentError("params[0] must be the key name or public key");
    if (k != nullptr) {
      b.request.key = k->get<std::string>();
    } else {
      ASSIGN_OR_RETURN(b.request.key, DefaultKey(p, keystore::KeyType::kSchnorr));
    }
    std::string text = ev->dump();
    b.request.kind = policy::Kind::kNostrEvent;
    b.request.payload.assign(text.begin(), text.end());
    b.shape = ResultShape::kNostrEvent;
    return b;
  }
  if (method == "sigil_signSolanaMessage") {
    const json* k = Param(params, 0);
    const json* m = Param(params, 1);
    if (k == nullptr || !k->is_string()) return absl::InvalidArgumentError("params[0] must be the key name or address");
    if (m == nullptr || !m->is_string()) return absl::InvalidArgumentError("params[1] must be the base64 message");
    std::string b64 = m->get<std::string>();
    if (b64.size() > 4 * core::kMaxPayloadBytes / 3 + 4) return absl::InvalidArgumentError("message too large");
    std::string raw;
    if (!absl::Base64Unescape(b64, &raw)) return absl::InvalidArgumentError("params[1] is not valid base64");
    b.request.key = k->get<std::string>();
    b.request.kind = policy::Kind::kSolanaTx;
    b.request.payload.assign(raw.begin(), raw.end());
    b.shape = ResultShape::kBase58Signature;
    return b;
  }
  if (method == "sigil_signDigest") {
    const json* k = Param(params, 0);
    const json* h = Param(params, 1);
    if (k == nullptr || !k->is_string() || h == nullptr || !h->is_string()) {
      return absl::InvalidArgumentError("params must be [key, 0x-hex 32-byte digest]");
    }
    ASSIGN_OR_RETURN(auto digest, HexDecode(h->get<std::string>()));
    b.request.key = k->get<std::string>();
    b.request.kind = policy::Kind::kRawDigest;
    b.request.payload = std::move(digest);
    return b;
  }
  return absl::InvalidArgumentError("method \"" + method.substr(0, 64) + "\" cannot be signed or explained");
}

RpcOutcome ApiServer::Impl::ShapeResult(ResultShape shape, const core::SignResponse& r, bool* node_refused) {
  switch (shape) {
    case ResultShape::kRawTx: return r.result.value("raw", "");
    case ResultShape::kSignedTxObject: return SignedTxObject(r);
    case ResultShape::kSendTx: {
      RpcOutcome sent = upstream_.Forward("eth_sendRawTransaction", json::array({r.result.value("raw", "")}));
      if (auto* err = std::get_if<RpcError>(&sent)) {
        // Signed and audited, but not accepted: hand back the raw
        // transaction. Refused by the node, it is not in any pool; lost on
        // the way (-32006 from Forward), the node may have it, so it is not
        // "unavailable, nothing signed" but an unknown outcome.
        const bool lost = err->code == kUnavailable;
        if (node_refused != nullptr) *node_refused = !lost;
        json upstream_data = std::move(err->data);
        err->data = {{"raw", r.result.value("raw", "")},
                     {"hash", r.result.value("hash", "")},
                     {"upstream_error", err->message},
                     {"broadcast", lost ? "unknown" : "refused"}};
        if (!upstream_data.is_null()) err->data["upstream_data"] = std::move(upstream_data);
        if (lost) {
          err->code = kUpstreamError;
          err->message = "signed, but whether the upstream node received the transaction is unknown (" + err->message +
                         "): look its hash up before sending again";
        } else {
          err->message = "signed, but the upstream node did not accept the transaction: " + err->message;
        }
        return *err;
      }
      return sent;
    }
    case ResultShape::kNostrEvent: return r.result;
    case ResultShape::kBase58Signature: return r.result.value("signature", "");
    case ResultShape::kSignature:
    default: return r.result.value("signature", "");
  }
}

RpcOutcome ApiServer::Impl::SignedTxObject(const core::SignResponse& r) {
  std::string raw = r.result.value("raw", "");
  // The core made these bytes a moment ago; a parse failure here is a bug,
  // answered as one rather than with a half-made object.
  absl::StatusOr<Bytes> bytes = HexDecode(raw);
  if (!bytes.ok()) return RpcError{kInternalError, "internal error: the signed transaction did not decode", {}};
  eth::ParseOptions options;  // the core already decided what may be signed
  options.allow_pre_eip155 = true;
  options.limits.max_input_size = bytes->size();
  absl::StatusOr<eth::SignedTransaction> signed_tx = eth::ParseSigned(*bytes, options);
  if (!signed_tx.ok()) return RpcError{kInternalError, "internal error: the signed transaction did not decode", {}};
  absl::StatusOr<eth::Address> from = signed_tx->RecoverSender();
  return json{{"raw", raw}, {"tx", eth::ToJson(*signed_tx, from.ok() ? std::optional(*from) : std::nullopt)}};
}

std::optional<RpcError> ApiServer::Impl::SigningBlocked() {
  if (!h_.signing_precondition) return std::nullopt;
  absl::Status st = h_.signing_precondition();
  if (st.ok()) return std::nullopt;
  return RpcError{kUnavailable, std::string(st.message()), {{"decision", "unavailable"}, {"reason", std::string(st.message())}}};
}

RpcOutcome ApiServer::Impl::SignVia(const std::string& method, const json& params, const RpcContext& ctx) {
  absl::Time start = d_.clock.Now();
  if (auto blocked = SigningBlocked()) {
    d_.metrics.CountRequest(method, "unavailable");
    return *blocked;
  }
  if (method == "eth_sendTransaction" && !upstream_.configured()) {
    // Refused before anything is decided, reserved or signed: a signature
    // that cannot be broadcast would only spend budget.
    d_.metrics.CountRequest(method, "invalid");
    return RpcError{kMethodNotFound,
                    "eth_sendTransaction needs an upstream node to broadcast to; none is configured (--upstream URL). "
                    "Nothing was signed; eth_signTransaction returns the signed transaction instead",
                    {}};
  }
  auto built = BuildRequest(method, params, ctx.principal);
  if (!built.ok()) {
    d_.metrics.CountRequest(method, "invalid");
    return BuildFailure(built.status());
  }
  if (built->shape == ResultShape::kRawTx && ctx.signed_tx_as_object) built->shape = ResultShape::kSignedTxObject;
  core::SignResponse r = MissingKeyAsOutOfScope(ctx.principal, built->request.key, d_.core.Sign(ctx.principal, built->request));
  d_.metrics.CountRequest(method, core::OutcomeName(r.outcome));
  if (ctx.log != nullptr && ctx.log->decision.empty()) {
    ctx.log->decision = std::string(core::OutcomeName(r.outcome));
    if (r.decision) ctx.log->rule = r.decision->rule_id;
  }
  if (r.outcome == core::Outcome::kDenied && r.decision) d_.metrics.CountDenial(r.decision->rule_id);
  if (r.outcome != core::Outcome::kSigned) {
    // A held transaction keeps the nonce it was built with; it is not
    // reserved meanwhile, so other transfers are not stuck behind it.
    if (built->filled_nonce) nonces_.Release(built->filled_nonce->first, built->filled_nonce->second);
    if (r.outcome == core::Outcome::kPendingApproval && r.approval && built->shape == ResultShape::kSendTx) {
      absl::MutexLock lock(&mu_);
      send_approvals_[r.approval->id] = true;
    }
    return RefusalToRpc(r);
  }
  d_.metrics.ObserveSignLatency(d_.clock.Now() - start);
  bool node_refused = false;
  RpcOutcome shaped = ShapeResult(built->shape, r, &node_refused);
  if (built->filled_nonce && node_refused) {
    // The node did not take the transaction: its nonce is free again.
    nonces_.Release(built->filled_nonce->first, built->filled_nonce->second);
  }
  return shaped;
}

json ApiServer::Impl::ApprovalStatusJson(const core::SignResponse& r, bool send) {
  json j = r.approval ? ApprovalToJson(*r.approval) : json::object();
  if (r.outcome == core::Outcome::kSigned) {
    j["state"] = "consumed";
    if (r.result.contains("raw")) {
      j["raw"] = r.result["raw"];
      j["hash"] = r.result["hash"];
      if (send) {
        RpcOutcome sent = upstream_.Forward("eth_sendRawTransaction", json::array({r.result["raw"]}));
        if (auto* v = std::get_if<json>(&sent)) {
          j["result"] = *v;
          j["sent"] = true;
        } else {
          j["result"] = r.result["raw"];
          j["sent"] = false;
          j["send_error"] = std::get<RpcError>(sent).message;
        }
      } else {
        j["result"] = r.result["raw"];
      }
    } else if (r.result.contains("signature") && r.result.size() <= 3) {
      j["result"] = r.result["signature"];
    } else {
      j["result"] = r.result;
    }
    if (r.receipt) j["audit_seq"] = r.receipt->seq;
  } else if (r.outcome == core::Outcome::kDenied || r.outcome == core::Outcome::kLockdown) {
    j["refused"] = RefusalData(r);
  }
  return j;
}

void ApiServer::Impl::RegisterRpc() {
  rpc_.SetGate([this](const std::string&, const RpcContext& ctx) -> std::optional<RpcError> {
    TokenRateLimiter::Result rate = ChargeRate(ctx.principal);
    if (rate.allowed) return std::nullopt;
    int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(absl::Ceil(rate.retry_after, absl::Milliseconds(1))));
    if (ctx.log != nullptr && ctx.log->decision.empty()) ctx.log->decision = "rate_limited";
    return RpcError{kRateLimited, "rate limited: this token's request rate is exceeded; retry after " + std::to_string(ms) + " ms",
                    {{"decision", "rate_limited"}, {"reason", "token rate limit"}, {"retry_after_ms", ms}}};
  });
  rpc_.SetObserver([](const std::string& method, const RpcContext& ctx, const RpcOutcome& outcome) {
    if (ctx.log == nullptr) return;
    if (ctx.log->calls++ == 0) {
      ctx.log->method = method.substr(0, 64);
      if (auto* e = std::get_if<RpcError>(&outcome)) ctx.log->first_code = e->code;
    } else {
      ctx.log->method = "batch";
    }
  });
  auto sign = [this](const std::string& method, const json& params, const RpcContext& ctx) { return SignVia(method, params, ctx); };
  for (const char* m : {"eth_signTransaction", "eth_sendTransaction", "eth_sign", "personal_sign", "eth_signTypedData_v4",
                        "eth_signTypedData", "sigil_signNostrEvent", "sigil_signSolanaMessage", "sigil_signDigest"}) {
    rpc_.Register(m, sign);
  }
  // eth_requestAccounts answers the same without a second pass through the
  // dispatcher (which would charge the token's rate twice).
  auto accounts = [this](const std::string&, const json&, const RpcContext& ctx) -> RpcOutcome {
    auto keys = d_.core.ListKeys(ctx.principal);
    if (!keys.ok()) return RpcError{kUnavailable, std::string(keys.status().message()), {}};
    // Oldest key first: wallets take account 0 as the default signer
    // (ethers' getSigner()), which creating or rotating a key must not change.
    std::stable_sort(keys->begin(), keys->end(), [](const core::KeyView& a, const core::KeyView& b) {
      return std::tie(a.first_created_at, a.info.name) < std::tie(b.first_created_at, b.info.name);
    });
    json out = json::array();
    for (const auto& k : *keys) {
      if (k.info.type == keystore::KeyType::kSecp256k1 && k.info.status == keystore::KeyStatus::kActive &&
          k.info.purpose == keystore::KeyPurpose::kSigning) {
        out.push_back(k.address);
      }
    }
    return out;
  };
  rpc_.Register("eth_accounts", accounts);
  rpc_.Register("eth_requestAccounts", accounts);
  rpc_.Register("eth_chainId", [this](const std::string& m, const json& params, const RpcContext& ctx) -> RpcOutcome {
    if (upstream_.configured()) return ForwardWithinBudget(m, params, ctx);
    return Uint256(o_.default_chain_id).ToHexQuantity();
  });
  rpc_.Register("sigil_listKeys", [this](const std::string&, const json&, const RpcContext& ctx) -> RpcOutcome {
    if (!ctx.principal.Can(Permission::kKeyList)) return RpcError{kUnauthenticated, "this token may not list keys", {}};
    auto keys = d_.core.ListKeys(ctx.principal);
    if (!keys.ok()) return RpcError{kUnavailable, std::string(keys.status().message()), {}};
    json out = json::array();
    for (const auto& k : *keys) {
      out.push_back({{"name", k.info.name},
                     {"type", std::string(keystore::KeyTypeName(k.info.type))},
                     {"address", k.address},
                     {"public_key", HexEncode(k.info.public_key)},
                     {"status", std::string(keystore::KeyStatusName(k.info.status))},
                     {"version", k.info.version}});
    }
    return out;
  });
  rpc_.Register("sigil_explain", [this](const std::string&, const json& params, const RpcContext& ctx) -> RpcOutcome {
    if (!params.is_array() || params.empty() || !params[0].is_string()) {
      return InvalidParams("params must be [method, ...params of that method]");
    }
    std::string method = params[0].get<std::string>();
    json inner = json(params.begin() + 1, params.end());
    auto built = BuildRequest(method, inner, ctx.principal, /*reserve_nonce=*/false);
    if (!built.ok()) return BuildFailure(built.status());
    core::SignResponse r =
        MissingKeyAsOutOfScope(ctx.principal, built->request.key, d_.core.Explain(ctx.principal, built->request));
    if (r.outcome != core::Outcome::kExplained) return RefusalToRpc(r);
    json out = policy::DecisionToJson(*r.decision);
    out["key"] = r.address;
    if (d_.lockdown.IsLocked()) out["lockdown"] = true;
    return out;
  });
  rpc_.Register("sigil_approvalStatus", [this](const std::string&, const json& params, const RpcContext& ctx) -> RpcOutcome {
    const json* id = Param(params, 0);
    if (id == nullptr || !id->is_string()) return InvalidParams("params[0] must be the approval id");
    if (auto blocked = SigningBlocked()) return *blocked;
    core::SignResponse r = d_.core.ApprovalStatus(ctx.principal, id->get<std::string>());
    if (r.outcome == core::Outcome::kNotFound || r.outcome == core::Outcome::kUnauthorized ||
        r.outcome == core::Outcome::kInvalid || r.outcome == core::Outcome::kUnavailable) {
      return RefusalToRpc(r);
    }
    bool send = false;
    {
      absl::MutexLock lock(&mu_);
      auto it = send_approvals_.find(id->get<std::string>());
      if (it != send_approvals_.end()) {
        send = it->second;
        if (r.outcome == core::Outcome::kSigned) send_approvals_.erase(it);
      }
    }
    return ApprovalStatusJson(r, send);
  });
  // Answers {} and does nothing else: a liveness check that, like every
  // call, is charged to the token's rate. The MCP server charges its own
  // ping and tools/list through it (mcp/mcp_server.h), so flooding those
  // costs an agent as much as flooding /rpc.
  rpc_.Register("sigil_ping", [](const std::string&, const json&, const RpcContext&) -> RpcOutcome { return json::object(); });
  rpc_.Register("sigil_getPolicy", [this](const std::string&, const json&, const RpcContext& ctx) -> RpcOutcome {
    // Agents see the rules that apply to them; other roles need policy.read.
    if (ctx.principal.role != tokens::Role::kAgent && !ctx.principal.Can(Permission::kPolicyRead)) {
      return RpcError{kUnauthenticated, "this token may not read the policy", {}};
    }
    core::AppliedPolicy current = d_.policies.Current();
    json doc = json::parse(current.document, nullptr, false);
    // An agent sees the rules that can apply to it and the lists they name,
    // not other agents' rules and lists (server/policy_view.h).
    PolicyView view;
    if (ctx.principal.role != tokens::Role::kAgent) {
      view = FullPolicyView(doc);
    } else if (current.policy != nullptr) {
      view = AgentPolicyView(doc, *current.policy, ctx.principal);
    }
    const json& rules = view.rules;
    std::string summary;
    for (const auto& rule : rules) {
      summary += "- rule " + rule.value("id", std::string("?")) + ": " + rule.value("effect", std::string("?"));
      if (rule.contains("match")) summary += " when " + rule["match"].dump();
      if (rule.contains("budgets")) summary += "; budgets " + rule["budgets"].dump();
      summary += "\n";
    }
    if (summary.empty()) summary = "No rule applies to you: every request will be denied.\n";
    summary += "Anything no rule allows is denied; deny beats require_approval beats allow.";
    return json{{"version", current.version}, {"hash", current.hash_hex}, {"rules", rules}, {"summary", summary},
                {"lists", std::move(view.lists)}};
  });
  rpc_.Register("sigil_getBudget", [this](const std::string&, const json&, const RpcContext& ctx) -> RpcOutcome {
    // Every budget of a rule scoped to the caller and one of its keys, with
    // what is spent now (not only those a probe transaction would match).
    if (!ctx.principal.Can(Permission::kKeyList)) return RpcError{kUnauthenticated, "this token may not list keys or budgets", {}};
    auto keys = d_.core.ListKeys(ctx.principal);
    if (!keys.ok()) return RpcError{kUnavailable, std::string(keys.status().message()), {}};
    json out = json::array();
    for (const auto& k : *keys) {
      if (k.info.purpose != keystore::KeyPurpose::kSigning) continue;
      for (const auto& b : d_.engine.Budgets(k.info.name, ctx.principal.name)) {
        json bj = policy::BudgetStatusToJson(b);
        bj["key"] = k.info.name;
        out.push_back(bj);
      }
    }
    return json{{"budgets", out}};
  });
  // Anything else in the Ethereum namespaces goes to the node, so ethers'
  // JsonRpcProvider can use Sigil as its only URL.
  rpc_.SetFallback([this](const std::string& method, const json& params, const RpcContext& ctx) -> RpcOutcome {
    bool proxied = method.rfind("eth_", 0) == 0 || method.rfind("net_", 0) == 0 || method.rfind("web3_", 0) == 0;
    if (!proxied) return RpcError{kMethodNotFound, "method \"" + method.substr(0, 64) + "\" is not supported", {}};
    // Signing variants Sigil does not offer (eth_signTypedData_v3, a node's
    // eth_sendUnsignedTransaction, ...) are refused, never forwarded: a node
    // with unlocked accounts would sign outside policy and audit.
    // (eth_sendRawTransaction broadcasts bytes signed elsewhere: forwarded.)
    if (method.rfind("eth_sign", 0) == 0 || method == "eth_sendUnsignedTransaction") {
      return RpcError{kMethodNotFound,
                      "method \"" + method.substr(0, 64) +
                          "\" is not supported; Sigil signs with eth_signTransaction, eth_sendTransaction, eth_sign, "
                          "personal_sign and eth_signTypedData(_v4)",
                      {}};
    }
    return ForwardWithinBudget(method, params, ctx);
  });
}

RpcOutcome ApiServer::Impl::ForwardWithinBudget(const std::string& method, const json& params, const RpcContext& ctx) {
  if (ctx.log == nullptr) return upstream_.Forward(method, params);
  size_t& taken = ctx.log->upstream_answer_bytes;
  const size_t left = taken >= UpstreamNode::kMaxRequestAnswerBytes ? 0 : UpstreamNode::kMaxRequestAnswerBytes - taken;
  size_t bytes = 0;
  RpcOutcome out = upstream_.Forward(method, params, left, &bytes);
  taken += bytes;
  return out;
}

absl::StatusOr<tokens::Principal> ApiServer::Impl::Authenticate(const net::HttpRequest& req) {
  std::vector<std::string> lines = req.headers.GetAll("Authorization");
  auto wipe = [&lines] {
    for (std::string& l : lines) SecureWipe({reinterpret_cast<uint8_t*>(l.data()), l.size()});
  };
  if (lines.size() > 1) {
    // Which one a proxy or the client meant is unknown (RFC 9110 §5.3 does
    // not allow combining this field): neither is used.
    wipe();
    return absl::UnauthenticatedError("more than one Authorization header; send exactly one (Authorization: Bearer TOKEN)");
  }
  // The scheme is case-insensitive and one or more spaces follow it
  // (RFC 9110 §11.1, §11.4).
  std::string_view header = lines.empty() ? std::string_view() : std::string_view(lines[0]);
  const size_t space = header.find(' ');
  const size_t start = space == std::string_view::npos ? space : header.find_first_not_of(' ', space);
  if (start == std::string_view::npos || !absl::EqualsIgnoreCase(absl::string_view(header.data(), space), "bearer")) {
    wipe();
    return absl::UnauthenticatedError("missing bearer token (Authorization: Bearer TOKEN)");
  }
  std::string_view token = header.substr(start);
  auto p = d_.tokens.Authenticate(token);
  wipe();
  if (!p.ok()) {
    d_.metrics.CountAuthFailure();
    // Audit the attempt, never the token.
    (void)d_.core.Record("auth.failed", "", {{"decision", "deny"}, {"peer", req.peer}, {"path", std::string(req.path())},
                                             {"reason", std::string(p.status().message())}});
    return absl::UnauthenticatedError("invalid, expired or revoked token");
  }
  return p;
}

absl::StatusOr<bool> ApiServer::Impl::LiveTokenNamed(std::string_view name) {
  ASSIGN_OR_RETURN(auto all, d_.tokens.List());
  return std::any_of(all.begin(), all.end(), [&](const tokens::TokenInfo& t) { return !t.revoked && t.principal.name == name; });
}

void ApiServer::Impl::RefreshGauges() {
  auto pending = d_.approvals.ListPending();
  if (pending.ok()) d_.metrics.SetPendingApprovals(static_cast<int64_t>(pending->size()));
  // (The fsync batch size histogram is fed by the audit log itself, one
  // observation per group commit: AuditLogOptions::on_batch.)
  d_.metrics.SetAuditRecords(d_.audit.Size());
  d_.metrics.SetLockdown(d_.lockdown.IsLocked());
  auto keys = d_.keys.List();
  if (keys.ok()) {
    int64_t over = 0;
    absl::Time now = d_.clock.Now();
    for (const auto& k : *keys) {
      if (k.status != keystore::KeyStatus::kActive) continue;
      d_.metrics.SetKeyAge(k.name, now - k.created_at);
      // Sigil's own keys cannot be rotated (keystore): no alarm about them.
      if (k.purpose == keystore::KeyPurpose::kSigning && now - k.created_at > o_.max_key_age) ++over;
    }
    d_.metrics.SetKeysOverMaxAge(over);
  }
}

std::optional<tokens::TokenRate> ApiServer::Impl::RateFor(const tokens::Principal& p) const {
  if (p.rate) return p.rate;
  auto it = o_.default_token_rates.find(p.role);
  if (it != o_.default_token_rates.end()) return it->second;
  return std::nullopt;
}

TokenRateLimiter::Result ApiServer::Impl::ChargeRate(const tokens::Principal& p) {
  auto rate = RateFor(p);
  if (!rate) return {};
  TokenRateLimiter::Result r = limiter_.Acquire(p.id, *rate);
  if (!r.allowed) d_.metrics.CountRequest("token_rate", "rate_limited");
  return r;
}

net::HttpResponse ApiServer::Impl::Handle(const net::HttpRequest& req) {
  const absl::Time start = absl::Now();  // latency for the log only, never for logic
  AccessLogEntry log;
  RpcCallLog calls;
  net::HttpResponse r;
  try {
    r = Route(req, log, calls);
  } catch (const nlohmann::json::exception&) {
    // A field of an unexpected type that a route read without checking:
    // the caller's error, answered and logged as one (the exception text
    // could quote the body, so it is not repeated).
    r = ErrorResponse(400, "a field of the request body has the wrong type");
  }
  log.request_id = req.request_id;
  log.method = req.is_head ? "HEAD" : req.method;  // the net layer hands HEAD over as GET
  log.path = std::string(req.path());
  log.status = r.status;
  log.rpc_method = calls.method;
  log.rpc_calls = calls.calls;
  log.rpc_code = calls.first_code;
  if (log.decision.empty()) log.decision = calls.decision;
  log.rule = calls.rule;
  log.latency_us = absl::ToInt64Microseconds(absl::Now() - start);
  LogAccess(log);
  return r;
}

net::HttpResponse ApiServer::Impl::Route(const net::HttpRequest& req, AccessLogEntry& log, RpcCallLog& calls) {
  std::string path(req.path());
  // The probes and /metrics are read-only: another method is 405 naming GET
  // (the net layer serves HEAD wherever GET is), as for the /v1 routes.
  const bool probe = path == "/healthz" || path == "/readyz" || path == "/metrics";
  if (probe && req.method != "GET") return MethodNotAllowed("use GET (or HEAD) for " + path, "GET, HEAD");
  if (path == "/healthz") return JsonResponse(200, {{"status", "ok"}});
  auto principal = Authenticate(req);
  if (!principal.ok()) {
    if (path == "/rpc") {
      // -32001 per call, with the call's id (clients match answers by id).
      return net::HttpResponse::Json(
          401, rpc_.RefuseAll(req.body, RpcError{kUnauthenticated, std::string(principal.status().message()), {}}));
    }
    net::HttpResponse r = ErrorResponse(401, std::string(principal.status().message()));
    r.headers.Set("WWW-Authenticate", "Bearer");
    return r;
  }
  log.principal = principal->name;
  log.role = std::string(tokens::RoleName(principal->role));
  // JSON-RPC calls are charged one by one (the dispatcher's gate); /mcp
  // charges its own (mcp/http_transport.h: each message, and GET/DELETE
  // once, through sigil_ping); every other route once here.
  if (path != "/rpc" && path != "/mcp" && path.rfind("/mcp/", 0) != 0) {
    TokenRateLimiter::Result rate = ChargeRate(*principal);
    if (!rate.allowed) {
      int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(absl::Ceil(rate.retry_after, absl::Milliseconds(1))));
      log.decision = "rate_limited";
      net::HttpResponse r = ErrorResponse(429, "rate limited: this token's request rate is exceeded; retry after " +
                                                   std::to_string(ms) + " ms",
                                          {{"retry_after_ms", ms}});
      r.headers.Set("Retry-After", std::to_string((ms + 999) / 1000));
      return r;
    }
  }
  if (path == "/readyz") {
    bool locked = d_.lockdown.IsLocked();
    bool audit_ok = d_.audit.Stats().failed_batches == 0 || d_.core.AuditWritable();
    json body = {{"ready", !locked && audit_ok}, {"lockdown", locked}, {"audit_writable", audit_ok}};
    return JsonResponse(!locked && audit_ok ? 200 : 503, body);
  }
  if (path == "/rpc") {
    if (req.method != "POST") return MethodNotAllowed("use POST for JSON-RPC", "POST");
    absl::StatusOr<bool> as_object = WantsSignedTxObject(req);
    if (!as_object.ok()) return ErrorResponse(400, std::string(as_object.status().message()));
    RpcContext ctx{*principal, req.request_id, &calls};
    ctx.signed_tx_as_object = *as_object;
    std::string body = rpc_.Handle(req.body, ctx);
    if (body.empty()) return net::HttpResponse::Json(204, "");
    return net::HttpResponse::Json(200, std::move(body));
  }
  if (path == "/metrics") {
    if (!principal->Can(Permission::kMetricsRead)) return ErrorResponse(403, "this token may not read metrics");
    RefreshGauges();
    net::HttpResponse r;
    r.status = 200;
    r.content_type = std::string(metrics::Metrics::kTextContentType);
    r.body = d_.metrics.SerializeText();
    return r;
  }
  if (path == "/mcp" || path.rfind("/mcp/", 0) == 0) {
    if (!h_.mcp) return ErrorResponse(501, "MCP over HTTP is not enabled");
    return h_.mcp(req, *principal);
  }
  if (path.rfind("/v1/", 0) == 0) return Rest(req, *principal);
  return ErrorResponse(404, "no such endpoint: " + path.substr(0, 100));
}

namespace {

// JSON whose every string (object keys, values, and the parser's own token
// buffer) lives in wiped-on-free memory. nlohmann's lexer also keeps the raw
// bytes of the current token in a plain std::vector<char>; in the sigil
// binary that, like every C++ heap block, is zeroed when freed
// (daemon/wiping_operator_delete.cc).
using WipingJson = nlohmann::basic_json<std::map, std::vector, net::WipingString, bool, std::int64_t, std::uint64_t,
                                        double, net::WipingAllocator>;

// Hex (optional 0x) straight into locked memory; nothing else holds the bytes.
absl::StatusOr<SecretBytes> SecretFromHex(std::string_view hex) {
  if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  if (hex.empty() || hex.size() % 2 != 0 || hex.size() > 256) return absl::InvalidArgumentError("private_key must be hex");
  SecretBytes out = SecretBytes::Zeroed(hex.size() / 2);
  // On an error `out` is wiped when it goes out of scope.
  if (!HexDecodeInto(hex, out.RevealMutable(SecretAccess::Get())).ok()) {
    return absl::InvalidArgumentError("private_key must be hex");
  }
  return out;
}

}  // namespace

net::HttpResponse ApiServer::Impl::ImportKey(const net::HttpRequest& req, const tokens::Principal& p) {
  if (p.role != tokens::Role::kAdmin) return ErrorResponse(403, "this token may not import keys (admin only)");
  if (!o_.allow_key_import || !h_.import_key) {
    return ErrorResponse(403, "key import is disabled; set allow_key_import = true in the config to accept keys that existed outside Sigil");
  }
  if (auto st = CheckJsonBounds(req.body, {64 << 10, 8}); !st.ok()) return ErrorResponse(400, std::string(st.message()));
  JsonParsed<WipingJson> parsed = ParseNotingDuplicates<WipingJson>(req.body);
  WipingJson& body = parsed.doc;
  if (body.is_discarded() || !body.is_object()) return ErrorResponse(400, "request body must be a JSON object");
  if (!parsed.duplicates.empty()) {
    return ErrorResponse(400, DuplicateKeyMessage(parsed.duplicates.front(), "the request body"));
  }
  if (auto st = CheckKnownFields(body, SplitPath(req.path()), req.method); !st.ok()) return StatusResponse(st);
  if (auto st = CheckTextFields(body); !st.ok()) return StatusResponse(st);
  auto text = [&](const char* name) -> std::string {
    auto it = body.find(name);
    return it != body.end() && it->is_string() ? std::string(it->get_ref<const net::WipingString&>()) : std::string();
  };
  auto type = keystore::ParseKeyType(text("type").empty() ? "secp256k1" : text("type"));
  if (!type.ok()) return ErrorResponse(400, "type must be secp256k1, ed25519 or schnorr");
  auto pk = body.find("private_key");
  if (pk == body.end() || !pk->is_string()) return ErrorResponse(400, "private_key must be a hex string");
  const std::string name = text("name");
  const net::WipingString& hex = pk->get_ref<const net::WipingString&>();
  auto secret = SecretFromHex(std::string_view(hex.data(), hex.size()));
  body = nullptr;  // every string node freed (wiped) now
  if (!secret.ok()) return ErrorResponse(400, std::string(secret.status().message()));
  auto key = h_.import_key(name, *type, *secret);
  if (!key.ok()) return StatusResponse(key.status());
  (void)d_.core.RefreshKeys();
  (void)d_.core.Record("key.import", p.name, {{"key_id", key->id}}, key->name);
  return JsonResponse(201, KeyToJson(*key, d_.clock.Now(), o_.max_key_age));
}

net::HttpResponse ApiServer::Impl::Rest(const net::HttpRequest& req, const tokens::Principal& p) {
  auto parts = SplitPath(req.path());  // "v1", resource, ...
  const std::string& m = req.method;
  // The route table first: nothing is read or run for a path no route has,
  // or a method the route does not serve.
  if (!RestServes(parts, m)) {
    const std::string allowed = RestAllowedMethods(parts);
    if (allowed.empty()) return ErrorResponse(404, "no such endpoint: " + m.substr(0, 16) + " " + std::string(req.path()).substr(0, 100));
    return MethodNotAllowed(
        "method " + m.substr(0, 16) + " is not allowed on " + std::string(req.path()).substr(0, 100) + "; use " + allowed,
        allowed);
  }
  if (parts.size() == 3 && parts[1] == "keys" && parts[2] == "import" && m == "POST") return ImportKey(req, p);
  json body = json::object();
  if (!req.body.empty()) {
    if (auto st = CheckJsonBounds(req.body, {1 << 20, 64}); !st.ok()) return ErrorResponse(400, std::string(st.message()));
    JsonParsed<json> parsed = ParseNotingDuplicates(req.body);
    if (parsed.doc.is_discarded()) return ErrorResponse(400, "request body is not valid JSON");
    if (!parsed.doc.is_object()) return ErrorResponse(400, "request body must be a JSON object");
    if (!parsed.duplicates.empty()) {
      return ErrorResponse(400, DuplicateKeyMessage(parsed.duplicates.front(), "the request body"));
    }
    body = std::move(parsed.doc);
  }
  if (auto st = CheckKnownFields(body, parts, m); !st.ok()) return StatusResponse(st);
  if (auto st = CheckTextFields(body); !st.ok()) return StatusResponse(st);
  auto deny = [](const std::string& what) { return ErrorResponse(403, "this token may not " + what); };
  auto str = [&](const char* name) -> std::string {
    auto it = body.find(name);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string resource = parts.size() > 1 ? parts[1] : "";
  const std::vector<std::string> roles = Roles(p);
  absl::Time now = d_.clock.Now();

  // ---- keys
  if (resource == "keys") {
    if (parts.size() == 2 && m == "GET") {
      if (!p.Can(Permission::kKeyList)) return deny("list keys");
      json keys = json::array();
      if (p.role == tokens::Role::kAgent) {
        auto mine = d_.core.ListKeys(p);
        if (!mine.ok()) return StatusResponse(mine.status());
        for (const auto& k : *mine) keys.push_back(KeyToJson(k.info, now, o_.max_key_age));
      } else {
        auto all = d_.keys.List();
        if (!all.ok()) return StatusResponse(all.status());
        for (const auto& k : *all) keys.push_back(KeyToJson(k, now, o_.max_key_age));
      }
      return JsonResponse(200, {{"keys", keys}, {"audit_public_key", HexEncode(d_.audit.PublicKey())}});
    }
    if (parts.size() == 2 && m == "POST") {
      if (!p.Can(Permission::kKeyCreate)) return deny("create keys");
      std::string type_name = str("type").empty() ? "secp256k1" : str("type");
      auto type = keystore::ParseKeyType(type_name);
      if (!type.ok()) return ErrorResponse(400, "type must be secp256k1, ed25519 or schnorr");
      std::string backend = str("backend").empty() ? o_.default_key_backend : str("backend");
      if (backend != "software" && backend != "pkcs11") return ErrorResponse(400, "backend must be software or pkcs11");
      absl::StatusOr<keystore::KeyInfo> key;
      if (backend == "software") {
        key = d_.keys.Generate(str("name"), *type, keystore::KeyPurpose::kSigning);
      } else if (h_.generate_key) {
        key = h_.generate_key(str("name"), *type, backend);
      } else {
        return ErrorResponse(400, "no PKCS#11 token is configured (start with --pkcs11-module, --pkcs11-token and --pkcs11-pin-file)");
      }
      if (!key.ok()) return StatusResponse(key.status());
      (void)d_.core.RefreshKeys();
      (void)d_.core.Record("key.create", p.name, {{"type", type_name}, {"backend", key->backend}, {"key_id", key->id},
                                                  {"address", core::KeyAddress(key->type, key->public_key)}}, key->name);
      return JsonResponse(201, KeyToJson(*key, now, o_.max_key_age));
    }
    if (parts.size() == 3 && m == "GET") {
      if (!p.Can(Permission::kKeyList)) return deny("list keys");
      // An agent naming another key's retired address learns nothing of it.
      auto k = d_.core.ResolveKey(parts[2], p.role == tokens::Role::kAgent ? &p : nullptr);
      // Nor whether a key it may not see exists (MissingKeyAsOutOfScope):
      // a missing key and another key's old address read the same.
      if (!k.ok() && p.role == tokens::Role::kAgent &&
          (absl::IsNotFound(k.status()) || absl::IsPermissionDenied(k.status()))) {
        return deny("see this key");
      }
      if (!k.ok()) return StatusResponse(k.status());
      if (p.role == tokens::Role::kAgent && !p.MayUseKey(k->info.name)) return deny("see this key");
      auto all = d_.keys.List();
      json versions = json::array();
      if (all.ok()) {
        for (const auto& v : *all) {
          if (v.id == k->info.id) versions.push_back(KeyToJson(v, now, o_.max_key_age));
        }
      }
      json j = KeyToJson(k->info, now, o_.max_key_age);
      j["versions"] = versions;
      return JsonResponse(200, j);
    }
    if (parts.size() == 4 && parts[3] == "rotate" && m == "POST") {
      if (!p.Can(Permission::kKeyRotate)) return deny("rotate keys");
      auto k = d_.keys.Rotate(parts[2]);
      if (!k.ok()) return StatusResponse(k.status());
      (void)d_.core.RefreshKeys();
      (void)d_.core.Record("key.rotate", p.name, {{"key_id", k->id}, {"version", k->version},
                                                  {"address", core::KeyAddress(k->type, k->public_key)}}, k->name);
      return JsonResponse(200, KeyToJson(*k, now, o_.max_key_age));
    }
  }

  // ---- policy
  if (resource == "policy") {
    if (parts.size() == 2 && m == "GET") {
      if (!p.Can(Permission::kPolicyRead)) return deny("read the policy");
      core::AppliedPolicy c = d_.policies.Current();
      json doc = json::parse(c.document, nullptr, false);
      return JsonResponse(200, {{"version", c.version}, {"hash", c.hash_hex}, {"applied_by", c.applied_by},
                                {"applied_at_ms", c.applied_at_ms}, {"policy", doc.is_discarded() ? json(c.document) : doc}});
    }
    if (parts.size() == 2 && (m == "POST" || m == "PUT")) {
      if (!p.Can(Permission::kPolicyApply)) return deny("apply policies (admin only)");
      std::string text = body.contains("document_text") && body["document_text"].is_string()
                             ? body["document_text"].get<std::string>()
                             : (body.contains("policy") ? body["policy"].dump() : req.body);
      auto applied = d_.policies.Apply(text, p.name);
      if (!applied.ok()) {
        std::string msg(applied.status().message());
        json errors = json::array();
        size_t pos = msg.find('\n');
        while (pos != std::string::npos) {
          size_t next = msg.find('\n', pos + 1);
          std::string line = msg.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
          while (!line.empty() && line[0] == ' ') line.erase(0, 1);
          errors.push_back(line);
          pos = next;
        }
        return ErrorResponse(400, msg.substr(0, msg.find('\n')) + "; the policy in force is unchanged", {{"errors", errors}});
      }
      d_.engine.SetPolicy(applied->policy);
      (void)d_.core.Record("policy.apply", p.name, {{"version", applied->version}, {"policy_hash", applied->hash_hex}});
      return JsonResponse(200, {{"version", applied->version}, {"hash", applied->hash_hex}});
    }
    if (parts.size() == 3 && parts[2] == "explain" && m == "POST") {
      if (!p.Can(Permission::kExplain)) return deny("explain");
      std::string key = str("key");
      std::string kind = str("kind").empty() ? "eth_tx" : str("kind");
      std::string method;
      json params;
      if (kind == "eth_tx") {
        json tx = body.value("tx", json::object());
        if (tx.is_string()) {
          // Bounded like any body: a deep document parses (nlohmann's parser
          // is iterative) but copying it would recurse past the stack.
          if (auto st = CheckJsonBounds(tx.get_ref<const std::string&>(), {1 << 20, 64}); !st.ok()) {
            return ErrorResponse(400, "tx: " + std::string(st.message()));
          }
          JsonParsed<json> parsed = ParseNotingDuplicates(tx.get_ref<const std::string&>());
          if (!parsed.duplicates.empty()) return ErrorResponse(400, DuplicateKeyMessage(parsed.duplicates.front(), "tx"));
          tx = std::move(parsed.doc);
        }
        if (!tx.is_object()) return ErrorResponse(400, "tx must be a transaction object");
        if (!key.empty() && !tx.contains("from")) {
          const bool agent = p.role == tokens::Role::kAgent;
          auto k = d_.core.ResolveKey(key, agent ? &p : nullptr);
          // An agent learns neither whether a key it may not use exists nor
          // its address, current or old (MissingKeyAsOutOfScope).
          if (agent && (k.ok() ? !p.MayUseKey(k->info.name)
                               : absl::IsNotFound(k.status()) || absl::IsPermissionDenied(k.status()))) {
            return ErrorResponse(403, "this token may not use key '" + key + "'");
          }
          if (!k.ok()) return StatusResponse(k.status());
          tx["from"] = k->address;
        }
        method = "eth_signTransaction";
        params = json::array({tx});
      } else if (kind == "eth_message") {
        method = "personal_sign";
        params = json::array({str("message"), key});
      } else if (kind == "eth_typed_data") {
        method = "eth_signTypedData_v4";
        params = json::array({key, body.value("typed_data", json::object())});
      } else if (kind == "nostr_event") {
        method = "sigil_signNostrEvent";
        params = json::array({key, body.value("event", json::object())});
      } else if (kind == "solana_tx") {
        method = "sigil_signSolanaMessage";
        params = json::array({key, str("message_base64")});
      } else {
        return ErrorResponse(400, "kind must be eth_tx, eth_message, eth_typed_data, nostr_event or solana_tx");
      }
      auto built = BuildRequest(method, params, p, /*reserve_nonce=*/false);
      if (!built.ok()) return StatusResponse(built.status());
      core::SignResponse r = MissingKeyAsOutOfScope(p, built->request.key, d_.core.Explain(p, built->request));
      if (r.outcome != core::Outcome::kExplained) return ErrorResponse(HttpStatusForOutcome(r.outcome), r.message);
      json out = policy::DecisionToJson(*r.decision);
      out["key"] = r.address;
      out["signed"] = false;
      if (d_.lockdown.IsLocked()) out["lockdown"] = true;
      return JsonResponse(200, out);
    }
    if (parts.size() == 3 && parts[2] == "suggest" && m == "GET") {
      if (!p.Can(Permission::kPolicyRead)) return deny("read the policy");
      return JsonResponse(200, policy::SuggestPolicy(d_.engine.history().Events()));
    }
  }

  // ---- tokens
  if (resource == "tokens") {
    if (parts.size() == 2 && m == "POST") {
      if (!p.Can(Permission::kTokenCreate)) return deny("issue tokens (admin only)");
      auto role = tokens::ParseRole(str("role"));
      if (!role) return ErrorResponse(400, "role must be admin, operator, approver, auditor or agent");
      tokens::TokenSpec spec;
      spec.role = *role;
      spec.name = str("name");
      if (spec.name.empty()) {
        std::array<uint8_t, 4> rnd{};
        crypto::RandomBytes(rnd);
        spec.name = std::string(tokens::RoleName(*role)) + "-" + HexEncode(rnd);
      }
      if (body.contains("keys") && !body["keys"].is_null()) {
        // A lone name ("keys": "trader") is refused, not read as no keys.
        if (!body["keys"].is_array()) return ErrorResponse(400, "keys must be a list of key names");
        for (const auto& k : body["keys"]) {
          if (!k.is_string()) return ErrorResponse(400, "keys must be a list of key names");
          spec.keys.push_back(k.get<std::string>());
        }
      }
      if (body.contains("expires") && !body["expires"].is_null()) {
        // Whole units, positive, at most 400 days: no overflow, no fractions
        // read as something else, no "never" by accident.
        if (!body["expires"].is_string()) return ErrorResponse(400, "expires must be a string like \"30d\", \"12h\" or \"15m\"");
        auto d = policy::ParseDurationText(body["expires"].get<std::string>());
        if (!d.ok()) return ErrorResponse(400, "expires: " + std::string(d.status().message()));
        spec.expires = now + *d;
      }
      if (body.contains("rate") && !body["rate"].is_null()) {
        if (!body["rate"].is_string()) return ErrorResponse(400, "rate must be a string like \"10/s\"");
        auto rate = tokens::ParseTokenRate(body["rate"].get<std::string>());
        if (!rate.ok()) return StatusResponse(rate.status());
        spec.rate = *rate;
      }
      auto issued = d_.tokens.Create(spec);
      if (!issued.ok()) return StatusResponse(issued.status());
      (void)d_.core.Record("token.issue", p.name, {{"token_id", issued->principal.id}, {"role", std::string(tokens::RoleName(*role))},
                                                   {"name", issued->principal.name}});
      json out = {{"id", issued->principal.id},
                  {"name", issued->principal.name},
                  {"role", std::string(tokens::RoleName(issued->principal.role))},
                  {"keys", issued->principal.keys},
                  {"token", std::string(issued->token.RevealText(SecretAccess::Get()))}};
      if (issued->principal.expires != absl::InfiniteFuture()) out["expires_at"] = TimeText(issued->principal.expires);
      if (issued->principal.rate) out["rate"] = tokens::TokenRateText(*issued->principal.rate);
      return JsonResponse(201, out);
    }
    if (parts.size() == 2 && m == "GET") {
      if (!p.Can(Permission::kTokenCreate)) return deny("list tokens (admin only)");
      auto list = d_.tokens.List();
      if (!list.ok()) return StatusResponse(list.status());
      json out = json::array();
      for (const auto& t : *list) {
        json j = {{"id", t.principal.id}, {"name", t.principal.name}, {"role", std::string(tokens::RoleName(t.principal.role))},
                  {"keys", t.principal.keys}, {"revoked", t.revoked}, {"expired", t.expired}, {"totp", t.totp_enrolled}};
        if (t.principal.expires != absl::InfiniteFuture()) j["expires_at"] = TimeText(t.principal.expires);
        if (t.principal.rate) j["rate"] = tokens::TokenRateText(*t.principal.rate);
        out.push_back(j);
      }
      return JsonResponse(200, {{"tokens", out}});
    }
    if (parts.size() == 3 && m == "DELETE") {
      if (!p.Can(Permission::kTokenRevoke)) return deny("revoke tokens (admin only)");
      auto revoked = d_.tokens.Revoke(parts[2]);
      if (!revoked.ok()) return StatusResponse(revoked.status());
      (void)d_.core.Record("token.revoke", p.name, {{"name", parts[2]}});
      return JsonResponse(200, {{"revoked", *revoked}});
    }
    if (parts.size() == 4 && parts[3] == "totp" && m == "POST") {
      const std::string& name = parts[2];
      bool self = name == p.name;
      auto has = d_.tokens.HasTotp(name);
      if (!has.ok()) return StatusResponse(has.status());
      // An admin enrols anyone; a principal may enrol itself once.
      if (!(p.role == tokens::Role::kAdmin || (self && !*has))) return deny("enrol a second factor for " + name);
      SecretBytes secret = policy::NewTotpSecret();
      auto uri = policy::TotpProvisioningUri(secret, "Sigil", name);
      if (!uri.ok()) return StatusResponse(uri.status());
      if (auto st = d_.tokens.EnrolTotp(name, secret); !st.ok()) return StatusResponse(st);
      (void)d_.core.Record("totp.enrol", p.name, {{"name", name}});
      return JsonResponse(200, {{"name", name}, {"otpauth_uri", std::string(uri->RevealText(SecretAccess::Get()))}});
    }
  }

  // ---- approvals
  if (resource == "approvals") {
    if (parts.size() == 2 && m == "GET") {
      if (!p.Can(Permission::kApprovalList)) return deny("list approvals");
      auto pending = d_.approvals.ListPending();
      if (!pending.ok()) return StatusResponse(pending.status());
      json out = json::array();
      for (const auto& a : *pending) out.push_back(ApprovalToJson(a));
      return JsonResponse(200, {{"approvals", out}});
    }
    if (parts.size() == 3 && m == "GET") {
      auto a = d_.approvals.Status(parts[2]);
      if (!a.ok()) return StatusResponse(a.status());
      if (!p.Can(Permission::kApprovalList) && a->agent != p.name) return deny("see this approval");
      return JsonResponse(200, ApprovalToJson(*a));
    }
    if (parts.size() == 4 && (parts[3] == "approve" || parts[3] == "reject") && m == "POST") {
      if (!p.Can(Permission::kApprovalDecide)) return deny("decide approvals");
      policy::ApprovalEvent ev = parts[3] == "approve" ? d_.approvals.Approve(parts[2], p.name, roles, str("totp"))
                                                       : d_.approvals.Reject(parts[2], p.name, roles, str("reason"));
      (void)d_.core.Record("approval." + parts[3], p.name,
                           {{"approval_id", parts[2]}, {"decision", ev.ok() ? "ok" : "refused"},
                            {"reason", ev.ok() ? "" : std::string(ev.status.message())}});
      if (!ev.ok()) return StatusResponse(ev.status);
      return JsonResponse(200, ev.approval ? ApprovalToJson(*ev.approval) : json::object());
    }
  }

  // ---- lockdown and agent suspension
  if (resource == "lockdown") {
    if (m == "GET") {
      policy::LockdownStatus s = d_.lockdown.Status();
      json susp = json::array();
      for (const auto& a : d_.lockdown.Suspensions()) susp.push_back({{"agent", a.agent}, {"reason", a.reason}, {"since", TimeText(a.since)}});
      json out = {{"locked", s.locked}, {"suspended_agents", susp}};
      if (s.locked) {
        out["reason"] = s.reason;
        out["locked_by"] = s.locked_by;
        out["since"] = TimeText(s.since);
      }
      return JsonResponse(200, out);
    }
    if (m == "POST") {
      if (body.contains("on") && !body["on"].is_boolean()) return ErrorResponse(400, "on must be true or false");
      bool on = body.value("on", true);
      if (on && !p.Can(Permission::kLockdownOn)) return deny("turn lockdown on");
      if (!on && !p.Can(Permission::kLockdownOff)) return deny("lift lockdown (admin with TOTP)");
      policy::LockdownEvent ev = on ? d_.lockdown.Lock(p.name, roles, str("reason")) : d_.lockdown.Unlock(p.name, roles, str("totp"));
      (void)d_.core.Record(on ? "lockdown.on" : "lockdown.off", p.name,
                           {{"decision", ev.ok() ? "ok" : "refused"}, {"reason", on ? str("reason") : std::string(ev.status.message())}});
      d_.metrics.SetLockdown(d_.lockdown.IsLocked());
      if (!ev.ok()) return StatusResponse(ev.status);
      return JsonResponse(200, {{"locked", ev.global.locked}});
    }
  }
  if (resource == "agents" && parts.size() == 4 && m == "POST" && (parts[3] == "suspend" || parts[3] == "resume")) {
    bool suspend = parts[3] == "suspend";
    // A name no live token has is refused (404), never suspended in the
    // void: an operator's typo would otherwise answer 200 and leave the real
    // agent signing. Resuming a name that is still suspended stays possible
    // after its token was revoked. Roles are checked first, so a token that
    // may do neither learns nothing about which names exist.
    if (!p.Can(Permission::kLockdownOn)) {
      return deny(suspend ? "suspend agents (operator or admin)" : "resume agents (admin with TOTP)");
    }
    if (suspend || !d_.lockdown.IsSuspended(parts[2])) {
      auto known = LiveTokenNamed(parts[2]);
      if (!known.ok()) return StatusResponse(known.status());
      if (!*known) {
        (void)d_.core.Record(suspend ? "agent.suspend" : "agent.resume", p.name,
                             {{"agent", parts[2]}, {"decision", "refused"}, {"reason", "no such agent"}});
        return ErrorResponse(404, "no token is named '" + parts[2].substr(0, 64) + "'; nothing was " +
                                      (suspend ? "suspended" : "resumed") + " (GET /v1/tokens lists the names)");
      }
    }
    policy::LockdownEvent ev = suspend ? d_.lockdown.Suspend(p.name, roles, parts[2], str("reason"))
                                       : d_.lockdown.Resume(p.name, roles, parts[2], str("totp"));
    (void)d_.core.Record(suspend ? "agent.suspend" : "agent.resume", p.name,
                         {{"agent", parts[2]}, {"decision", ev.ok() ? "ok" : "refused"}});
    if (!ev.ok()) return StatusResponse(ev.status);
    return JsonResponse(200, {{"agent", parts[2]}, {"suspended", suspend}});
  }

  // ---- audit
  if (resource == "audit") {
    if (!p.Can(Permission::kAuditRead)) return deny("read the audit log");
    std::string sub = parts.size() > 2 ? parts[2] : "";
    if (sub == "verify" && m == "GET") {
      audit::VerifyReport report = d_.audit.Verify();
      json j = report.ToJson();
      j["pubkey"] = HexEncode(d_.audit.PublicKey());
      return JsonResponse(report.valid ? 200 : 409, j);
    }
    if (sub == "export" && m == "GET") {
      std::string tmp = std::filesystem::temp_directory_path().string() + "/sigil-export-" + net::NewRequestId() + ".log";
      if (auto st = d_.audit.Export(tmp); !st.ok()) return StatusResponse(st);
      std::ifstream in(tmp, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::filesystem::remove(tmp);
      return JsonResponse(200, {{"export_hex", HexEncode(AsBytes(bytes))}, {"records", d_.audit.Size()},
                                {"pubkey", HexEncode(d_.audit.PublicKey())}});
    }
    if (sub == "proof" && m == "GET") {
      auto seq = QueryWholeNumber(req.query(), "seq");
      auto size = QueryWholeNumber(req.query(), "size");
      auto from = QueryWholeNumber(req.query(), "from");
      auto to = QueryWholeNumber(req.query(), "to");
      for (const auto* n : {&seq, &size, &from, &to}) {
        if (!n->ok()) return ErrorResponse(400, std::string(n->status().message()) + "; give seq=N[&size=M] or from=A&to=B");
      }
      if (seq->has_value()) {
        auto proof = d_.audit.ProveInclusion(**seq, size->value_or(d_.audit.Size()));
        if (!proof.ok()) return StatusResponse(proof.status());
        json j = proof->ToJson();
        auto cp = d_.audit.LatestCheckpoint();
        if (cp) j["checkpoint"] = cp->ToJson();
        return JsonResponse(200, j);
      }
      if (!from->has_value()) return ErrorResponse(400, "give seq=N[&size=M] or from=A&to=B as whole numbers");
      auto proof = d_.audit.ProveConsistency(**from, to->value_or(d_.audit.Size()));
      if (!proof.ok()) return StatusResponse(proof.status());
      return JsonResponse(200, proof->ToJson());
    }
    if (sub == "report" && m == "GET") {
      auto format = QueryValue(req.query(), "format");
      if (!format.ok()) return StatusResponse(format.status());
      if (!format->empty() && *format != "json" && *format != "csv") {
        return ErrorResponse(400, "format is json (the default) or csv");
      }
      audit::ComplianceFilter f;
      auto agent = QueryValue(req.query(), "agent");
      if (!agent.ok()) return StatusResponse(agent.status());
      if (!agent->empty()) f.principal = *agent;
      // Seconds, kept small enough that milliseconds do not wrap.
      constexpr uint64_t kMaxSeconds = UINT64_MAX / 1000;
      auto since = QueryWholeNumber(req.query(), "since", kMaxSeconds);
      auto until = QueryWholeNumber(req.query(), "until", kMaxSeconds);
      if (!since.ok()) return ErrorResponse(400, std::string(since.status().message()) + " (unix seconds)");
      if (!until.ok()) return ErrorResponse(400, std::string(until.status().message()) + " (unix seconds)");
      if (*since) f.from_ms = **since * 1000;
      if (*until) f.to_ms = **until * 1000;
      auto built = ReportFromLog(d_.audit, f);
      if (!built.ok()) return StatusResponse(built.status());
      const audit::ComplianceReport& report = *built;
      if (*format == "csv") {
        net::HttpResponse r;
        r.status = 200;
        r.content_type = "text/csv";
        r.body = report.RecordsCsv() + "\n" + report.TotalsCsv();
        return r;
      }
      return JsonResponse(200, report.ToJson());
    }
  }

  // ---- attestation and environment
  if (resource == "attest") {
    if (!p.Can(Permission::kAttestGet)) return deny("get attestation reports");
    if (parts.size() == 2 && m == "POST") {
      if (!h_.attest) return ErrorResponse(501, "attestation is not available in this build");
      auto report = h_.attest(str("nonce"));
      if (!report.ok()) return StatusResponse(report.status());
      return JsonResponse(200, *report);
    }
    if (parts.size() == 3 && parts[2] == "check" && m == "GET") {
      if (!h_.environment_check) return ErrorResponse(501, "environment check is not available in this build");
      json check = h_.environment_check();
      return JsonResponse(200, check);
    }
  }

  // ---- backup
  if (resource == "backup" && parts.size() == 2 && m == "POST") {
    if (!p.Can(Permission::kBackupCreate)) return deny("create backups (admin only)");
    if (!o_.backup_enabled) {
      return ErrorResponse(403, "backups are disabled by configuration ([backup] enabled = false); no key material was exported");
    }
    if (!h_.backup) return ErrorResponse(501, "backup is not available for this keystore backend");
    if (body.contains("shares") && !body["shares"].is_null()) {
      // Whole numbers of a share count's range only: the backup code's
      // value<int> would read 2.9 as 2, true as 1 and 4294967298 as 2 (a
      // backup of other terms than asked).
      const json& sh = body["shares"];
      auto whole = [&sh](const char* k) {
        return sh.contains(k) && sh[k].is_number_integer() && sh[k].get<int64_t>() >= 1 && sh[k].get<int64_t>() <= 255;
      };
      if (!sh.is_object() || !whole("m") || !whole("n") || sh.size() != 2) {
        return ErrorResponse(400, "shares must be {\"m\": M, \"n\": N} with whole numbers from 1 to 255 (any M of the N "
                                  "shares restore)");
      }
    }
    auto out = h_.backup(body);
    // (null is "absent": nothing to wipe, and get_ref would throw after the
    // backup was made.)
    if (auto it = body.find("passphrase"); it != body.end() && it->is_string()) {
      std::string& pass = it->get_ref<std::string&>();
      SecureWipe({reinterpret_cast<uint8_t*>(pass.data()), pass.size()});
    }
    if (!out.ok()) return StatusResponse(out.status());
    (void)d_.core.Record("backup.create", p.name, {{"keys", out->value("keys", 0)}, {"backup_id", out->value("backup_id", "")},
                                                   {"shares", out->contains("shares") ? out->at("shares").size() : 0}});
    return JsonResponse(200, *out);
  }

  // The table says a route serves this, the dispatch above does not: a bug
  // (the access log has the path and the 500).
  return ErrorResponse(500, "internal error: route " + m.substr(0, 16) + " " + std::string(req.path()).substr(0, 100) +
                                " is in the route table but not dispatched");
}

ApiServer::ApiServer(ApiDeps deps, ApiOptions options, ApiHooks hooks)
    : impl_(std::make_unique<Impl>(deps, std::move(options), std::move(hooks))) {}
ApiServer::~ApiServer() = default;
net::HttpResponse ApiServer::Handle(const net::HttpRequest& request) { return impl_->Handle(request); }
RpcOutcome ApiServer::CallRpc(const tokens::Principal& principal, const std::string& method, const nlohmann::json& params) {
  return impl_->CallRpc(principal, method, params);
}

}  // namespace sigil::server
