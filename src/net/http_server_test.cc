#include "net/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/http_client.h"

namespace sigil::net {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Steady = std::chrono::steady_clock;

// A blocking socket speaking raw bytes, so tests control exactly what goes
// on the wire. Reads time out after 5 s so a broken server fails the test
// instead of hanging it.
class RawConn {
 public:
  static RawConn Tcp(uint16_t port) {
    RawConn c;
    c.fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c.connected_ = connect(c.fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    c.SetTimeout(5);
    return c;
  }
  static RawConn Unix(const std::string& path) {
    RawConn c;
    c.fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    c.connected_ = connect(c.fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    c.SetTimeout(5);
    return c;
  }
  RawConn() = default;
  RawConn(RawConn&& o) noexcept : fd_(std::exchange(o.fd_, -1)), connected_(o.connected_), buf_(std::move(o.buf_)) {}
  ~RawConn() {
    if (fd_ >= 0) close(fd_);
  }

  bool connected() const { return connected_; }

  void SetTimeout(int seconds) {
    timeval tv{seconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  struct Response {
    int status = 0;
    std::string head;  // status line + headers
    std::string body;
    std::string Header(std::string_view name) const {
      std::string lower_head = Lower(head);
      std::string key = "\r\n" + Lower(std::string(name)) + ":";
      size_t p = lower_head.find(key);
      if (p == std::string::npos) return "";
      size_t start = p + key.size();
      size_t end = head.find("\r\n", start);
      std::string v = head.substr(start, end - start);
      while (!v.empty() && v.front() == ' ') v.erase(v.begin());
      return v;
    }
  };

  // Reads one response with a Content-Length body. status 0: the connection
  // closed (or timed out) first.
  Response ReadResponse() {
    Response r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return r;
    }
    r.head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    r.status = std::atoi(r.head.substr(9, 3).c_str());
    std::string cl = r.Header("Content-Length");
    size_t len = cl.empty() ? 0 : std::stoul(cl);
    while (buf_.size() < len) {
      if (!Fill()) return Response{};
    }
    r.body = buf_.substr(0, len);
    buf_.erase(0, len);
    return r;
  }

  // True if the peer closes the connection (EOF or reset) within `limit`.
  bool ClosedWithin(std::chrono::milliseconds limit) {
    auto deadline = Steady::now() + limit;
    while (Steady::now() < deadline) {
      char b[512];
      ssize_t n = ::recv(fd_, b, sizeof b, 0);
      if (n == 0) return true;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
    }
    return false;
  }

 private:
  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  bool Fill() {
    char b[4096];
    ssize_t n = ::recv(fd_, b, sizeof b, 0);
    if (n <= 0) return false;
    buf_.append(b, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

std::string MakeTempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "sigil-http-XXXXXX").string();
  char* dir = mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  return tmpl;
}

// Echo handler: reflects what it saw, so tests can check request parsing.
HttpResponse Echo(const HttpRequest& req) {
  HttpResponse r = HttpResponse::Text(200, req.method + " " + req.target + "\n" + req.body);
  r.headers.Set("X-Peer", req.peer);
  r.headers.Set("X-Seen-Request-Id", req.request_id);
  r.headers.Set("X-Seen-Custom", req.headers.GetOr("x-CUSTOM", "(none)"));
  r.headers.Set("X-Path", std::string(req.path()));
  r.headers.Set("X-Query", std::string(req.query()));
  if (req.peer_uid) r.headers.Set("X-Peer-Uid", std::to_string(*req.peer_uid));
  return r;
}

HttpServerOptions TcpOptions() {
  HttpServerOptions o;
  o.listeners.push_back(ListenerConfig::Tcp("127.0.0.1", 0));
  o.worker_threads = 2;
  return o;
}

std::unique_ptr<HttpServer> StartOrDie(HttpServerOptions o, HttpHandler h) {
  auto s = HttpServer::Start(std::move(o), std::move(h));
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

// An echoing server that closes kept-alive connections idle for 800 ms.
std::unique_ptr<HttpServer> StartWithShortIdleTimeout() {
  HttpServerOptions o = TcpOptions();
  o.idle_timeout = absl::Milliseconds(800);
  return StartOrDie(std::move(o), Echo);
}

// An echoing server that counts the requests its handler saw.
std::unique_ptr<HttpServer> StartCountingEcho(std::atomic<int>& handled, HttpServerOptions o = TcpOptions()) {
  return StartOrDie(std::move(o), [&handled](const HttpRequest& r) {
    ++handled;
    return Echo(r);
  });
}

TEST(HttpServerTest, TcpRoundTripThroughClient) {
  auto server = StartOrDie(TcpOptions(), Echo);
  ASSERT_TRUE(server);
  const BoundListener& l = server->listeners().at(0);
  EXPECT_EQ(l.host, "127.0.0.1");
  EXPECT_NE(l.port, 0);
  EXPECT_EQ(l.url, "http://127.0.0.1:" + std::to_string(l.port));

  auto client = HttpClient::Create(l.url);
  ASSERT_TRUE(client.ok()) << client.status();
  auto get = (*client)->Get("/v1/keys?limit=5", {{"X-Custom", "abc"}});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "GET /v1/keys?limit=5\n");
  EXPECT_EQ(get->headers.GetOr("x-seen-custom", ""), "abc");
  EXPECT_EQ(get->headers.GetOr("X-Path", ""), "/v1/keys");
  EXPECT_EQ(get->headers.GetOr("X-Query", ""), "limit=5");
  EXPECT_THAT(get->headers.GetOr("X-Peer", ""), StartsWith("127.0.0.1:"));
  std::string rid = get->headers.GetOr("X-Request-Id", "");
  EXPECT_EQ(rid.size(), 32u);
  EXPECT_EQ(rid.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(rid, get->headers.GetOr("X-Seen-Request-Id", ""));

  auto post = (*client)->Post("/rpc", R"({"jsonrpc":"2.0"})");
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->status, 200);
  EXPECT_EQ(post->body, "POST /rpc\n{\"jsonrpc\":\"2.0\"}");
  EXPECT_NE(post->headers.GetOr("X-Request-Id", ""), rid);  // fresh id per request
}

TEST(HttpServerTest, UnixSocketRoundTripWithMode0600AndPeerCredentials) {
  std::string dir = MakeTempDir();
  std::string path = dir + "/sigil.sock";
  HttpServerOptions o;
  o.listeners.push_back(ListenerConfig::Unix(path));
  o.worker_threads = 1;
  auto server = StartOrDie(o, Echo);
  ASSERT_TRUE(server);
  EXPECT_EQ(server->listeners().at(0).url, "unix:" + path);

  struct stat st {};
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto client = HttpClient::Create("unix:" + path);
  ASSERT_TRUE(client.ok()) << client.status();
  auto post = (*client)->Post("/rpc", "hello");
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->status, 200);
  EXPECT_EQ(post->body, "POST /rpc\nhello");
  EXPECT_EQ(post->headers.GetOr("X-Peer", ""), "unix");
  EXPECT_EQ(post->headers.GetOr("X-Peer-Uid", ""), std::to_string(getuid()));

  server->Stop();
  EXPECT_NE(lstat(path.c_str(), &st), 0) << "socket file removed on Stop";
  std::filesystem::remove_all(dir);
}

TEST(HttpServerTest, UnixSocketStaleFileReplacedLiveOneAndRegularFileRefused) {
  std::string dir = MakeTempDir();
  std::string path = dir + "/s.sock";
  {  // A stale socket: bound, then its owner went away.
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    close(fd);
  }
  HttpServerOptions o;
  o.listeners.push_back(ListenerConfig::Unix(path));
  o.worker_threads = 1;
  auto first = StartOrDie(o, Echo);
  ASSERT_TRUE(first);

  auto second = HttpServer::Start(o, Echo);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("already listening"));
  // The live server is untouched by the failed attempt.
  RawConn c = RawConn::Unix(path);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse().status, 200);
  first->Stop();

  std::string file = dir + "/plain";
  FILE* f = std::fopen(file.c_str(), "w");
  std::fclose(f);
  HttpServerOptions o2;
  o2.listeners.push_back(ListenerConfig::Unix(file));
  auto third = HttpServer::Start(o2, Echo);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(std::filesystem::exists(file)) << "a regular file is never deleted";

  HttpServerOptions o3;
  o3.listeners.push_back(ListenerConfig::Unix(dir + "/" + std::string(120, 'x')));
  EXPECT_EQ(HttpServer::Start(o3, Echo).status().code(), absl::StatusCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

TEST(HttpServerTest, StartFailsCleanlyWhenPortIsTaken) {
  auto a = StartOrDie(TcpOptions(), Echo);
  ASSERT_TRUE(a);
  HttpServerOptions o;
  o.listeners.push_back(ListenerConfig::Tcp("127.0.0.1", a->listeners()[0].port));
  auto b = HttpServer::Start(o, Echo);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(b.status().message()), HasSubstr("cannot listen on 127.0.0.1:"));
}

TEST(HttpServerTest, KeepAliveServesManyRequestsOnOneConnectionAndPipelining) {
  auto server = StartOrDie(TcpOptions(), Echo);
  ASSERT_TRUE(server);
  RawConn c = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 5; ++i) {
    std::string body = "req" + std::to_string(i);
    ASSERT_TRUE(c.Send("POST /n HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                       body));
    RawConn::Response r = c.ReadResponse();
    ASSERT_EQ(r.status, 200) << "request " << i;
    EXPECT_EQ(r.body, "POST /n\n" + body);
    EXPECT_NE(r.Header("Connection"), "close");
  }
  // Two requests in one write: answered in order.
  ASSERT_TRUE(c.Send("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse().body, "GET /a\n");
  EXPECT_EQ(c.ReadResponse().body, "GET /b\n");
  // Connection: close is honoured.
  ASSERT_TRUE(c.Send("GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  RawConn::Response last = c.ReadResponse();
  EXPECT_EQ(last.status, 200);
  EXPECT_EQ(last.Header("Connection"), "close");
  EXPECT_TRUE(c.ClosedWithin(std::chrono::milliseconds(2000)));
  EXPECT_EQ(server->stats().requests_handled, 8u);
}

TEST(HttpServerTest, OversizedBodyGets413WithJsonError) {
  HttpServerOptions o = TcpOptions();
  o.max_body_bytes = 1024;
  std::atomic<int> handled{0};
  auto server = StartCountingEcho(handled, o);
  ASSERT_TRUE(server);
  uint16_t port = server->listeners()[0].port;

  // Declared too large: refused before the body is read.
  auto client = HttpClient::Create(server->listeners()[0].url);
  ASSERT_TRUE(client.ok());
  auto big = (*client)->Post("/rpc", std::string(200 * 1024, 'a'));
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(big->headers.GetOr("Content-Type", ""), "application/json");
  EXPECT_THAT(big->body, HasSubstr("\"code\":\"payload_too_large\""));
  EXPECT_THAT(big->body, HasSubstr("1024 bytes"));

  // Exactly at the limit: fine.
  auto ok = (*client)->Post("/rpc", std::string(1024, 'b'));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 200);

  // Header and too-large body in one segment.
  RawConn one = RawConn::Tcp(port);
  ASSERT_TRUE(one.Send("POST /rpc HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n" + std::string(2000, 'd')));
  EXPECT_EQ(one.ReadResponse().status, 413);

  // Chunked, growing past the limit while being read.
  RawConn c = RawConn::Tcp(port);
  std::string chunk(600, 'c');
  ASSERT_TRUE(c.Send("POST /rpc HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" + chunk +
                     "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n"));
  RawConn::Response r = c.ReadResponse();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(handled.load(), 1);
}

TEST(HttpServerTest, OversizedHeaderGets431) {
  HttpServerOptions o = TcpOptions();
  o.max_header_bytes = 2048;
  auto server = StartOrDie(o, Echo);
  ASSERT_TRUE(server);
  RawConn c = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(4096, 'x') + "\r\n\r\n"));
  RawConn::Response r = c.ReadResponse();
  EXPECT_EQ(r.status, 431);
  EXPECT_THAT(r.body, HasSubstr("header_too_large"));
  // A request-line alone longer than the limit, and many small fields, with
  // the default limit (16 KiB) too.
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "X" + std::to_string(i) + ": a\r\n";
  auto server16 = StartOrDie(TcpOptions(), Echo);
  ASSERT_TRUE(server16);
  for (auto* srv : {server.get(), server16.get()}) {
    for (std::string big : {"GET /?" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n",
                            "GET / HTTP/1.1\r\nHost: a\r\n" + many + "\r\n"}) {
      RawConn b = RawConn::Tcp(srv->listeners()[0].port);
      ASSERT_TRUE(b.Send(big));
      EXPECT_EQ(b.ReadResponse().status, 431) << big.substr(0, 40);
    }
  }
}

// Beast 1.74 checks its header limit against one parse call and consumes
// complete field lines as it goes; once a call leaves 3 or more bytes it
// holds the rest to the limit. A header of 1.4 times the limit whose first
// piece (one read between requests) held over half of it got through; so did
// one of 10 times the limit whose every piece ended one byte into a new field
// line. A header must be bounded as a whole.
TEST(HttpServerTest, HeaderArrivingInPiecesIsBoundedAsAWhole) {
  HttpServerOptions o = TcpOptions();
  o.max_header_bytes = 2048;
  std::atomic<int> handled{0};
  auto server = StartCountingEcho(handled, o);
  ASSERT_TRUE(server);
  std::string header = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 9; ++i) header += "X-Piece-" + std::to_string(i) + ": " + std::string(300, 'p') + "\r\n";
  header += "\r\n";
  ASSERT_GT(header.size(), 2048u * 13 / 10);
  ASSERT_LT(header.size(), 2048u * 3 / 2);
  RawConn c = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(c.Send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse().status, 200);
  // First piece: four whole field lines (and a part of the fifth), 1420
  // bytes; then 300-byte pieces.
  for (size_t sent = 0, piece = 1420; sent < header.size(); sent += piece, piece = 300) {
    if (sent > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!c.Send(std::string_view(header).substr(sent, piece))) break;
  }
  RawConn::Response r = c.ReadResponse();
  EXPECT_EQ(r.status, 431);
  EXPECT_THAT(r.body, HasSubstr("header_too_large"));
  EXPECT_EQ(handled.load(), 1);

  RawConn far = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(far.Send("GET / HTTP/1.1\r\nHost: a\r\nX"));
  for (int i = 0; i < 64; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!far.Send("-P" + std::to_string(i) + ": " + std::string(300, 'p') + "\r\nX")) break;
  }
  (void)far.Send("-End: 1\r\n\r\n");
  EXPECT_EQ(far.ReadResponse().status, 431);
  EXPECT_EQ(handled.load(), 1);

  // Within the limit, in pieces: fine.
  RawConn ok = RawConn::Tcp(server->listeners()[0].port);
  for (std::string piece : {"GET /pie", "ces HTTP/1.1\r", "\nHost: a\r\nX-A: 1\r\n", "\r", "\n"}) {
    ASSERT_TRUE(ok.Send(piece));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(ok.ReadResponse().body, "GET /pieces\n");
}

// Beast bounds only the header; a chunked body's trailer and its chunk
// extensions are bounded by the read buffer (header limit plus one read):
// sent before any authentication, they must not grow memory without bound.
TEST(HttpServerTest, ChunkTrailersAndExtensionsAreBounded) {
  HttpServerOptions o = TcpOptions();
  o.max_header_bytes = 2048;
  std::atomic<int> handled{0};
  auto server = StartCountingEcho(handled, o);
  ASSERT_TRUE(server);
  const uint16_t port = server->listeners()[0].port;
  std::string trailer;
  while (trailer.size() < 256 * 1024) trailer += "X-T: " + std::string(90, 'a') + "\r\n";
  RawConn t = RawConn::Tcp(port);
  // The peer may close before all is sent: only the answer matters.
  (void)t.Send("POST /rpc HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n" + trailer +
               "\r\n");
  EXPECT_EQ(t.ReadResponse().status, 431);
  RawConn e = RawConn::Tcp(port);
  std::string ext;
  while (ext.size() < 256 * 1024) ext += ";a=b";
  (void)e.Send("POST /rpc HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2" + ext + "\r\n{}\r\n0\r\n\r\n");
  EXPECT_EQ(e.ReadResponse().status, 431);
  EXPECT_EQ(handled.load(), 0);
  // A body far larger than the buffer still arrives whole (it is consumed as
  // it is read), with a Content-Length or chunked with a small trailer.
  const std::string body(400 * 1024, 'b');
  RawConn big = RawConn::Tcp(port);
  ASSERT_TRUE(big.Send("POST /rpc HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\n\r\n" + body));
  RawConn::Response r = big.ReadResponse();
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(body), std::string::npos);
  std::string chunked;
  for (size_t i = 0; i < body.size(); i += 64 * 1024) {
    const std::string piece = body.substr(i, 64 * 1024);
    char size[16];
    std::snprintf(size, sizeof size, "%zx", piece.size());
    chunked += std::string(size) + "\r\n" + piece + "\r\n";
  }
  RawConn ch = RawConn::Tcp(port);
  ASSERT_TRUE(ch.Send("POST /rpc HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked +
                      "0\r\nX-Trailer: ok\r\n\r\n"));
  r = ch.ReadResponse();
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(body), std::string::npos);
  EXPECT_EQ(handled.load(), 2);
}

// Only "chunked" is a transfer coding the server reads; anything else would
// leave the body to be parsed as the next request.
TEST(HttpServerTest, UnsupportedTransferEncodingIsRefusedAndClosed) {
  std::atomic<int> handled{0};
  auto server = StartCountingEcho(handled);
  ASSERT_TRUE(server);
  for (std::string te : {"gzip", "chunked, identity", "gzip, chunked", "identity"}) {
    RawConn c = RawConn::Tcp(server->listeners()[0].port);
    ASSERT_TRUE(c.Send("POST /rpc HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + te +
                       "\r\n\r\n4\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    RawConn::Response r = c.ReadResponse();
    EXPECT_EQ(r.status, 501) << te;
    EXPECT_EQ(r.Header("Connection"), "close") << te;
  }
  RawConn twice = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(twice.Send("POST /rpc HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  const int twice_status = twice.ReadResponse().status;  // Beast itself refuses a repeated coding
  EXPECT_TRUE(twice_status == 400 || twice_status == 501) << twice_status;
  RawConn fine = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(fine.Send("POST /rpc HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"));
  EXPECT_EQ(fine.ReadResponse().status, 200);
  EXPECT_EQ(handled.load(), 1);
}

TEST(HttpServerTest, ClientRequestIdIsUsedWhenValidAndReplacedOtherwise) {
  auto server = StartOrDie(TcpOptions(), Echo);
  ASSERT_TRUE(server);
  auto client = HttpClient::Create(server->listeners().at(0).url);
  ASSERT_TRUE(client.ok()) << client.status();
  auto mine = (*client)->Get("/x", {{"X-Request-Id", "trace-42.a:b_C"}});
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(mine->headers.GetOr("X-Request-Id", ""), "trace-42.a:b_C");
  EXPECT_EQ(mine->headers.GetOr("X-Seen-Request-Id", ""), "trace-42.a:b_C");  // the handler sees it too
  for (std::string bad : {std::string(65, 'a'), std::string("has space"), std::string("semi;colon"), std::string("")}) {
    auto r = (*client)->Get("/x", {{"X-Request-Id", bad}});
    ASSERT_TRUE(r.ok()) << r.status();
    std::string rid = r->headers.GetOr("X-Request-Id", "");
    EXPECT_EQ(rid.size(), 32u) << bad;
    EXPECT_EQ(rid.find_first_not_of("0123456789abcdef"), std::string::npos) << bad;
  }
}

TEST(HttpServerTest, MalformedRequestGets400AndServerStaysUp) {
  std::vector<int> statuses;
  absl::Mutex mu;
  HttpServerOptions o = TcpOptions();
  o.on_response = [&](const HttpAccessRecord& rec) {
    absl::MutexLock lock(&mu);
    statuses.push_back(rec.status);
  };
  auto server = StartOrDie(o, Echo);
  ASSERT_TRUE(server);
  uint16_t port = server->listeners()[0].port;
  for (std::string bad : {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                          "POST / HTTP/1.1\r\nContent-Length: zz\r\n\r\n"}) {
    RawConn c = RawConn::Tcp(port);
    ASSERT_TRUE(c.Send(bad));
    RawConn::Response r = c.ReadResponse();
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_THAT(r.body, HasSubstr("bad_request"));
    EXPECT_EQ(r.Header("Connection"), "close");
    EXPECT_EQ(r.Header("X-Request-Id").size(), 32u);
  }
  RawConn good = RawConn::Tcp(port);
  ASSERT_TRUE(good.Send("GET /still-up HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(good.ReadResponse().body, "GET /still-up\n");
  // The observer runs once the write has completed, which may be just after
  // the client has the bytes, and on any I/O thread: the order of the
  // records is not the order of the requests.
  absl::MutexLock lock(&mu);
  auto five = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return statuses.size() >= 5; };
  mu.AwaitWithTimeout(absl::Condition(&five), absl::Seconds(5));
  EXPECT_THAT(statuses, ::testing::UnorderedElementsAre(400, 400, 400, 400, 200));
}

TEST(HttpServerTest, SlowlorisIsDisconnectedAfterHeaderTimeout) {
  HttpServerOptions o = TcpOptions();
  o.header_timeout = absl::Seconds(1);
  auto server = StartOrDie(o, Echo);
  ASSERT_TRUE(server);
  uint16_t port = server->listeners()[0].port;

  // A partial header, then silence.
  RawConn partial = RawConn::Tcp(port);
  ASSERT_TRUE(partial.Send("GET / HTTP/1.1\r\nHost: a\r\n"));
  // A trickle: one byte every 200 ms never completes the header in time.
  RawConn trickle = RawConn::Tcp(port);
  // A connection that never sends anything.
  RawConn silent = RawConn::Tcp(port);

  auto start = Steady::now();
  std::string header = "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ";
  bool trickle_closed = false;
  for (int i = 0; i < 15 && !trickle_closed; ++i) {
    if (!trickle.Send(i < static_cast<int>(header.size()) ? header.substr(i, 1) : "a")) trickle_closed = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(partial.ClosedWithin(std::chrono::milliseconds(3000)));
  EXPECT_TRUE(silent.ClosedWithin(std::chrono::milliseconds(3000)));
  EXPECT_TRUE(trickle_closed || trickle.ClosedWithin(std::chrono::milliseconds(3000)));
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(server->stats().open_connections, 0u);

  // And the server still answers a prompt client.
  RawConn good = RawConn::Tcp(port);
  ASSERT_TRUE(good.Send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(good.ReadResponse().status, 200);
}

TEST(HttpServerTest, SlowBodyIsDisconnectedAfterBodyTimeout) {
  HttpServerOptions o = TcpOptions();
  o.body_timeout = absl::Seconds(1);
  std::atomic<int> handled{0};
  auto server = StartCountingEcho(handled, o);
  ASSERT_TRUE(server);
  RawConn c = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(c.Send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly-part"));
  EXPECT_TRUE(c.ClosedWithin(std::chrono::milliseconds(3000)));
  EXPECT_EQ(handled.load(), 0);
}

// Empty lines a client sends after a request (some send a CRLF after a
// body) are not the start of the next request: the connection waits for it
// under idle_timeout, not header_timeout.
TEST(HttpServerTest, EmptyLinesAfterARequestLeaveTheConnectionIdle) {
  HttpServerOptions o = TcpOptions();
  o.header_timeout = absl::Milliseconds(200);
  o.idle_timeout = absl::Seconds(5);
  auto server = StartOrDie(o, Echo);
  ASSERT_TRUE(server);
  RawConn c = RawConn::Tcp(server->listeners()[0].port);
  // Pipelined with the request; then only the CR of one more.
  for (std::string trailing : {"\r\n", "\r\n\r\n", "\r"}) {
    ASSERT_TRUE(c.Send("POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}" + trailing));
    EXPECT_EQ(c.ReadResponse().body, "POST /1\n{}");
    std::this_thread::sleep_for(std::chrono::milliseconds(600));  // past header_timeout
    ASSERT_TRUE(c.Send(std::string(trailing == "\r" ? "\n" : "") + "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"));
    EXPECT_EQ(c.ReadResponse().body, "GET /2\n") << "after " << trailing.size() << " trailing bytes";
  }
  // Sent after the response, while idle: the same.
  ASSERT_TRUE(c.Send("\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  ASSERT_TRUE(c.Send("GET /3 HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse().body, "GET /3\n");
  // Only so many, as before a first request.
  std::string many;
  for (int i = 0; i < 17; ++i) many += "\r\n";
  ASSERT_TRUE(c.Send(many + "GET /4 HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse().status, 400);
}

// Empty lines do not extend the idle timeout.
TEST(HttpServerTest, EmptyLinesDoNotKeepAnIdleConnectionOpen) {
  auto server = StartWithShortIdleTimeout();
  ASSERT_TRUE(server);
  RawConn c = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(c.Send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse().status, 200);
  auto start = Steady::now();
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    if (!c.Send("\r\n")) break;
  }
  EXPECT_TRUE(c.ClosedWithin(std::chrono::milliseconds(3000)));
  EXPECT_LT(Steady::now() - start, std::chrono::milliseconds(2500));
}

TEST(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  auto server = StartWithShortIdleTimeout();
  ASSERT_TRUE(server);
  RawConn c = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(c.Send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse().status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // within the idle timeout
  ASSERT_TRUE(c.Send("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse().body, "GET /2\n");
  auto start = Steady::now();
  EXPECT_TRUE(c.ClosedWithin(std::chrono::milliseconds(3000)));
  EXPECT_GE(Steady::now() - start, std::chrono::milliseconds(600));
}

// A handler that blocks on /slow until released.
struct Gate {
  absl::Mutex mu;
  int entered ABSL_GUARDED_BY(mu) = 0;
  bool open ABSL_GUARDED_BY(mu) = false;

  HttpResponse Handle(const HttpRequest& req) {
    if (req.path() == "/slow") {
      absl::MutexLock lock(&mu);
      ++entered;
      mu.Await(absl::Condition(&open));
    }
    return Echo(req);
  }
  void WaitEntered(int n) {
    absl::MutexLock lock(&mu);
    auto cond = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return entered >= n; };
    mu.Await(absl::Condition(&cond));
  }
  void Open() {
    absl::MutexLock lock(&mu);
    open = true;
  }
};

TEST(HttpServerTest, OverloadAnswers503WithRetryAfterImmediately) {
  HttpServerOptions o = TcpOptions();
  o.worker_threads = 1;
  o.max_in_flight = 1;
  o.retry_after_seconds = 2;
  Gate gate;
  auto server = StartOrDie(o, [&](const HttpRequest& r) { return gate.Handle(r); });
  ASSERT_TRUE(server);
  uint16_t port = server->listeners()[0].port;

  RawConn slow = RawConn::Tcp(port);
  ASSERT_TRUE(slow.Send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"));
  gate.WaitEntered(1);
  EXPECT_EQ(server->stats().in_flight, 1u);

  RawConn second = RawConn::Tcp(port);
  auto start = Steady::now();
  ASSERT_TRUE(second.Send("GET /fast HTTP/1.1\r\nHost: a\r\n\r\n"));
  RawConn::Response r = second.ReadResponse();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.Header("Retry-After"), "2");
  EXPECT_THAT(r.body, HasSubstr("overloaded"));
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(server->stats().rejected_overload, 1u);

  gate.Open();
  EXPECT_EQ(slow.ReadResponse().status, 200);
  // Capacity is back; the rejected connection is still usable.
  ASSERT_TRUE(second.Send("GET /fast HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(second.ReadResponse().status, 200);
}

TEST(HttpServerTest, ConnectionsBeyondMaxAreAnswered503AndClosed) {
  HttpServerOptions o = TcpOptions();
  o.max_connections = 2;
  auto server = StartOrDie(o, Echo);
  ASSERT_TRUE(server);
  uint16_t port = server->listeners()[0].port;
  RawConn a = RawConn::Tcp(port), b = RawConn::Tcp(port);
  ASSERT_TRUE(a.Send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  ASSERT_TRUE(b.Send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  ASSERT_EQ(a.ReadResponse().status, 200);
  ASSERT_EQ(b.ReadResponse().status, 200);

  RawConn c = RawConn::Tcp(port);
  RawConn::Response r = c.ReadResponse();
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("too_many_connections"));
  EXPECT_TRUE(c.ClosedWithin(std::chrono::milliseconds(3000)));
  EXPECT_EQ(server->stats().rejected_connections, 1u);

  // Once a slot frees up, new connections are served again.
  ASSERT_TRUE(a.Send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  ASSERT_EQ(a.ReadResponse().status, 200);
  ASSERT_TRUE(a.ClosedWithin(std::chrono::milliseconds(3000)));
  for (int i = 0; i < 50 && server->stats().open_connections > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  RawConn d = RawConn::Tcp(port);
  ASSERT_TRUE(d.Send("GET /again HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(d.ReadResponse().status, 200);
}

TEST(HttpServerTest, GracefulStopLetsInFlightRequestFinish) {
  HttpServerOptions o = TcpOptions();
  o.shutdown_grace = absl::Seconds(5);
  Gate gate;
  auto server = StartOrDie(o, [&](const HttpRequest& r) { return gate.Handle(r); });
  ASSERT_TRUE(server);
  uint16_t port = server->listeners()[0].port;

  RawConn idle = RawConn::Tcp(port);
  ASSERT_TRUE(idle.Send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  ASSERT_EQ(idle.ReadResponse().status, 200);

  RawConn slow = RawConn::Tcp(port);
  ASSERT_TRUE(slow.Send("POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nwork"));
  gate.WaitEntered(1);

  auto start = Steady::now();
  std::thread stopper([&] { server->Stop(); });
  // The idle connection is closed at once; the slow request is still served.
  EXPECT_TRUE(idle.ClosedWithin(std::chrono::milliseconds(2000)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  RawConn late = RawConn::Tcp(port);
  EXPECT_FALSE(late.connected()) << "no longer accepting";
  gate.Open();
  RawConn::Response r = slow.ReadResponse();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /slow\nwork");
  EXPECT_EQ(r.Header("Connection"), "close");
  stopper.join();
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(4)) << "Stop did not wait for the full grace period";
}

TEST(HttpServerTest, StopAfterGracePeriodDropsUnfinishedResponse) {
  HttpServerOptions o = TcpOptions();
  o.shutdown_grace = absl::Milliseconds(100);
  auto server = StartOrDie(o, [](const HttpRequest& r) {
    if (r.path() == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(700));
    return Echo(r);
  });
  ASSERT_TRUE(server);
  RawConn slow = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(slow.Send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"));
  for (int i = 0; i < 100 && server->stats().in_flight == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto start = Steady::now();
  server->Stop();
  auto took = Steady::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(300)) << "Stop waits for the running handler to return";
  EXPECT_EQ(slow.ReadResponse().status, 0) << "the response after the grace period is dropped";
}

TEST(HttpServerTest, HandlerExceptionBecomes500) {
  auto server = StartOrDie(TcpOptions(), [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
  ASSERT_TRUE(server);
  RawConn c = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  RawConn::Response r = c.ReadResponse();
  EXPECT_EQ(r.status, 500);
  EXPECT_THAT(r.body, HasSubstr("internal"));
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("boom")));
}

TEST(HttpServerTest, HandlerCannotSplitTheResponseOrOverrideFraming) {
  auto server = StartOrDie(TcpOptions(), [](const HttpRequest&) {
    HttpResponse r = HttpResponse::Text(201, "body");
    r.headers.Add("X-Evil", "a\r\nSet-Cookie: x=1");
    r.headers.Add("X-Nul", std::string("a\0b", 3));
    r.headers.Add("Bad Name", "v");
    r.headers.Add("Content-Length", "999");
    r.headers.Add("X-Request-Id", "forged");
    r.headers.Add("X-Fine", "yes");
    return r;
  });
  ASSERT_TRUE(server);
  RawConn c = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  RawConn::Response r = c.ReadResponse();
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "body");
  EXPECT_EQ(r.Header("Set-Cookie"), "");
  EXPECT_EQ(r.Header("X-Evil"), "");
  EXPECT_EQ(r.Header("X-Nul"), "");
  EXPECT_EQ(r.Header("Bad Name"), "");
  EXPECT_EQ(r.Header("X-Fine"), "yes");
  EXPECT_NE(r.Header("X-Request-Id"), "forged");
}

TEST(HttpServerTest, StatusesWithoutBodyAndInvalidStatusesAreSafe) {
  auto server = StartOrDie(TcpOptions(), [](const HttpRequest& req) {
    int code = std::atoi(std::string(req.path().substr(1)).c_str());
    return HttpResponse::Text(code, "ignored body");
  });
  ASSERT_TRUE(server);
  RawConn c = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(c.Send("GET /204 HTTP/1.1\r\nHost: a\r\n\r\n"));
  RawConn::Response r204 = c.ReadResponse();
  EXPECT_EQ(r204.status, 204);
  EXPECT_EQ(r204.body, "");
  // RFC 9110 section 8.6: no Content-Length on 204 and 304, HEAD included.
  EXPECT_THAT(r204.head, ::testing::Not(HasSubstr("Content-Length")));
  for (const char* req : {"GET /304 HTTP/1.1\r\nHost: a\r\n\r\n", "HEAD /204 HTTP/1.1\r\nHost: a\r\n\r\n"}) {
    ASSERT_TRUE(c.Send(req));
    RawConn::Response r = c.ReadResponse();
    EXPECT_TRUE(r.status == 304 || r.status == 204) << req;
    EXPECT_THAT(r.head, ::testing::Not(HasSubstr("Content-Length"))) << req;
    EXPECT_EQ(r.body, "") << req;
  }
  for (const char* bad : {"/101", "/99", "/1000"}) {
    ASSERT_TRUE(c.Send(std::string("GET ") + bad + " HTTP/1.1\r\nHost: a\r\n\r\n"));
    EXPECT_EQ(c.ReadResponse().status, 500) << bad;
  }
  ASSERT_TRUE(c.Send("GET /200 HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse().body, "ignored body");
}

TEST(HttpServerTest, HeadGetsLengthButNoBody) {
  auto server = StartOrDie(TcpOptions(), Echo);
  ASSERT_TRUE(server);
  RawConn c = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(c.Send("HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n"));
  // Read the HEAD response's header only.
  RawConn::Response head = c.ReadResponse();  // Content-Length: 7 would swallow the next response's bytes...
  // ...so the check is: the declared length is the GET size, and what
  // follows on the wire starts with the next status line.
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("Content-Length"), "7");  // "GET /h\n": the handler saw a GET
  EXPECT_EQ(head.body, "HTTP/1.");
}

// RFC 9110 section 9.3.2: a HEAD gets what a GET would get, without the
// body, from a handler that only knows GET.
TEST(HttpServerTest, HeadIsHandledAsGetWithoutTheBody) {
  std::atomic<int> heads_seen{0};
  auto server = StartOrDie(TcpOptions(), [&](const HttpRequest& req) {
    if (req.is_head) ++heads_seen;
    if (req.method != "GET") return HttpResponse::Text(405, "GET only");
    HttpResponse r = HttpResponse::Json(req.path() == "/missing" ? 404 : 200, "{\"keys\":[1,2,3]}");
    r.headers.Set("X-Route", "keys");
    return r;
  });
  ASSERT_TRUE(server);
  // ReadResponse() takes Content-Length bytes after the HEAD answer's header:
  // with no body sent, they are the start of the pipelined GET's answer.
  for (std::string path : {"/v1/keys", "/missing"}) {
    RawConn c = RawConn::Tcp(server->listeners()[0].port);
    ASSERT_TRUE(c.Send("HEAD " + path + " HTTP/1.1\r\nHost: a\r\n\r\nGET /v1/keys HTTP/1.1\r\nHost: a\r\n\r\n"));
    RawConn::Response head = c.ReadResponse();
    EXPECT_EQ(head.status, path == "/missing" ? 404 : 200);
    EXPECT_EQ(head.Header("X-Route"), "keys");
    EXPECT_EQ(head.Header("Content-Type"), "application/json");
    EXPECT_EQ(head.Header("Content-Length"), "16");
    EXPECT_EQ(head.body, "HTTP/1.1 200 OK\r");
  }
  EXPECT_EQ(heads_seen.load(), 2);
}

// RFC 9112 section 3.2: an HTTP/1.1 request carries exactly one Host.
TEST(HttpServerTest, HostMustBePresentOnceAndValid) {
  std::atomic<int> handled{0};
  auto server = StartCountingEcho(handled);
  ASSERT_TRUE(server);
  const uint16_t port = server->listeners()[0].port;
  for (std::string bad : {"GET /x HTTP/1.1\r\n\r\n", "GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                          "GET /x HTTP/1.1\r\nHost: a\r\nX: y\r\nhost: a\r\n\r\n",
                          "GET /x HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", "GET /x HTTP/1.1\r\nHost: a b\r\n\r\n",
                          "GET /x HTTP/1.1\r\nHost: a/b\r\n\r\n", "GET /x HTTP/1.1\r\nHost: a@b\r\n\r\n",
                          "GET /x HTTP/1.1\r\nHost: a:8x\r\n\r\n", "GET /x HTTP/1.1\r\nHost: [::1\r\n\r\n"}) {
    RawConn c = RawConn::Tcp(port);
    ASSERT_TRUE(c.Send(bad));
    RawConn::Response r = c.ReadResponse();
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.Header("Connection"), "close") << bad;
    EXPECT_TRUE(c.ClosedWithin(std::chrono::milliseconds(2000))) << bad;
  }
  EXPECT_EQ(handled.load(), 0);
  for (std::string good : {"GET /x HTTP/1.0\r\n\r\n", "GET /x HTTP/1.1\r\nHost:\r\n\r\n",
                           "GET /x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n", "GET /x HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
                           "GET /x HTTP/1.1\r\nHost: %2Frun%2Fsigil.sock\r\n\r\n"}) {
    RawConn c = RawConn::Tcp(port);
    ASSERT_TRUE(c.Send(good));
    EXPECT_EQ(c.ReadResponse().status, 200) << good;
  }
  EXPECT_EQ(handled.load(), 5);
}

// RFC 9112 section 6.1: Transfer-Encoding in an HTTP/1.0 message is faulty
// framing; answering the chunked body's follow-up would let a 1.0 proxy and
// this server disagree about where the next request starts.
TEST(HttpServerTest, Http10WithTransferEncodingIsRefusedAndClosed) {
  std::atomic<int> handled{0};
  auto server = StartCountingEcho(handled);
  ASSERT_TRUE(server);
  RawConn c = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(c.Send("POST /rpc HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "2\r\nok\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n"));
  RawConn::Response r = c.ReadResponse();
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("Transfer-Encoding"));
  EXPECT_EQ(r.Header("Connection"), "close");
  EXPECT_TRUE(c.ClosedWithin(std::chrono::milliseconds(2000)));
  EXPECT_EQ(handled.load(), 0);
}

// RFC 9112 section 3.2.2: a server MUST accept the absolute form; routing
// uses its path.
TEST(HttpServerTest, AbsoluteFormTargetIsRoutedByItsPath) {
  auto server = StartOrDie(TcpOptions(), Echo);
  ASSERT_TRUE(server);
  RawConn c = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(c.Send("GET http://other.example:1/p/q?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"));
  RawConn::Response r = c.ReadResponse();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /p/q?x=1\n");
  EXPECT_EQ(r.Header("X-Path"), "/p/q");
  EXPECT_EQ(r.Header("X-Query"), "x=1");
  ASSERT_TRUE(c.Send("POST HTTPS://h HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi"));
  RawConn::Response root = c.ReadResponse();
  EXPECT_EQ(root.body, "POST /\nhi");
  EXPECT_EQ(root.Header("X-Path"), "/");
}

// RFC 9110 section 2.5 (a higher 1.x minor version is read as 1.1), RFC 9112
// section 2.2 (empty lines before the request-line are ignored) and 2.3 (the
// server answers with its own version, 1.1).
TEST(HttpServerTest, VersionAndLeadingEmptyLineLeniency) {
  auto server = StartOrDie(TcpOptions(), [](const HttpRequest& req) {
    return HttpResponse::Text(200, std::to_string(req.version) + " " + req.target);
  });
  ASSERT_TRUE(server);
  const uint16_t port = server->listeners()[0].port;
  RawConn c = RawConn::Tcp(port);
  ASSERT_TRUE(c.Send("GET /v12 HTTP/1.2\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse().body, "11 /v12");
  ASSERT_TRUE(c.Send("\r\nGET /crlf HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse().body, "11 /crlf");
  // The empty line split from the request-line across two reads.
  ASSERT_TRUE(c.Send("\r"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(c.Send("\nGET /split HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse().body, "11 /split");
  // A request-line split across reads.
  ASSERT_TRUE(c.Send("GET /slow HT"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(c.Send("TP/1.3\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse().body, "11 /slow");

  RawConn old = RawConn::Tcp(port);
  ASSERT_TRUE(old.Send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  RawConn::Response first = old.ReadResponse();
  EXPECT_THAT(first.head, StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(first.body, "10 /a");
  EXPECT_THAT(first.Header("Connection"), ::testing::StrCaseEq("keep-alive"));
  ASSERT_TRUE(old.Send("GET /b HTTP/1.0\r\n\r\n"));
  RawConn::Response second = old.ReadResponse();
  EXPECT_THAT(second.head, StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(second.Header("Connection"), "close");
  EXPECT_TRUE(old.ClosedWithin(std::chrono::milliseconds(2000)));

  std::string too_many_empty_lines;
  for (int i = 0; i < 17; ++i) too_many_empty_lines += "\r\n";
  too_many_empty_lines += "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  for (std::string bad : {std::string("GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
                          std::string("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), too_many_empty_lines}) {
    RawConn b = RawConn::Tcp(port);
    ASSERT_TRUE(b.Send(bad));
    EXPECT_EQ(b.ReadResponse().status, 400) << bad;
  }
}

TEST(HttpServerTest, ExpectContinueIsHonoured) {
  auto server = StartOrDie(TcpOptions(), Echo);
  ASSERT_TRUE(server);
  RawConn c = RawConn::Tcp(server->listeners()[0].port);
  ASSERT_TRUE(c.Send("POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  RawConn::Response interim = c.ReadResponse();
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(c.Send("hello"));
  RawConn::Response r = c.ReadResponse();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /e\nhello");
}

TEST(HttpServerTest, ObserverSeesEveryResponse) {
  absl::Mutex mu;
  std::vector<HttpAccessRecord> recs;
  HttpServerOptions o = TcpOptions();
  o.max_body_bytes = 10;
  o.on_response = [&](const HttpAccessRecord& r) {
    absl::MutexLock lock(&mu);
    recs.push_back(r);
  };
  auto server = StartOrDie(o, Echo);
  ASSERT_TRUE(server);
  auto client = HttpClient::Create(server->listeners()[0].url);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Post("/a", "12345").ok());
  ASSERT_TRUE((*client)->Post("/b", std::string(11, 'x')).ok());
  absl::MutexLock lock(&mu);
  auto two = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return recs.size() >= 2; };
  mu.AwaitWithTimeout(absl::Condition(&two), absl::Seconds(5));
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].method, "POST");
  EXPECT_EQ(recs[0].target, "/a");
  EXPECT_EQ(recs[0].status, 200);
  EXPECT_EQ(recs[0].request_body_bytes, 5u);
  EXPECT_EQ(recs[1].status, 413);
  EXPECT_EQ(recs[1].request_id.size(), 32u);
}

TEST(HttpServerTest, ConcurrentClientsAllServed) {
  HttpServerOptions o = TcpOptions();
  o.worker_threads = 4;
  o.max_in_flight = 64;
  auto server = StartOrDie(o, Echo);
  ASSERT_TRUE(server);
  std::string url = server->listeners()[0].url;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto client = HttpClient::Create(url);
      if (!client.ok()) return;
      for (int i = 0; i < 25; ++i) {
        std::string body = std::to_string(t) + "-" + std::to_string(i);
        auto r = (*client)->Post("/c", body);
        if (r.ok() && r->status == 200 && r->body == "POST /c\n" + body) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 200);
}

// Handlers run nicer than the process, so the I/O threads (reads, writes,
// overload answers) are not starved by signing work.
TEST(HttpServerTest, HandlersRunAtALowerPriorityThanIo) {
  const id_t self = static_cast<id_t>(::syscall(SYS_gettid));
  const int base = ::getpriority(PRIO_PROCESS, self);
  auto seen = [](const HttpRequest&) {
    HttpResponse r = HttpResponse::Text(200, std::to_string(::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)))));
    return r;
  };
  auto server = StartOrDie(TcpOptions(), seen);
  ASSERT_TRUE(server);
  auto client = HttpClient::Create(server->listeners()[0].url);
  ASSERT_TRUE(client.ok());
  for (int i = 0; i < 4; ++i) {  // several requests: each worker lowers itself once
    auto r = (*client)->Get("/");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, std::to_string(std::min(19, base + 10)));
  }
  HttpServerOptions same = TcpOptions();
  same.worker_nice_increment = 0;
  auto plain = StartOrDie(same, seen);
  ASSERT_TRUE(plain);
  auto c2 = HttpClient::Create(plain->listeners()[0].url);
  ASSERT_TRUE(c2.ok());
  auto r = (*c2)->Get("/");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, std::to_string(base));
}

TEST(HttpServerTest, RejectsBadOptions) {
  EXPECT_EQ(HttpServer::Start(HttpServerOptions{}, Echo).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpServer::Start(TcpOptions(), nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  HttpServerOptions o = TcpOptions();
  o.header_timeout = absl::ZeroDuration();
  EXPECT_EQ(HttpServer::Start(o, Echo).status().code(), absl::StatusCode::kInvalidArgument);
  HttpServerOptions t;
  t.listeners.push_back(ListenerConfig::Tls("127.0.0.1", 0, "/nonexistent/cert.pem", "/nonexistent/key.pem"));
  auto s = HttpServer::Start(t, Echo);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("/nonexistent/cert.pem"));
}

}  // namespace
}  // namespace sigil::net
