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

namespace sigil::server {
namespace {

// A repeated name is resolved silently by the parser (last one wins); the
// call is refused instead and its method never runs: -32600 when the call
// object itself repeats a member (its id is unknown too), -32602 naming the
// field inside params.
TEST(JsonRpc, RepeatedNamesRefuseTheCall) {
  int runs = 0;
  JsonRpcDispatcher<Ctx> d;
  d.Register("sign", [&](const std::string&, const nlohmann::json&, const Ctx&) -> RpcOutcome {
    ++runs;
    return nlohmann::json("signed");
  });
  auto r = Call(d, R"({"jsonrpc":"2.0","id":1,"method":"sign","params":[{"to":"0x1","value":"0x1","to":"0x2"}]})");
  EXPECT_EQ(r["id"], 1);
  EXPECT_EQ(r["error"]["code"], -32602);
  EXPECT_EQ(r["error"]["data"]["field"], "to");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("duplicate key \"to\""), std::string::npos) << r;

  r = Call(d, R"({"jsonrpc":"2.0","id":1,"method":"sign","params":[1],"params":[2]})");
  EXPECT_EQ(r["error"]["code"], -32600);
  EXPECT_TRUE(r["id"].is_null());
  r = Call(d, R"({"jsonrpc":"2.0","id":1,"id":2,"method":"sign"})");
  EXPECT_EQ(r["error"]["code"], -32600);
  EXPECT_TRUE(r["id"].is_null());
  // A repeat in params first does not hide one in the call object.
  r = Call(d, R"({"jsonrpc":"2.0","params":[{"a":1,"a":2}],"id":1,"id":2,"method":"sign"})");
  EXPECT_EQ(r["error"]["code"], -32600);
  EXPECT_TRUE(r["id"].is_null());

  // In a batch only the call that repeats a name is refused.
  r = Call(d, R"([{"jsonrpc":"2.0","id":1,"method":"sign","params":[{"a":1}]},
                  {"jsonrpc":"2.0","id":2,"method":"sign","params":[{"a":1,"a":2}]},
                  {"jsonrpc":"2.0","id":3,"method":"sign","method":"sign"}])");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0]["result"], "signed");
  EXPECT_EQ(r[1]["id"], 2);
  EXPECT_EQ(r[1]["error"]["code"], -32602);
  EXPECT_TRUE(r[2]["id"].is_null());
  EXPECT_EQ(r[2]["error"]["code"], -32600);
  EXPECT_EQ(runs, 1);

  // A notification that repeats a name runs nothing either (and gets no answer).
  EXPECT_EQ(d.Handle(R"({"jsonrpc":"2.0","method":"sign","params":[{"a":1,"a":2}]})", Ctx{"alice"}), "");
  EXPECT_EQ(runs, 1);
  // Equal names in different objects are fine.
  EXPECT_EQ(Call(d, R"({"jsonrpc":"2.0","id":1,"method":"sign","params":[{"a":1},{"a":1}]})")["result"], "signed");
}

// JSON-RPC 2.0 §4: an id is a String, a Number or Null (fractions only
// SHOULD NOT be used); it comes back as given.
TEST(JsonRpc, AnyNumberIsAnId) {
  auto d = MakeDispatcher();
  EXPECT_EQ(Call(d, R"({"jsonrpc":"2.0","id":1.5,"method":"echo"})")["id"], 1.5);
  EXPECT_EQ(Call(d, R"({"jsonrpc":"2.0","id":-3,"method":"echo"})")["id"], -3);
  EXPECT_EQ(Call(d, R"({"jsonrpc":"2.0","id":true,"method":"echo"})")["error"]["code"], -32600);
}


// JSON-RPC 2.0 §5: the answer's id is the same value as the request's. A
// number id comes back in the caller's own text: past 64 bits
// (123456789012345678901234567890 was answered as 1.2345678901234568e+29),
// past a double (1e400 failed the whole parse), and 1E2 or -0 as written.
TEST(JsonRpc, NumberIdsComeBackAsWritten) {
  int runs = 0;
  auto d = MakeDispatcher();
  d.Register("count", [&](const std::string&, const nlohmann::json&, const Ctx&) -> RpcOutcome { return ++runs; });
  for (std::string id : {"123456789012345678901234567890", "1e400", "-1E-400", "1.0", "1E2", "-0", "18446744073709551616",
                         "7", "2.50", "-0.0"}) {
    const std::string out = d.Handle(R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":"echo","params":[{"id":5}]})", Ctx{"alice"});
    EXPECT_EQ(out, R"({"id":)" + id + R"(,"jsonrpc":"2.0","result":{"params":[{"id":5}],"who":"alice"}})");
    const std::string refused = d.Handle(R"({"jsonrpc":"2.0","method":"nope","id":)" + id + "}", Ctx{});
    EXPECT_EQ(refused.rfind(R"({"id":)" + id + R"(,"error":{"code":-32601,)", 0), 0u) << refused;
  }
  // The name written with an escape, and "id" inside a string or params, do
  // not confuse it.
  EXPECT_EQ(d.Handle(R"({"jsonrpc":"2.0","\u0069d":1e400,"method":"count"})", Ctx{}), R"({"id":1e400,"jsonrpc":"2.0","result":1})");
  EXPECT_EQ(d.Handle(R"( { "jsonrpc" : "2.0", "params" : ["\",\"id\":9", {"id": 8}], "method" : "count" , "id" : 1E+2 } )", Ctx{}),
            R"({"id":1E+2,"jsonrpc":"2.0","result":2})");
  // A batch: each answer with its own id; notifications still get none.
  EXPECT_EQ(d.Handle(R"([{"jsonrpc":"2.0","id":1e400,"method":"count"},{"jsonrpc":"2.0","method":"count"},
                         {"jsonrpc":"2.0","id":"s","method":"count"}])",
                     Ctx{}),
            R"([{"id":1e400,"jsonrpc":"2.0","result":3},{"id":"s","jsonrpc":"2.0","result":5}])");
  EXPECT_EQ(runs, 5);
  // Bounded: a longer number id is refused, its call not run; the batch's
  // other calls are answered (a repeated name still found in the right one).
  const std::string long_id(kMaxNumberIdChars + 1, '9');
  auto r = Call(d, R"([{"jsonrpc":"2.0","id":)" + long_id + R"(,"method":"count"},
                       {"jsonrpc":"2.0","id":2,"method":"count","params":[{"a":1,"a":2}]},
                       {"jsonrpc":"2.0","id":3,"method":"count"}])");
  ASSERT_EQ(r.size(), 3u) << r;
  EXPECT_TRUE(r[0]["id"].is_null());
  EXPECT_EQ(r[0]["error"]["code"], -32600);
  EXPECT_EQ(r[1]["id"], 2);
  EXPECT_EQ(r[1]["error"]["code"], -32602);
  EXPECT_EQ(r[2]["result"], 6);
  EXPECT_EQ(runs, 6);
  const std::string just_fits(kMaxNumberIdChars, '9');
  EXPECT_EQ(d.Handle(R"({"jsonrpc":"2.0","id":)" + just_fits + R"(,"method":"count"})", Ctx{}),
            R"({"id":)" + just_fits + R"(,"jsonrpc":"2.0","result":7})");
  // Not a JSON number: the body is not JSON.
  EXPECT_EQ(Call(d, R"({"jsonrpc":"2.0","id":01,"method":"count"})")["error"]["code"], -32700);
  EXPECT_EQ(Call(d, R"({"jsonrpc":"2.0","id":1e,"method":"count"})")["error"]["code"], -32700);
  EXPECT_EQ(Call(d, R"({"jsonrpc":"2.0","id":1e400,"method":"count",})")["error"]["code"], -32700);
  EXPECT_EQ(runs, 7);
}

// A body refused whole (no valid token): every call answered with the
// error and its own id, as sent.
TEST(JsonRpc, RefuseAllAnswersEachCallWithItsId) {
  auto d = MakeDispatcher();
  const RpcError no{kUnauthenticated, "no token", {}};
  EXPECT_EQ(d.RefuseAll(R"([{"jsonrpc":"2.0","id":1e400,"method":"x"},{"id":"a"},7])", no),
            R"([{"id":1e400,"error":{"code":-32001,"message":"no token"},"jsonrpc":"2.0"},)"
            R"({"error":{"code":-32001,"message":"no token"},"id":"a","jsonrpc":"2.0"},)"
            R"({"error":{"code":-32001,"message":"no token"},"id":null,"jsonrpc":"2.0"}])");
  EXPECT_EQ(d.RefuseAll(R"({"id":123456789012345678901234567890})", no),
            R"({"id":123456789012345678901234567890,"error":{"code":-32001,"message":"no token"},"jsonrpc":"2.0"})");
  for (std::string_view body : {"{not json", "[]", "", R"({"id":[1]})"}) {
    EXPECT_EQ(d.RefuseAll(body, no), R"({"error":{"code":-32001,"message":"no token"},"id":null,"jsonrpc":"2.0"})") << body;
  }
}

}  // namespace
}  // namespace sigil::server
