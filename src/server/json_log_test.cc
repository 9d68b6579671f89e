#include "server/json_log.h"

#include <gtest/gtest.h>

#include <memory>
#include <sstream>

#include "nlohmann/json.hpp"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"

namespace sigil::server {
namespace {

class JsonLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_formatter(NewJsonLogFormatter());
    spdlog::set_default_logger(logger);
  }
  void TearDown() override { spdlog::set_default_logger(previous_); }

  std::vector<nlohmann::json> Lines() {
    std::vector<nlohmann::json> lines;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      EXPECT_FALSE(j.is_discarded()) << "not one JSON object per line: " << line;
      lines.push_back(j);
    }
    return lines;
  }

  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(JsonLogTest, AccessLineHasTheContractFields) {
  AccessLogEntry e;
  e.request_id = "abc-123";
  e.method = "POST";
  e.path = "/rpc";
  e.rpc_method = "eth_signTransaction";
  e.principal = "bot-1";
  e.role = "agent";
  e.status = 200;
  e.decision = "denied";
  e.rule = "no-blocked";
  e.rpc_code = -32003;
  e.latency_us = 812;
  LogAccess(e);
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto& j = lines[0];
  EXPECT_EQ(j["level"], "info");
  EXPECT_TRUE(j["ts"].is_string());
  EXPECT_EQ(j["event"], "request");
  EXPECT_EQ(j["request_id"], "abc-123");
  EXPECT_EQ(j["rpc_method"], "eth_signTransaction");
  EXPECT_EQ(j["principal"], "bot-1");
  EXPECT_EQ(j["role"], "agent");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["decision"], "denied");
  EXPECT_EQ(j["rule"], "no-blocked");
  EXPECT_EQ(j["rpc_code"], -32003);
  EXPECT_EQ(j["latency_us"], 812);
}

TEST_F(JsonLogTest, PlainMessagesAreQuotedAndObjectsMerged) {
  spdlog::error("audit log close: disk \"full\"\nsecond line");
  spdlog::warn(nlohmann::json{{"event", "risk_alert"}, {"kind", "velocity"}}.dump());
  spdlog::info("{not json}");
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["msg"], "audit log close: disk \"full\"\nsecond line");
  EXPECT_EQ(lines[0]["level"], "error");
  EXPECT_EQ(lines[1]["event"], "risk_alert");
  EXPECT_EQ(lines[1]["kind"], "velocity");
  EXPECT_EQ(lines[2]["msg"], "{not json}");
}

TEST_F(JsonLogTest, AccessLineEscapesAndBoundsItsFields) {
  // The 64-byte bound on the principal cuts its last UTF-8 sequence.
  LogAccess({.request_id = std::string(200, 'r'), .method = "", .path = "/v1/keys/a\"b\\c\n\x01", .rpc_method = "",
             .rpc_calls = 3, .principal = std::string(63, 'p') + "\xc3\xa9", .role = "agent", .status = 413,
             .rpc_code = 0, .decision = "", .rule = "", .latency_us = 0});
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto& j = lines[0];
  EXPECT_EQ(j["path"], "/v1/keys/a\"b\\c\n\x01");
  EXPECT_EQ(j["principal"], std::string(63, 'p') + "\xef\xbf\xbd");  // U+FFFD for the cut byte
  EXPECT_EQ(j["request_id"], std::string(128, 'r'));
  EXPECT_EQ(j["rpc_calls"], 3);
  EXPECT_EQ(j["status"], 413);
  EXPECT_FALSE(j.contains("decision"));
  EXPECT_FALSE(j.contains("rpc_code"));
  EXPECT_EQ(j["method"], "");
}

TEST_F(JsonLogTest, TokenShapedTextIsRedacted) {
  const std::string token = "sgl_" + std::string(80, 'a');
  spdlog::warn("caller sent " + token + " by mistake");
  AccessLogEntry e;
  e.principal = token;  // even if a caller slipped one into a field
  e.path = "/v1/tokens/" + token.substr(0, 60);
  LogAccess(e);
  const std::string text = out_.str();
  EXPECT_EQ(text.find(std::string(16, 'a')), std::string::npos) << text;
  EXPECT_NE(text.find("sgl_[redacted]"), std::string::npos);
  EXPECT_TRUE(ContainsTokenShape(token));
  EXPECT_TRUE(ContainsTokenShape("sgl_" + std::string(40, 'a')));
  EXPECT_FALSE(ContainsTokenShape("sgl_abc and sgl_"));
  for (const auto& j : Lines()) EXPECT_TRUE(j.is_object());
}

}  // namespace
}  // namespace sigil::server
