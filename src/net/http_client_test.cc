#include "net/http_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/http_server.h"

namespace sigil::net {
namespace {

using ::testing::HasSubstr;

std::string MakeTempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "sigil-httpc-XXXXXX").string();
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

HttpResponse Echo(const HttpRequest& req) {
  HttpResponse r = HttpResponse::Text(200, req.method + " " + req.target + "\n" + req.body);
  r.headers.Set("X-Peer", req.peer);
  r.headers.Set("X-Transport", req.transport == HttpTransport::kTls ? "tls" : "other");
  return r;
}

// A port with nothing listening: bind, read the port, close.
uint16_t UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::unique_ptr<HttpServer> StartTcp(HttpHandler h, HttpServerOptions o = {}) {
  o.listeners = {ListenerConfig::Tcp("127.0.0.1", 0)};
  o.worker_threads = 2;
  auto s = HttpServer::Start(std::move(o), std::move(h));
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailableWithClearMessage) {
  std::string url = "http://127.0.0.1:" + std::to_string(UnusedPort());
  auto client = HttpClient::Create(url);
  ASSERT_TRUE(client.ok());
  auto r = (*client)->Get("/healthz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(r.status().message()), "cannot reach sigil daemon at " + url + ": connection refused");
}

// Upstream URLs carry API keys in their path or query (Infura /v3/KEY,
// ?apikey=): messages name the origin only.
TEST(HttpClientTest, ErrorsNameTheOriginNeverThePathOrQuery) {
  std::string origin = "http://127.0.0.1:" + std::to_string(UnusedPort());
  HttpClientOptions o;
  o.service_name = "upstream Ethereum node";
  auto client = HttpClient::Create(origin + "/v3/SECRETKEY?apikey=SECRETKEY#SECRETKEY", o);
  ASSERT_TRUE(client.ok());
  auto r = (*client)->Get("");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(std::string(r.status().message()), "cannot reach upstream Ethereum node at " + origin + ": connection refused");

  auto server = StartTcp([](const HttpRequest&) { return HttpResponse::Text(200, std::string(4096, 'z')); });
  ASSERT_TRUE(server);
  o.max_response_body_bytes = 100;
  auto big = HttpClient::Create(server->listeners()[0].url + "/v2/SECRETKEY", o);
  ASSERT_TRUE(big.ok());
  auto b = (*big)->Post("", "{}");
  EXPECT_EQ(b.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(std::string(b.status().message()), "response from upstream Ethereum node at " +
                                                   server->listeners()[0].url + " exceeds the limit of 100 bytes");

  auto bad = HttpClient::Create("http://user:SECRETKEY@127.0.0.1:9/v3/SECRETKEY", o);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), ::testing::Not(HasSubstr("SECRETKEY")));

  // A refused request target is not quoted either: its path may hold a key.
  for (std::string target : {"v3/SECRETKEY", "v3/SECRETKEY?apikey=x", "https://h/v3/SECRETKEY"}) {
    auto t = (*client)->Get(target);
    ASSERT_FALSE(t.ok()) << target;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << target;
    EXPECT_EQ(std::string(t.status().message()), "request target must start with '/'") << target;
  }
}

TEST(HttpClientTest, MissingUnixSocketIsUnavailable) {
  HttpClientOptions o;
  o.service_name = "upstream node";
  auto client = HttpClient::Create("unix:/nonexistent/dir/sigil.sock", o);
  ASSERT_TRUE(client.ok());
  auto r = (*client)->Get("/");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("cannot reach upstream node at unix:/nonexistent/dir/sigil.sock: no socket at that path"));
}

TEST(HttpClientTest, ResponseBodyOverLimitIsResourceExhausted) {
  auto server = StartTcp([](const HttpRequest&) { return HttpResponse::Text(200, std::string(64 * 1024, 'z')); });
  ASSERT_TRUE(server);
  HttpClientOptions o;
  o.max_response_body_bytes = 10 * 1024;
  auto client = HttpClient::Create(server->listeners()[0].url, o);
  ASSERT_TRUE(client.ok());
  auto r = (*client)->Get("/big");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("exceeds the limit of 10240 bytes"));

  o.max_response_body_bytes = 64 * 1024;  // exactly enough
  auto ok_client = HttpClient::Create(server->listeners()[0].url, o);
  auto ok = (*ok_client)->Get("/big");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->body.size(), 64u * 1024);
}

TEST(HttpClientTest, SlowServerHitsDeadline) {
  auto server = StartTcp([](const HttpRequest& r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return Echo(r);
  });
  ASSERT_TRUE(server);
  HttpClientOptions o;
  o.timeout = absl::Milliseconds(300);
  auto client = HttpClient::Create(server->listeners()[0].url, o);
  ASSERT_TRUE(client.ok());
  auto start = std::chrono::steady_clock::now();
  auto r = (*client)->Get("/slow");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("no response from sigil daemon"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1200));
}

// A resolver that does not answer until released, as a dead DNS server
// (getaddrinfo cannot be cancelled). Its state is shared with the lookup
// thread, which may outlive the client and the test body.
struct HangingResolver {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool released = false;
    int calls = 0;
  };
  std::shared_ptr<State> state = std::make_shared<State>();
  HostResolver resolver() {
    return [state = state](const std::string&, uint16_t) -> absl::StatusOr<std::vector<std::string>> {
      std::unique_lock<std::mutex> lock(state->mu);
      ++state->calls;
      state->cv.wait(lock, [&] { return state->released; });
      return std::vector<std::string>{"127.0.0.1"};
    };
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(state->mu);
      state->released = true;
    }
    state->cv.notify_all();
  }
  ~HangingResolver() { Release(); }
};

TEST(HttpClientTest, HangingNameLookupHitsTheDeadline) {
  HangingResolver dns;
  for (const char* which : {"timeout", "connect_timeout"}) {
    SCOPED_TRACE(which);
    HttpClientOptions o;
    o.resolver = dns.resolver();
    if (std::string_view(which) == "timeout") {
      o.timeout = absl::Milliseconds(300);
    } else {
      o.connect_timeout = absl::Milliseconds(300);
    }
    auto client = HttpClient::Create("http://node.invalid:8545", o);
    ASSERT_TRUE(client.ok()) << client.status();
    const auto start = std::chrono::steady_clock::now();
    auto r = (*client)->Post("/", "{}");
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("cannot reach sigil daemon at http://node.invalid:8545"));
    EXPECT_GE(took, std::chrono::milliseconds(290));
    EXPECT_LT(took, std::chrono::milliseconds(300 + 700));
    // The client goes while its lookup still hangs; the lookup, released
    // below, finishes later without touching it.
    client->reset();
  }
  EXPECT_EQ(dns.state->calls, 2);
}

TEST(HttpClientTest, InjectedResolverIsUsedAndItsErrorsAreUnavailable) {
  auto server = StartTcp(Echo);
  ASSERT_TRUE(server);
  const std::string port = server->listeners()[0].url.substr(server->listeners()[0].url.rfind(':') + 1);
  std::atomic<int> calls{0};
  HttpClientOptions o;
  o.resolver = [&calls](const std::string& host, uint16_t) -> absl::StatusOr<std::vector<std::string>> {
    ++calls;
    if (host == "node.test") return std::vector<std::string>{"not an address", "127.0.0.1"};
    return absl::NotFoundError("host not found");
  };
  auto client = HttpClient::Create("http://node.test:" + port, o);
  ASSERT_TRUE(client.ok()) << client.status();
  auto r = (*client)->Get("/x");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(calls.load(), 1);

  auto other = HttpClient::Create("http://elsewhere.test:" + port, o);
  ASSERT_TRUE(other.ok());
  r = (*other)->Get("/x");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("host not found"));

  // An IP literal is never looked up.
  auto literal = HttpClient::Create(server->listeners()[0].url, o);
  ASSERT_TRUE(literal.ok());
  EXPECT_TRUE((*literal)->Get("/x").ok());
  EXPECT_EQ(calls.load(), 2);
}

TEST(HttpClientTest, HttpErrorStatusIsAResponseNotAnError) {
  auto server = StartTcp([](const HttpRequest&) { return HttpResponse::Json(404, R"({"error":"nope"})"); });
  ASSERT_TRUE(server);
  auto client = HttpClient::Create(server->listeners()[0].url);
  auto r = (*client)->Get("/missing");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, R"({"error":"nope"})");
  EXPECT_EQ(r->headers.GetOr("content-type", ""), "application/json");
}

TEST(HttpClientTest, ReusesKeepAliveConnectionAndSurvivesServerIdleClose) {
  HttpServerOptions so;
  so.idle_timeout = absl::Milliseconds(300);
  auto server = StartTcp(Echo, so);
  ASSERT_TRUE(server);
  auto client = HttpClient::Create(server->listeners()[0].url);
  ASSERT_TRUE(client.ok());
  std::set<std::string> peers;
  for (int i = 0; i < 5; ++i) {
    auto r = (*client)->Get("/k");
    ASSERT_TRUE(r.ok()) << r.status();
    peers.insert(r->headers.GetOr("X-Peer", ""));
  }
  EXPECT_EQ(peers.size(), 1u) << "five requests over one connection";

  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // the server closes the idle connection
  auto get = (*client)->Get("/after-idle");
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  auto post = (*client)->Post("/after-idle", "x");
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->body, "POST /after-idle\nx");
}

TEST(HttpClientTest, BaseUrlPathIsPrefixed) {
  auto server = StartTcp(Echo);
  ASSERT_TRUE(server);
  auto client = HttpClient::Create(server->listeners()[0].url + "/api/?x=1");
  ASSERT_TRUE(client.ok());
  auto base = (*client)->Post("", "b");
  ASSERT_TRUE(base.ok());
  EXPECT_EQ(base->body, "POST /api/?x=1\nb");
  auto sub = (*client)->Get("/v1/keys");
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->body, "GET /api/?x=1/v1/keys\n");  // documented: plain concatenation after trimming '/'
  EXPECT_EQ((*client)->Get("relative").status().code(), absl::StatusCode::kInvalidArgument);
  HttpHeaders bad;
  bad.Add("X-A", "1\r\nX-B: 2");
  EXPECT_EQ((*client)->Get("/", bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, CannotReadSecretsFromUrlAndRejectsBadCaFile) {
  EXPECT_EQ(HttpClient::Create("https://user:pass@example.com/").status().code(), absl::StatusCode::kInvalidArgument);
  HttpClientOptions o;
  o.ca_file = "/nonexistent/ca.pem";
  auto c = HttpClient::Create("https://127.0.0.1:1/", o);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("/nonexistent/ca.pem"));
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    cert_ = dir_ + "/cert.pem";
    key_ = dir_ + "/key.pem";
    std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "
                      "/CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
                      key_ + " -out " + cert_ + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl req failed";
    HttpServerOptions o;
    o.listeners = {ListenerConfig::Tls("127.0.0.1", 0, cert_, key_)};
    o.worker_threads = 1;
    auto s = HttpServer::Start(o, Echo);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_, cert_, key_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(TlsTest, RoundTripWithTrustedCa) {
  const BoundListener& l = server_->listeners()[0];
  EXPECT_EQ(l.transport, HttpTransport::kTls);
  EXPECT_EQ(l.url, "https://127.0.0.1:" + std::to_string(l.port));
  HttpClientOptions o;
  o.ca_file = cert_;
  for (std::string url : {l.url, "https://localhost:" + std::to_string(l.port)}) {
    auto client = HttpClient::Create(url, o);
    ASSERT_TRUE(client.ok()) << client.status();
    for (int i = 0; i < 3; ++i) {  // keep-alive over TLS too
      auto r = (*client)->Post("/rpc", "secure" + std::to_string(i));
      ASSERT_TRUE(r.ok()) << url << ": " << r.status();
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->body, "POST /rpc\nsecure" + std::to_string(i));
      EXPECT_EQ(r->headers.GetOr("X-Transport", ""), "tls");
    }
  }
}

TEST_F(TlsTest, UntrustedCertificateIsRefused) {
  auto client = HttpClient::Create(server_->listeners()[0].url);
  ASSERT_TRUE(client.ok());
  auto r = (*client)->Get("/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("certificate verification failed"));
}

TEST_F(TlsTest, HostNameMismatchIsRefused) {
  // A certificate the client trusts, but issued for example.org: connecting
  // to 127.0.0.1 must fail the host check.
  std::string other_cert = dir_ + "/other.pem", other_key = dir_ + "/other.key";
  std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "
                    "/CN=example.org -addext subjectAltName=DNS:example.org -keyout " +
                    other_key + " -out " + other_cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  HttpServerOptions so;
  so.listeners = {ListenerConfig::Tls("127.0.0.1", 0, other_cert, other_key)};
  so.worker_threads = 1;
  auto server = HttpServer::Start(so, Echo);
  ASSERT_TRUE(server.ok()) << server.status();
  HttpClientOptions o;
  o.ca_file = other_cert;  // trusted, but issued for example.org
  auto client = HttpClient::Create((*server)->listeners()[0].url, o);
  auto r = (*client)->Get("/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("certificate verification failed"));
}

TEST_F(TlsTest, PlainHttpToTlsPortFailsCleanly) {
  HttpClientOptions o;
  o.timeout = absl::Seconds(3);
  auto client = HttpClient::Create("http://127.0.0.1:" + std::to_string(server_->listeners()[0].port), o);
  auto r = (*client)->Get("/");
  EXPECT_FALSE(r.ok());
  // The TLS server is still fine afterwards.
  HttpClientOptions t;
  t.ca_file = cert_;
  auto tls = HttpClient::Create(server_->listeners()[0].url, t);
  auto ok = (*tls)->Get("/");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 200);
}

}  // namespace
}  // namespace sigil::net
