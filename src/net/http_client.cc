#include "net/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "base/status.h"

namespace sigil::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using unix_proto = asio::local::stream_protocol;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using UnixStream = beast::basic_stream<unix_proto>;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::string ToStd(beast::string_view s) { return std::string(s.data(), s.size()); }

SteadyClock::duration ToChrono(absl::Duration d) {
  return std::chrono::duration_cast<SteadyClock::duration>(absl::ToChronoNanoseconds(d));
}

// Header values: visible characters, space and tab; no CR, LF, NUL.
bool IsFieldValue(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// A short, user-facing reason for a socket error.
std::string Reason(const beast::error_code& ec) {
  if (ec == asio::error::connection_refused) return "connection refused";
  if (ec == asio::error::connection_reset) return "connection reset by peer";
  if (ec == asio::error::broken_pipe) return "connection closed by peer";
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again) return "host not found";
  if (ec == asio::error::network_unreachable) return "network unreachable";
  if (ec == asio::error::host_unreachable) return "host unreachable";
  if (ec == beast::errc::no_such_file_or_directory) return "no socket at that path";
  if (ec == beast::errc::permission_denied) return "permission denied";
  if (ec == http::error::end_of_stream || ec == asio::error::eof) return "connection closed by peer";
  return ec.message();
}


// One connection with its own io_context; used by one thread at a time.
struct Connection {
  asio::io_context ioc;
  std::optional<beast::tcp_stream> tcp;
  std::optional<TlsStream> tls;
  std::optional<UnixStream> unx;
  beast::flat_buffer buffer;

  int NativeHandle() {
    if (tls) return beast::get_lowest_layer(*tls).socket().native_handle();
    if (tcp) return tcp->socket().native_handle();
    if (unx) return unx->socket().native_handle();
    return -1;
  }
  void Close() {
    if (tls) beast::get_lowest_layer(*tls).close();
    if (tcp) tcp->close();
    if (unx) unx->close();
  }
  template <class F>
  decltype(auto) With(F&& f) {
    if (tls) return f(*tls);
    if (tcp) return f(*tcp);
    return f(*unx);
  }
  // True when a pooled connection still looks usable: open, nothing unread,
  // and the server has not closed it.
  bool LooksAlive() {
    if (buffer.size() != 0) return false;
    int fd = NativeHandle();
    if (fd < 0) return false;
    char b;
    ssize_t r = ::recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
};

// The system resolver, synchronous (run on a lookup thread).
absl::StatusOr<std::vector<std::string>> SystemResolve(const std::string& host, uint16_t port) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  tcp::resolver::results_type results = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return absl::UnavailableError(Reason(ec));
  std::vector<std::string> out;
  for (const auto& entry : results) out.push_back(entry.endpoint().address().to_string());
  return out;
}

// One lookup's result, shared by the caller and the lookup thread: whichever
// lets go last frees it, so a lookup that outlives its caller (and the
// client) writes only here.
struct Lookup {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  absl::StatusOr<std::vector<std::string>> result;
};

// Lookup threads still running, in the whole process: a resolver that never
// answers must not make every call leave a thread behind without bound.
std::atomic<int> g_pending_lookups{0};

// Runs `resolver(host, port)` on a detached thread and waits for it until
// `deadline`. nullopt: the deadline came first (the thread runs on alone).
std::optional<absl::StatusOr<std::vector<std::string>>> ResolveBefore(HostResolver resolver, std::string host,
                                                                      uint16_t port, SteadyClock::time_point deadline) {
  if (g_pending_lookups.fetch_add(1) >= kMaxPendingLookups) {
    g_pending_lookups.fetch_sub(1);
    return absl::UnavailableError("too many name lookups pending (the resolver is not answering)");
  }
  auto lookup = std::make_shared<Lookup>();
  try {
    std::thread([lookup, resolver = std::move(resolver), host = std::move(host), port] {
      absl::StatusOr<std::vector<std::string>> result = resolver(host, port);
      {
        std::lock_guard<std::mutex> lock(lookup->mu);
        lookup->result = std::move(result);
        lookup->done = true;
      }
      lookup->cv.notify_all();
      g_pending_lookups.fetch_sub(1);
    }).detach();
  } catch (const std::system_error& e) {
    g_pending_lookups.fetch_sub(1);
    return absl::UnavailableError(std::string("cannot start a name lookup: ") + e.what());
  }
  std::unique_lock<std::mutex> lock(lookup->mu);
  if (!lookup->cv.wait_until(lock, deadline, [&] { return lookup->done; })) return std::nullopt;
  return std::move(lookup->result);
}

// Runs `ioc` until `done` is set or `deadline` passes; on the deadline calls
// `cancel` (which must make the pending operation complete) and drains.
// Returns false if the deadline passed.
bool RunUntil(asio::io_context& ioc, const bool& done, SteadyClock::time_point deadline,
              const std::function<void()>& cancel) {
  ioc.restart();
  while (!done && SteadyClock::now() < deadline && !ioc.stopped()) {
    ioc.run_one_until(deadline);
  }
  if (done) return true;
  cancel();
  ioc.restart();
  while (!done && ioc.run_one() > 0) {
  }
  return false;
}

}  // namespace

class HttpClient::Impl {
 public:
  Impl(HttpUrl url, HttpClientOptions opts) : url_(std::move(url)), opts_(std::move(opts)) {}

  absl::Status Init() {
    if (url_.scheme != HttpUrl::Scheme::kHttps) return absl::OkStatus();
    tls_ctx_.emplace(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(tls_ctx_->native_handle(), TLS1_2_VERSION);
    tls_ctx_->set_verify_mode(ssl::verify_peer);
    beast::error_code ec;
    if (opts_.use_system_roots) {
      tls_ctx_->set_default_verify_paths(ec);
      if (ec) return absl::InternalError("cannot load the system's trusted CA certificates: " + ec.message());
    }
    if (!opts_.ca_file.empty()) {
      tls_ctx_->load_verify_file(opts_.ca_file, ec);
      if (ec) {
        return absl::InvalidArgumentError("cannot load CA certificates from " + opts_.ca_file + ": " + ec.message());
      }
    }
    return absl::OkStatus();
  }

  const HttpUrl& url() const { return url_; }

  absl::StatusOr<HttpClientResponse> Send(const HttpClientRequest& request);

 private:
  // The origin only: an upstream URL's path or query often holds an API key
  // (Infura /v3/KEY), and these messages reach agents and logs.
  std::string Who() const { return opts_.service_name + " at " + url_.Origin(); }

  absl::StatusOr<std::unique_ptr<Connection>> Connect(SteadyClock::time_point deadline);
  // One request/response exchange. `got_bytes` reports whether any part of a
  // response arrived (a retry is safe only when none did).
  absl::StatusOr<HttpClientResponse> Exchange(Connection& c, const http::request<http::string_body>& req,
                                              bool is_head, SteadyClock::time_point deadline, bool& got_bytes,
                                              bool& reusable);

  std::unique_ptr<Connection> TakeIdle() {
    absl::MutexLock lock(&mu_);
    while (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      if (c->LooksAlive()) return c;
      c->Close();
    }
    return nullptr;
  }
  void PutIdle(std::unique_ptr<Connection> c) {
    absl::MutexLock lock(&mu_);
    if (idle_.size() < opts_.max_idle_connections) idle_.push_back(std::move(c));
  }

  HttpUrl url_;
  HttpClientOptions opts_;
  std::optional<ssl::context> tls_ctx_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<Connection>> HttpClient::Impl::Connect(SteadyClock::time_point deadline) {
  auto c = std::make_unique<Connection>();
  SteadyClock::time_point connect_deadline = std::min(deadline, SteadyClock::now() + ToChrono(opts_.connect_timeout));
  auto timed_out = [&] {
    return absl::DeadlineExceededError("cannot reach " + Who() + ": no connection within " +
                                       absl::FormatDuration(opts_.connect_timeout));
  };
  bool done = false;
  beast::error_code ec;

  if (url_.scheme == HttpUrl::Scheme::kUnix) {
    c->unx.emplace(c->ioc);
    c->unx->async_connect(unix_proto::endpoint(url_.unix_path), [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    if (!RunUntil(c->ioc, done, connect_deadline, [&] { c->unx->close(); })) return timed_out();
    if (ec) return absl::UnavailableError("cannot reach " + Who() + ": " + Reason(ec));
    return c;
  }

  // asio's async_resolve is no use here: its cancel cannot stop a
  // getaddrinfo in progress, and the io_context waits for it to return.
  std::vector<tcp::endpoint> endpoints;
  beast::error_code literal_ec;
  const asio::ip::address literal = asio::ip::make_address(url_.host, literal_ec);
  if (!literal_ec) {
    endpoints.emplace_back(literal, url_.port);
  } else {
    auto resolved = ResolveBefore(opts_.resolver ? opts_.resolver : HostResolver(SystemResolve), url_.host, url_.port,
                                  connect_deadline);
    if (!resolved) return timed_out();
    if (!resolved->ok()) {
      return absl::UnavailableError("cannot reach " + Who() + ": " + std::string(resolved->status().message()));
    }
    for (const std::string& text : **resolved) {
      beast::error_code addr_ec;
      const asio::ip::address address = asio::ip::make_address(text, addr_ec);
      if (!addr_ec) endpoints.emplace_back(address, url_.port);
    }
    if (endpoints.empty()) return absl::UnavailableError("cannot reach " + Who() + ": host not found");
  }

  beast::tcp_stream* lowest;
  if (url_.scheme == HttpUrl::Scheme::kHttps) {
    c->tls.emplace(c->ioc, *tls_ctx_);
    lowest = &beast::get_lowest_layer(*c->tls);
  } else {
    c->tcp.emplace(c->ioc);
    lowest = &*c->tcp;
  }
  done = false;
  lowest->async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  if (!RunUntil(c->ioc, done, connect_deadline, [&] { lowest->close(); })) return timed_out();
  if (ec) return absl::UnavailableError("cannot reach " + Who() + ": " + Reason(ec));
  if (!c->tls) return c;

  // TLS: SNI for names, and the peer's certificate must match the host name
  // or the IP literal of the URL.
  SSL* ssl_handle = c->tls->native_handle();
  beast::error_code addr_ec;
  asio::ip::make_address(url_.host, addr_ec);
  bool is_ip = !addr_ec;
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), url_.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl_handle, url_.host.c_str());
    SSL_set1_host(ssl_handle, url_.host.c_str());
  }
  done = false;
  c->tls->async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (!RunUntil(c->ioc, done, connect_deadline, [&] { lowest->close(); })) return timed_out();
  if (ec) {
    std::string why = ec.message();
    long verify = SSL_get_verify_result(ssl_handle);
    if (verify != X509_V_OK) {
      why = std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify) +
            " (trust its CA with a CA file if it is self-signed)";
    }
    return absl::UnavailableError("TLS handshake with " + Who() + " failed: " + why);
  }
  return c;
}

absl::StatusOr<HttpClientResponse> HttpClient::Impl::Exchange(Connection& c,
                                                              const http::request<http::string_body>& req,
                                                              bool is_head, SteadyClock::time_point deadline,
                                                              bool& got_bytes, bool& reusable) {
  got_bytes = false;
  reusable = false;
  bool done = false;
  beast::error_code write_ec;
  c.With([&](auto& stream) {
    http::async_write(stream, req, [&](beast::error_code e, size_t) {
      write_ec = e;
      done = true;
    });
  });
  if (!RunUntil(c.ioc, done, deadline, [&] { c.Close(); })) {
    return absl::DeadlineExceededError("no response from " + Who() + " within " + absl::FormatDuration(opts_.timeout));
  }
  // A write error is not final yet: the server may have answered early (e.g.
  // 413) and closed; try to read that answer.

  for (;;) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(opts_.max_response_body_bytes);
    parser.header_limit(static_cast<std::uint32_t>(std::min<size_t>(opts_.max_response_header_bytes, UINT32_MAX)));
    if (is_head) parser.skip(true);
    // The header is read on its own first: Beast 1.74 loses the body_limit
    // error for a too-large Content-Length when body bytes arrive in the same
    // read as the header and the parser is in eager mode (as async_read sets).
    beast::error_code ec;
    bool in_time = true;
    for (bool header : {true, false}) {
      if (!header && (ec || parser.is_done())) break;
      done = false;
      c.With([&](auto& stream) {
        auto on_done = [&](beast::error_code e, size_t) {
          ec = e;
          done = true;
        };
        if (header) {
          http::async_read_header(stream, c.buffer, parser, on_done);
        } else {
          http::async_read(stream, c.buffer, parser, on_done);
        }
      });
      in_time = RunUntil(c.ioc, done, deadline, [&] { c.Close(); });
      if (!in_time) break;
    }
    got_bytes = got_bytes || parser.got_some();
    if (!in_time) {
      return absl::DeadlineExceededError("no response from " + Who() + " within " + absl::FormatDuration(opts_.timeout));
    }
    if (ec == http::error::body_limit) {
      return absl::ResourceExhaustedError("response from " + Who() + " exceeds the limit of " +
                                          std::to_string(opts_.max_response_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      return absl::ResourceExhaustedError("response header from " + Who() + " exceeds the limit of " +
                                          std::to_string(opts_.max_response_header_bytes) + " bytes");
    }
    if (ec) {
      if (write_ec) {
        return absl::UnavailableError("connection to " + Who() + " lost while sending the request: " +
                                      Reason(write_ec));
      }
      if (&ec.category() == &http::make_error_code(http::error::bad_status).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        return absl::UnavailableError("malformed HTTP response from " + Who() + ": " + ec.message());
      }
      return absl::UnavailableError("connection to " + Who() + " lost before a complete response: " + Reason(ec));
    }
    auto& msg = parser.get();
    unsigned code = msg.result_int();
    if (code >= 100 && code < 200 && code != 101) continue;  // interim response; the real one follows

    HttpClientResponse out;
    out.status = static_cast<int>(code);
    for (const auto& f : msg) out.headers.Add(ToStd(f.name_string()), ToStd(f.value()));
    out.body = std::move(msg.body());
    reusable = !write_ec && msg.keep_alive() && req.keep_alive();
    return out;
  }
}

absl::StatusOr<HttpClientResponse> HttpClient::Impl::Send(const HttpClientRequest& request) {
  if (!IsToken(request.method)) {
    return absl::InvalidArgumentError("invalid HTTP method \"" + request.method.substr(0, 32) + "\"");
  }
  std::string target = url_.target;
  if (!request.target.empty()) {
    if (request.target.front() != '/') {
      // Not quoted: a target's path may hold an API key too ("v3/KEY").
      return absl::InvalidArgumentError("request target must start with '/'");
    }
    if (target == "/") {
      target = request.target;
    } else {
      if (target.back() == '/') target.pop_back();
      target += request.target;
    }
  }
  for (unsigned char ch : target) {
    if (ch <= 0x20 || ch == 0x7f) return absl::InvalidArgumentError("request target contains a space or control character");
  }

  http::request<http::string_body> req;
  http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) {
    req.method_string(request.method);
  } else {
    req.method(verb);
  }
  req.target(target);
  req.version(11);
  for (const auto& [name, value] : request.headers.fields()) {
    if (!IsToken(name) || !IsFieldValue(value)) {
      return absl::InvalidArgumentError("invalid HTTP header \"" + name.substr(0, 64) + "\"");
    }
    if (EqualsIgnoreAsciiCase(name, "Host") || EqualsIgnoreAsciiCase(name, "Content-Length") ||
        EqualsIgnoreAsciiCase(name, "Connection") || EqualsIgnoreAsciiCase(name, "Transfer-Encoding")) {
      continue;
    }
    req.insert(name, value);
  }
  req.set(http::field::host, url_.HostHeader());
  if (!request.headers.Has("User-Agent") && !opts_.user_agent.empty()) req.set(http::field::user_agent, opts_.user_agent);
  req.keep_alive(opts_.keep_alive);
  req.body() = request.body;
  req.prepare_payload();
  const bool is_head = verb == http::verb::head;
  const bool idempotent = verb == http::verb::get || verb == http::verb::head;

  const SteadyClock::time_point deadline = SteadyClock::now() + ToChrono(opts_.timeout);
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Connection> c = opts_.keep_alive ? TakeIdle() : nullptr;
    const bool reused = c != nullptr;
    if (!c) {
      ASSIGN_OR_RETURN(c, Connect(deadline));
    }
    bool got_bytes = false, reusable = false;
    absl::StatusOr<HttpClientResponse> res = Exchange(*c, req, is_head, deadline, got_bytes, reusable);
    if (res.ok()) {
      if (reusable && opts_.keep_alive) {
        PutIdle(std::move(c));
      } else {
        c->Close();
      }
      return res;
    }
    c->Close();
    // A reused connection the server closed just before our request arrived.
    if (reused && !got_bytes && idempotent && attempt == 0 && absl::IsUnavailable(res.status())) continue;
    return res;
  }
}

// ---------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(std::string_view base_url, HttpClientOptions options) {
  ASSIGN_OR_RETURN(HttpUrl url, ParseHttpUrl(base_url));
  if (options.timeout <= absl::ZeroDuration() || options.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("HTTP client: timeouts must be positive");
  }
  auto impl = std::make_unique<Impl>(std::move(url), std::move(options));
  RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

absl::StatusOr<HttpClientResponse> HttpClient::Send(const HttpClientRequest& request) { return impl_->Send(request); }

absl::StatusOr<HttpClientResponse> HttpClient::Get(std::string_view target, HttpHeaders headers) {
  HttpClientRequest r;
  r.method = "GET";
  r.target = std::string(target);
  r.headers = std::move(headers);
  return impl_->Send(r);
}

absl::StatusOr<HttpClientResponse> HttpClient::Post(std::string_view target, std::string body,
                                                    std::string_view content_type, HttpHeaders headers) {
  HttpClientRequest r;
  r.method = "POST";
  r.target = std::string(target);
  r.headers = std::move(headers);
  if (!content_type.empty() && !r.headers.Has("Content-Type")) r.headers.Set("Content-Type", content_type);
  r.body = std::move(body);
  return impl_->Send(r);
}

const HttpUrl& HttpClient::url() const { return impl_->url(); }

}  // namespace sigil::net
