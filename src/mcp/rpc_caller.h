// RpcCaller: how the MCP server reaches Sigil's JSON-RPC methods.
//
// The MCP layer holds no keys and makes no decisions: every tool call becomes
// one or more JSON-RPC calls (eth_*, personal_sign, sigil_*) made on behalf
// of one authenticated principal. The daemon gives the HTTP transport a
// caller bound to the bearer token of the request being served; `sigil mcp`
// gives the stdio transport a caller that POSTs to SIGIL_URL/rpc with
// SIGIL_TOKEN. Either way the daemon authenticates, decides and audits.
//
// Contract for implementations:
//  * `params` is the positional array the method takes.
//  * A JSON-RPC error from the daemon comes back as ok=false with its code,
//    message and data unchanged (data is null when absent).
//  * A failure to reach the daemon at all (connection refused, timeout, a
//    non-JSON body) is reported as ok=false, code -32006 (unavailable), with
//    a message saying what failed. Never throw.
//  * Must be safe to call from the thread that calls McpServer::Handle; the
//    HTTP transport calls it from several threads at once (one caller object
//    per request).
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/json_rpc_codes.h"

namespace sigil::mcp {

// The error codes (INTERFACE.md): base/json_rpc_codes.h.
using enum JsonRpcCode;

struct RpcError {
  int code = kInternalError;
  std::string message;
  nlohmann::json data;  // null when absent
};

struct RpcResult {
  bool ok = false;
  nlohmann::json result;  // when ok
  RpcError error;         // when !ok

  static RpcResult Success(nlohmann::json result) { return RpcResult{true, std::move(result), {}}; }
  static RpcResult Failure(int code, std::string message, nlohmann::json data = nullptr) {
    return RpcResult{false, nullptr, RpcError{code, std::move(message), std::move(data)}};
  }
};

using RpcCaller = std::function<RpcResult(const std::string& method, const nlohmann::json& params)>;

}  // namespace sigil::mcp
