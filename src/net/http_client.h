// HttpClient: a small synchronous HTTP/1.1 client for one base URL (the CLI
// talking to the daemon; the daemon proxying JSON-RPC to an upstream node).
//
// Transports: http://, https:// (peer verified by default against the
// system roots plus an optional CA file; host name or IP checked; TLS 1.2+),
// and unix:/path (see net/http_url.h).
//
// Bounds: every call has a total deadline (name lookup + connect + send +
// receive) and a separate connect timeout (lookup + connect + TLS
// handshake); the response header and body are size-bounded, so a hostile
// or broken server cannot make the caller hang or allocate without limit.
// A name lookup cannot be interrupted (getaddrinfo), so it runs on a thread
// of its own that the call stops waiting for at the deadline; a lookup that
// hangs then finishes (or not) alone, holding only its own copies. At most
// kMaxPendingLookups such lookups exist at a time in the process; beyond
// that a call that needs one is Unavailable at once.
//
// Failure codes (messages name the service and the URL's origin, never a
// body; see HttpUrl::Origin(): the URL's path and query may hold an API key
// and are never quoted):
//   Unavailable       cannot connect ("cannot reach sigil daemon at URL:
//                     connection refused"), TLS handshake or certificate
//                     failure, connection dropped, malformed response
//   DeadlineExceeded  no complete response before the deadline
//   ResourceExhausted response header or body over its limit
//   InvalidArgument   bad URL or request (e.g. CR/LF in a header)
// An HTTP error status (4xx/5xx) is NOT an error: it is returned as a
// response for the caller to interpret.
//
// Connection reuse: with keep_alive, connections the server leaves open are
// pooled (up to max_idle_connections) and reused. A pooled connection the
// server closed is detected before reuse; a GET/HEAD that still fails on a
// reused connection before any response byte is retried once on a new one.
// Other methods are never retried (a POST may not be idempotent).
//
// Thread-safety: Send() and friends may be called concurrently from several
// threads; each call uses its own connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/http_headers.h"
#include "net/http_url.h"

namespace sigil::net {

// Resolves `host` to the IP addresses (text, IPv4 or IPv6) to try, in order.
// Called on a lookup thread (see above), with copies of its arguments; an
// error status is reported as "cannot reach". Null in HttpClientOptions: the
// system resolver.
using HostResolver = std::function<absl::StatusOr<std::vector<std::string>>(const std::string& host, uint16_t port)>;

inline constexpr int kMaxPendingLookups = 64;

struct HttpClientOptions {
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration timeout = absl::Seconds(30);  // whole call
  size_t max_response_body_bytes = 8 * 1024 * 1024;
  size_t max_response_header_bytes = 64 * 1024;
  // https: a PEM file of extra trust anchors (e.g. the daemon's self-signed
  // CA), used in addition to the system roots unless use_system_roots=false.
  std::string ca_file;
  bool use_system_roots = true;
  bool keep_alive = true;
  size_t max_idle_connections = 4;
  std::string user_agent = "sigil";
  // How the server is named in error messages.
  std::string service_name = "sigil daemon";
  // Name resolution; null = the system's (getaddrinfo). A host that is an IP
  // literal is never looked up. Tests inject one that hangs.
  HostResolver resolver;
};

struct HttpClientRequest {
  std::string method = "GET";
  // Empty: the base URL's own path. Otherwise appended to the base URL's path
  // ("http://h/api" + "/v1/keys" -> "/api/v1/keys"); must start with '/'.
  std::string target;
  HttpHeaders headers;  // Host, Content-Length and Connection are set by the client
  std::string body;
};

struct HttpClientResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
};

class HttpClient {
 public:
  // Parses the URL and prepares TLS settings (an unreadable ca_file is an
  // InvalidArgument error here). Does not connect. A bad URL's error quotes
  // it only as RedactedUrl() shows it.
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(std::string_view base_url,
                                                            HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  absl::StatusOr<HttpClientResponse> Send(const HttpClientRequest& request);
  absl::StatusOr<HttpClientResponse> Get(std::string_view target, HttpHeaders headers = {});
  absl::StatusOr<HttpClientResponse> Post(std::string_view target, std::string body,
                                          std::string_view content_type = "application/json",
                                          HttpHeaders headers = {});

  const HttpUrl& url() const;

  class Impl;

 private:
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sigil::net
