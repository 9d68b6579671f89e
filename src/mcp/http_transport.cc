#include "mcp/http_transport.h"

#include <algorithm>
#include <cctype>

#include "base/json_bounds.h"
#include "base/json_duplicates.h"

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

// The weight of one Accept item's parameters ("; q=0.5; level=1"), in
// thousandths: RFC 9110 §12.4.2, qvalue = ( "0" [ "." 0*3DIGIT ] ) /
// ( "1" [ "." 0*3("0") ] ). Without q the weight is 1000. A q that does not
// parse is read as 1000 (lenient: only an explicit zero refuses); decimals
// past the third are read too, only to tell zero from not zero.
int AcceptWeight(const std::string& params) {
  size_t start = 0;
  while (start < params.size()) {
    size_t end = params.find(';', start);
    if (end == std::string::npos) end = params.size();
    const std::string param = params.substr(start, end - start);
    start = end + 1;
    const size_t eq = param.find('=');
    if (eq == std::string::npos || Lower(Trim(param.substr(0, eq))) != "q") continue;
    const std::string q = Trim(param.substr(eq + 1));
    if (q.empty() || (q[0] != '0' && q[0] != '1')) return 1000;
    if (q.size() == 1) return q[0] == '0' ? 0 : 1000;
    if (q[1] != '.') return 1000;
    // More than three decimals is beyond the grammar; read them anyway so
    // "0.0000" is still zero and "0.0001" is still not.
    int thousandths = 0;
    int scale = 100;
    bool beyond_nonzero = false;
    for (size_t i = 2; i < q.size(); ++i, scale /= 10) {
      if (!std::isdigit(static_cast<unsigned char>(q[i]))) return 1000;
      if (scale > 0) {
        thousandths += (q[i] - '0') * scale;
      } else if (q[i] != '0') {
        beyond_nonzero = true;
      }
    }
    if (q[0] == '1') return 1000;
    return thousandths == 0 && beyond_nonzero ? 1 : thousandths;
  }
  return 1000;
}

// Whether `accept` lets us answer with application/json. The most specific
// range that matches decides (RFC 9110 §12.5.1): "application/json;q=0, */*"
// refuses JSON even though */* alone would allow it.
bool AcceptsJson(const std::string& accept) {
  int best_specificity = -1;  // 0 */*, 1 application/*, 2 application/json
  int weight = 0;
  size_t start = 0;
  while (start <= accept.size()) {
    size_t end = accept.find(',', start);
    if (end == std::string::npos) end = accept.size();
    const std::string item = accept.substr(start, end - start);
    start = end + 1;
    const std::string type = MediaType(item);
    int specificity = -1;
    if (type == "application/json") specificity = 2;
    if (type == "application/*") specificity = 1;
    if (type == "*/*") specificity = 0;
    if (specificity < 0) continue;
    const size_t semi = item.find(';');
    const int w = AcceptWeight(semi == std::string::npos ? "" : item.substr(semi + 1));
    if (specificity > best_specificity) {
      best_specificity = specificity;
      weight = w;
    } else if (specificity == best_specificity) {
      weight = std::max(weight, w);  // the same range twice: the kinder weight
    }
  }
  return best_specificity >= 0 && weight > 0;
}

McpHttpResponse Error(int status, int code, const std::string& message, const json& id = nullptr) {
  McpHttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = McpServer::ErrorResponse(id, code, message).dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

// 429 for a request over the token's rate: the -32005 error (id null; the
// request was not run) and Retry-After in whole seconds.
McpHttpResponse RateLimited(const RpcError& refused) {
  McpHttpResponse r;
  r.status = 429;
  r.content_type = "application/json";
  r.body = McpServer::ErrorResponse(nullptr, refused.code, refused.message, refused.data)
               .dump(-1, ' ', false, json::error_handler_t::replace);
  const json ms = refused.data.is_object() ? refused.data.value("retry_after_ms", json(1000)) : json(1000);
  const int64_t wait_ms = ms.is_number_integer() ? std::max<int64_t>(1, ms.get<int64_t>()) : 1000;
  r.headers.emplace_back("Retry-After", std::to_string((wait_ms + 999) / 1000));
  return r;
}

McpHttpResponse JsonReply(const json& message) {
  McpHttpResponse r;
  r.status = 200;
  r.content_type = "application/json";
  r.body = message.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

McpHttpResponse Forbidden(const McpHttpRequest& request) {
  return Error(403, kInvalidRequest, "Forbidden: requests from origin " + request.origin.value_or("").substr(0, 200) + " are not allowed");
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

// MCP-Protocol-Version (2025-06-18 transports, "Protocol Version Header"):
// a value that is not a version we speak is 400 whatever the session.
std::optional<McpHttpResponse> CheckProtocolVersionHeader(const McpHttpRequest& request, const json& id) {
  if (!request.protocol_version || IsSupportedProtocolVersion(Trim(*request.protocol_version))) return std::nullopt;
  std::string supported;
  for (const std::string& v : SupportedProtocolVersions()) supported += (supported.empty() ? "" : ", ") + v;
  return Error(400, kInvalidRequest,
               "Bad Request: unsupported MCP-Protocol-Version \"" + request.protocol_version->substr(0, 64) +
                   "\" (supported: " + supported + ")",
               id);
}

// A supported version that is not the one this session negotiated at
// initialize is 400 too: the client and server would disagree on the
// protocol. An absent header means the negotiated version (the spec's "other
// way to identify the version"); see EffectiveProtocolVersion.
std::optional<McpHttpResponse> CheckProtocolVersionMatches(const McpHttpRequest& request, const McpSessionState& state,
                                                           const json& id) {
  if (!request.protocol_version) return std::nullopt;
  const std::string sent = Trim(*request.protocol_version);
  const std::string negotiated = EffectiveProtocolVersion(state);
  if (sent == negotiated) return std::nullopt;
  return Error(400, kInvalidRequest,
               "Bad Request: MCP-Protocol-Version " + sent + " differs from the version this session negotiated (" +
                   negotiated + "); send MCP-Protocol-Version: " + negotiated + " or initialize a new session",
               id);
}

// `rpc` stands for request.rpc (HandleHttp counts the calls made through it).
McpHttpResponse Post(const McpHttpRequest& request, const RpcCaller& rpc, McpSessionRegistry& sessions,
                     const McpHttpOptions& options) {
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
  JsonParsed<json> parsed = ParseNotingDuplicates(request.body);
  const json& message = parsed.doc;
  if (message.is_discarded()) return Error(400, kParseError, "Parse error: not valid JSON");
  // A repeated name (say two "to" in a tool's arguments) would be resolved
  // silently, last one wins: refused whole.
  if (!parsed.duplicates.empty()) {
    return Error(400, kInvalidRequest,
                 "Invalid Request: " + DuplicateKeyMessage(parsed.duplicates.front(), "the message"));
  }
  if (!message.is_object() && !message.is_array()) {
    return Error(400, kInvalidRequest, "a message must be a JSON-RPC 2.0 object (or, on 2025-03-26 sessions, a batch)");
  }
  const bool batch = message.is_array();
  const json id = !batch && message.contains("id") ? message["id"] : json();

  const bool initialize = !batch && message.contains("id") && message.value("method", json()) == "initialize";
  if (initialize) {
    McpServer server(rpc, sessions.server_info(), sessions.clock());
    json response = server.Handle(message);
    if (!response.contains("result")) return JsonReply(response);
    absl::StatusOr<std::string> session = sessions.Create(request.principal, server.state());
    if (!session.ok()) return Error(503, kInternalError, std::string(session.status().message()), id);
    McpHttpResponse r = JsonReply(response);
    r.headers.emplace_back("Mcp-Session-Id", *session);
    return r;
  }

  if (std::optional<McpHttpResponse> bad = CheckProtocolVersionHeader(request, id)) return *bad;
  if (batch && (!request.session_id || request.session_id->empty())) {
    // Refused whole by a server that negotiated nothing; says why (e.g.
    // initialize inside the batch) better than "no session" would.
    McpServer server(rpc, sessions.server_info(), sessions.clock());
    McpHttpResponse r = JsonReply(server.Handle(message));
    r.status = 400;
    return r;
  }
  if (!request.session_id || request.session_id->empty()) {
    return Error(400, kInvalidRequest, "Bad Request: Mcp-Session-Id header is required (send initialize first)", id);
  }
  std::optional<McpSessionState> state = sessions.Find(*request.session_id, request.principal);
  if (!state) return Error(404, kInvalidRequest, "Session not found: it ended or expired; initialize again", id);
  if (std::optional<McpHttpResponse> bad = CheckProtocolVersionMatches(request, *state, id)) return *bad;

  McpServer server(rpc, sessions.server_info(), sessions.clock(), *state);
  json response = server.Handle(message);
  sessions.Update(*request.session_id, request.principal, server.state());
  if (response.is_null()) {
    // Only notifications/responses, dropped over the rate: the spec's "cannot
    // accept the input" answer is an HTTP error status.
    if (server.dropped_over_rate()) return RateLimited(*server.dropped_over_rate());
    McpHttpResponse r;
    r.status = 202;
    return r;
  }
  // A batch refused whole (wrong protocol version, initialize inside, too
  // long, empty) comes back as one error object rather than an array.
  if (batch && response.is_object()) {
    McpHttpResponse r = JsonReply(response);
    r.status = 400;
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
  if (request.method == "POST") {
    // Each message is charged as McpServer handles it. A POST that reached
    // no message (a refused Origin, Accept, Content-Type, body, session or
    // batch) is charged once here, after the fact: it changed nothing.
    int daemon_calls = 0;
    RpcCaller counted;
    if (request.rpc) {
      counted = [&request, &daemon_calls](const std::string& method, const json& params) {
        ++daemon_calls;
        return request.rpc(method, params);
      };
    }
    McpHttpResponse r = OriginAllowed(request, options) ? Post(request, counted, sessions, options) : Forbidden(request);
    if (daemon_calls == 0) {
      if (std::optional<RpcError> refused = ChargeTokenRate(request.rpc)) return RateLimited(*refused);
    }
    return r;
  }
  // Any other method is charged once, first, like every request on the
  // daemon's other routes.
  if (std::optional<RpcError> refused = ChargeTokenRate(request.rpc)) return RateLimited(*refused);
  if (!OriginAllowed(request, options)) return Forbidden(request);
  if (request.method == "DELETE") {
    if (std::optional<McpHttpResponse> bad = CheckProtocolVersionHeader(request, nullptr)) return *bad;
    if (!request.session_id || request.session_id->empty()) {
      return Error(400, kInvalidRequest, "Bad Request: Mcp-Session-Id header is required");
    }
    std::optional<McpSessionState> state = sessions.Find(*request.session_id, request.principal);
    if (!state) return Error(404, kInvalidRequest, "Session not found");
    if (std::optional<McpHttpResponse> bad = CheckProtocolVersionMatches(request, *state, nullptr)) return *bad;
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
