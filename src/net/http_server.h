// HttpServer: the daemon's HTTP/1.1 transport (Boost.Beast over Asio).
//
// What it does: listens on any mix of TCP, TLS-over-TCP and Unix domain
// sockets; reads requests under strict size and time bounds; hands each
// complete request to one HttpHandler on a worker pool; writes the response
// with an X-Request-Id; keeps connections alive between requests.
//
// Threads: `io_threads` threads run all socket I/O; `worker_threads` threads
// run the handler. A handler that blocks (fsync, an upstream call) occupies a
// worker only; I/O and other connections keep going, and overload answers
// are produced on the I/O threads without waiting for a worker.
//
// Security properties (DESIGN.md invariant 7: every untrusted input has a
// size bound and a clear error):
//   * Header bytes are bounded (431: the whole header, however many reads it
//     arrives in), bodies are bounded (413, checked against
//     Content-Length before any body byte is read, and again while reading a
//     chunked body). Malformed requests get 400 and the connection is closed;
//     the server keeps serving others.
//   * Slow clients: the whole request header must arrive within
//     `header_timeout` of its first byte (and the first byte of a new
//     connection within `header_timeout` of accept), the body within
//     `body_timeout`, the response must be written within `write_timeout`,
//     and a kept-alive connection idle for `idle_timeout` is closed. A client
//     trickling bytes (slowloris) therefore holds a connection at most
//     header_timeout + body_timeout.
//   * At most `max_connections` open connections: beyond it a connection is
//     answered "503" and closed at once (TLS listeners just close it).
//   * At most `max_in_flight` requests handed to workers (running or queued):
//     beyond it a request is answered 503 with Retry-After immediately, so
//     the queue is bounded.
//   * Unix sockets are created with mode 0600 (bound under a temporary name,
//     chmod-ed, then renamed into place: never accessible with a wider mode).
//     A stale socket at the path is removed; a live one (something answers a
//     connect) or a non-socket file is an error.
//   * TLS listeners accept TLS 1.2 and 1.3 only.
//
// Protocol (RFC 9110/9112) handled here, so handlers need not:
//   * An HTTP/1.1 request without Host, any request with two Host fields or
//     an invalid Host value, and an HTTP/1.0 request with Transfer-Encoding
//     get 400 and the connection is closed.
//   * An absolute-form target ("GET http://host/path") reaches the handler in
//     origin form ("/path"); see HttpRequest::target.
//   * HEAD reaches the handler as GET (HttpRequest::is_head set); the answer
//     keeps the GET's status, fields and Content-Length, without the body.
//   * 204 and 304 go out with neither body nor Content-Length.
//   * Up to 16 empty lines before a request-line are ignored (between
//     requests on a kept-alive connection they are no request's first byte:
//     the connection stays idle, under `idle_timeout`); HTTP/1.2-1.9
//     is read as HTTP/1.1; every response says HTTP/1.1 (to an HTTP/1.0
//     client that asked to keep the connection, with Connection: keep-alive).
//
// Thread-safety: Start() returns a running server; every method may be
// called from any thread. Stop() is idempotent and the destructor calls it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/http_message.h"

namespace sigil::net {

// One endpoint to listen on. Build with the factory functions.
struct ListenerConfig {
  HttpTransport transport = HttpTransport::kTcp;
  std::string host;  // TCP/TLS: an IP literal or a resolvable name ("127.0.0.1", "::1", "localhost")
  uint16_t port = 0;  // TCP/TLS: 0 picks a free port (see HttpServer::listeners())
  std::string cert_file;  // TLS: PEM certificate chain
  std::string key_file;   // TLS: PEM private key
  std::string unix_path;  // Unix: socket path (at most 99 bytes)

  static ListenerConfig Tcp(std::string host, uint16_t port);
  static ListenerConfig Tls(std::string host, uint16_t port, std::string cert_file, std::string key_file);
  static ListenerConfig Unix(std::string path);
};

// A listener as bound.
struct BoundListener {
  HttpTransport transport = HttpTransport::kTcp;
  std::string host;  // the bound address, e.g. "127.0.0.1"; empty for Unix
  uint16_t port = 0;  // the bound port (the real one when 0 was asked for)
  std::string unix_path;
  // A URL a client can use: "http://127.0.0.1:8080", "https://[::1]:8443",
  // "unix:/run/sigil.sock".
  std::string url;
};

// Called once for every response the server writes (after the write
// completes or fails), including the ones it generates itself
// (400/413/431/503 and overload 503s); not called for connections closed
// without a response (timeouts, resets) nor for the canned 503 sent to
// connections beyond max_connections. Runs on an I/O thread: keep it short
// and thread-safe (e.g. increment a metric, write a log line).
struct HttpAccessRecord {
  std::string method;  // empty when the request could not be parsed
  std::string target;
  int status = 0;
  std::string peer;
  std::string request_id;
  absl::Duration duration;  // from the first header byte to the response written
  size_t request_body_bytes = 0;
  size_t response_body_bytes = 0;
};
using HttpAccessObserver = std::function<void(const HttpAccessRecord&)>;

struct HttpServerOptions {
  std::vector<ListenerConfig> listeners;

  // Handler threads; 0 means 32 per core (std::thread::hardware_concurrency()):
  // handlers mostly wait on the audit log's fsync, and the log batches the
  // records of every handler waiting, so more waiters mean bigger batches.
  int worker_threads = 0;
  // Socket I/O threads (TLS handshakes run here too); 0 means one per core.
  int io_threads = 0;
  // Handler threads run this much nicer than the process (Linux: per-thread
  // nice, capped at 19; raising it needs no privilege). Under load the I/O
  // threads then keep reading requests and writing answers, overload 503s
  // included, instead of waiting behind the signing work; measured in
  // bench_load (open loop at 2x peak: rejections in about 1 ms instead of
  // hundreds). 0 leaves them at the process's priority.
  int worker_nice_increment = 10;

  size_t max_header_bytes = 16 * 1024;       // request line + fields; beyond: 431
  size_t max_body_bytes = 1024 * 1024;       // beyond: 413
  absl::Duration header_timeout = absl::Seconds(10);
  absl::Duration body_timeout = absl::Seconds(30);
  absl::Duration write_timeout = absl::Seconds(30);
  absl::Duration idle_timeout = absl::Seconds(30);

  size_t max_connections = 1024;
  // Requests running in or queued for the worker pool; 0 means
  // max(64, 4 * worker_threads).
  size_t max_in_flight = 0;
  int retry_after_seconds = 1;  // Retry-After on overload 503s

  // Stop(): how long in-flight requests get to finish.
  absl::Duration shutdown_grace = absl::Seconds(10);

  // Optional; see HttpAccessObserver.
  HttpAccessObserver on_response;
};

class HttpServer {
 public:
  // Binds every listener, then starts the I/O and worker threads.
  // Errors: InvalidArgument (bad option, unreadable/invalid cert or key, Unix
  // path too long), AlreadyExists (a live server owns the Unix socket path, or
  // a non-socket file is there), Unavailable (address in use, cannot bind).
  // Nothing is left listening when an error is returned.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                           HttpHandler handler);

  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // In the order of options.listeners.
  const std::vector<BoundListener>& listeners() const;

  // Graceful shutdown: stops accepting, closes connections that have no
  // request in flight, lets in-flight requests finish and write their
  // response (with "Connection: close") for up to options.shutdown_grace,
  // then closes everything, joins the threads and removes Unix socket files.
  // Blocks until done. A handler still running after the grace period is
  // waited for (its response is discarded): handlers must not block forever.
  // REQUIRES: not called from a handler or from on_response (it joins the
  // threads those run on); e.g. a shutdown endpoint should signal another
  // thread that calls Stop().
  void Stop();

  // Point-in-time counters (for metrics and tests).
  struct Stats {
    size_t open_connections = 0;
    size_t in_flight = 0;
    uint64_t requests_handled = 0;     // handed to the handler
    uint64_t rejected_overload = 0;    // 503 because max_in_flight was reached
    uint64_t rejected_connections = 0; // closed because max_connections was reached
  };
  Stats stats() const;

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sigil::net
