#include "mcp/mcp_server.h"

#include "mcp/tool_catalog.h"
#include "mcp/tool_runner.h"

namespace sigil::mcp {
namespace {

using nlohmann::json;

constexpr char kInstructions[] =
    "Sigil holds this agent's keys and signs on its behalf under a policy set by humans. "
    "Start with list_accounts to learn your addresses and get_policy / get_budget to learn what is allowed. "
    "Use explain to dry-run a request. A refused tool call returns isError=true with the rule, the reason and what "
    "to do next: read it instead of retrying blindly. A request held for approval returns an approval_id: call "
    "approval_status later to collect the signature. Amounts are strings such as \"0.05 ether\" or decimal wei, "
    "never floating-point numbers.";

bool ValidId(const json& id) { return id.is_string() || id.is_number_integer() || id.is_number_unsigned(); }

json Ok(const json& id, json result) { return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}; }

}  // namespace

const std::vector<std::string>& SupportedProtocolVersions() {
  static const auto* versions = new std::vector<std::string>{"2025-11-25", "2025-06-18", "2025-03-26"};
  return *versions;
}

bool IsSupportedProtocolVersion(std::string_view version) {
  for (const std::string& v : SupportedProtocolVersions()) {
    if (v == version) return true;
  }
  return false;
}

std::string EffectiveProtocolVersion(const McpSessionState& state) {
  return state.protocol_version.empty() ? std::string(kAssumedProtocolVersion) : state.protocol_version;
}

McpServer::McpServer(RpcCaller rpc, McpServerInfo info, const Clock& clock, McpSessionState state)
    : rpc_(std::move(rpc)), info_(std::move(info)), clock_(clock), state_(std::move(state)) {}

nlohmann::json McpServer::ErrorResponse(const nlohmann::json& id, int code, const std::string& message,
                                        const nlohmann::json& data) {
  json error = {{"code", code}, {"message", message}};
  if (!data.is_null()) error["data"] = data;
  return {{"jsonrpc", "2.0"}, {"id", ValidId(id) ? id : json(nullptr)}, {"error", std::move(error)}};
}

nlohmann::json McpServer::Handle(const nlohmann::json& message) {
  json error_id = nullptr;  // the id to answer with if something throws
  try {
    if (message.is_array()) return HandleBatch(message);
    if (!message.is_object()) return ErrorResponse(nullptr, kInvalidRequest, "a message must be a JSON-RPC 2.0 object");
    const json id = message.contains("id") ? message["id"] : json();
    const bool has_id = message.contains("id");
    // A notification or a response is never answered, so no request charges
    // it: charged here, or an agent could send them without end for free.
    // Over the rate it is dropped unread (it cannot be answered).
    if (!has_id || (!message.contains("method") && (message.contains("result") || message.contains("error")))) {
      if (std::optional<RpcError> refused = Charge()) {
        dropped_over_rate_ = std::move(refused);
        return nullptr;
      }
    }
    if (message.value("jsonrpc", json()) != "2.0") {
      return ErrorResponse(id, kInvalidRequest, "jsonrpc must be \"2.0\"");
    }
    auto method_it = message.find("method");
    if (method_it == message.end()) {
      // A response (result/error) from the client: we never send requests, so
      // there is nothing to match it with. Responses get no reply.
      if (message.contains("result") || message.contains("error")) return nullptr;
      return ErrorResponse(id, kInvalidRequest, "a request needs a method");
    }
    if (!method_it->is_string()) return ErrorResponse(id, kInvalidRequest, "method must be a string");
    const std::string method = method_it->get<std::string>();
    const json params = message.contains("params") ? message["params"] : json();
    if (!params.is_null() && !params.is_object()) {
      return has_id ? ErrorResponse(id, kInvalidParams, "params must be an object") : json();
    }

    if (!has_id) {
      // Notifications never get a reply, not even an error.
      if (method == "notifications/initialized") state_.initialized = true;
      return nullptr;
    }
    if (!ValidId(id)) {
      // An integer past 64 bits parses as a double and could not come back
      // as the same value (JSON-RPC 2.0 §5): refused like a fraction.
      return ErrorResponse(nullptr, kInvalidRequest,
                           "id must be a string or an integer of at most 64 bits (-2^63 to 2^64-1)");
    }
    error_id = id;
    return HandleRequest(id, method, params);
  } catch (const std::exception& e) {
    // nlohmann throws on type confusion we failed to anticipate, and an
    // RpcCaller might throw despite its contract; never let either escape to
    // the transport.
    return ErrorResponse(error_id, kInternalError, std::string("internal error: ") + e.what());
  }
}

nlohmann::json McpServer::HandleBatch(const nlohmann::json& batch) {
  // Only 2025-03-26 has batches ("MUST support receiving JSON-RPC batches");
  // 2025-06-18 removed them. Before initialize no version is negotiated, and
  // initialize itself may not be batched, so a batch then is refused too.
  for (const json& m : batch) {
    if (m.is_object() && m.contains("method") && m["method"] == "initialize") {
      return ErrorResponse(nullptr, kInvalidRequest,
                           "initialize must not be part of a JSON-RPC batch; nothing in this batch was run");
    }
  }
  if (state_.protocol_version != "2025-03-26") {
    return ErrorResponse(nullptr, kInvalidRequest,
                         state_.protocol_version.empty()
                             ? "JSON-RPC batches are not accepted before initialize; send initialize on its own"
                             : "JSON-RPC batches are not part of MCP " + state_.protocol_version +
                                   " (removed in 2025-06-18); send one message at a time");
  }
  if (batch.empty()) return ErrorResponse(nullptr, kInvalidRequest, "empty batch");
  if (batch.size() > kMaxBatchMessages) {
    return ErrorResponse(nullptr, kInvalidRequest,
                         "batch of " + std::to_string(batch.size()) + " messages exceeds the limit of " +
                             std::to_string(kMaxBatchMessages));
  }
  json responses = json::array();
  for (const json& m : batch) {
    // A nested array is not a message: -32600 for that element.
    json response = m.is_array() ? ErrorResponse(nullptr, kInvalidRequest, "a batch element must be a JSON-RPC 2.0 object")
                                 : Handle(m);
    if (!response.is_null()) responses.push_back(std::move(response));
  }
  if (responses.empty()) return nullptr;  // only notifications and responses
  return responses;
}

std::optional<RpcError> ChargeTokenRate(const RpcCaller& rpc) {
  if (!rpc) return std::nullopt;
  RpcResult r = rpc("sigil_ping", json::array());
  // Only the daemon's rate refusal stops the request: a daemon that cannot
  // be reached (stdio) or predates sigil_ping answers ping and tools/list
  // from here as before.
  if (!r.ok && r.error.code == kRateLimited) return r.error;
  return std::nullopt;
}

nlohmann::json McpServer::HandleRequest(const nlohmann::json& id, const std::string& method,
                                        const nlohmann::json& params) {
  if (method == "tools/call") {
    // A tool's daemon calls are charged one by one (as on /rpc); a call
    // refused before it reached any (unknown tool, bad arguments) is
    // charged once here, after the fact: it changed nothing.
    int daemon_calls = 0;
    RpcCaller counted = [this, &daemon_calls](const std::string& m, const json& p) {
      ++daemon_calls;
      return rpc_(m, p);
    };
    json answer = CallTool(id, params, counted);
    if (daemon_calls == 0) {
      if (auto refused = Charge()) return ErrorResponse(id, refused->code, refused->message, refused->data);
    }
    return answer;
  }
  // Every other request is charged to the token's rate before it is
  // answered, like a call on /rpc: ping and tools/list cost the daemon
  // little, but never nothing.
  if (auto refused = Charge()) return ErrorResponse(id, refused->code, refused->message, refused->data);
  if (method == "initialize") return Initialize(id, params);
  if (method == "ping") return Ok(id, json::object());
  if (method == "tools/list") {
    json tools = json::array();
    for (const ToolSpec& t : SigilTools()) tools.push_back(t.ToJson());
    return Ok(id, {{"tools", std::move(tools)}});
  }
  return ErrorResponse(id, kMethodNotFound, "Method not found: " + method);
}

nlohmann::json McpServer::Initialize(const nlohmann::json& id, const nlohmann::json& params) {
  if (!params.is_object() || !params.contains("protocolVersion") || !params["protocolVersion"].is_string()) {
    return ErrorResponse(id, kInvalidParams, "initialize needs params.protocolVersion (a string)");
  }
  const std::string requested = params["protocolVersion"].get<std::string>();
  const std::string version = IsSupportedProtocolVersion(requested) ? requested : SupportedProtocolVersions().front();
  state_.initialize_answered = true;
  state_.initialized = false;
  state_.protocol_version = version;
  if (params.contains("clientInfo") && params["clientInfo"].is_object()) {
    state_.client_name = params["clientInfo"].value("name", std::string());
  }
  json server_info = {{"name", info_.name}, {"version", info_.version}};
  if (!info_.title.empty()) server_info["title"] = info_.title;
  return Ok(id, {{"protocolVersion", version},
                 {"capabilities", {{"tools", {{"listChanged", false}}}}},
                 {"serverInfo", std::move(server_info)},
                 {"instructions", info_.instructions.empty() ? std::string(kInstructions) : info_.instructions}});
}

nlohmann::json McpServer::CallTool(const nlohmann::json& id, const nlohmann::json& params, const RpcCaller& rpc) {
  if (!params.is_object() || !params.contains("name") || !params["name"].is_string()) {
    return ErrorResponse(id, kInvalidParams, "tools/call needs params.name (a string)");
  }
  const std::string name = params["name"].get<std::string>();
  const ToolSpec* tool = FindTool(name);
  if (tool == nullptr) return ErrorResponse(id, kInvalidParams, "Unknown tool: " + name);
  ToolRunner runner(rpc, clock_);
  return Ok(id, runner.Call(*tool, params.contains("arguments") ? params["arguments"] : json()).ToJson());
}

}  // namespace sigil::mcp
