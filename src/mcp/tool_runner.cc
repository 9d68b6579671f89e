#include "mcp/tool_runner.h"

#include <optional>

#include "base/hex.h"
#include "mcp/agent_text.h"
#include "mcp/json_schema.h"
#include "mcp/quantity.h"

namespace sigil::mcp {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

RpcError Invalid(std::string message) { return RpcError{kInvalidParams, std::move(message), nullptr}; }

bool IsHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool IsAddress(const std::string& s) {
  if (s.size() != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return false;
  for (size_t i = 2; i < s.size(); ++i) {
    if (!IsHexDigit(s[i])) return false;
  }
  return true;
}

json StripNulls(json j) {
  if (!j.is_object()) return j;
  for (auto it = j.begin(); it != j.end();) {
    if (it->is_null()) {
      it = j.erase(it);
    } else {
      ++it;
    }
  }
  return j;
}

ToolResult Success(std::string summary, json structured) {
  structured = StripNulls(std::move(structured));
  std::string text = std::move(summary);
  text += "\n" + Dump(structured);
  return ToolResult{false, std::move(text), std::move(structured)};
}

// A signing method's string result, or the string inside a {raw|…} object.
std::optional<std::string> StringResult(const json& r, std::initializer_list<const char*> keys) {
  if (r.is_string()) return r.get<std::string>();
  if (r.is_object()) {
    for (const char* k : keys) {
      if (auto it = r.find(k); it != r.end() && it->is_string()) return it->get<std::string>();
    }
  }
  return std::nullopt;
}

// "arguments/value: expected string or integer, got number" plus, for a
// floating-point amount, how to write it instead.
std::string ArgumentsMessage(const absl::Status& st) {
  std::string message = "arguments" + std::string(st.message());
  if (message.find("string or integer, got number") != std::string::npos) {
    message += " (floating-point numbers are refused for amounts; write a string such as \"0.05 ether\" or decimal wei)";
  }
  return message;
}

}  // namespace

nlohmann::json ToolResult::ToJson() const {
  return {{"content", json::array({{{"type", "text"}, {"text", text}}})},
          {"structuredContent", structured.is_object() ? structured : json::object()},
          {"isError", is_error}};
}

ToolResult ToolRunner::Refused(const RpcError& error) {
  json content = RefusalContent(error);
  return ToolResult{true, DescribeRefusal(error) + "\n" + Dump(content), std::move(content)};
}

ToolResult ToolRunner::Call(const ToolSpec& tool, const nlohmann::json& arguments) {
  json args = arguments.is_null() ? json::object() : arguments;
  if (!args.is_object()) return Refused(Invalid("arguments must be a JSON object"));
  if (absl::Status st = CheckAgainstSchema(args, tool.input_schema); !st.ok()) {
    return Refused(Invalid(ArgumentsMessage(st)));
  }
  ToolResult result = Run(tool, args);
  if (!result.is_error) {
    if (absl::Status st = CheckAgainstSchema(result.structured, tool.output_schema); !st.ok()) {
      RpcError e{kInternalError,
                 "Sigil answered " + tool.name + " with a result of an unexpected shape (" + std::string(st.message()) +
                     "); the raw answer is in `result`. This is a Sigil version mismatch, not a problem with your "
                     "request",
                 json{{"result", result.structured}}};
      return Refused(e);
    }
  }
  return result;
}

ToolResult ToolRunner::Run(const ToolSpec& tool, const nlohmann::json& args) {
  const std::string& name = tool.name;
  if (name == "list_accounts") return ListAccounts();
  if (name == "get_policy") {
    RpcResult r = rpc_("sigil_getPolicy", json::array());
    if (!r.ok) return Refused(r.error);
    std::string summary = "Policy";
    if (r.result.is_object()) {
      if (r.result.contains("version")) summary += " version " + Dump(r.result["version"]);
      if (r.result.contains("rules") && r.result["rules"].is_array()) {
        summary += ": " + std::to_string(r.result["rules"].size()) + " rule(s) apply to this agent.";
      }
      if (r.result.contains("summary") && r.result["summary"].is_string()) {
        summary += "\n" + r.result["summary"].get<std::string>();
      }
    }
    return Success(summary, r.result);
  }
  if (name == "get_budget") {
    RpcResult r = rpc_("sigil_getBudget", json::array());
    if (!r.ok) return Refused(r.error);
    json out = r.result.is_array() ? json{{"budgets", r.result}} : r.result;
    std::string summary;
    if (out.is_object() && out.contains("budgets") && out["budgets"].is_array()) {
      if (out["budgets"].empty()) summary = "No budgets apply to this agent's keys.";
      for (const json& b : out["budgets"]) summary += (summary.empty() ? "" : "\n") + DescribeBudget(b);
    }
    return Success(summary, out);
  }
  if (name == "explain") return Explain(args);
  if (name == "approval_status") return ApprovalStatus(args);
  return Sign(name, args);
}

ToolResult ToolRunner::ListAccounts() {
  json accounts = json::array();
  RpcResult keys = rpc_("sigil_listKeys", json::array());
  if (keys.ok && keys.result.is_array()) {
    for (const json& k : keys.result) {
      if (!k.is_object()) continue;
      json a = json::object();
      for (const char* f : {"name", "type", "address", "public_key", "status"}) {
        if (auto it = k.find(f); it != k.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
          a[f] = *it;
        }
      }
      if (auto it = k.find("version"); it != k.end() && (it->is_number_integer() || it->is_number_unsigned())) {
        a["version"] = *it;
      }
      accounts.push_back(std::move(a));
    }
  } else if (!keys.ok && keys.error.code == kMethodNotFound) {
    RpcResult eth = rpc_("eth_accounts", json::array());
    if (!eth.ok) return Refused(eth.error);
    if (eth.result.is_array()) {
      for (const json& address : eth.result) {
        if (address.is_string()) accounts.push_back({{"type", "secp256k1"}, {"address", address}});
      }
    }
  } else if (!keys.ok) {
    return Refused(keys.error);
  }
  json out = {{"accounts", accounts}};
  RpcResult chain = rpc_("eth_chainId", json::array());
  if (chain.ok && chain.result.is_string()) out["chain_id"] = chain.result;

  std::string summary = accounts.empty() ? "This agent has no keys; ask a human to grant it one."
                                         : std::to_string(accounts.size()) + " account(s) this agent may use:";
  for (const json& a : accounts) {
    summary += "\n- " + a.value("name", std::string("(unnamed)")) + " (" + a.value("type", std::string("?")) + ")";
    if (a.contains("address")) {
      summary += " " + a["address"].get<std::string>();
    } else if (a.contains("public_key")) {
      summary += " " + a["public_key"].get<std::string>();
    }
    if (a.contains("status") && a["status"] != "active") summary += " [" + a["status"].get<std::string>() + "]";
  }
  if (out.contains("chain_id")) summary += "\nChain id: " + out["chain_id"].get<std::string>();
  return Success(summary, out);
}

std::variant<std::string, RpcError> ToolRunner::DefaultAddress() {
  RpcResult r = rpc_("eth_accounts", json::array());
  if (!r.ok) return r.error;
  std::vector<std::string> addresses;
  if (r.result.is_array()) {
    for (const json& a : r.result) {
      if (a.is_string()) addresses.push_back(a.get<std::string>());
    }
  }
  if (addresses.size() == 1) return addresses[0];
  if (addresses.empty()) {
    return Invalid("this agent has no Ethereum account; ask a human to grant it a secp256k1 key");
  }
  std::string list;
  for (const std::string& a : addresses) list += (list.empty() ? "" : ", ") + a;
  return Invalid("this agent has several Ethereum accounts; name the one to use (from / address): " + list);
}

std::variant<std::string, RpcError> ToolRunner::DefaultKey(const std::string& tool) {
  const bool nostr = tool == "sign_nostr_event";
  RpcResult r = rpc_("sigil_listKeys", json::array());
  if (!r.ok) return r.error;
  // Only the right type: the daemon signs Nostr events with schnorr keys
  // alone and Solana messages with ed25519 keys alone.
  std::vector<std::string> pick;
  if (r.result.is_array()) {
    for (const json& k : r.result) {
      if (!k.is_object()) continue;
      const std::string status = k.value("status", std::string("active"));
      if (status != "active") continue;
      std::string id = k.value("name", std::string());
      if (id.empty()) id = k.value("public_key", std::string());
      if (id.empty()) continue;
      const std::string type = k.value("type", std::string());
      if (nostr ? type == "schnorr" : type == "ed25519") pick.push_back(id);
    }
  }
  if (pick.size() == 1) return pick[0];
  const std::string what = nostr ? "Nostr (schnorr)" : "Solana (ed25519)";
  if (pick.empty()) return Invalid("this agent has no " + what + " key; ask a human to grant it one");
  std::string list;
  for (const std::string& k : pick) list += (list.empty() ? "" : ", ") + k;
  return Invalid("this agent has several " + what + " keys; name one in `key`: " + list);
}

std::variant<nlohmann::json, RpcError> ToolRunner::Transaction(const nlohmann::json& args) {
  json tx = json::object();
  if (args.contains("from")) {
    const std::string from = args["from"].get<std::string>();
    if (!IsAddress(from)) return Invalid("from \"" + from.substr(0, 80) + "\" is not an address (0x + 40 hex)");
    tx["from"] = from;
  } else {
    auto from = DefaultAddress();
    if (auto* e = std::get_if<RpcError>(&from)) return *e;
    tx["from"] = std::get<std::string>(from);
  }
  if (args.contains("to")) {
    const std::string to = args["to"].get<std::string>();
    if (!IsAddress(to)) return Invalid("to \"" + to.substr(0, 80) + "\" is not an address (0x + 40 hex)");
    tx["to"] = to;
  }
  struct Field {
    const char* name;
    QuantityKind kind;
  };
  for (const Field& f : {Field{"value", QuantityKind::kAmount}, Field{"chainId", QuantityKind::kInteger},
                         Field{"nonce", QuantityKind::kInteger}, Field{"gas", QuantityKind::kInteger},
                         Field{"maxFeePerGas", QuantityKind::kAmount}, Field{"maxPriorityFeePerGas", QuantityKind::kAmount},
                         Field{"gasPrice", QuantityKind::kAmount}, Field{"type", QuantityKind::kInteger}}) {
    if (!args.contains(f.name)) continue;
    absl::StatusOr<std::string> q = ToHexQuantity(args[f.name], f.kind, f.name);
    if (!q.ok()) return Invalid(std::string(q.status().message()));
    tx[f.name] = *q;
  }
  if (args.contains("data")) {
    const std::string data = args["data"].get<std::string>();
    if (data.rfind("0x", 0) != 0 || !HexDecode(data).ok()) {
      return Invalid("data must be 0x-prefixed hex with an even number of digits");
    }
    tx["data"] = data;
  }
  if (args.contains("accessList")) tx["accessList"] = args["accessList"];
  return tx;
}

std::variant<ToolRunner::RpcCall, RpcError> ToolRunner::BuildSigningCall(const std::string& tool,
                                                                         const nlohmann::json& args) {
  if (tool == "sign_transaction" || tool == "send_transaction") {
    auto tx = Transaction(args);
    if (auto* e = std::get_if<RpcError>(&tx)) return *e;
    return RpcCall{tool == "sign_transaction" ? "eth_signTransaction" : "eth_sendTransaction",
                   json::array({std::get<json>(tx)})};
  }
  if (tool == "sign_message" || tool == "sign_typed_data") {
    std::string address;
    if (args.contains("address")) {
      address = args["address"].get<std::string>();
      if (!IsAddress(address)) return Invalid("address \"" + address.substr(0, 80) + "\" is not an address (0x + 40 hex)");
    } else {
      auto a = DefaultAddress();
      if (auto* e = std::get_if<RpcError>(&a)) return *e;
      address = std::get<std::string>(a);
    }
    if (tool == "sign_message") {
      const std::string message = args["message"].get<std::string>();
      std::string hex;
      if (args.value("encoding", std::string("text")) == "hex") {
        absl::StatusOr<Bytes> bytes = HexDecode(message);
        if (message.rfind("0x", 0) != 0 || !bytes.ok()) {
          return Invalid("message must be 0x-prefixed hex when encoding is \"hex\"");
        }
        hex = HexEncode0x(*bytes);
      } else {
        // Always hex-encode text so that text which happens to look like hex
        // is signed as the text it is.
        hex = HexEncode0x(AsBytes(message));
      }
      return RpcCall{"personal_sign", json::array({hex, address})};
    }
    json typed = args["typed_data"];
    if (typed.is_string()) {
      json parsed = json::parse(typed.get<std::string>(), nullptr, /*allow_exceptions=*/false);
      if (!parsed.is_object()) return Invalid("typed_data is not a JSON object (expected {types, primaryType, domain, message})");
    }
    return RpcCall{"eth_signTypedData_v4", json::array({address, typed})};
  }
  if (tool == "sign_nostr_event" || tool == "sign_solana_transaction") {
    std::string key;
    if (args.contains("key")) {
      key = args["key"].get<std::string>();
    } else {
      auto k = DefaultKey(tool);
      if (auto* e = std::get_if<RpcError>(&k)) return *e;
      key = std::get<std::string>(k);
    }
    if (tool == "sign_solana_transaction") {
      return RpcCall{"sigil_signSolanaMessage", json::array({key, args["message"]})};
    }
    json event = {{"created_at", args.contains("created_at") ? args["created_at"] : json(clock_.NowUnixSeconds())},
                  {"kind", args["kind"]},
                  {"tags", args.contains("tags") ? args["tags"] : json::array()},
                  {"content", args["content"]}};
    return RpcCall{"sigil_signNostrEvent", json::array({key, event})};
  }
  return Invalid("\"" + tool + "\" is not a signing tool; explain can dry-run one of the signing tools");
}

ToolResult ToolRunner::Sign(const std::string& tool, const nlohmann::json& args) {
  auto built = BuildSigningCall(tool, args);
  if (auto* e = std::get_if<RpcError>(&built)) return Refused(*e);
  const RpcCall& call = std::get<RpcCall>(built);
  RpcResult r = rpc_(call.method, call.params);
  if (!r.ok) return Refused(r.error);

  if (tool == "sign_transaction" || tool == "send_transaction") {
    const std::string from = call.params[0].value("from", std::string());
    if (tool == "sign_transaction") {
      std::optional<std::string> raw = StringResult(r.result, {"raw", "rawTransaction", "raw_transaction"});
      if (!raw) return Success("", {{"result", r.result}});
      return Success("Signed (not sent) a transaction from " + from + ". Raw transaction: " + *raw,
                     {{"raw_transaction", *raw}, {"from", from}});
    }
    std::optional<std::string> hash = StringResult(r.result, {"hash", "tx_hash", "transactionHash"});
    if (!hash) return Success("", {{"result", r.result}});
    return Success("Sent a transaction from " + from + ". Transaction hash: " + *hash, {{"tx_hash", *hash}, {"from", from}});
  }
  if (tool == "sign_message" || tool == "sign_typed_data") {
    const std::string address = tool == "sign_message" ? call.params[1].get<std::string>() : call.params[0].get<std::string>();
    std::optional<std::string> sig = StringResult(r.result, {"signature"});
    if (!sig) return Success("", {{"result", r.result}});
    return Success(std::string(tool == "sign_message" ? "Signed the message" : "Signed the typed data") + " with " +
                       address + ". Signature: " + *sig,
                   {{"signature", *sig}, {"address", address}});
  }
  if (tool == "sign_nostr_event") {
    json event = r.result.is_object() && r.result.contains("event") ? r.result["event"] : r.result;
    std::string summary = "Signed the Nostr event";
    if (event.is_object() && event.contains("id") && event["id"].is_string()) {
      summary += " " + event["id"].get<std::string>();
    }
    return Success(summary + "; it is ready to publish.", {{"event", event}});
  }
  // sign_solana_transaction
  std::optional<std::string> sig = StringResult(r.result, {"signature"});
  if (!sig) return Success("", {{"result", r.result}});
  const std::string key = call.params[0].get<std::string>();
  return Success("Signed the Solana message with " + key + ". Signature (base58): " + *sig,
                 {{"signature", *sig}, {"key", key}});
}

ToolResult ToolRunner::Explain(const nlohmann::json& args) {
  const std::string tool = args["tool"].get<std::string>();
  const json& targs = args["arguments"];
  const ToolSpec* spec = FindTool(tool);
  if (spec == nullptr) return Refused(Invalid("explain cannot dry-run \"" + tool + "\""));
  if (absl::Status st = CheckAgainstSchema(targs, spec->input_schema); !st.ok()) {
    return Refused(Invalid(ArgumentsMessage(st)));
  }
  auto built = BuildSigningCall(tool, targs);
  if (auto* e = std::get_if<RpcError>(&built)) return Refused(*e);
  const RpcCall& call = std::get<RpcCall>(built);
  json params = json::array({call.method});
  for (const json& p : call.params) params.push_back(p);
  RpcResult r = rpc_("sigil_explain", params);
  if (!r.ok) return Refused(r.error);
  json out = r.result;
  if (!out.is_object()) return Success("", {{"result", out}});

  // The most `value` the wei budgets allow now: a value budget's remaining;
  // a spend budget's remaining less this request's fees (what it asks for
  // beyond its value). Budgets in lamports, or whose request is unbounded,
  // say nothing about wei.
  Uint256 request_value;
  if (call.method == "eth_sendTransaction" || call.method == "eth_signTransaction") {
    const json& tx = call.params[0];
    if (tx.is_object() && tx.contains("value") && tx["value"].is_string()) {
      if (auto v = Uint256::ParseInteger(tx["value"].get<std::string>()); v.ok()) request_value = *v;
    }
  }
  std::optional<Uint256> largest;
  if (out.contains("budgets") && out["budgets"].is_array()) {
    for (const json& b : out["budgets"]) {
      if (!b.is_object() || b.value("unit", std::string("wei")) != "wei" || b.contains("unbounded")) continue;
      const std::string measure = b.value("measure", std::string("value"));
      if (measure != "value" && measure != "spend") continue;
      std::optional<Uint256> rem = BudgetRemaining(b);
      if (rem && measure == "spend") {
        auto requested = Uint256::ParseInteger(b.value("requested", std::string()));
        if (!requested.ok()) continue;
        rem = rem->SaturatingSub(requested->SaturatingSub(request_value));
      }
      if (rem && (!largest || *rem < *largest)) largest = rem;
    }
  }
  if (largest) {
    out["largest_allowed_value"] = largest->ToDecimal();
    out["largest_allowed_value_text"] = WeiInWords(*largest);
  }

  const std::string decision = out.value("decision", std::string("?"));
  const std::string rule = out.contains("rule") && out["rule"].is_string() ? out["rule"].get<std::string>() : "";
  const std::string reason = out.contains("reason") && out["reason"].is_string() ? out["reason"].get<std::string>() : "";
  std::string summary = "Dry run of " + tool + " (nothing signed): ";
  if (out.contains("lockdown") && out["lockdown"] == true) {
    // What the policy says matters less than the lockdown a model must see.
    summary += "lockdown is in force, so the request would be refused now; the policy alone says ";
  }
  summary += decision;
  if (!rule.empty()) summary += " by rule " + rule;
  if (!reason.empty()) summary += ": " + reason;
  summary += ".";
  if (decision == "require_approval" && out.contains("approval") && out["approval"].is_object()) {
    const json& a = out["approval"];
    summary += " A human would have to approve";
    if (a.contains("quorum")) summary += " (" + Dump(a["quorum"]) + " approver(s))";
    summary += ".";
  }
  if (out.contains("budgets") && out["budgets"].is_array()) {
    for (const json& b : out["budgets"]) summary += "\n- " + DescribeBudget(b);
  }
  if (largest) {
    summary += "\nThe budgets allow a value of at most " + WeiInWords(*largest) + " (" + largest->ToDecimal() +
               " wei) now; a rule's own per-request limit may be lower (see get_policy).";
  }
  return Success(summary, out);
}

ToolResult ToolRunner::ApprovalStatus(const nlohmann::json& args) {
  const std::string id = args["approval_id"].get<std::string>();
  RpcResult r = rpc_("sigil_approvalStatus", json::array({id}));
  if (!r.ok) return Refused(r.error);
  json out = r.result;
  if (out.is_object() && !out.contains("approval_id")) out["approval_id"] = id;
  return Success(DescribeApprovalStatus(out), out);
}

}  // namespace sigil::mcp
