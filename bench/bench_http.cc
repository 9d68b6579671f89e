// The HTTP transport's ceiling: requests/s of a trivial handler over
// keep-alive loopback TCP connections, with 1 and 16 client threads.
//   BM_HttpRawKeepAlive:    blocking sockets and a pre-built request, so the
//                           number is the server's cost.
//   BM_HttpClientKeepAlive: sigil::net::HttpClient, as the CLI and the
//                           upstream proxy use it (client cost included).
// Client and server share the machine's cores, so read these as a lower
// bound for a server with the box to itself.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "net/http_client.h"
#include "net/http_server.h"

namespace {

using sigil::net::HttpServer;

HttpServer& Server() {
  static HttpServer* server = [] {
    sigil::net::HttpServerOptions o;
    o.listeners = {sigil::net::ListenerConfig::Tcp("127.0.0.1", 0)};
    o.max_in_flight = 256;
    auto s = HttpServer::Start(o, [](const sigil::net::HttpRequest& req) {
      return sigil::net::HttpResponse::Json(200, req.body.empty() ? "{\"ok\":true}" : req.body);
    });
    if (!s.ok()) std::abort();
    return s->release();  // stopped and freed in main()
  }();
  return *server;
}

constexpr char kBody[] = R"({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]})";

void BM_HttpRawKeepAlive(benchmark::State& state) {
  uint16_t port = Server().listeners()[0].port;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    state.SkipWithError("connect failed");
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::string req = "POST /rpc HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(sizeof(kBody) - 1) + "\r\n\r\n" + kBody;
  std::string buf;
  char tmp[8192];
  for (auto _ : state) {
    if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
      state.SkipWithError("send failed");
      break;
    }
    // Read one response: header, then Content-Length bytes.
    size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) break;
      buf.append(tmp, static_cast<size_t>(n));
    }
    if (head_end == std::string::npos || buf.compare(9, 3, "200") != 0) {
      state.SkipWithError("bad response");
      break;
    }
    size_t cl = buf.find("Content-Length: ");
    size_t len = std::strtoul(buf.c_str() + cl + 16, nullptr, 10);
    while (buf.size() < head_end + 4 + len) {
      ssize_t n = recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) break;
      buf.append(tmp, static_cast<size_t>(n));
    }
    buf.erase(0, head_end + 4 + len);
  }
  close(fd);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HttpRawKeepAlive)->Threads(1)->Threads(16)->UseRealTime();

void BM_HttpClientKeepAlive(benchmark::State& state) {
  auto client = sigil::net::HttpClient::Create(Server().listeners()[0].url);
  if (!client.ok()) {
    state.SkipWithError("client");
    return;
  }
  for (auto _ : state) {
    auto r = (*client)->Post("/rpc", kBody);
    if (!r.ok() || r->status != 200) {
      state.SkipWithError("request failed");
      break;
    }
    benchmark::DoNotOptimize(r->body.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HttpClientKeepAlive)->Threads(1)->Threads(16)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  HttpServer* server = &Server();
  server->Stop();
  delete server;
  return 0;
}
