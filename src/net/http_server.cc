#include "net/http_server.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "base/status.h"
#include "net/header_end_scanner.h"
#include "net/request_id.h"
#include "net/wiping_allocator.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace sigil::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using unix_proto = asio::local::stream_protocol;

using TcpStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using UnixStream = beast::basic_stream<unix_proto>;
// Request bytes may carry secrets (a key import, a bearer token): the read
// buffer and the parsed body give their memory back wiped.
using WipingFlatBuffer = beast::basic_flat_buffer<WipingAllocator<char>>;
using WipingBody = http::basic_string_body<char, std::char_traits<char>, WipingAllocator<char>>;

// ---------------------------------------------------------------------------
// ListenerConfig factories

ListenerConfig ListenerConfig::Tcp(std::string host, uint16_t port) {
  ListenerConfig c;
  c.transport = HttpTransport::kTcp;
  c.host = std::move(host);
  c.port = port;
  return c;
}

ListenerConfig ListenerConfig::Tls(std::string host, uint16_t port, std::string cert_file,
                                   std::string key_file) {
  ListenerConfig c;
  c.transport = HttpTransport::kTls;
  c.host = std::move(host);
  c.port = port;
  c.cert_file = std::move(cert_file);
  c.key_file = std::move(key_file);
  return c;
}

ListenerConfig ListenerConfig::Unix(std::string path) {
  ListenerConfig c;
  c.transport = HttpTransport::kUnix;
  c.unix_path = std::move(path);
  return c;
}

namespace {

// Linux sun_path is 108 bytes including the terminator; the socket is first
// bound under "<path>.~XXXXXX" (8 more bytes) and renamed into place.
constexpr size_t kMaxUnixPath = 107 - 8;
// How long a closing connection keeps reading (and discarding) what the
// client still sends, so that our last response is not destroyed by a TCP
// reset. Bounded so a client cannot hold the slot.
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr unsigned kWorkersPerCore = 32;
// Bytes asked for per socket read between requests, and the slack the read
// buffer has beyond max_header_bytes.
constexpr size_t kReadChunkBytes = 4096;
// Empty lines (CRLF) skipped before a request-line (RFC 9112 section 2.2
// asks for at least one); more are a malformed request.
constexpr int kMaxEmptyLinesBeforeRequest = 16;

// Makes the calling thread `increment` nicer than it is (at most 19), once
// per thread. Linux applies nice per thread (the TID); failures are ignored:
// this is a scheduling preference, not a security property.
void LowerThisThreadOnce(int increment) {
  thread_local bool done = false;
  if (done || increment <= 0) return;
  done = true;
  const id_t tid = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int current = ::getpriority(PRIO_PROCESS, tid);
  if (current == -1 && errno != 0) return;
  (void)::setpriority(PRIO_PROCESS, tid, std::min(19, current + increment));
}

boost::beast::string_view TrimWhitespace(boost::beast::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(absl::ToChronoNanoseconds(d));
}

std::string ToStd(beast::string_view s) { return std::string(s.data(), s.size()); }

std::string FormatHostPort(const asio::ip::address& addr, uint16_t port) {
  if (addr.is_v6()) return "[" + addr.to_string() + "]:" + std::to_string(port);
  return addr.to_string() + ":" + std::to_string(port);
}

// RFC 9110 token (header names).
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// Header values: visible characters, space and tab; no CR, LF, NUL.
bool IsFieldValue(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

// A client's X-Request-Id is used when it is 1..64 of [A-Za-z0-9._:-];
// anything else (too long, spaces, control bytes) is replaced by a fresh id.
bool IsClientRequestId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// A Host field value (RFC 9110 section 7.2): uri-host [ ":" port ], where
// uri-host is a bracketed IP literal or a reg-name / IPv4 address (unreserved,
// pct-encoded, sub-delims); empty is valid (RFC 9112 section 3.2).
bool IsHostValue(std::string_view v) {
  auto reg_name_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("-._~%!$&'()*+,;=").find(c) != std::string_view::npos;
  };
  std::string_view host = v;
  std::string_view port;
  if (!v.empty() && v.front() == '[') {
    size_t close = v.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : v.substr(1, close - 1)) {
      if (!reg_name_char(c) && c != ':') return false;
    }
    std::string_view after = v.substr(close + 1);
    if (!after.empty() && after.front() != ':') return false;
    if (!after.empty()) port = after.substr(1);
    host = {};
  } else if (size_t colon = v.find(':'); colon != std::string_view::npos) {
    host = v.substr(0, colon);
    port = v.substr(colon + 1);
  }
  for (char c : host) {
    if (!reg_name_char(c)) return false;
  }
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// RFC 9110 section 2.5: a request with a higher minor version than the
// server implements is answered as HTTP/1.1. Beast 1.74 refuses any version
// other than 1.0 and 1.1, so "HTTP/1.2".."HTTP/1.9" at the end of the
// request-line `line` (without its CRLF) is rewritten in place to HTTP/1.1.
void ReadHigherMinorVersionAsHttp11(char* line, size_t size) {
  if (size == std::string_view::npos) return;
  if (size > 0 && line[size - 1] == '\r') --size;
  constexpr std::string_view kPrefix = " HTTP/1.";
  if (size < kPrefix.size() + 1) return;
  char& minor = line[size - 1];
  if (std::string_view(line + size - 1 - kPrefix.size(), kPrefix.size()) == kPrefix && minor >= '2' && minor <= '9') {
    minor = '1';
  }
}

bool IsParseError(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_method).category();
}

std::string StaticOverflowResponse() {
  std::string body = JsonErrorBody("too_many_connections", "the server has too many open connections; retry later");
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
         "Connection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

// ---------------------------------------------------------------------------
// Impl

class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  // Thread-safe: schedules the reaction to Stop() on the connection's strand.
  virtual void NotifyStop() = 0;
};

class AcceptorBase {
 public:
  virtual ~AcceptorBase() = default;
  virtual void StartAccepting() = 0;
  virtual void Close() = 0;  // thread-safe
};

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler)
      : opts_(std::move(options)), handler_(std::move(handler)), ioc_(std::make_unique<asio::io_context>()) {}
  ~Impl() { Stop(); }

  absl::Status Init();
  void Run();
  void Stop();

  const HttpServerOptions& opts() const { return opts_; }
  const HttpHandler& handler() const { return handler_; }
  asio::io_context& ioc() { return *ioc_; }
  asio::thread_pool& workers() { return *workers_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  const std::vector<BoundListener>& bound() const { return bound_; }

  // Registers a new connection unless max_connections is reached.
  bool Register(ConnectionBase* c, std::weak_ptr<ConnectionBase> w) {
    absl::MutexLock lock(&mu_);
    if (conns_.size() >= opts_.max_connections) return false;
    conns_.emplace(c, std::move(w));
    return true;
  }
  void Unregister(ConnectionBase* c) {
    absl::MutexLock lock(&mu_);
    conns_.erase(c);
  }
  bool TryAcquireInFlight() {
    absl::MutexLock lock(&mu_);
    if (in_flight_ >= max_in_flight_) {
      ++rejected_overload_;
      return false;
    }
    ++in_flight_;
    ++requests_handled_;
    return true;
  }
  void ReleaseInFlight() {
    absl::MutexLock lock(&mu_);
    --in_flight_;
  }
  void CountRejectedConnection() {
    absl::MutexLock lock(&mu_);
    ++rejected_connections_;
  }
  HttpServer::Stats GetStats() const {
    absl::MutexLock lock(&mu_);
    HttpServer::Stats s;
    s.open_connections = conns_.size();
    s.in_flight = in_flight_;
    s.requests_handled = requests_handled_;
    s.rejected_overload = rejected_overload_;
    s.rejected_connections = rejected_connections_;
    return s;
  }

  void Observe(const HttpAccessRecord& rec) {
    if (opts_.on_response) opts_.on_response(rec);
  }

  // Takes ownership of an accepted socket.
  template <class Socket>
  void OnAccepted(Socket socket, HttpTransport transport, ssl::context* tls);

  std::atomic<int> overflow_active{0};

 private:
  absl::Status BindTcp(const ListenerConfig& cfg, ssl::context* tls);
  absl::Status BindUnix(const ListenerConfig& cfg);

  HttpServerOptions opts_;
  HttpHandler handler_;
  size_t max_in_flight_ = 0;
  std::vector<BoundListener> bound_;

  // Destruction order matters: acceptors and connections (owned by handlers
  // queued in ioc_) go before the TLS contexts they borrow.
  std::vector<std::unique_ptr<ssl::context>> tls_contexts_;
  std::unique_ptr<asio::io_context> ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::unique_ptr<AcceptorBase>> acceptors_;
  std::unique_ptr<asio::thread_pool> workers_;
  std::vector<std::thread> io_threads_;

  struct UnixFile {
    std::string path;
    dev_t dev;
    ino_t ino;
  };
  std::vector<UnixFile> unix_files_;

  std::atomic<bool> stopping_{false};
  absl::Mutex stop_mu_;  // serializes Stop()
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;

  mutable absl::Mutex mu_;
  std::unordered_map<ConnectionBase*, std::weak_ptr<ConnectionBase>> conns_ ABSL_GUARDED_BY(mu_);
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t requests_handled_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t rejected_overload_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t rejected_connections_ ABSL_GUARDED_BY(mu_) = 0;
};

// ---------------------------------------------------------------------------
// Connection: one accepted socket, one request at a time, on its own strand.

template <class Stream>
class Connection final : public ConnectionBase, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

  template <class Socket>
  Connection(HttpServer::Impl& srv, Socket&& socket, ssl::context* tls, HttpTransport transport)
      : srv_(srv),
        stream_(MakeStream(std::forward<Socket>(socket), tls)),
        transport_(transport),
        // Unparsed bytes never exceed a header plus one read: Beast applies
        // header_limit to the header only, so this cap is what bounds a
        // chunked body's trailer and chunk extensions (431 beyond it).
        buffer_(srv.opts().max_header_bytes + kReadChunkBytes) {}

  ~Connection() override {
    if (holds_in_flight_) srv_.ReleaseInFlight();
    srv_.Unregister(this);
  }

  // Called from the acceptor's strand: the first I/O runs on the
  // connection's own strand, like every later step.
  void Start() {
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Connection::Begin, this->shared_from_this()));
  }

  void Begin() {
    DescribePeer();
    if constexpr (kIsTls) {
      state_ = State::kHandshake;
      Lowest().expires_after(ToChrono(srv_.opts().header_timeout));
      stream_.async_handshake(ssl::stream_base::server,
                              beast::bind_front_handler(&Connection::OnHandshake, this->shared_from_this()));
    } else {
      ReadHeader();
    }
  }

  void NotifyStop() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->OnStop(); });
  }

 private:
  enum class State { kHandshake, kIdle, kReadingHeader, kReadingBody, kHandling, kWriting, kClosing };

  template <class Socket>
  static Stream MakeStream(Socket&& socket, ssl::context* tls) {
    if constexpr (kIsTls) {
      return Stream(std::forward<Socket>(socket), *tls);
    } else {
      (void)tls;
      return Stream(std::forward<Socket>(socket));
    }
  }

  auto& Lowest() { return beast::get_lowest_layer(stream_); }

  void DescribePeer() {
    if constexpr (std::is_same_v<Stream, UnixStream>) {
      peer_ = "unix";
      struct ucred cred {};
      socklen_t len = sizeof(cred);
      if (getsockopt(Lowest().socket().native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        peer_uid_ = static_cast<uint32_t>(cred.uid);
      }
    } else {
      beast::error_code ec;
      auto ep = Lowest().socket().remote_endpoint(ec);
      peer_ = ec ? std::string("unknown") : FormatHostPort(ep.address(), ep.port());
    }
  }

  void OnStop() {
    switch (state_) {
      case State::kHandshake:
      case State::kIdle:
      case State::kReadingHeader:
      case State::kReadingBody:
        // No request handed to the handler yet: nothing to finish.
        Lowest().close();
        break;
      case State::kHandling:
      case State::kWriting:
      case State::kClosing:
        // The response goes out with "Connection: close" (see WriteResponse).
        break;
    }
  }

  void OnHandshake(beast::error_code ec) {
    if (ec) return Lowest().close();
    ReadHeader();
  }

  // Between requests on a kept-alive connection: wait up to idle_timeout for
  // the first byte of the next request. Empty lines (e.g. a CRLF some
  // clients send after a body) are no such byte: they are skipped, and the
  // wait goes on under the same idle deadline.
  void WaitForNextRequest() {
    if (srv_.stopping()) return Lowest().close();
    state_ = State::kIdle;
    empty_lines_ = 0;
    Lowest().expires_after(ToChrono(srv_.opts().idle_timeout));
    AwaitRequestStart();
  }

  void AwaitRequestStart() {
    SkipEmptyLines();
    const size_t n = buffer_.size();
    // A lone CR may be the first half of one more empty line.
    const bool lone_cr = n == 1 && static_cast<const char*>(buffer_.data().data())[0] == '\r' &&
                         empty_lines_ < kMaxEmptyLinesBeforeRequest;
    if (n > 0 && !lone_cr) return ReadHeader();  // pipelined bytes already here
    stream_.async_read_some(buffer_.prepare(kReadChunkBytes),
                            beast::bind_front_handler(&Connection::OnIdleRead, this->shared_from_this()));
  }

  void OnIdleRead(beast::error_code ec, size_t n) {
    if (ec) return Lowest().close();  // idle timeout, peer closed, or Stop()
    buffer_.commit(n);
    AwaitRequestStart();
  }

  // RFC 9112 section 2.2: empty lines before a request-line are skipped, at
  // most kMaxEmptyLinesBeforeRequest per request (counted from the end of
  // the previous response); further ones reach the parser, which refuses
  // them.
  void SkipEmptyLines() {
    for (;;) {
      auto data = buffer_.data();
      const char* p = static_cast<const char*>(data.data());
      if (data.size() < 2 || p[0] != '\r' || p[1] != '\n' || empty_lines_ >= kMaxEmptyLinesBeforeRequest) return;
      buffer_.consume(2);
      header_end_.Consumed(2);
      ++empty_lines_;
    }
  }

  void ReadHeader() {
    if (srv_.stopping()) return Lowest().close();
    state_ = State::kReadingHeader;
    start_ = std::chrono::steady_clock::now();
    method_.clear();
    target_.clear();
    request_id_.clear();
    generated_error_.clear();
    request_body_bytes_ = 0;
    is_head_ = false;
    header_end_.Reset();
    Lowest().expires_after(ToChrono(srv_.opts().header_timeout));
    BufferHeader();
  }

  // Reads the whole request header into the buffer before Beast parses it:
  //  * Beast 1.74 checks header_limit against the bytes of one parse call
  //    and consumes complete field lines as it goes. Once a call leaves 3 or
  //    more bytes unconsumed it holds the rest to the limit, so a header
  //    in pieces went over by what the first calls consumed (one read, up to
  //    4 KiB here: 1.25x the default limit, more for small limits). But when
  //    every read ends within the first 2 bytes of a new field line, every
  //    call consumes all the rest and the header, parsed fields and all,
  //    grows without bound until header_timeout (a 60 KB header passed a 2
  //    KiB limit in a test). Here the header, request-line included, must
  //    end within max_header_bytes (431 otherwise), and Beast then sees it
  //    in one piece.
  //  * Empty lines before the request-line are skipped (RFC 9112 section
  //    2.2) and HTTP/1.2-1.9 is read as HTTP/1.1; Beast refuses both.
  // header_end_ resumes its search where the previous read left it: a header
  // trickled in one byte per read costs linear time, not quadratic.
  void BufferHeader() {
    const size_t limit = srv_.opts().max_header_bytes;
    SkipEmptyLines();
    auto data = buffer_.data();
    char* p = static_cast<char*>(data.data());
    const size_t n = data.size();
    if (header_end_.Find(std::string_view(p, std::min(n, limit))) == std::string_view::npos) {
      if (n >= limit) {
        RespondToReadError(http::error::header_limit);
        return;
      }
      // Less than max_header_bytes buffered, and the buffer's capacity is
      // that plus kReadChunkBytes.
      stream_.async_read_some(buffer_.prepare(kReadChunkBytes),
                              beast::bind_front_handler(&Connection::OnHeaderBytes, this->shared_from_this()));
      return;
    }
    ReadHigherMinorVersionAsHttp11(p, std::string_view(p, n).find('\n'));
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<size_t>(limit, UINT32_MAX)));
    parser_->body_limit(srv_.opts().max_body_bytes);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Connection::OnHeader, this->shared_from_this()));
  }

  void OnHeaderBytes(beast::error_code ec, size_t n) {
    // Header timeout, peer closed, reset or Stop(): nothing sensible to
    // answer, as for a partial header.
    if (ec) return Lowest().close();
    buffer_.commit(n);
    BufferHeader();
  }

  // Maps a read failure to a response or to a silent close. Returns true if
  // a response was started.
  bool RespondToReadError(beast::error_code ec) {
    if (parser_ && parser_->is_header_done() && method_.empty()) {
      method_ = ToStd(parser_->get().method_string());
      target_ = OriginFormTarget(ToStd(parser_->get().target()));
    }
    if (ec == http::error::body_limit) {
      WriteError(413, "payload_too_large",
                 "request body exceeds the limit of " + std::to_string(srv_.opts().max_body_bytes) + " bytes");
      return true;
    }
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      WriteError(431, "header_too_large",
                 "request header (or a chunked body's trailer or chunk extension) exceeds the limit of " +
                     std::to_string(srv_.opts().max_header_bytes) + " bytes");
      return true;
    }
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return false;
    if (IsParseError(ec)) {
      WriteError(400, "bad_request", "malformed HTTP request: " + ec.message());
      return true;
    }
    return false;  // timeout, reset, Stop(): nothing sensible to answer
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) {
      if (!RespondToReadError(ec)) Lowest().close();
      return;
    }
    const auto& msg = parser_->get();
    method_ = ToStd(msg.method_string());
    target_ = OriginFormTarget(ToStd(msg.target()));
    is_head_ = msg.method() == http::verb::head;
    version_ = msg.version();
    // RFC 9112 section 3.2: exactly one Host in HTTP/1.1, at most one in
    // HTTP/1.0, and a valid value. (Nothing routes on it; a request that
    // breaks this rule is malformed all the same, and proxies may disagree
    // about which of two Hosts counts.)
    const size_t hosts = msg.count(http::field::host);
    if (hosts > 1) {
      WriteError(400, "bad_request", "more than one Host header field");
      return;
    }
    if (hosts == 0 && msg.version() >= 11) {
      WriteError(400, "bad_request", "an HTTP/1.1 request must carry a Host header field");
      return;
    }
    const beast::string_view host = hosts == 1 ? TrimWhitespace(msg.at(http::field::host)) : beast::string_view();
    if (hosts == 1 && !IsHostValue(std::string_view(host.data(), host.size()))) {
      WriteError(400, "bad_request", "the Host header field is not a valid host[:port]");
      return;
    }
    // Transfer-Encoding does not exist in HTTP/1.0: a 1.0 message carrying it
    // has faulty framing (RFC 9112 section 6.1), whatever Beast would make of
    // it. Answer and close.
    if (msg.version() < 11 && msg.count(http::field::transfer_encoding) > 0) {
      WriteError(400, "bad_request", "Transfer-Encoding is not allowed in an HTTP/1.0 request");
      return;
    }
    // Only "chunked" is understood. Beast reads any other coding as "no
    // body", which would make the body the next request (smuggling behind a
    // proxy): refuse it (RFC 9112 section 6.1) and close.
    if (msg.count(http::field::transfer_encoding) > 1 ||
        (msg.count(http::field::transfer_encoding) == 1 &&
         !beast::iequals(TrimWhitespace(msg.at(http::field::transfer_encoding)), "chunked"))) {
      WriteError(501, "unsupported_transfer_encoding", "only Transfer-Encoding: chunked is supported");
      return;
    }
    auto expect = msg.find(http::field::expect);
    if (expect != msg.end() && beast::iequals(expect->value(), "100-continue") && !parser_->is_done()) {
      state_ = State::kReadingBody;
      Lowest().expires_after(ToChrono(srv_.opts().write_timeout));
      asio::async_write(stream_, asio::buffer(kContinue, sizeof(kContinue) - 1),
                        [self = this->shared_from_this()](beast::error_code wec, size_t) {
                          if (wec) return self->Lowest().close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return Dispatch();
    state_ = State::kReadingBody;
    Lowest().expires_after(ToChrono(srv_.opts().body_timeout));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Connection::OnBody, this->shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (ec) {
      if (!RespondToReadError(ec)) Lowest().close();
      return;
    }
    Dispatch();
  }

  void Dispatch() {
    Lowest().expires_never();
    auto msg = parser_->release();
    parser_.reset();
    // The bytes just parsed stay in the buffer's consumed region until it is
    // reallocated: give that memory back wiped now (pipelined bytes are kept).
    buffer_.shrink_to_fit();
    keep_alive_ = msg.keep_alive();
    auto rid = msg.find("X-Request-Id");
    request_id_ = rid != msg.end() && IsClientRequestId(std::string_view(rid->value().data(), rid->value().size()))
                      ? ToStd(rid->value())
                      : NewRequestId();

    if (srv_.stopping()) {
      WriteError(503, "shutting_down", "the server is shutting down; retry on another instance or later");
      return;
    }
    if (!srv_.TryAcquireInFlight()) {
      HttpResponse r = HttpResponse::Json(
          503, JsonErrorBody("overloaded", "the server is at its limit of concurrent requests; retry later"));
      r.headers.Set("Retry-After", std::to_string(srv_.opts().retry_after_seconds));
      generated_error_ = "overloaded";
      WriteResponse(std::move(r), /*close_after=*/false);
      return;
    }
    holds_in_flight_ = true;
    state_ = State::kHandling;

    auto req = std::make_shared<HttpRequest>();
    // RFC 9110 section 9.3.2: HEAD is GET without the content. Handing it over
    // as a GET gives it the GET's status and fields wherever GET is routed;
    // WriteResponse drops the body.
    req->method = is_head_ ? "GET" : method_;
    req->is_head = is_head_;
    req->target = target_;
    for (const auto& f : msg) req->headers.Add(ToStd(f.name_string()), ToStd(f.value()));
    request_body_bytes_ = msg.body().size();
    req->body.reserve(msg.body().size());  // exact: no reallocation leaves a copy behind
    req->body.assign(msg.body().data(), msg.body().size());
    req->peer = peer_;
    req->transport = transport_;
    req->peer_uid = peer_uid_;
    req->request_id = request_id_;
    req->version = msg.version();

    asio::post(srv_.workers(), [self = this->shared_from_this(), req] {
      LowerThisThreadOnce(self->srv_.opts().worker_nice_increment);
      HttpResponse resp;
      try {
        resp = self->srv_.handler()(*req);
      } catch (...) {
        resp = HttpResponse::Json(500, JsonErrorBody("internal", "the request handler failed unexpectedly"));
      }
      // The request may have carried a secret (a key import, the bearer
      // token): nothing of it outlives the handler.
      WipeString(req->body);
      req->headers.WipeValues();
      asio::post(self->stream_.get_executor(), [self, resp = std::move(resp)]() mutable {
        // The handler is done: its slot is free before the answer can reach
        // the client, so a client that reads it and sends again is not
        // refused for a request that has already finished.
        if (self->holds_in_flight_) {
          self->holds_in_flight_ = false;
          self->srv_.ReleaseInFlight();
        }
        self->WriteResponse(std::move(resp), /*close_after=*/false);
      });
    });
  }

  void WriteError(int status, std::string_view code, std::string_view message) {
    if (request_id_.empty()) request_id_ = NewRequestId();
    generated_error_ = std::string(code);
    WriteResponse(HttpResponse::Json(status, JsonErrorBody(code, message)), /*close_after=*/true);
  }

  void WriteResponse(HttpResponse r, bool close_after) {
    // 1xx would need protocol support we do not have (and Beast refuses a
    // body on them by throwing); 204 and 304 carry no body by definition.
    if (r.status < 200 || r.status > 999 || !IsFieldValue(r.content_type)) {
      r = HttpResponse::Json(500, JsonErrorBody("internal", "the request handler produced an invalid response"));
    }
    // RFC 9110 sections 8.6, 15.3.5, 15.4.5: no content and no
    // Content-Length on these.
    const bool no_content = r.status == 204 || r.status == 304;
    if (no_content) r.body.clear();
    res_ = {};
    // RFC 9112 section 2.3: the server's own version, whatever the client's.
    res_.version(11);
    res_.result(static_cast<unsigned>(r.status));
    for (const auto& [name, value] : r.headers.fields()) {
      if (!IsToken(name) || !IsFieldValue(value)) continue;  // never let a handler split the response
      http::field f = http::string_to_field(name);
      if (f == http::field::content_length || f == http::field::transfer_encoding ||
          f == http::field::connection || beast::iequals(name, "X-Request-Id")) {
        continue;
      }
      res_.insert(name, value);
    }
    if (!r.content_type.empty()) res_.set(http::field::content_type, r.content_type);
    res_.set("X-Request-Id", request_id_);
    bool keep = keep_alive_ && !close_after && !srv_.stopping();
    res_.keep_alive(keep);
    // An HTTP/1.0 client keeps the connection only when told so.
    if (keep && version_ < 11) res_.set(http::field::connection, "keep-alive");
    response_body_bytes_ = r.body.size();
    if (no_content) {
      // Neither body nor length; Beast's prepare_payload would add "0".
    } else if (is_head_) {
      res_.content_length(r.body.size());  // the size a GET would have; no body
    } else {
      res_.body() = std::move(r.body);
      res_.prepare_payload();
    }
    status_ = r.status;
    state_ = State::kWriting;
    Lowest().expires_after(ToChrono(srv_.opts().write_timeout));
    http::async_write(stream_, res_, beast::bind_front_handler(&Connection::OnWrite, this->shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t) {
    if (holds_in_flight_) {
      holds_in_flight_ = false;
      srv_.ReleaseInFlight();
    }
    HttpAccessRecord rec;
    rec.method = method_;
    rec.target = target_;
    rec.status = status_;
    rec.peer = peer_;
    rec.request_id = request_id_;
    rec.duration = absl::FromChrono(std::chrono::steady_clock::now() - start_);
    rec.request_body_bytes = request_body_bytes_;
    rec.response_body_bytes = response_body_bytes_;
    srv_.Observe(rec);
    if (!generated_error_.empty()) LogGenerated(rec);

    if (ec) return Lowest().close();
    if (!res_.keep_alive()) return CloseGracefully();
    res_ = {};
    WaitForNextRequest();
  }

  // Responses the transport produced itself (the handler never saw the
  // request) get their access-log line here. Path only: a query string may
  // carry anything.
  void LogGenerated(const HttpAccessRecord& rec) {
    if (!spdlog::default_logger_raw()->should_log(spdlog::level::info)) return;
    std::string path = rec.target.substr(0, std::min<size_t>(rec.target.find('?'), 128));
    nlohmann::json j = {{"event", "request"},
                        {"request_id", rec.request_id},
                        {"method", rec.method.substr(0, 16)},
                        {"path", path},
                        {"status", rec.status},
                        {"error", generated_error_},
                        {"peer", rec.peer},
                        {"latency_us", absl::ToInt64Microseconds(rec.duration)}};
    spdlog::info(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }

  // After a final response: stop sending, then read and drop whatever the
  // client still sends for a short while so our response is not reset away.
  void CloseGracefully() {
    state_ = State::kClosing;
    Lowest().expires_after(kLingerTime);
    if constexpr (kIsTls) {
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->Lowest().close(); });
    } else {
      beast::error_code ec;
      Lowest().socket().shutdown(asio::socket_base::shutdown_send, ec);
      if (ec) return Lowest().close();
      Drain();
    }
  }

  void Drain() {
    Lowest().async_read_some(asio::buffer(drain_buf_), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Lowest().close();
      self->Drain();
    });
  }

  HttpServer::Impl& srv_;
  Stream stream_;
  HttpTransport transport_;
  std::string peer_;
  std::optional<uint32_t> peer_uid_;
  State state_ = State::kReadingHeader;
  WipingFlatBuffer buffer_;
  std::optional<http::request_parser<WipingBody, WipingAllocator<char>>> parser_;
  http::response<http::string_body> res_;
  bool keep_alive_ = true;
  bool holds_in_flight_ = false;
  bool is_head_ = false;
  unsigned version_ = 11;
  int empty_lines_ = 0;  // skipped since the previous response (or connect)
  HeaderEndScanner header_end_;  // over buffer_, for the current request
  int status_ = 0;
  std::string method_, target_, request_id_;
  std::string generated_error_;  // non-empty: the transport wrote this response itself
  size_t request_body_bytes_ = 0, response_body_bytes_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::array<char, 4096> drain_buf_{};
};

// A connection beyond max_connections: a canned 503, then close.
template <class Protocol>
class OverflowReply final : public std::enable_shared_from_this<OverflowReply<Protocol>> {
 public:
  OverflowReply(std::atomic<int>& active, typename Protocol::socket socket)
      : active_(active), stream_(std::move(socket)) {
    ++active_;
  }
  ~OverflowReply() { --active_; }

  // Called from the acceptor's strand; the reply runs on the socket's own.
  void Run() {
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->Reply(); });
  }

 private:
  void Reply() {
    static const std::string kResponse = StaticOverflowResponse();
    stream_.expires_after(kLingerTime);
    asio::async_write(stream_, asio::buffer(kResponse),
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->stream_.close();
                        beast::error_code sec;
                        self->stream_.socket().shutdown(asio::socket_base::shutdown_send, sec);
                        self->Drain();
                      });
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(buf_), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->stream_.close();
      self->Drain();
    });
  }

  std::atomic<int>& active_;
  beast::basic_stream<Protocol> stream_;
  std::array<char, 1024> buf_{};
};

template <class Socket>
void HttpServer::Impl::OnAccepted(Socket socket, HttpTransport transport, ssl::context* tls) {
  using Protocol = typename Socket::protocol_type;
  if (stopping()) return;
  auto start = [&](auto conn) {
    if (Register(conn.get(), conn)) {
      conn->Start();
    } else {
      // Lost a race for the last slot against another acceptor: the
      // connection (and its socket) is dropped here.
      CountRejectedConnection();
    }
  };
  if constexpr (std::is_same_v<Protocol, unix_proto>) {
    start(std::make_shared<Connection<UnixStream>>(*this, std::move(socket), nullptr, transport));
  } else if (transport == HttpTransport::kTls) {
    start(std::make_shared<Connection<TlsStream>>(*this, std::move(socket), tls, transport));
  } else {
    start(std::make_shared<Connection<TcpStream>>(*this, std::move(socket), nullptr, transport));
  }
}

// ---------------------------------------------------------------------------
// Acceptor

template <class Protocol>
class Acceptor final : public AcceptorBase {
 public:
  Acceptor(HttpServer::Impl& srv, HttpTransport transport, ssl::context* tls)
      : srv_(srv), transport_(transport), tls_(tls), strand_(asio::make_strand(srv.ioc())), acceptor_(strand_),
        retry_timer_(strand_) {}

  typename Protocol::acceptor& acceptor() { return acceptor_; }

  void StartAccepting() override {
    asio::dispatch(strand_, [this] { DoAccept(); });
  }

  void Close() override {
    std::promise<void> done;
    auto fut = done.get_future();
    asio::dispatch(strand_, [this, &done] {
      beast::error_code ec;
      acceptor_.close(ec);
      retry_timer_.cancel();
      done.set_value();
    });
    fut.wait();
  }

 private:
  void DoAccept() {
    if (!acceptor_.is_open()) return;
    acceptor_.async_accept(asio::make_strand(srv_.ioc()),
                           [this](beast::error_code ec, typename Protocol::socket socket) { OnAccept(ec, std::move(socket)); });
  }

  void OnAccept(beast::error_code ec, typename Protocol::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // EMFILE and friends: back off instead of spinning.
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([this](beast::error_code tec) {
        if (!tec) DoAccept();
      });
      return;
    }
    if (srv_.GetStats().open_connections >= srv_.opts().max_connections) {
      Reject(std::move(socket));
    } else {
      srv_.OnAccepted(std::move(socket), transport_, tls_);
    }
    DoAccept();
  }

  void Reject(typename Protocol::socket socket) {
    srv_.CountRejectedConnection();
    // TLS clients cannot read a plaintext answer; and the number of sockets
    // lingering on a canned answer is itself bounded.
    if (transport_ == HttpTransport::kTls ||
        srv_.overflow_active.load() >= static_cast<int>(std::max<size_t>(srv_.opts().max_connections, 16))) {
      beast::error_code ec;
      socket.close(ec);
      return;
    }
    std::make_shared<OverflowReply<Protocol>>(srv_.overflow_active, std::move(socket))->Run();
  }

  HttpServer::Impl& srv_;
  HttpTransport transport_;
  ssl::context* tls_;
  asio::strand<asio::io_context::executor_type> strand_;
  typename Protocol::acceptor acceptor_;
  asio::steady_timer retry_timer_;
};

// ---------------------------------------------------------------------------
// Impl: bind, run, stop

absl::Status HttpServer::Impl::Init() {
  if (opts_.listeners.empty()) return absl::InvalidArgumentError("HTTP server: no listener configured");
  if (opts_.worker_threads < 0 || opts_.io_threads < 0) {
    return absl::InvalidArgumentError("HTTP server: worker_threads and io_threads must be >= 0 (0: the default)");
  }
  if (opts_.max_header_bytes == 0 || opts_.max_connections == 0) {
    return absl::InvalidArgumentError("HTTP server: max_header_bytes and max_connections must be positive");
  }
  for (absl::Duration d : {opts_.header_timeout, opts_.body_timeout, opts_.write_timeout, opts_.idle_timeout}) {
    if (d <= absl::ZeroDuration()) return absl::InvalidArgumentError("HTTP server: timeouts must be positive");
  }
  if (opts_.worker_threads == 0) {
    // Handlers block on the durable audit append (an fsync, milliseconds on
    // common disks) far longer than they compute: the log batches every
    // record queued during one fsync, so throughput needs many more
    // handlers waiting than there are cores.
    opts_.worker_threads = static_cast<int>(kWorkersPerCore * std::max(1u, std::thread::hardware_concurrency()));
  }
  if (opts_.io_threads == 0) opts_.io_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  max_in_flight_ = opts_.max_in_flight ? opts_.max_in_flight
                                       : std::max<size_t>(64, 4 * static_cast<size_t>(opts_.worker_threads));

  for (const ListenerConfig& cfg : opts_.listeners) {
    switch (cfg.transport) {
      case HttpTransport::kTcp:
        RETURN_IF_ERROR(BindTcp(cfg, nullptr));
        break;
      case HttpTransport::kTls: {
        auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
        ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
        SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
        beast::error_code ec;
        ctx->use_certificate_chain_file(cfg.cert_file, ec);
        if (ec) {
          return absl::InvalidArgumentError("TLS listener: cannot load certificate chain from " + cfg.cert_file +
                                            ": " + ec.message());
        }
        ctx->use_private_key_file(cfg.key_file, ssl::context::pem, ec);
        if (ec) {
          return absl::InvalidArgumentError("TLS listener: cannot load private key from " + cfg.key_file + ": " +
                                            ec.message());
        }
        if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
          return absl::InvalidArgumentError("TLS listener: private key " + cfg.key_file +
                                            " does not match certificate " + cfg.cert_file);
        }
        ssl::context* raw = ctx.get();
        tls_contexts_.push_back(std::move(ctx));
        RETURN_IF_ERROR(BindTcp(cfg, raw));
        break;
      }
      case HttpTransport::kUnix:
        RETURN_IF_ERROR(BindUnix(cfg));
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status HttpServer::Impl::BindTcp(const ListenerConfig& cfg, ssl::context* tls) {
  const std::string where = cfg.host + ":" + std::to_string(cfg.port);
  beast::error_code ec;
  asio::ip::address addr = asio::ip::make_address(cfg.host, ec);
  if (ec) {
    tcp::resolver resolver(*ioc_);
    auto results = resolver.resolve(cfg.host, std::to_string(cfg.port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return absl::InvalidArgumentError("cannot listen on " + where + ": cannot resolve host: " + ec.message());
    }
    addr = results.begin()->endpoint().address();
  }
  tcp::endpoint ep(addr, cfg.port);
  auto acc = std::make_unique<Acceptor<tcp>>(*this, cfg.transport, tls);
  auto& a = acc->acceptor();
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError("cannot listen on " + where + ": " + ec.message());
  tcp::endpoint local = a.local_endpoint(ec);
  if (ec) return absl::UnavailableError("cannot listen on " + where + ": " + ec.message());

  BoundListener b;
  b.transport = cfg.transport;
  b.host = local.address().to_string();
  b.port = local.port();
  std::string hostport = FormatHostPort(local.address(), local.port());
  b.url = (cfg.transport == HttpTransport::kTls ? "https://" : "http://") + hostport;
  bound_.push_back(std::move(b));
  acceptors_.push_back(std::move(acc));
  return absl::OkStatus();
}

absl::Status HttpServer::Impl::BindUnix(const ListenerConfig& cfg) {
  const std::string& path = cfg.unix_path;
  if (path.empty()) return absl::InvalidArgumentError("Unix listener: empty socket path");
  if (path.size() > kMaxUnixPath) {
    return absl::InvalidArgumentError("Unix listener: socket path " + path + " is too long (at most " +
                                      std::to_string(kMaxUnixPath) + " bytes)");
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::AlreadyExistsError("Unix listener: " + path + " exists and is not a socket; remove it or choose another path");
    }
    unix_proto::socket probe(*ioc_);
    beast::error_code ec;
    probe.connect(unix_proto::endpoint(path), ec);
    if (!ec) {
      return absl::AlreadyExistsError("Unix listener: another process is already listening on " + path);
    }
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return absl::UnavailableError("Unix listener: cannot remove stale socket " + path + ": " + std::strerror(errno));
    }
  }

  // Bind under a temporary name, restrict it, then rename into place, so the
  // socket is never reachable at `path` with a wider mode.
  std::string tmp = path + ".~" + NewRequestId().substr(0, 6);
  auto acc = std::make_unique<Acceptor<unix_proto>>(*this, HttpTransport::kUnix, nullptr);
  auto& a = acc->acceptor();
  beast::error_code ec;
  a.open(unix_proto(), ec);
  if (!ec) a.bind(unix_proto::endpoint(tmp), ec);
  if (ec) return absl::UnavailableError("Unix listener: cannot bind " + path + ": " + ec.message());
  if (chmod(tmp.c_str(), 0600) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = std::strerror(errno);
    unlink(tmp.c_str());
    return absl::UnavailableError("Unix listener: cannot install socket at " + path + ": " + err);
  }
  if (lstat(path.c_str(), &st) != 0) {
    return absl::UnavailableError("Unix listener: socket " + path + " vanished after creation");
  }
  unix_files_.push_back({path, st.st_dev, st.st_ino});
  a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError("Unix listener: cannot listen on " + path + ": " + ec.message());

  BoundListener b;
  b.transport = HttpTransport::kUnix;
  b.unix_path = path;
  b.url = "unix:" + path;
  bound_.push_back(std::move(b));
  acceptors_.push_back(std::move(acc));
  return absl::OkStatus();
}

void HttpServer::Impl::Run() {
  work_.emplace(ioc_->get_executor());
  workers_ = std::make_unique<asio::thread_pool>(static_cast<size_t>(opts_.worker_threads));
  for (int i = 0; i < opts_.io_threads; ++i) {
    io_threads_.emplace_back([this] { ioc_->run(); });
  }
  for (auto& a : acceptors_) a->StartAccepting();
}

void HttpServer::Impl::Stop() {
  absl::MutexLock stop_lock(&stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true, std::memory_order_release);

  const bool running = !io_threads_.empty();
  if (running) {
    for (auto& a : acceptors_) a->Close();
    std::vector<std::shared_ptr<ConnectionBase>> live;
    {
      absl::MutexLock lock(&mu_);
      for (auto& [raw, weak] : conns_) {
        if (auto c = weak.lock()) live.push_back(std::move(c));
      }
    }
    for (auto& c : live) c->NotifyStop();
    live.clear();  // a connection's last reference may now be on its strand

    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return conns_.empty() && in_flight_ == 0; };
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&drained), opts_.shutdown_grace);
    }
    work_.reset();
    ioc_->stop();
    for (auto& t : io_threads_) t.join();
    io_threads_.clear();
    // Handlers still running past the grace period are waited for here; what
    // they post back lands in the stopped io_context and is discarded.
    workers_->join();
  }
  acceptors_.clear();
  ioc_.reset();  // destroys every remaining connection
  tls_contexts_.clear();
  for (const UnixFile& f : unix_files_) {
    struct stat st {};
    if (lstat(f.path.c_str(), &st) == 0 && st.st_dev == f.dev && st.st_ino == f.ino) unlink(f.path.c_str());
  }
  unix_files_.clear();
}

// ---------------------------------------------------------------------------
// HttpServer

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options, HttpHandler handler) {
  if (!handler) return absl::InvalidArgumentError("HTTP server: no handler");
  auto impl = std::make_unique<Impl>(std::move(options), std::move(handler));
  absl::Status st = impl->Init();
  if (!st.ok()) return st;  // ~Impl removes any Unix socket already created
  impl->Run();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }

const std::vector<BoundListener>& HttpServer::listeners() const { return impl_->bound(); }
void HttpServer::Stop() { impl_->Stop(); }
HttpServer::Stats HttpServer::stats() const { return impl_->GetStats(); }

}  // namespace sigil::net
