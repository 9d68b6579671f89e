// McpServer: the Model Context Protocol (MCP) server core, independent of
// transport. It answers one JSON-RPC message at a time:
//
//   initialize                 negotiates the protocol version: the client's
//                              if supported (2025-11-25, 2025-06-18,
//                              2025-03-26), else the latest we support;
//                              answers capabilities {tools}, serverInfo and
//                              instructions
//   notifications/initialized  (and every other notification) → no reply
//   ping                       → {}
//   tools/list                 → every tool in tool_catalog.h
//   tools/call                 → ToolRunner (tool_runner.h); an unknown tool
//                              is JSON-RPC error -32602
//   anything else              → -32601
// Every request (with an id) is charged to the token's rate limit like a
// call on /rpc: a tools/call by the daemon calls its tool makes, any other
// request (and a tools/call refused before its tool called the daemon) once,
// through sigil_ping. Over the rate, the answer is error -32005 with
// data.retry_after_ms. Notifications and responses (never answered) are
// charged once each too; over the rate they are dropped unread and
// dropped_over_rate() says why (the HTTP transport answers 429).
// A JSON-RPC response sent to us (a reply to a request we never make) is
// ignored. Malformed messages get -32600 with the id when one can be read.
// Batches (arrays): accepted only once a session negotiated 2025-03-26, the
// one version that has them; each element is handled in order and the
// answer is the array of the responses (a notification or response element
// gets no entry; a batch of only those gets no reply at all). A batch is
// refused whole with one -32600 error object (id null) on any other version
// (2025-06-18 removed batching) or before initialize, when it is empty,
// longer than kMaxBatchMessages, or contains initialize (which must not be
// part of a batch).
//
// Tools act for whoever the RpcCaller authenticates as; the server itself
// holds no credentials and makes no decisions.
//
// Thread-safety: one McpServer serves one session from one thread at a time.
// The HTTP transport builds a short-lived McpServer per request from the
// session's McpSessionState (see http_transport.h).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "mcp/rpc_caller.h"

namespace sigil::mcp {

// Protocol versions we speak, newest first.
const std::vector<std::string>& SupportedProtocolVersions();
bool IsSupportedProtocolVersion(std::string_view version);

// The protocol version assumed when a client names none: 2025-03-26, the
// last version before the MCP-Protocol-Version header became mandatory
// (2025-06-18 transports, "Protocol Version Header", backwards compatibility).
inline constexpr char kAssumedProtocolVersion[] = "2025-03-26";

// The most messages one batch may hold; the same bound as the daemon's
// /rpc batches (server::RpcLimits::max_batch), restated because this module
// sits below src/server.
inline constexpr size_t kMaxBatchMessages = 100;

struct McpServerInfo {
  std::string name = "sigil";
  std::string title = "Sigil signing service";
  std::string version = "0.1.0";
  // Sent as InitializeResult.instructions; empty → the built-in text.
  std::string instructions;
};

// What a session remembers between messages.
struct McpSessionState {
  bool initialize_answered = false;  // initialize succeeded
  bool initialized = false;          // notifications/initialized received
  std::string protocol_version;      // negotiated; empty before initialize
  std::string client_name;           // clientInfo.name, for logs
};

// The version a session speaks: the one negotiated at initialize, else
// kAssumedProtocolVersion (a session that never negotiated one).
std::string EffectiveProtocolVersion(const McpSessionState& state);

// Charges one request to the caller's token rate (sigil_ping through `rpc`):
// the daemon's -32005 refusal when the rate is exceeded, else nullopt (also
// when the daemon cannot be reached, predates sigil_ping, or `rpc` is empty).
std::optional<RpcError> ChargeTokenRate(const RpcCaller& rpc);

class McpServer {
 public:
  // `clock` is borrowed and must outlive the server; `rpc` is copied.
  McpServer(RpcCaller rpc, McpServerInfo info, const Clock& clock = RealClock::Instance(),
            McpSessionState state = {});

  // The response object, or null when nothing is to be sent back
  // (notifications, responses). For a batch (array): an array of responses,
  // null, or a single error object when the batch is refused whole (see
  // above). Never throws.
  nlohmann::json Handle(const nlohmann::json& message);

  const McpSessionState& state() const { return state_; }
  // Set when Handle dropped a notification or response (which get no
  // answer) because the token's rate was exceeded: the -32005 refusal.
  const std::optional<RpcError>& dropped_over_rate() const { return dropped_over_rate_; }

  // JSON-RPC error response helper: {"jsonrpc":"2.0","id":id,"error":{code,message[,data]}}.
  static nlohmann::json ErrorResponse(const nlohmann::json& id, int code, const std::string& message,
                                      const nlohmann::json& data = nullptr);

 private:
  nlohmann::json HandleBatch(const nlohmann::json& batch);
  nlohmann::json HandleRequest(const nlohmann::json& id, const std::string& method, const nlohmann::json& params);
  nlohmann::json Initialize(const nlohmann::json& id, const nlohmann::json& params);
  nlohmann::json CallTool(const nlohmann::json& id, const nlohmann::json& params, const RpcCaller& rpc);
  std::optional<RpcError> Charge() { return ChargeTokenRate(rpc_); }

  RpcCaller rpc_;
  McpServerInfo info_;
  const Clock& clock_;
  McpSessionState state_;
  std::optional<RpcError> dropped_over_rate_;
};

}  // namespace sigil::mcp
