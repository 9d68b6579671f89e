// HttpRequest / HttpResponse: the plain values exchanged between the HTTP
// server (net/http_server.h) and the application's handler. No Beast or Asio
// types leak through here, so handlers compile without those headers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_headers.h"

namespace sigil::net {

// How a request reached the server.
enum class HttpTransport { kTcp, kTls, kUnix };

// One fully read request. The body has already been bounded by the server's
// body limit; headers by its header limit.
struct HttpRequest {
  std::string method;   // as sent, e.g. "GET", "POST"
  std::string target;   // origin-form: path plus optional "?query"
  HttpHeaders headers;  // case-insensitive lookup
  std::string body;
  // "127.0.0.1:1234", "[::1]:1234", or "unix" for a Unix domain socket.
  std::string peer;
  HttpTransport transport = HttpTransport::kTcp;
  // For Unix sockets: the peer process's uid (SO_PEERCRED), when known.
  std::optional<uint32_t> peer_uid;
  // 16 random bytes in lower-case hex, unique per request; the server also
  // returns it as the X-Request-Id response header.
  std::string request_id;
  // HTTP version as 10 or 11.
  unsigned version = 11;

  // The target without its query string.
  std::string_view path() const;
  // The query string without the '?', or "" when there is none.
  std::string_view query() const;
};

struct HttpResponse {
  int status = 200;
  // Sent as Content-Type unless empty.
  std::string content_type = "application/json";
  // Extra header fields. The server sets Content-Length, Connection and
  // X-Request-Id itself; values set here for those names are ignored.
  HttpHeaders headers;
  std::string body;

  static HttpResponse Json(int status, std::string body);
  static HttpResponse Text(int status, std::string body);
};

// The application's request handler. Called on a worker thread (never on an
// I/O thread), possibly concurrently from several workers; it may block
// (e.g. on fsync). It must be thread-safe and must not throw (an exception is
// caught and answered with 500, but treat that as a bug).
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// The JSON error body the transport itself uses for the responses it
// generates (400, 413, 431, 500, 503):
//   {"error":{"code":"<code>","message":"<message>"}}
// `code` is a stable snake_case token, `message` a human sentence.
std::string JsonErrorBody(std::string_view code, std::string_view message);

}  // namespace sigil::net
