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
  // As sent, e.g. "GET", "POST"; except HEAD, which arrives as "GET" with
  // `is_head` set (see below).
  std::string method;
  // Origin-form: path plus optional "?query". An absolute-form target
  // ("http://host:port/path?q", RFC 9112 section 3.2.2) arrives reduced to
  // its path and query ("/" when it has no path); its authority is not used.
  std::string target;
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
  // The client sent HEAD. RFC 9110 section 9.3.2: HEAD is GET without the
  // content, so the server hands it to the handler as a GET (`method` is
  // "GET") and then sends the GET's status and header fields, Content-Length
  // included, without the body. A handler needs this only to log the method
  // as sent.
  bool is_head = false;

  // The target's path without the query string. Also correct for an
  // absolute-form `target` (for requests not built by HttpServer): the path
  // after the authority, "/" when there is none.
  std::string_view path() const;
  // The query string without the '?', or "" when there is none.
  std::string_view query() const;
};

// The origin-form of a request target (path and optional "?query"): an
// absolute-form http:// or https:// target loses its scheme and authority
// ("http://h:1/a?b" -> "/a?b", "http://h" -> "/", "http://h?q" -> "/?q");
// anything else is returned unchanged.
std::string OriginFormTarget(std::string_view target);

struct HttpResponse {
  int status = 200;
  // Sent as Content-Type unless empty.
  std::string content_type = "application/json";
  // Extra header fields. The server sets Content-Length, Connection and
  // X-Request-Id itself; values set here for those names are ignored.
  // Statuses 204 and 304 go out with neither body nor Content-Length (RFC
  // 9110 sections 8.6, 15.3.5, 15.4.5); `body` is ignored for them.
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
