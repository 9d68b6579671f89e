#include "mcp/mcp_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "mcp/fake_rpc_caller.h"
#include "mcp/json_schema.h"
#include "mcp/tool_catalog.h"

namespace sigil::mcp {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

json Request(int id, const std::string& method, json params = nullptr) {
  json m = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) m["params"] = params;
  return m;
}

json Initialize(const std::string& version) {
  // Exactly what the TypeScript SDK 1.32.2 client sends.
  return json::parse(R"({"method":"initialize","params":{"protocolVersion":")" + version +
                     R"(","capabilities":{},"clientInfo":{"name":"probe-client","version":"1.0.0"}},"jsonrpc":"2.0","id":0})");
}

class McpServerTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  FakeRpcCaller rpc_;
  McpServer server_{rpc_.Caller(), McpServerInfo{}, clock_};
};

TEST_F(McpServerTest, InitializeEchoesEverySupportedVersion) {
  for (const std::string v : {"2025-11-25", "2025-06-18", "2025-03-26"}) {
    McpServer s(rpc_.Caller(), McpServerInfo{}, clock_);
    json r = s.Handle(Initialize(v));
    EXPECT_EQ(r["jsonrpc"], "2.0");
    EXPECT_EQ(r["id"], 0);
    EXPECT_EQ(r["result"]["protocolVersion"], v);
    EXPECT_EQ(r["result"]["capabilities"], json::parse(R"({"tools":{"listChanged":false}})"));
    EXPECT_EQ(r["result"]["serverInfo"]["name"], "sigil");
    EXPECT_EQ(r["result"]["serverInfo"]["version"], "0.1.0");
    EXPECT_THAT(r["result"]["instructions"].get<std::string>(), HasSubstr("list_accounts"));
    EXPECT_EQ(s.state().protocol_version, v);
    EXPECT_EQ(s.state().client_name, "probe-client");
  }
}

TEST_F(McpServerTest, InitializeAnswersLatestForUnsupportedVersions) {
  for (const std::string v : {"2024-11-05", "1999-01-01", "2026-99-99"}) {
    McpServer s(rpc_.Caller(), McpServerInfo{}, clock_);
    EXPECT_EQ(s.Handle(Initialize(v))["result"]["protocolVersion"], "2025-11-25") << v;
  }
  json missing = server_.Handle(Request(1, "initialize", json::object()));
  EXPECT_EQ(missing["error"]["code"], kInvalidParams);
  EXPECT_FALSE(server_.state().initialize_answered);
}

TEST_F(McpServerTest, NotificationsGetNoReply) {
  server_.Handle(Initialize("2025-11-25"));
  EXPECT_FALSE(server_.state().initialized);
  EXPECT_TRUE(server_.Handle(json::parse(R"({"method":"notifications/initialized","jsonrpc":"2.0"})")).is_null());
  EXPECT_TRUE(server_.state().initialized);
  EXPECT_TRUE(server_.Handle(json::parse(R"({"method":"notifications/cancelled","params":{"requestId":3},"jsonrpc":"2.0"})")).is_null());
  EXPECT_TRUE(server_.Handle(json::parse(R"({"method":"no/such","jsonrpc":"2.0"})")).is_null());
  // Even a malformed notification (params not an object) gets no reply.
  EXPECT_TRUE(server_.Handle(json::parse(R"({"method":"x","params":[1],"jsonrpc":"2.0"})")).is_null());
  // A response sent to us is ignored too.
  EXPECT_TRUE(server_.Handle(json::parse(R"({"jsonrpc":"2.0","id":5,"result":{}})")).is_null());
  // Nothing but rate charges reached the daemon: initialize's and one for
  // each notification or response (never answered, but not free either).
  EXPECT_EQ(rpc_.calls().size(), 6u);
  EXPECT_EQ(rpc_.CountOf("sigil_ping"), 6);
  EXPECT_FALSE(server_.dropped_over_rate());
}

// Over the token's rate a notification or response is dropped unread (it
// cannot be answered) and the server says why, for the HTTP transport's 429.
TEST_F(McpServerTest, NotificationsOverTheRateAreDropped) {
  server_.Handle(Initialize("2025-11-25"));
  rpc_.Fail("sigil_ping", kRateLimited, "rate limited: retry after 250 ms", {{"retry_after_ms", 250}});
  EXPECT_TRUE(server_.Handle(json::parse(R"({"method":"notifications/initialized","jsonrpc":"2.0"})")).is_null());
  EXPECT_FALSE(server_.state().initialized);
  ASSERT_TRUE(server_.dropped_over_rate());
  EXPECT_EQ(server_.dropped_over_rate()->code, kRateLimited);
  EXPECT_EQ(server_.dropped_over_rate()->data["retry_after_ms"], 250);
  McpServer fresh(rpc_.Caller(), McpServerInfo{}, clock_);
  EXPECT_TRUE(fresh.Handle(json::parse(R"({"jsonrpc":"2.0","id":5,"result":{}})")).is_null());
  EXPECT_TRUE(fresh.dropped_over_rate());
  EXPECT_EQ(rpc_.CountOf("sigil_ping"), 3);
}

TEST_F(McpServerTest, Ping) {
  EXPECT_EQ(server_.Handle(Request(7, "ping")), json::parse(R"({"jsonrpc":"2.0","id":7,"result":{}})"));
  json string_id = server_.Handle(json::parse(R"({"jsonrpc":"2.0","id":"abc","method":"ping"})"));
  EXPECT_EQ(string_id["id"], "abc");
}

TEST_F(McpServerTest, ToolsListWithoutParamsDescribesEveryTool) {
  json r = server_.Handle(json::parse(R"({"method":"tools/list","jsonrpc":"2.0","id":1})"));
  ASSERT_TRUE(r.contains("result")) << r.dump();
  const json& tools = r["result"]["tools"];
  std::set<std::string> names;
  for (const json& t : tools) {
    names.insert(t["name"].get<std::string>());
    EXPECT_FALSE(t["title"].get<std::string>().empty());
    EXPECT_GT(t["description"].get<std::string>().size(), 40u) << t["name"];
    EXPECT_EQ(t["inputSchema"]["type"], "object");
    EXPECT_EQ(t["outputSchema"]["type"], "object");
    EXPECT_TRUE(t["inputSchema"]["properties"].is_object());
    EXPECT_TRUE(CheckSchemaKeywords(t["inputSchema"]).ok()) << t["name"];
    EXPECT_TRUE(CheckSchemaKeywords(t["outputSchema"]).ok()) << t["name"];
    // Every required member is a declared property.
    for (const json& req : t["inputSchema"].value("required", json::array())) {
      EXPECT_TRUE(t["inputSchema"]["properties"].contains(req.get<std::string>())) << t["name"] << " " << req;
    }
    // A refusal always satisfies the output schema (clients validate it even with isError).
    EXPECT_TRUE(CheckAgainstSchema({{"code", -32003}, {"message", "denied"}, {"rule", "r"}}, t["outputSchema"]).ok()) << t["name"];
    EXPECT_FALSE(CheckAgainstSchema({{"something", "else"}}, t["outputSchema"]).ok()) << t["name"];
    EXPECT_TRUE(t["annotations"].contains("readOnlyHint"));
  }
  EXPECT_EQ(names, (std::set<std::string>{"list_accounts", "get_policy", "get_budget", "explain", "sign_transaction",
                                         "send_transaction", "sign_message", "sign_typed_data", "sign_nostr_event",
                                         "sign_solana_transaction", "approval_status"}));
  EXPECT_EQ(tools.size(), names.size());
  // tools/list with a cursor param (pagination) gives the same single page.
  json again = server_.Handle(Request(2, "tools/list", {{"cursor", "x"}}));
  EXPECT_EQ(again["result"]["tools"], tools);
  EXPECT_FALSE(again["result"].contains("nextCursor"));
}

TEST_F(McpServerTest, UnknownToolIsInvalidParamsAndUnknownMethodIsNotFound) {
  json r = server_.Handle(json::parse(R"({"method":"tools/call","params":{"name":"nope","arguments":{}},"jsonrpc":"2.0","id":3})"));
  EXPECT_EQ(r["id"], 3);
  EXPECT_EQ(r["error"]["code"], -32602);
  EXPECT_THAT(r["error"]["message"].get<std::string>(), HasSubstr("Unknown tool"));
  EXPECT_EQ(server_.Handle(Request(4, "resources/list"))["error"]["code"], -32601);
  EXPECT_EQ(server_.Handle(Request(5, "tools/call", json::object()))["error"]["code"], -32602);
  EXPECT_EQ(server_.Handle(Request(6, "tools/call", {{"name", 3}}))["error"]["code"], -32602);
  // Nothing reached the daemon but the rate charge of each request.
  EXPECT_EQ(rpc_.CountOf("sigil_ping"), 4);
  EXPECT_EQ(rpc_.calls().size(), 4u);
}

// ping and tools/list cost the token's rate like any /rpc call: an agent
// cannot flood them for free. (They were answered without a daemon call.)
TEST_F(McpServerTest, PingAndToolsListAreChargedToTheTokenRate) {
  rpc_.Succeed("sigil_ping", json::object());
  EXPECT_EQ(server_.Handle(Request(1, "ping"))["result"], json::object());
  EXPECT_TRUE(server_.Handle(Request(2, "tools/list"))["result"].contains("tools"));
  EXPECT_EQ(rpc_.CountOf("sigil_ping"), 2);

  rpc_.Fail("sigil_ping", kRateLimited, "rate limited: retry after 250 ms", {{"retry_after_ms", 250}});
  for (const char* method : {"ping", "tools/list", "initialize", "resources/list"}) {
    json r = server_.Handle(Request(3, method, method == std::string("initialize") ? json{{"protocolVersion", "2025-06-18"}} : json()));
    EXPECT_EQ(r["id"], 3) << method;
    EXPECT_EQ(r["error"]["code"], kRateLimited) << method << r.dump();
    EXPECT_EQ(r["error"]["data"]["retry_after_ms"], 250) << method;
  }
  EXPECT_FALSE(server_.state().initialize_answered);  // refused before anything changed
}

TEST_F(McpServerTest, AToolCallIsChargedByItsDaemonCallsOnly) {
  rpc_.Succeed("sigil_ping", json::object());
  rpc_.Succeed("sigil_getBudget", {{"budgets", json::array()}});
  json r = server_.Handle(Request(1, "tools/call", {{"name", "get_budget"}, {"arguments", json::object()}}));
  EXPECT_FALSE(r["result"].value("isError", false)) << r.dump();
  EXPECT_EQ(rpc_.CountOf("sigil_getBudget"), 1);
  EXPECT_EQ(rpc_.CountOf("sigil_ping"), 0);  // not charged twice

  // Refused before any daemon call: charged once, and over the rate it is -32005.
  rpc_.Fail("sigil_ping", kRateLimited, "rate limited", {{"retry_after_ms", 5}});
  json unknown = server_.Handle(Request(2, "tools/call", {{"name", "nope"}}));
  EXPECT_EQ(unknown["error"]["code"], kRateLimited) << unknown.dump();
  EXPECT_EQ(rpc_.CountOf("sigil_ping"), 1);
}

// A daemon that cannot be reached, or predates sigil_ping, still gets ping
// answered (stdio: the MCP process answers it).
TEST_F(McpServerTest, PingIsAnsweredWhenTheChargeCannotBeMade) {
  rpc_.Fail("sigil_ping", kUnavailable, "cannot reach the daemon");
  EXPECT_EQ(server_.Handle(Request(1, "ping"))["result"], json::object());
  // FakeRpcCaller answers -32601 for an unscripted method.
  FakeRpcCaller old_daemon;
  McpServer s(old_daemon.Caller(), McpServerInfo{}, clock_);
  EXPECT_EQ(s.Handle(Request(2, "ping"))["result"], json::object());
}

TEST_F(McpServerTest, MalformedMessages) {
  EXPECT_EQ(server_.Handle(json::parse(R"({"id":1,"method":"ping"})"))["error"]["code"], kInvalidRequest);
  EXPECT_EQ(server_.Handle(json::parse(R"({"jsonrpc":"1.0","id":1,"method":"ping"})"))["error"]["code"], kInvalidRequest);
  EXPECT_EQ(server_.Handle(json::parse(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])"))["error"]["code"], kInvalidRequest);
  EXPECT_EQ(server_.Handle(json("ping"))["error"]["code"], kInvalidRequest);
  EXPECT_EQ(server_.Handle(json::parse(R"({"jsonrpc":"2.0","id":1,"method":7})"))["error"]["code"], kInvalidRequest);
  // An integer past 64 bits would be echoed rounded: refused, saying why.
  json huge_id = server_.Handle(json::parse(R"({"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"})"));
  EXPECT_EQ(huge_id["error"]["code"], kInvalidRequest);
  EXPECT_TRUE(huge_id["id"].is_null());
  EXPECT_THAT(huge_id["error"]["message"].get<std::string>(), HasSubstr("at most 64 bits"));
  json null_id = server_.Handle(json::parse(R"({"jsonrpc":"2.0","id":null,"method":"ping"})"));
  EXPECT_EQ(null_id["error"]["code"], kInvalidRequest);
  EXPECT_TRUE(null_id["id"].is_null());
  json bad_params = server_.Handle(json::parse(R"({"jsonrpc":"2.0","id":9,"method":"tools/list","params":[1]})"));
  EXPECT_EQ(bad_params["error"]["code"], kInvalidParams);
  EXPECT_EQ(bad_params["id"], 9);
}

TEST_F(McpServerTest, BatchesAreHandledOnA20250326Session) {
  ASSERT_TRUE(server_.Handle(Initialize("2025-03-26")).contains("result"));
  rpc_.Succeed("sigil_getBudget", {{"budgets", json::array()}});
  json batch = json::array({Request(1, "ping"), json::parse(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"),
                            Request(2, "tools/call", {{"name", "get_budget"}}),
                            json::parse(R"({"jsonrpc":"2.0","id":"x","result":{}})"),  // a response: no entry
                            json(42), json::array({Request(4, "ping")}), Request(3, "nope")});
  json out = server_.Handle(batch);
  ASSERT_TRUE(out.is_array()) << out.dump();
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0]["id"], 1);
  EXPECT_EQ(out[0]["result"], json::object());
  EXPECT_EQ(out[1]["id"], 2);
  EXPECT_EQ(out[1]["result"]["isError"], false);
  EXPECT_EQ(out[2]["error"]["code"], kInvalidRequest);  // 42
  EXPECT_TRUE(out[2]["id"].is_null());
  EXPECT_EQ(out[3]["error"]["code"], kInvalidRequest);  // a nested array
  EXPECT_EQ(out[4]["id"], 3);
  EXPECT_EQ(out[4]["error"]["code"], kMethodNotFound);
  EXPECT_TRUE(server_.state().initialized);
  EXPECT_EQ(rpc_.CountOf("sigil_getBudget"), 1);

  // Only notifications and responses: nothing to send back.
  EXPECT_TRUE(server_.Handle(json::array({json::parse(R"({"jsonrpc":"2.0","method":"notifications/cancelled"})"),
                                          json::parse(R"({"jsonrpc":"2.0","id":5,"error":{"code":1,"message":"m"}})")}))
                  .is_null());

  // The bound, inclusive.
  json full = json::array();
  for (size_t i = 0; i < kMaxBatchMessages; ++i) full.push_back(Request(static_cast<int>(i), "ping"));
  EXPECT_EQ(server_.Handle(full).size(), kMaxBatchMessages);
  full.push_back(Request(1000, "ping"));
  json too_long = server_.Handle(full);
  EXPECT_EQ(too_long["error"]["code"], kInvalidRequest);
  EXPECT_THAT(too_long["error"]["message"].get<std::string>(), HasSubstr("exceeds the limit of 100"));
  EXPECT_EQ(server_.Handle(json::array())["error"]["code"], kInvalidRequest);
}

TEST_F(McpServerTest, ABatchHoldingInitializeIsRefusedWholeAndRunsNothing) {
  ASSERT_TRUE(server_.Handle(Initialize("2025-03-26")).contains("result"));
  rpc_.Succeed("sigil_getBudget", {{"budgets", json::array()}});
  json out = server_.Handle(json::array({Request(1, "tools/call", {{"name", "get_budget"}}), Initialize("2025-03-26")}));
  ASSERT_TRUE(out.is_object());
  EXPECT_EQ(out["error"]["code"], kInvalidRequest);
  EXPECT_THAT(out["error"]["message"].get<std::string>(), HasSubstr("initialize must not be part of a JSON-RPC batch"));
  EXPECT_EQ(rpc_.CountOf("sigil_getBudget"), 0);
  // Before any initialize, a batch is refused too.
  McpServer fresh(rpc_.Caller(), McpServerInfo{}, clock_);
  EXPECT_EQ(fresh.Handle(json::array({Initialize("2025-03-26")}))["error"]["code"], kInvalidRequest);
  EXPECT_EQ(fresh.Handle(json::array({Request(1, "ping")}))["error"]["code"], kInvalidRequest);
  EXPECT_FALSE(fresh.state().initialize_answered);
}

TEST_F(McpServerTest, BatchesAreRefusedOnLaterVersions) {
  for (const std::string v : {"2025-06-18", "2025-11-25"}) {
    McpServer s(rpc_.Caller(), McpServerInfo{}, clock_);
    ASSERT_TRUE(s.Handle(Initialize(v)).contains("result"));
    json out = s.Handle(json::array({Request(1, "ping")}));
    ASSERT_TRUE(out.is_object()) << v;
    EXPECT_EQ(out["error"]["code"], kInvalidRequest);
    EXPECT_THAT(out["error"]["message"].get<std::string>(), HasSubstr("not part of MCP " + v));
  }
}

TEST_F(McpServerTest, ToolCallReturnsContentStructuredContentAndIsError) {
  rpc_.Succeed("sigil_getBudget", {{"budgets", json::array()}});
  json r = server_.Handle(Request(8, "tools/call", {{"name", "get_budget"}}));
  ASSERT_TRUE(r.contains("result")) << r.dump();
  EXPECT_EQ(r["result"]["isError"], false);
  EXPECT_EQ(r["result"]["content"][0]["type"], "text");
  EXPECT_THAT(r["result"]["content"][0]["text"].get<std::string>(), HasSubstr("No budgets apply"));
  EXPECT_EQ(r["result"]["structuredContent"], json::parse(R"({"budgets":[]})"));
  EXPECT_EQ(rpc_.LastParams("sigil_getBudget"), json::array());
}

TEST_F(McpServerTest, ACallerThatThrowsBecomesAnErrorNotACrash) {
  McpServer s([](const std::string&, const json&) -> RpcResult { throw std::runtime_error("boom"); }, McpServerInfo{},
              clock_);
  json r = s.Handle(Request(1, "tools/call", {{"name", "get_policy"}}));
  EXPECT_EQ(r["error"]["code"], kInternalError);
  EXPECT_EQ(r["id"], 1);
}

}  // namespace
}  // namespace sigil::mcp
