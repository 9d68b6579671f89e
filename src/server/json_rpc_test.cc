#include "server/json_rpc.h"

#include <gtest/gtest.h>

namespace sigil::server {
namespace {

struct Ctx {
  std::string who;
};

JsonRpcDispatcher<Ctx> MakeDispatcher() {
  JsonRpcDispatcher<Ctx> d(RpcLimits{.max_body_bytes = 4096, .max_depth = 8, .max_batch = 3});
  d.Register("echo", [](const std::string&, const nlohmann::json& params, const Ctx& ctx) -> RpcOutcome {
    return nlohmann::json{{"params", params}, {"who", ctx.who}};
  });
  d.Register("fail", [](const std::string&, const nlohmann::json&, const Ctx&) -> RpcOutcome {
    return RpcError{kDeniedByPolicy, "denied", {{"rule", "r1"}}};
  });
  d.Register("throws", [](const std::string&, const nlohmann::json&, const Ctx&) -> RpcOutcome {
    throw std::runtime_error("secret detail");
  });
  return d;
}

nlohmann::json Call(const JsonRpcDispatcher<Ctx>& d, std::string_view body) {
  return nlohmann::json::parse(d.Handle(body, Ctx{"alice"}));
}

TEST(JsonRpc, SingleCallAndMissingParamsMeanEmpty) {
  auto d = MakeDispatcher();
  auto r = Call(d, R"({"jsonrpc":"2.0","id":7,"method":"echo"})");
  EXPECT_EQ(r["id"], 7);
  EXPECT_EQ(r["result"]["params"], nlohmann::json::array());
  EXPECT_EQ(r["result"]["who"], "alice");
  auto r2 = Call(d, R"({"jsonrpc":"2.0","id":"x","method":"echo","params":null})");
  EXPECT_EQ(r2["result"]["params"], nlohmann::json::array());
}

TEST(JsonRpc, ErrorsCarryCodeAndData) {
  auto d = MakeDispatcher();
  auto r = Call(d, R"({"jsonrpc":"2.0","id":1,"method":"fail","params":[]})");
  EXPECT_EQ(r["error"]["code"], -32003);
  EXPECT_EQ(r["error"]["data"]["rule"], "r1");
  auto unknown = Call(d, R"({"jsonrpc":"2.0","id":1,"method":"nope"})");
  EXPECT_EQ(unknown["error"]["code"], -32601);
  auto thrown = Call(d, R"({"jsonrpc":"2.0","id":1,"method":"throws"})");
  EXPECT_EQ(thrown["error"]["code"], -32603);
  EXPECT_EQ(thrown.dump().find("secret"), std::string::npos);
}

TEST(JsonRpc, MalformedInputGetsErrors) {
  auto d = MakeDispatcher();
  EXPECT_EQ(Call(d, "{not json")["error"]["code"], -32700);
  EXPECT_EQ(Call(d, R"({"id":1,"method":"echo"})")["error"]["code"], -32600);
  EXPECT_EQ(Call(d, R"({"jsonrpc":"2.0","id":1,"method":5})")["error"]["code"], -32600);
  EXPECT_EQ(Call(d, R"({"jsonrpc":"2.0","id":1,"method":"echo","params":"x"})")["error"]["code"], -32600);
  EXPECT_EQ(Call(d, R"({"jsonrpc":"2.0","id":{"a":1},"method":"echo"})")["error"]["code"], -32600);
  EXPECT_EQ(Call(d, "[]")["error"]["code"], -32600);
  EXPECT_EQ(Call(d, "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]")["error"]["code"], -32600);
  EXPECT_EQ(Call(d, std::string(5000, ' '))["error"]["code"], -32600);
}

TEST(JsonRpc, BatchesAndNotifications) {
  auto d = MakeDispatcher();
  auto r = Call(d, R"([{"jsonrpc":"2.0","id":1,"method":"echo"},{"jsonrpc":"2.0","method":"echo"},5])");
  ASSERT_TRUE(r.is_array());
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["id"], 1);
  EXPECT_EQ(r[1]["error"]["code"], -32600);
  EXPECT_EQ(d.Handle(R"({"jsonrpc":"2.0","method":"echo"})", Ctx{}), "");
  auto big = Call(d, R"([{"jsonrpc":"2.0","id":1,"method":"echo"},{"jsonrpc":"2.0","id":2,"method":"echo"},
                        {"jsonrpc":"2.0","id":3,"method":"echo"},{"jsonrpc":"2.0","id":4,"method":"echo"}])");
  EXPECT_EQ(big["error"]["code"], -32600);
}

TEST(JsonRpc, FallbackReceivesUnknownMethods) {
  auto d = MakeDispatcher();
  d.SetFallback([](const std::string& method, const nlohmann::json&, const Ctx&) -> RpcOutcome {
    return nlohmann::json("proxied:" + method);
  });
  EXPECT_EQ(Call(d, R"({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"})")["result"], "proxied:eth_blockNumber");
}

}  // namespace
}  // namespace sigil::server
