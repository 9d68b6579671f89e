#include "mcp/agent_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sigil::mcp {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TEST(AgentTextTest, DeniedForBudgetSaysHowMuchRemains) {
  RpcError e{kDeniedByPolicy, "denied by policy rule small-payments: 24h budget exceeded",
             {{"decision", "deny"},
              {"rule", "small-payments"},
              {"reason", "24h budget exceeded"},
              {"budget", {{"window", "24h"}, {"limit", "2000000000000000000"}, {"spent", "1900000000000000000"},
                          {"requested", "500000000000000000"}}},
              {"audit_seq", 1042}}};
  EXPECT_EQ(DescribeRefusal(e),
            "Denied by rule small-payments: 24h budget exceeded. At most 0.1 ether remains in the 24h window (this "
            "request asked for 0.5 ether); retry with a smaller value or ask a human to raise the limit.");
  json content = RefusalContent(e);
  EXPECT_EQ(content["code"], kDeniedByPolicy);
  EXPECT_EQ(content["rule"], "small-payments");
  EXPECT_EQ(content["reason"], "24h budget exceeded");
  EXPECT_EQ(content["audit_seq"], 1042);
  EXPECT_EQ(content["budget"]["limit"], "2000000000000000000");
  EXPECT_EQ(content["message"], e.message);
}

TEST(AgentTextTest, DeniedWithNothingLeftAndCountBudgets) {
  RpcError empty{kDeniedByPolicy, "denied",
                 {{"rule", "r"}, {"reason", "budget exceeded"},
                  {"budgets", json::array({{{"window", "24h"}, {"measure", "value"}, {"limit", "10"}, {"spent", "10"},
                                            {"remaining", "0"}, {"exceeded", true}}})}}};
  EXPECT_THAT(DescribeRefusal(empty), HasSubstr("Nothing remains in the 24h window; wait until earlier spending"));
  RpcError count{kDeniedByPolicy, "denied",
                 {{"rule", "r"}, {"reason", "too many"},
                  {"budget", {{"window", "1m"}, {"measure", "count"}, {"limit", "10"}, {"spent", "8"}, {"remaining", "2"}}}}};
  EXPECT_THAT(DescribeRefusal(count), HasSubstr("At most 2 requests remain in the 1m window"));
}

TEST(AgentTextTest, DeniedWithoutBudgetPointsToExplain) {
  RpcError e{kDeniedByPolicy, "denied by policy rule no-blocked: recipient is blocked",
             {{"decision", "deny"}, {"rule", "no-blocked"}, {"reason", "recipient is blocked"}}};
  std::string text = DescribeRefusal(e);
  EXPECT_THAT(text, HasSubstr("Denied by rule no-blocked: recipient is blocked."));
  EXPECT_THAT(text, HasSubstr("Call explain"));
  RpcError no_rule{kDeniedByPolicy, "no rule allows this request", nullptr};
  EXPECT_THAT(DescribeRefusal(no_rule), HasSubstr("Denied by policy: no rule allows this request."));
}

TEST(AgentTextTest, HeldForApprovalSaysWhoAndHowToCollect) {
  RpcError e{kApprovalRequired, "approval required",
             {{"decision", "require_approval"},
              {"rule", "large-needs-two"},
              {"reason", "value above 0.5 ether"},
              {"approval_id", "ap_0123456789abcdef"},
              {"expires_at", 1767229200},
              {"quorum", 2},
              {"approvals", 0},
              {"approval", {{"quorum", 2}, {"expires", "1h"}}}}};
  std::string text = DescribeRefusal(e);
  EXPECT_THAT(text, HasSubstr("Held for approval ap_0123456789abcdef: 2 approvers must approve within 1h (by "
                              "2026-01-01T01:00:00Z) (0 so far)"));
  EXPECT_THAT(text, HasSubstr("Call approval_status with approval_id \"ap_0123456789abcdef\""));
  EXPECT_THAT(text, HasSubstr("Nothing has been signed yet"));
}

TEST(AgentTextTest, LockdownRateLimitAuthUnavailable) {
  EXPECT_EQ(DescribeRefusal({kLockdown, "lockdown in force", {{"reason", "incident 42"}}}),
            "Lockdown in force: incident 42. No key can sign until an administrator lifts the lockdown; do not retry, "
            "ask a human.");
  EXPECT_EQ(DescribeRefusal({kRateLimited, "rate limited", {{"rule", "small-payments"}, {"reason", "10 per minute"}, {"retry_after_ms", 2500}}}),
            "Rate limited by rule small-payments: 10 per minute. Retry after 2500 ms (about 3 s).");
  EXPECT_THAT(DescribeRefusal({kUnauthenticated, "token may not use key trader", nullptr}), HasSubstr("list_accounts"));
  EXPECT_THAT(DescribeRefusal({kUnavailable, "audit log cannot be written", nullptr}),
              HasSubstr("Nothing was signed; retry later."));
  EXPECT_THAT(DescribeRefusal({-32099, "odd", nullptr}), HasSubstr("Sigil returned error -32099: odd."));
}

TEST(AgentTextTest, LockdownIsSaidOnce) {
  EXPECT_EQ(DescribeRefusal({kLockdown, "lockdown in force: incident 42", nullptr}),
            "Lockdown in force: incident 42. No key can sign until an administrator lifts the lockdown; do not retry, "
            "ask a human.");
}

TEST(AgentTextTest, AnUnknownOutcomeIsNeverCalledUnsigned) {
  // The answer was lost after the daemon got the call: it may have signed.
  const std::string text = DescribeRefusal({kUpstreamError, "no complete answer from the daemon", {{"outcome", "unknown"}}});
  EXPECT_THAT(text, HasSubstr("The outcome is unknown"));
  EXPECT_THAT(text, HasSubstr("Do not simply retry"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("Nothing was signed")));
  EXPECT_THAT(DescribeRefusal({kUpstreamError, "execution reverted", nullptr}), HasSubstr("Sigil returned error -32000"));
}

TEST(AgentTextTest, RefusalContentDropsNullsAndKeepsNonObjectData) {
  json c = RefusalContent({kDeniedByPolicy, "m", {{"rule", "r"}, {"budget", nullptr}}});
  EXPECT_FALSE(c.contains("budget"));
  EXPECT_EQ(RefusalContent({kInternalError, "m", json::array({1})})["data"], json::array({1}));
}

TEST(AgentTextTest, BudgetsInWords) {
  EXPECT_EQ(DescribeBudget({{"rule", "small-payments"}, {"window", "24h"}, {"measure", "value"}, {"limit", "2000000000000000000"},
                            {"spent", "1900000000000000000"}, {"remaining", "100000000000000000"}}),
            "small-payments 24h value: 1.9 ether of 2 ether used, 0.1 ether left");
  EXPECT_EQ(DescribeBudget({{"rule_id", "r"}, {"window", "1m"}, {"measure", "count"}, {"limit", "10"}, {"spent", "10"},
                            {"exceeded", true}, {"on_exceed", "deny"}}),
            "r 1m count: 10 requests of 10 requests used, 0 requests left (exceeded: deny)");
  EXPECT_FALSE(BudgetRemaining({{"limit", "x"}}).has_value());
  EXPECT_EQ(BudgetRemaining({{"limit", "5"}, {"spent", "7"}})->ToDecimal(), "0");
}

TEST(AgentTextTest, ApprovalStates) {
  EXPECT_EQ(DescribeApprovalStatus({{"approval_id", "ap_1"}, {"state", "pending"}, {"quorum", 2}, {"approvals", 1},
                                    {"expires_at", "2026-01-01T01:00:00Z"}}),
            "Approval ap_1 is pending: 1 of 2 approvals, expires at 2026-01-01T01:00:00Z. Nothing has been signed yet; "
            "call approval_status again later.");
  EXPECT_THAT(DescribeApprovalStatus({{"approval_id", "ap_1"}, {"state", "approved"}, {"result", "0x02f8"}}),
              HasSubstr("result: 0x02f8"));
  EXPECT_THAT(DescribeApprovalStatus({{"approval_id", "ap_1"}, {"state", "approved"}}), HasSubstr("call approval_status again"));
  EXPECT_THAT(DescribeApprovalStatus({{"state", "consumed"}}), HasSubstr("already been collected"));
  // The daemon may mark the collecting poll "consumed" already.
  EXPECT_THAT(DescribeApprovalStatus({{"state", "consumed"}, {"result", "0x02f8"}}), HasSubstr("result: 0x02f8"));
  EXPECT_THAT(DescribeApprovalStatus({{"state", "approved"}, {"refused", {{"rule", "r"}, {"reason", "lockdown"}}}}),
              HasSubstr("signing it was refused by rule r: lockdown"));
  EXPECT_THAT(DescribeApprovalStatus({{"state", "rejected"}, {"reject_reason", "too big"}}), HasSubstr("rejected: too big"));
  EXPECT_THAT(DescribeApprovalStatus({{"state", "rejected"}, {"rejected_by", "alice"}}), HasSubstr("rejected by alice"));
  EXPECT_THAT(DescribeApprovalStatus({{"state", "expired"}}), HasSubstr("expired"));
  EXPECT_THAT(DescribeApprovalStatus({{"approvals", json::array({"a", "b"})}, {"state", "pending"}, {"quorum", 3}}),
              HasSubstr("2 of 3 approvals"));
}

TEST(AgentTextTest, Times) {
  EXPECT_EQ(TimeInWords(json(1767225600)), "2026-01-01T00:00:00Z");
  EXPECT_EQ(TimeInWords(json(1767225600000LL)), "2026-01-01T00:00:00Z");
  EXPECT_EQ(TimeInWords(json("soon")), "soon");
  EXPECT_EQ(TimeInWords(json()), "");
}

}  // namespace
}  // namespace sigil::mcp
