#include "mcp/stdio_transport.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "mcp/fake_rpc_caller.h"

namespace sigil::mcp {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::vector<json> Lines(const std::string& out) {
  std::vector<json> messages;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    json m = json::parse(line, nullptr, false);
    EXPECT_FALSE(m.is_discarded()) << "not one JSON object per line: " << line;
    messages.push_back(m);
  }
  EXPECT_TRUE(out.empty() || out.back() == '\n');
  return messages;
}

class StdioTest : public ::testing::Test {
 protected:
  std::vector<json> Run(const std::string& input, StdioOptions options = {}) {
    std::istringstream in(input);
    std::ostringstream out;
    McpServer server(rpc_.Caller(), McpServerInfo{}, clock_);
    EXPECT_EQ(RunStdio(in, out, server, options), 0);
    return Lines(out.str());
  }
  FakeClock clock_;
  FakeRpcCaller rpc_;
};

TEST_F(StdioTest, TheSdkHandshakeAndACall) {
  // The exact lines the TypeScript SDK client writes (components.md §3b).
  rpc_.Succeed("eth_accounts", json::array({"0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"}));
  rpc_.Succeed("personal_sign", "0xsig");
  std::string input =
      R"({"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"probe-client","version":"1.0.0"}},"jsonrpc":"2.0","id":0})"
      "\n"
      R"({"method":"notifications/initialized","jsonrpc":"2.0"})"
      "\n"
      R"({"method":"tools/list","jsonrpc":"2.0","id":1})"
      "\n"
      R"({"method":"tools/call","params":{"name":"sign_message","arguments":{"message":"hi"}},"jsonrpc":"2.0","id":2})"
      "\n"
      R"({"method":"tools/call","params":{"name":"nope","arguments":{}},"jsonrpc":"2.0","id":3})"
      "\n";
  std::vector<json> out = Run(input);
  ASSERT_EQ(out.size(), 4u);  // the notification got no line
  EXPECT_EQ(out[0]["id"], 0);
  EXPECT_EQ(out[0]["result"]["protocolVersion"], "2025-11-25");
  EXPECT_EQ(out[1]["id"], 1);
  EXPECT_EQ(out[1]["result"]["tools"].size(), 11u);
  EXPECT_EQ(out[2]["id"], 2);
  EXPECT_EQ(out[2]["result"]["structuredContent"]["signature"], "0xsig");
  EXPECT_EQ(out[3]["error"]["code"], -32602);
}

TEST_F(StdioTest, ABatchOnA20250326SessionGetsOneLineWithTheArray) {
  std::string input =
      R"({"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{}},"jsonrpc":"2.0","id":0})"
      "\n"
      R"([{"method":"notifications/initialized","jsonrpc":"2.0"},{"method":"ping","jsonrpc":"2.0","id":1},{"method":"tools/list","jsonrpc":"2.0","id":2}])"
      "\n"
      R"([{"method":"notifications/cancelled","jsonrpc":"2.0"}])"
      "\n";
  std::vector<json> out = Run(input);
  ASSERT_EQ(out.size(), 2u);  // the all-notification batch got no line
  ASSERT_TRUE(out[1].is_array());
  ASSERT_EQ(out[1].size(), 2u);
  EXPECT_EQ(out[1][0]["id"], 1);
  EXPECT_EQ(out[1][1]["result"]["tools"].size(), 11u);
}

TEST_F(StdioTest, CrlfBlankLinesAndNoTrailingNewline) {
  std::vector<json> out = Run("\n  \r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["id"], 1);
  EXPECT_EQ(out[1]["id"], 2);
}

TEST_F(StdioTest, AMessageThatRepeatsANameIsRefusedAndTheLoopGoesOn) {
  std::vector<json> out = Run(
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}\n{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}\n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["error"]["code"], -32600);
  EXPECT_TRUE(out[0]["id"].is_null());
  EXPECT_THAT(out[0]["error"]["message"].get<std::string>(), HasSubstr("duplicate key \"id\""));
  EXPECT_EQ(out[1]["id"], 3);
}

TEST_F(StdioTest, ParseErrorsAndDeepNestingAreAnsweredAndTheLoopGoesOn) {
  std::string deep(100, '[');
  std::vector<json> out = Run("{not json\n" + deep + "\n{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}\n");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["error"]["code"], -32700);
  EXPECT_TRUE(out[0]["id"].is_null());
  EXPECT_EQ(out[1]["error"]["code"], -32700);
  EXPECT_THAT(out[1]["error"]["message"].get<std::string>(), HasSubstr("nest"));
  EXPECT_EQ(out[2]["id"], 3);
}

TEST_F(StdioTest, OverlongLinesAreDiscardedWithAnError) {
  StdioOptions small;
  small.max_line_bytes = 64;
  std::string big = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"pad\":\"" + std::string(200, 'x') + "\"}}";
  std::vector<json> out = Run(big + "\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n", small);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["error"]["code"], -32600);
  EXPECT_THAT(out[0]["error"]["message"].get<std::string>(), HasSubstr("longer than 64 bytes"));
  EXPECT_EQ(out[1]["id"], 2);
  EXPECT_EQ(out[1]["result"], json::object());
}

TEST_F(StdioTest, EmptyInputAndFailedOutput) {
  EXPECT_TRUE(Run("").empty());
  std::istringstream in("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n");
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  McpServer server(rpc_.Caller(), McpServerInfo{}, clock_);
  EXPECT_EQ(RunStdio(in, out, server), 1);
}

TEST_F(StdioTest, InvalidUtf8FromTheDaemonStillGivesOneValidLine) {
  rpc_.Succeed("sigil_getPolicy", {{"rules", json::array()}, {"summary", std::string("bad \xff byte")}});
  std::vector<json> out = Run(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_policy"}})" "\n");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["result"]["isError"], false);
}

}  // namespace
}  // namespace sigil::mcp
