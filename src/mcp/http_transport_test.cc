#include "mcp/http_transport.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "mcp/fake_rpc_caller.h"

namespace sigil::mcp {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const char kInit[] =
    R"({"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}},"jsonrpc":"2.0","id":0})";

std::optional<std::string> Header(const McpHttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return std::nullopt;
}

class HttpTransportTest : public ::testing::Test {
 protected:
  McpHttpRequest Post(std::string body, std::optional<std::string> session = std::nullopt,
                      const std::string& principal = "tok_agent") {
    McpHttpRequest r;
    r.method = "POST";
    r.body = std::move(body);
    r.session_id = std::move(session);
    r.accept = "application/json, text/event-stream";
    r.content_type = "application/json";
    r.principal = principal;
    r.rpc = rpc_.Caller();
    return r;
  }
  std::string Initialize(const std::string& principal = "tok_agent") {
    McpHttpResponse r = HandleHttp(Post(kInit, std::nullopt, principal), registry_);
    EXPECT_EQ(r.status, 200) << r.body;
    std::optional<std::string> id = Header(r, "Mcp-Session-Id");
    EXPECT_TRUE(id.has_value());
    return id.value_or("");
  }

  FakeClock clock_;
  FakeRpcCaller rpc_;
  McpSessionRegistry registry_{McpServerInfo{}, clock_, McpSessionLimits{8, 3, absl::Minutes(30)}};
};

TEST_F(HttpTransportTest, InitializeCreatesASessionThenRequestsUseIt) {
  McpHttpResponse init = HandleHttp(Post(kInit), registry_);
  ASSERT_EQ(init.status, 200);
  EXPECT_EQ(init.content_type, "application/json");
  EXPECT_EQ(json::parse(init.body)["result"]["protocolVersion"], "2025-11-25");
  const std::string session = *Header(init, "Mcp-Session-Id");
  ASSERT_EQ(session.size(), 64u);
  EXPECT_EQ(session.find_first_not_of("0123456789abcdef"), std::string::npos);

  McpHttpRequest note = Post(R"({"method":"notifications/initialized","jsonrpc":"2.0"})", session);
  note.protocol_version = "2025-11-25";
  McpHttpResponse accepted = HandleHttp(note, registry_);
  EXPECT_EQ(accepted.status, 202);
  EXPECT_TRUE(accepted.body.empty());
  EXPECT_TRUE(accepted.content_type.empty());

  McpHttpRequest list = Post(R"({"method":"tools/list","jsonrpc":"2.0","id":1})", session);
  list.protocol_version = "2025-11-25";
  McpHttpResponse tools = HandleHttp(list, registry_);
  ASSERT_EQ(tools.status, 200);
  EXPECT_EQ(json::parse(tools.body)["result"]["tools"].size(), 11u);

  rpc_.Succeed("sigil_getBudget", {{"budgets", json::array()}});
  McpHttpResponse call = HandleHttp(Post(R"({"method":"tools/call","params":{"name":"get_budget"},"jsonrpc":"2.0","id":2})", session), registry_);
  EXPECT_EQ(json::parse(call.body)["result"]["isError"], false);
  EXPECT_EQ(rpc_.CountOf("sigil_getBudget"), 1);

  // Two sessions are independent and each id is fresh.
  EXPECT_NE(Initialize(), session);
}

TEST_F(HttpTransportTest, MissingUnknownAndForeignSessions) {
  const std::string session = Initialize("tok_agent");
  McpHttpResponse missing = HandleHttp(Post(R"({"method":"tools/list","jsonrpc":"2.0","id":1})"), registry_);
  EXPECT_EQ(missing.status, 400);
  EXPECT_THAT(missing.body, HasSubstr("Mcp-Session-Id"));
  EXPECT_EQ(json::parse(missing.body)["id"], 1);
  EXPECT_EQ(HandleHttp(Post(R"({"method":"tools/list","jsonrpc":"2.0","id":1})", std::string(64, 'a')), registry_).status, 404);
  // Another principal holding this session id gets exactly what an unknown id gets.
  McpHttpResponse foreign = HandleHttp(Post(R"({"method":"tools/list","jsonrpc":"2.0","id":1})", session, "tok_other"), registry_);
  EXPECT_EQ(foreign.status, 404);
  McpHttpResponse del = HandleHttp([&] { auto r = Post("", session, "tok_other"); r.method = "DELETE"; return r; }(), registry_);
  EXPECT_EQ(del.status, 404);
  // ...and the owner's session survived both.
  EXPECT_EQ(HandleHttp(Post(R"({"method":"ping","jsonrpc":"2.0","id":1})", session), registry_).status, 200);
}

TEST_F(HttpTransportTest, DeleteEndsTheSession) {
  const std::string session = Initialize();
  McpHttpRequest del = Post("", session);
  del.method = "DELETE";
  EXPECT_EQ(HandleHttp(del, registry_).status, 204);
  EXPECT_EQ(HandleHttp(del, registry_).status, 404);
  EXPECT_EQ(HandleHttp(Post(R"({"method":"ping","jsonrpc":"2.0","id":1})", session), registry_).status, 404);
  McpHttpRequest no_id = Post("");
  no_id.method = "DELETE";
  EXPECT_EQ(HandleHttp(no_id, registry_).status, 400);
}

TEST_F(HttpTransportTest, GetAndOtherMethodsAre405) {
  McpHttpRequest get = Post("", Initialize());
  get.method = "GET";
  get.accept = "text/event-stream";
  McpHttpResponse r = HandleHttp(get, registry_);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Header(r, "Allow"), "POST, DELETE");
  get.method = "PUT";
  EXPECT_EQ(HandleHttp(get, registry_).status, 405);
}

TEST_F(HttpTransportTest, HeaderChecks) {
  const std::string session = Initialize();
  McpHttpRequest bad_version = Post(R"({"method":"ping","jsonrpc":"2.0","id":1})", session);
  bad_version.protocol_version = "1999-01-01";
  EXPECT_EQ(HandleHttp(bad_version, registry_).status, 400);

  McpHttpRequest html = Post(kInit);
  html.accept = "text/html";
  EXPECT_EQ(HandleHttp(html, registry_).status, 406);
  html.accept = "*/*";
  EXPECT_EQ(HandleHttp(html, registry_).status, 200);
  html.accept = std::nullopt;
  EXPECT_EQ(HandleHttp(html, registry_).status, 200);

  McpHttpRequest text = Post(kInit);
  text.content_type = "text/plain";
  EXPECT_EQ(HandleHttp(text, registry_).status, 415);
  text.content_type = "application/json; charset=utf-8";
  EXPECT_EQ(HandleHttp(text, registry_).status, 200);
}

TEST_F(HttpTransportTest, OriginsOtherThanLoopbackAreForbidden) {
  McpHttpRequest evil = Post(kInit);
  evil.origin = "https://evil.example";
  McpHttpResponse r = HandleHttp(evil, registry_);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(registry_.size(), 0u);
  evil.origin = "http://localhost:5173";
  EXPECT_EQ(HandleHttp(evil, registry_).status, 200);
  McpHttpOptions options;
  options.allowed_origins = {"https://console.example"};
  evil.origin = "https://console.example";
  EXPECT_EQ(HandleHttp(evil, registry_, options).status, 200);
  evil.origin = "null";
  EXPECT_EQ(HandleHttp(evil, registry_, options).status, 403);

  EXPECT_TRUE(IsLoopbackOrigin("http://127.0.0.1:8080"));
  EXPECT_TRUE(IsLoopbackOrigin("https://[::1]"));
  EXPECT_TRUE(IsLoopbackOrigin("HTTP://LOCALHOST"));
  EXPECT_FALSE(IsLoopbackOrigin("http://localhost.evil.example"));
  EXPECT_FALSE(IsLoopbackOrigin("http://127.0.0.1.evil.example:80"));
  EXPECT_FALSE(IsLoopbackOrigin("http://localhost:80x"));
  EXPECT_FALSE(IsLoopbackOrigin("file://localhost"));
}

TEST_F(HttpTransportTest, BodiesThatAreNotOneMessage) {
  McpHttpResponse parse = HandleHttp(Post("{oops"), registry_);
  EXPECT_EQ(parse.status, 400);
  EXPECT_EQ(json::parse(parse.body)["error"]["code"], -32700);
  EXPECT_EQ(HandleHttp(Post(std::string("[") + kInit + "]"), registry_).status, 400);
  EXPECT_EQ(HandleHttp(Post("42"), registry_).status, 400);
  McpHttpOptions small;
  small.max_body_bytes = 16;
  EXPECT_EQ(HandleHttp(Post(kInit), registry_, small).status, 413);
  EXPECT_EQ(HandleHttp(Post(std::string(100, '[')), registry_).status, 400);
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(HttpTransportTest, AFailedInitializeCreatesNoSession) {
  McpHttpResponse r = HandleHttp(Post(R"({"method":"initialize","params":{},"jsonrpc":"2.0","id":0})"), registry_);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], -32602);
  EXPECT_FALSE(Header(r, "Mcp-Session-Id").has_value());
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(HttpTransportTest, SessionStateCarriesAcrossRequests) {
  const std::string session = Initialize();
  EXPECT_FALSE(registry_.Find(session, "tok_agent")->initialized);
  HandleHttp(Post(R"({"method":"notifications/initialized","jsonrpc":"2.0"})", session), registry_);
  std::optional<McpSessionState> state = registry_.Find(session, "tok_agent");
  ASSERT_TRUE(state.has_value());
  EXPECT_TRUE(state->initialized);
  EXPECT_EQ(state->protocol_version, "2025-11-25");
  EXPECT_EQ(state->client_name, "c");
}

TEST_F(HttpTransportTest, ConcurrentSessionsAndCalls) {
  rpc_.Succeed("sigil_getBudget", {{"budgets", json::array()}});
  McpSessionRegistry big(McpServerInfo{}, clock_, McpSessionLimits{1000, 1000, absl::Hours(1)});
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string principal = "p" + std::to_string(t);
        McpHttpResponse init = HandleHttp(Post(kInit, std::nullopt, principal), big);
        std::optional<std::string> id = Header(init, "Mcp-Session-Id");
        if (!id) continue;
        McpHttpResponse call = HandleHttp(
            Post(R"({"method":"tools/call","params":{"name":"get_budget"},"jsonrpc":"2.0","id":1})", *id, principal), big);
        if (call.status == 200) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(big.size(), 100u);
}

}  // namespace
}  // namespace sigil::mcp
