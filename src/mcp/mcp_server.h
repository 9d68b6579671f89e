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
// A JSON-RPC response sent to us (a reply to a request we never make) is
// ignored. Malformed messages get -32600 with the id when one can be read.
// Batches (arrays) are not part of MCP since 2025-06-18 and get -32600.
//
// Tools act for whoever the RpcCaller authenticates as; the server itself
// holds no credentials and makes no decisions.
//
// Thread-safety: one McpServer serves one session from one thread at a time.
// The HTTP transport builds a short-lived McpServer per request from the
// session's McpSessionState (see http_transport.h).
#pragma once

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

class McpServer {
 public:
  // `clock` is borrowed and must outlive the server; `rpc` is copied.
  McpServer(RpcCaller rpc, McpServerInfo info, const Clock& clock = RealClock::Instance(),
            McpSessionState state = {});

  // The response object, or null when nothing is to be sent back
  // (notifications, responses). Never throws.
  nlohmann::json Handle(const nlohmann::json& message);

  const McpSessionState& state() const { return state_; }

  // JSON-RPC error response helper: {"jsonrpc":"2.0","id":id,"error":{code,message[,data]}}.
  static nlohmann::json ErrorResponse(const nlohmann::json& id, int code, const std::string& message,
                                      const nlohmann::json& data = nullptr);

 private:
  nlohmann::json HandleRequest(const nlohmann::json& id, const std::string& method, const nlohmann::json& params);
  nlohmann::json Initialize(const nlohmann::json& id, const nlohmann::json& params);
  nlohmann::json CallTool(const nlohmann::json& id, const nlohmann::json& params);

  RpcCaller rpc_;
  McpServerInfo info_;
  const Clock& clock_;
  McpSessionState state_;
};

}  // namespace sigil::mcp
