#include "policy/policy_cases.h"

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sigil::policy {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// tests/policy/cases.json against tests/policy/policy.json: every case, each
// construct of the language, as `sigil policy test` runs them.
TEST(PolicyCasesTest, CaseFilePasses) {
  auto policy = Policy::Parse(ReadFile(std::string(SIGIL_SOURCE_DIR) + "/tests/policy/policy.json"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  auto cases = ParsePolicyCases(ReadFile(std::string(SIGIL_SOURCE_DIR) + "/tests/policy/cases.json"));
  ASSERT_TRUE(cases.ok()) << cases.status();
  ASSERT_GE(cases->size(), 100u);
  std::vector<CaseResult> results = RunCases(*policy, *cases);
  ASSERT_EQ(results.size(), cases->size());
  size_t passed = 0;
  int effects[3] = {0, 0, 0};
  for (const CaseResult& r : results) {
    EXPECT_TRUE(r.passed) << r.name << ": " << r.failure;
    passed += r.passed;
    ++effects[static_cast<int>(r.expected)];
  }
  EXPECT_EQ(passed, results.size());
  // The file exercises all three outcomes.
  EXPECT_GE(effects[0], 20);
  EXPECT_GE(effects[1], 8);
  EXPECT_GE(effects[2], 20);
  nlohmann::json summary = CaseResultsToJson(results);
  EXPECT_EQ(summary["passed"], results.size());
  EXPECT_EQ(summary["failed"], 0);
}

TEST(PolicyCasesTest, AWrongExpectationFailsWithAnExplanation) {
  auto policy = Policy::Parse(R"({"version": 1, "rules": [{"id": "msgs", "effect": "allow", "match": {"kind": "eth_message"}}]})");
  ASSERT_TRUE(policy.ok());
  auto cases = ParsePolicyCases(R"({"cases": [
    {"name": "right", "kind": "eth_message", "expect": "allow", "rule": "msgs"},
    {"name": "wrong effect", "kind": "eth_tx", "chain_id": 1, "expect": "allow"},
    {"name": "wrong rule", "kind": "eth_message", "expect": "allow", "rule": "other"},
    {"name": "wrong reason", "kind": "eth_message", "expect": "allow", "reason_contains": "nope"}]})");
  ASSERT_TRUE(cases.ok()) << cases.status();
  auto results = RunCases(*policy, *cases);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].passed);
  EXPECT_FALSE(results[1].passed);
  EXPECT_THAT(results[1].failure, HasSubstr("expected allow, got deny"));
  EXPECT_THAT(results[2].failure, HasSubstr("expected rule \"other\", got \"msgs\""));
  EXPECT_THAT(results[3].failure, HasSubstr("reason does not contain \"nope\""));
  EXPECT_EQ(CaseResultsToJson(results)["failed"], 3);
}

TEST(PolicyCasesTest, ADeeplyNestedFileIsRefusedNotACrash) {
  // Copying a case recursed once per level: 200,000 levels overflowed the stack.
  std::string deep = "[{\"kind\": \"eth_message\", \"expect\": \"allow\", \"x\": " + std::string(200000, '[') +
                     std::string(200000, ']') + "}]";
  auto parsed = ParsePolicyCases(deep);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(parsed.status().message()).find("64"), std::string::npos) << parsed.status();
}

TEST(PolicyCasesTest, CaseFileErrorsNameTheCase) {
  struct Bad {
    const char* text;
    const char* message;
  };
  const Bad cases[] = {
      {"nope", "not valid JSON"},
      {R"({"tests": []})", "expected an array"},
      {R"([{"kind": "eth_message"}])", "cases[0].expect"},
      {R"([{"kind": "eth_message", "expect": "maybe"}])", "maybe"},
      {R"([{"kind": "eth_message", "expect": "allow"}, {"kind": "eth_tx", "value": 1.5, "expect": "deny"}])", "cases[1].value"},
      {R"([{"kind": "eth_message", "expect": "allow", "before": [{"ago": "1 hour"}]}])", "cases[0].before[0].ago"},
      {R"([{"kind": "eth_message", "expect": "allow", "before": [{"count": 0}]}])", "cases[0].before[0].count"},
      {R"([{"kind": "eth_message", "expect": "allow", "before": [{"time": 5}]}])", "cases[0].before[0].time"},
  };
  for (const Bad& b : cases) {
    auto c = ParsePolicyCases(b.text);
    ASSERT_FALSE(c.ok()) << b.text;
    EXPECT_THAT(std::string(c.status().message()), HasSubstr(b.message)) << b.text;
  }
}

}  // namespace
}  // namespace sigil::policy
