#include "server/upstream_node.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "net/http_server.h"

namespace sigil::server {
namespace {

using ::testing::HasSubstr;

// A node on loopback that answers every call with `answer` as its result.
std::unique_ptr<net::HttpServer> FakeNode(std::string answer_body) {
  net::HttpServerOptions o;
  o.listeners = {net::ListenerConfig::Tcp("127.0.0.1", 0)};
  o.worker_threads = 1;
  auto s = net::HttpServer::Start(std::move(o), [answer_body](const net::HttpRequest&) {
    return net::HttpResponse::Json(200, answer_body);
  });
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

std::string ResultOfSize(size_t n) { return R"({"jsonrpc":"2.0","id":1,"result":")" + std::string(n, 'a') + "\"}"; }

// A wide eth_getLogs runs to megabytes: passed on up to kMaxAnswerBytes;
// beyond, -32000 (the node was reached: not -32006) with a reason.
TEST(UpstreamNodeTest, LargeAnswersPassUpToTheLimitThenAreRefusedAsTooLarge) {
  auto big = FakeNode(ResultOfSize(10 << 20));
  ASSERT_TRUE(big);
  RpcOutcome ok = UpstreamNode(big->listeners()[0].url).Forward("eth_getLogs", nlohmann::json::array());
  ASSERT_TRUE(std::holds_alternative<nlohmann::json>(ok));
  EXPECT_EQ(std::get<nlohmann::json>(ok).get_ref<const std::string&>().size(), 10u << 20);

  auto huge = FakeNode(ResultOfSize(UpstreamNode::kMaxAnswerBytes));
  ASSERT_TRUE(huge);
  RpcOutcome refused = UpstreamNode(huge->listeners()[0].url + "/v3/SECRETKEY").Forward("eth_getLogs", nlohmann::json::array());
  ASSERT_TRUE(std::holds_alternative<RpcError>(refused));
  const RpcError& e = std::get<RpcError>(refused);
  EXPECT_EQ(e.code, kUpstreamError);
  EXPECT_EQ(e.data["reason"], "answer_too_large");
  EXPECT_THAT(e.message, HasSubstr("at most 32 MiB per answer"));
  EXPECT_EQ(e.message.find("SECRETKEY"), std::string::npos);
}

// A request's answers share a budget: the caller passes what is left and
// learns what each answer took.
TEST(UpstreamNodeTest, TheCallerBoundsEachAnswerAndLearnsItsSize) {
  auto node = FakeNode(ResultOfSize(1000));
  ASSERT_TRUE(node);
  UpstreamNode upstream(node->listeners()[0].url);
  size_t bytes = 0;
  RpcOutcome ok = upstream.Forward("eth_getLogs", nlohmann::json::array(), 4096, &bytes);
  ASSERT_TRUE(std::holds_alternative<nlohmann::json>(ok));
  EXPECT_EQ(bytes, ResultOfSize(1000).size());
  RpcOutcome over = upstream.Forward("eth_getLogs", nlohmann::json::array(), 500, &bytes);
  ASSERT_TRUE(std::holds_alternative<RpcError>(over));
  EXPECT_EQ(std::get<RpcError>(over).data["reason"], "answer_too_large");
  EXPECT_EQ(std::get<RpcError>(over).data["limit_bytes"], 500);
  RpcOutcome none_left = upstream.Forward("eth_getLogs", nlohmann::json::array(), 0);
  ASSERT_TRUE(std::holds_alternative<RpcError>(none_left));
  EXPECT_EQ(std::get<RpcError>(none_left).code, kUpstreamError);
}

// An answer nested deeper than any real one is refused before it is parsed
// and copied (copying recurses: 100k levels would overflow the stack).
TEST(UpstreamNodeTest, ADeeplyNestedAnswerIsRefusedNotCopied) {
  auto node = FakeNode(R"({"jsonrpc":"2.0","id":1,"result":)" + std::string(100000, '[') + std::string(100000, ']') + "}");
  ASSERT_TRUE(node);
  RpcOutcome out = UpstreamNode(node->listeners()[0].url).Forward("eth_getBlockByNumber", nlohmann::json::array());
  ASSERT_TRUE(std::holds_alternative<RpcError>(out));
  EXPECT_EQ(std::get<RpcError>(out).code, kUnavailable);
  EXPECT_THAT(std::get<RpcError>(out).message, HasSubstr("nested deeper"));
}

// With nothing left of the request's share the node is not asked at all.
TEST(UpstreamNodeTest, NoShareLeftAsksTheNodeNothing) {
  std::atomic<int> asked{0};
  net::HttpServerOptions o;
  o.listeners = {net::ListenerConfig::Tcp("127.0.0.1", 0)};
  o.worker_threads = 1;
  auto node = net::HttpServer::Start(std::move(o), [&asked](const net::HttpRequest&) {
    ++asked;
    return net::HttpResponse::Json(200, R"({"jsonrpc":"2.0","id":1,"result":"0x1"})");
  });
  ASSERT_TRUE(node.ok());
  UpstreamNode upstream((*node)->listeners()[0].url);
  RpcOutcome out = upstream.Forward("eth_getLogs", nlohmann::json::array(), 0);
  ASSERT_TRUE(std::holds_alternative<RpcError>(out));
  EXPECT_EQ(std::get<RpcError>(out).data["reason"], "answer_too_large");
  EXPECT_EQ(asked.load(), 0);
  EXPECT_TRUE(std::holds_alternative<nlohmann::json>(upstream.Forward("eth_chainId", nlohmann::json::array())));
  EXPECT_EQ(asked.load(), 1);
}

// A node's code that Sigil defines for itself is passed on as -32000.
TEST(UpstreamNodeTest, ANodesUseOfSigilsCodesIsNotMistakenForSigils) {
  auto node = FakeNode(R"({"jsonrpc":"2.0","id":1,"error":{"code":-32004,"message":"node says no","data":"0x01"}})");
  ASSERT_TRUE(node);
  RpcOutcome out = UpstreamNode(node->listeners()[0].url).Forward("eth_call", nlohmann::json::array());
  ASSERT_TRUE(std::holds_alternative<RpcError>(out));
  EXPECT_EQ(std::get<RpcError>(out).code, kUpstreamError);
  EXPECT_EQ(std::get<RpcError>(out).data["upstream_code"], -32004);
  EXPECT_EQ(std::get<RpcError>(out).message, "node says no");
}

}  // namespace
}  // namespace sigil::server
