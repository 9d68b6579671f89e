// The MCP "streamable HTTP" transport (spec 2025-03-26 … 2025-11-25), in the
// simplest form the spec allows: every POST gets one JSON answer and the
// server never opens an SSE stream. The daemon mounts it at /mcp after it has
// authenticated the bearer token; this code never sees the token, only the
// principal it names and an RpcCaller acting for it.
//
//   POST   one JSON-RPC message
//            initialize      → 200 application/json, Mcp-Session-Id: <new id>
//            other request   → 200 application/json (needs the session id)
//            notification or response → 202, empty body
//          or, on a session that negotiated 2025-03-26, a batch (array):
//            → 200 with the array of responses, or 202 when it held only
//            notifications/responses; 400 when refused whole (other
//            versions, initialize inside, empty, > kMaxBatchMessages)
//          400 missing Mcp-Session-Id / bad JSON / MCP-Protocol-Version not
//              one we support, or (with a session) not the version the
//              session negotiated; 404 unknown or foreign session;
//          403 a browser Origin that is not allowed; 406 an Accept header that
//          excludes application/json; 413 body too large; 415 a Content-Type
//          other than application/json; 503 too many sessions
//   GET    405 (no server-initiated stream is offered; clients then work with
//          POST alone — the TypeScript SDK treats 405 that way)
//   DELETE ends the session: 204, or 400/404 as for POST
// MCP-Protocol-Version is checked on every POST but initialize (the client
// cannot know the version before negotiating it) and on DELETE. Absent, the
// session's negotiated version applies (2025-06-18 transports: the server
// assumes 2025-03-26 only when it has no other way to know the version, and
// every request but initialize here has a session that negotiated one).
//   other  405
// Every request is charged to the token's rate (through McpHttpRequest::rpc,
// as McpServer charges): POST per message (notifications and responses
// too; a POST refused before any message ran, once), any other method once
// before anything else. Over the rate: 429 with the -32005 error and
// Retry-After, except a request with an id, which is answered -32005 in a
// 200 like any JSON-RPC error.
// Error bodies are JSON-RPC error objects with id null.
//
// Origin: requests from browsers carry Origin; to stop DNS-rebinding attacks
// a request with an Origin is refused unless it is a loopback origin
// (http[s]://localhost|127.0.0.1|[::1][:port]) or listed in
// McpHttpOptions::allowed_origins. Requests without Origin (programs) pass.
//
// Thread-safety: HandleHttp may run concurrently for any requests; the
// registry is thread-safe and each call builds its own McpServer.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mcp/mcp_session_registry.h"
#include "mcp/rpc_caller.h"

namespace sigil::mcp {

struct McpHttpRequest {
  std::string method;  // "POST", "GET", "DELETE", …
  // Header values, absent when the header was not sent.
  std::optional<std::string> session_id;        // Mcp-Session-Id
  std::optional<std::string> protocol_version;  // MCP-Protocol-Version
  std::optional<std::string> accept;            // Accept
  std::optional<std::string> content_type;      // Content-Type
  std::optional<std::string> origin;            // Origin
  std::string body;
  // The authenticated principal (e.g. the token id); sessions are bound to it.
  std::string principal;
  // Calls Sigil's JSON-RPC methods as that principal.
  RpcCaller rpc;
};

struct McpHttpResponse {
  int status = 200;
  std::string content_type;  // empty → no body / no Content-Type
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct McpHttpOptions {
  size_t max_body_bytes = 4 << 20;
  // Exact origins allowed besides loopback ones, e.g. "https://console.example".
  std::vector<std::string> allowed_origins;
};

McpHttpResponse HandleHttp(const McpHttpRequest& request, McpSessionRegistry& sessions,
                           const McpHttpOptions& options = {});

// True for http[s]://localhost, 127.0.0.1 or [::1], with an optional port.
bool IsLoopbackOrigin(const std::string& origin);

}  // namespace sigil::mcp
