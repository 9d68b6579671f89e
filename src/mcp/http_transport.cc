#include "mcp/http_transport.h"

#include <cctype>

#include "base/json_bounds.h"

namespace sigil::mcp {
namespace {

using nlohmann::json;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// "application/json; charset=utf-8" → "application/json"
std::string MediaType(const std::string& value) { return Lower(Trim(value.substr(0, value.find(';')))); }

bool AcceptsJson(const std::string& accept) {
  size_t start = 0;
  while (start <= accept.size()) {
    size_t end = accept.find(',', start);
    if (end == std::string::npos) end = accept.size();
    const std::string item = accept.substr(start, end - start);
    const std::string type = MediaType(item);
    // A q=0 parameter means "not acceptable".
    const std::string params = Lower(item.find(';') == std::string::npos ? "" : item.substr(item.find(';')));
    const bool refused = params.find("q=0") != std::string::npos && params.find("q=0.") == std::string::npos;
    if (!refused && (type == "application/json" || type == "application/*" || type == "*/*")) return true;
    start = end + 1;
  }
  return false;
}

McpHttpResponse Error(int status, int code, const std::string& message, const json& id = nullptr) {
  McpHttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = McpServer::ErrorResponse(id, code, message).dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

McpHttpResponse JsonReply(const json& message) {
  McpHttpResponse r;
  r.status = 200;
  r.content_type = "application/json";
  r.body = message.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

bool OriginAllowed(const McpHttpRequest& request, const McpHttpOptions& options) {
  if (!request.origin) return true;
  const std::string origin = Lower(Trim(*request.origin));
  if (IsLoopbackOrigin(origin)) return true;
  for (const std::string& allowed : options.allowed_origins) {
    if (Lower(allowed) == origin) return true;
  }
  return false;
}

McpHttpResponse Post(const McpHttpRequest& request, McpSessionRegistry& sessions, const McpHttpOptions& options) {
  if (request.accept && !AcceptsJson(*request.accept)) {
    return Error(406, kInvalidRequest, "Not Acceptable: this server answers with application/json");
  }
  if (request.content_type && MediaType(*request.content_type) != "application/json") {
    return Error(415, kInvalidRequest, "Unsupported Media Type: send Content-Type: application/json");
  }
  if (request.body.size() > options.max_body_bytes) {
    return Error(413, kInvalidRequest, "message larger than " + std::to_string(options.max_body_bytes) + " bytes");
  }
  if (absl::Status st = CheckJsonBounds(request.body, JsonBounds{options.max_body_bytes, 64}); !st.ok()) {
    return Error(400, kParseError, "Parse error: " + std::string(st.message()));
  }
  const json message = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded()) return Error(400, kParseError, "Parse error: not valid JSON");
  if (message.is_array()) return Error(400, kInvalidRequest, "batches are not supported; send one message per request");
  if (!message.is_object()) return Error(400, kInvalidRequest, "a message must be a JSON-RPC 2.0 object");
  const json id = message.contains("id") ? message["id"] : json();

  const bool initialize = message.contains("id") && message.value("method", json()) == "initialize";
  if (initialize) {
    McpServer server(request.rpc, sessions.server_info(), sessions.clock());
    json response = server.Handle(message);
    if (!response.contains("result")) return JsonReply(response);
    absl::StatusOr<std::string> session = sessions.Create(request.principal, server.state());
    if (!session.ok()) return Error(503, kInternalError, std::string(session.status().message()), id);
    McpHttpResponse r = JsonReply(response);
    r.headers.emplace_back("Mcp-Session-Id", *session);
    return r;
  }

  if (!request.session_id || request.session_id->empty()) {
    return Error(400, kInvalidRequest, "Bad Request: Mcp-Session-Id header is required (send initialize first)", id);
  }
  std::optional<McpSessionState> state = sessions.Find(*request.session_id, request.principal);
  if (!state) return Error(404, kInvalidRequest, "Session not found: it ended or expired; initialize again", id);
  if (request.protocol_version && !IsSupportedProtocolVersion(Trim(*request.protocol_version))) {
    return Error(400, kInvalidRequest, "Bad Request: unsupported MCP-Protocol-Version " + *request.protocol_version, id);
  }

  McpServer server(request.rpc, sessions.server_info(), sessions.clock(), *state);
  json response = server.Handle(message);
  sessions.Update(*request.session_id, request.principal, server.state());
  if (response.is_null()) {
    McpHttpResponse r;
    r.status = 202;
    return r;
  }
  return JsonReply(response);
}

}  // namespace

bool IsLoopbackOrigin(const std::string& raw) {
  const std::string origin = Lower(raw);
  std::string rest;
  if (origin.rfind("http://", 0) == 0) {
    rest = origin.substr(7);
  } else if (origin.rfind("https://", 0) == 0) {
    rest = origin.substr(8);
  } else {
    return false;
  }
  std::string host;
  std::string port;
  if (!rest.empty() && rest[0] == '[') {
    const size_t close = rest.find(']');
    if (close == std::string::npos) return false;
    host = rest.substr(0, close + 1);
    rest = rest.substr(close + 1);
  } else {
    const size_t colon = rest.find(':');
    host = rest.substr(0, colon);
    rest = colon == std::string::npos ? "" : rest.substr(colon);
  }
  if (!rest.empty()) {
    if (rest[0] != ':' || rest.size() < 2 || rest.size() > 6) return false;
    for (size_t i = 1; i < rest.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(rest[i]))) return false;
    }
  }
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]";
}

McpHttpResponse HandleHttp(const McpHttpRequest& request, McpSessionRegistry& sessions, const McpHttpOptions& options) {
  if (!OriginAllowed(request, options)) {
    return Error(403, kInvalidRequest, "Forbidden: requests from origin " + request.origin->substr(0, 200) + " are not allowed");
  }
  if (request.method == "POST") return Post(request, sessions, options);
  if (request.method == "DELETE") {
    if (!request.session_id || request.session_id->empty()) {
      return Error(400, kInvalidRequest, "Bad Request: Mcp-Session-Id header is required");
    }
    if (!sessions.Remove(*request.session_id, request.principal)) {
      return Error(404, kInvalidRequest, "Session not found");
    }
    McpHttpResponse r;
    r.status = 204;
    return r;
  }
  McpHttpResponse r = Error(405, kInvalidRequest,
                            request.method == "GET" ? "Method Not Allowed: this server offers no SSE stream; use POST"
                                                    : "Method Not Allowed: use POST (or DELETE to end a session)");
  r.headers.emplace_back("Allow", "POST, DELETE");
  return r;
}

}  // namespace sigil::mcp
