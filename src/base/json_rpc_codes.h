// The JSON-RPC error codes of Sigil's external contract (INTERFACE.md): the
// standard JSON-RPC 2.0 ones and Sigil's own -32001..-32006. One list for
// every layer that answers or interprets them (the /rpc server, the MCP
// tools).
#pragma once

namespace sigil {

enum JsonRpcCode : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  // JSON-RPC 2.0's generic server error: an upstream node's error whose own
  // code would read as one of Sigil's (data.upstream_code has it).
  kUpstreamError = -32000,
  kUnauthenticated = -32001,
  kApprovalRequired = -32002,
  kDeniedByPolicy = -32003,
  kLockdown = -32004,
  kRateLimited = -32005,
  kUnavailable = -32006,
};

}  // namespace sigil
