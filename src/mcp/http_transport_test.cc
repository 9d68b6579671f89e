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
  // Opens a session that negotiated `version` (one the server supports).
  std::string InitializeAt(const std::string& version) {
    json init = json::parse(kInit);
    init["params"]["protocolVersion"] = version;
    McpHttpResponse r = HandleHttp(Post(init.dump()), registry_);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body)["result"]["protocolVersion"], version);
    return Header(r, "Mcp-Session-Id").value_or("");
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

// A name the message repeats (two "to" in a tool's arguments) is not
// resolved by guessing: the message is refused and no tool runs.
TEST_F(HttpTransportTest, AMessageThatRepeatsANameIsRefused) {
  const std::string session = Initialize();
  McpHttpResponse r = HandleHttp(
      Post(R"({"method":"tools/call","params":{"name":"get_budget","name":"sign_transaction"},"jsonrpc":"2.0","id":2})",
           session),
      registry_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], -32600);
  EXPECT_THAT(json::parse(r.body)["error"]["message"].get<std::string>(), HasSubstr("duplicate key \"name\""));
  EXPECT_EQ(rpc_.CountOf("sigil_getBudget"), 0);
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

// GET, DELETE and notifications cost the token's rate like every other
// request (they were free: only requests with an id were charged). Over the
// rate: 429, -32005 with retry_after_ms, Retry-After, and nothing done.
TEST_F(HttpTransportTest, EveryMethodAndNotificationsAreChargedToTheTokenRate) {
  const std::string session = Initialize();
  McpHttpRequest get = Post("", session);
  get.method = "GET";
  McpHttpRequest del = Post("", session);
  del.method = "DELETE";
  McpHttpRequest cancelled = Post(R"({"method":"notifications/cancelled","params":{"requestId":1},"jsonrpc":"2.0"})", session);
  McpHttpRequest note = Post(R"({"method":"notifications/initialized","jsonrpc":"2.0"})", session);
  rpc_.Succeed("sigil_ping", json::object());
  EXPECT_EQ(HandleHttp(get, registry_).status, 405);
  EXPECT_EQ(HandleHttp(cancelled, registry_).status, 202);
  EXPECT_EQ(rpc_.CountOf("sigil_ping"), 3);  // initialize, GET, the notification

  rpc_.Fail("sigil_ping", kRateLimited, "rate limited: retry after 1500 ms", {{"retry_after_ms", 1500}});
  get.method = "PUT";
  for (McpHttpRequest* r : {&get, &del, &note}) {
    McpHttpResponse refused = HandleHttp(*r, registry_);
    EXPECT_EQ(refused.status, 429) << r->method << " " << refused.body;
    const json body = json::parse(refused.body);
    EXPECT_EQ(body["error"]["code"], kRateLimited) << refused.body;
    EXPECT_EQ(body["error"]["data"]["retry_after_ms"], 1500) << refused.body;
    EXPECT_TRUE(body["id"].is_null());
    EXPECT_EQ(Header(refused, "Retry-After"), "2");
  }
  EXPECT_EQ(rpc_.CountOf("sigil_ping"), 6);
  // A POST refused before any message ran (bad JSON, an Accept without
  // JSON, a foreign Origin, no session) is charged once too.
  McpHttpRequest bad_json = Post("{", session);
  McpHttpRequest html = Post(R"({"method":"ping","jsonrpc":"2.0","id":1})", session);
  html.accept = "text/html";
  McpHttpRequest browser = Post(R"({"method":"ping","jsonrpc":"2.0","id":1})", session);
  browser.origin = "https://evil.example";
  McpHttpRequest no_session = Post(R"({"method":"ping","jsonrpc":"2.0","id":1})");
  for (McpHttpRequest* r : {&bad_json, &html, &browser, &no_session}) {
    EXPECT_EQ(HandleHttp(*r, registry_).status, 429) << r->body;
  }
  EXPECT_EQ(rpc_.CountOf("sigil_ping"), 10);
  rpc_.Succeed("sigil_ping", json::object());
  EXPECT_EQ(HandleHttp(bad_json, registry_).status, 400);
  EXPECT_EQ(HandleHttp(browser, registry_).status, 403);
  EXPECT_EQ(rpc_.CountOf("sigil_ping"), 12);
  // A request that ran is charged by McpServer alone, not twice.
  EXPECT_EQ(HandleHttp(Post(R"({"method":"ping","jsonrpc":"2.0","id":1})", session), registry_).status, 200);
  EXPECT_EQ(rpc_.CountOf("sigil_ping"), 13);
  // The refused DELETE did not end the session; the refused notification did
  // not mark it initialized.
  ASSERT_TRUE(registry_.Find(session, "tok_agent").has_value());
  EXPECT_FALSE(registry_.Find(session, "tok_agent")->initialized);
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

const char kInit0618[] =
    R"({"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}},"jsonrpc":"2.0","id":0})";

TEST_F(HttpTransportTest, ProtocolVersionHeaderMustBeSupportedAndMatchTheSession) {
  const std::string session = InitializeAt("2025-06-18");
  ASSERT_FALSE(session.empty());
  const char kList[] = R"({"method":"tools/list","jsonrpc":"2.0","id":7})";

  // The negotiated version, or no header at all (→ the negotiated version).
  McpHttpRequest list = Post(kList, session);
  list.protocol_version = " 2025-06-18 ";
  EXPECT_EQ(HandleHttp(list, registry_).status, 200);
  list.protocol_version = std::nullopt;
  EXPECT_EQ(HandleHttp(list, registry_).status, 200);

  // A version we support, but not the one this session negotiated.
  list.protocol_version = "2025-11-25";
  McpHttpResponse mismatch = HandleHttp(list, registry_);
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_EQ(json::parse(mismatch.body)["id"], 7);
  EXPECT_EQ(json::parse(mismatch.body)["error"]["code"], -32600);
  EXPECT_THAT(mismatch.body, HasSubstr("negotiated (2025-06-18)"));
  list.protocol_version = "2025-03-26";
  EXPECT_EQ(HandleHttp(list, registry_).status, 400);

  // Malformed or unsupported values are 400 before the session is even
  // looked up (an unknown session would otherwise be 404).
  for (const char* bad : {"not-a-version", "2000-01-01", "2099-01-01", ""}) {
    McpHttpRequest r = Post(kList, std::string(64, 'a'));
    r.protocol_version = bad;
    McpHttpResponse refused = HandleHttp(r, registry_);
    EXPECT_EQ(refused.status, 400) << bad;
    EXPECT_THAT(refused.body, HasSubstr("unsupported MCP-Protocol-Version")) << bad;
  }

  // DELETE checks the header the same way, and a refused DELETE keeps the session.
  McpHttpRequest del = Post("", session);
  del.method = "DELETE";
  del.protocol_version = "2025-11-25";
  EXPECT_EQ(HandleHttp(del, registry_).status, 400);
  del.protocol_version = "1999-01-01";
  EXPECT_EQ(HandleHttp(del, registry_).status, 400);
  EXPECT_EQ(registry_.size(), 1u);
  del.protocol_version = "2025-06-18";
  EXPECT_EQ(HandleHttp(del, registry_).status, 204);

  // initialize is exempt: the client cannot know the version before it is
  // negotiated, and negotiation answers an unknown one with ours.
  McpHttpRequest reinit = Post(kInit0618);
  reinit.protocol_version = "2025-11-25";
  EXPECT_EQ(HandleHttp(reinit, registry_).status, 200);
}

TEST_F(HttpTransportTest, AcceptWithQZeroRefusesThatMediaType) {
  McpHttpRequest r = Post(kInit);
  for (const char* refused : {"application/json;q=0", "application/json; q=0.0", "application/json;q=0.000",
                              "application/json;Q=0.00, text/event-stream", "text/event-stream, application/json;q=0.",
                              "*/*;q=0", "application/*; q=0.000", "application/json;q=0, */*",
                              "application/json;level=1;q=0.0, application/*;q=0.5", "text/event-stream", "",
                              "application/json;q=0.0000", "application/json;q=0.000000000"}) {
    r.accept = refused;
    EXPECT_EQ(HandleHttp(r, registry_).status, 406) << refused;
  }
  for (const char* accepted : {"application/json;q=0.001", "application/json; q=0.5, text/event-stream",
                               "application/json;q=1.0", "application/json;q=1", "text/html;q=0, */*",
                               "application/json;q=0.0;level=1, application/json", "application/json;q=bogus",
                               "APPLICATION/JSON", "*/*;q=0.1", "application/json;q=0.0001",
                               "application/json;q=0.00000001"}) {
    r.accept = accepted;
    EXPECT_EQ(HandleHttp(r, registry_).status, 200) << accepted;
  }
}

const char kInit0326[] =
    R"({"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"c","version":"1"}},"jsonrpc":"2.0","id":0})";

TEST_F(HttpTransportTest, BatchesOnA20250326Session) {
  const std::string session = InitializeAt("2025-03-26");
  ASSERT_FALSE(session.empty());

  // 2025-03-26 clients send no MCP-Protocol-Version header.
  McpHttpResponse notes = HandleHttp(
      Post(R"([{"method":"notifications/initialized","jsonrpc":"2.0"},{"jsonrpc":"2.0","id":9,"result":{}}])", session),
      registry_);
  EXPECT_EQ(notes.status, 202);
  EXPECT_TRUE(notes.body.empty());
  EXPECT_TRUE(registry_.Find(session, "tok_agent")->initialized);

  McpHttpRequest both = Post(
      R"([{"method":"ping","jsonrpc":"2.0","id":1},{"method":"tools/list","jsonrpc":"2.0","id":2},{"method":"notifications/cancelled","jsonrpc":"2.0"}])",
      session);
  both.protocol_version = "2025-03-26";
  McpHttpResponse answered = HandleHttp(both, registry_);
  ASSERT_EQ(answered.status, 200) << answered.body;
  EXPECT_EQ(answered.content_type, "application/json");
  json out = json::parse(answered.body);
  ASSERT_TRUE(out.is_array());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["id"], 1);
  EXPECT_EQ(out[1]["result"]["tools"].size(), 11u);

  // Refused whole: initialize inside, empty, too long.
  McpHttpResponse with_init =
      HandleHttp(Post(std::string(R"([{"method":"ping","jsonrpc":"2.0","id":1},)") + kInit0326 + "]", session), registry_);
  EXPECT_EQ(with_init.status, 400);
  EXPECT_THAT(with_init.body, HasSubstr("initialize must not be part of a JSON-RPC batch"));
  EXPECT_EQ(HandleHttp(Post("[]", session), registry_).status, 400);
  std::string long_batch = "[";
  for (size_t i = 0; i <= kMaxBatchMessages; ++i) long_batch += std::string(i ? "," : "") + R"({"method":"ping","jsonrpc":"2.0","id":1})";
  EXPECT_EQ(HandleHttp(Post(long_batch + "]", session), registry_).status, 400);
  EXPECT_EQ(registry_.size(), 1u);
}

TEST_F(HttpTransportTest, BatchesAreRefusedOnLaterVersionsAndWithoutASession) {
  const std::string session = Initialize();  // 2025-11-25
  McpHttpRequest batch = Post(R"([{"method":"ping","jsonrpc":"2.0","id":1}])", session);
  batch.protocol_version = "2025-11-25";
  McpHttpResponse r = HandleHttp(batch, registry_);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(json::parse(r.body)["error"]["message"].get<std::string>(), HasSubstr("not part of MCP 2025-11-25"));

  // An initialize batched without a session: told why, and no session made.
  McpHttpResponse init = HandleHttp(Post(std::string("[") + kInit0326 + "]"), registry_);
  EXPECT_EQ(init.status, 400);
  EXPECT_THAT(init.body, HasSubstr("initialize must not be part of a JSON-RPC batch"));
  EXPECT_FALSE(Header(init, "Mcp-Session-Id").has_value());
  EXPECT_EQ(registry_.size(), 1u);
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
