#include "mcp/tool_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mcp/fake_rpc_caller.h"
#include "mcp/json_schema.h"

namespace sigil::mcp {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr char kAlice[] = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
constexpr char kBob[] = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";

class ToolRunnerTest : public ::testing::Test {
 protected:
  // Runs a tool and checks what every MCP client would check: the result's
  // structuredContent matches the tool's outputSchema, success or not.
  ToolResult Call(const std::string& tool, json args) {
    const ToolSpec* spec = FindTool(tool);
    EXPECT_NE(spec, nullptr) << tool;
    ToolRunner runner(caller_, clock_);
    ToolResult r = runner.Call(*spec, args);
    absl::Status st = CheckAgainstSchema(r.structured, spec->output_schema);
    EXPECT_TRUE(st.ok()) << tool << ": " << st.message() << "\n" << r.structured.dump();
    json wire = r.ToJson();
    EXPECT_EQ(wire["content"][0]["text"], r.text);
    EXPECT_EQ(wire["isError"], r.is_error);
    return r;
  }

  FakeClock clock_{absl::FromUnixSeconds(1767225600)};
  FakeRpcCaller rpc_;
  RpcCaller caller_ = rpc_.Caller();
};

TEST_F(ToolRunnerTest, ListAccountsUsesListKeysAndChainId) {
  rpc_.Succeed("sigil_listKeys", json::parse(R"([
    {"name":"trader","type":"secp256k1","address":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266","public_key":"02ab","status":"active","version":1},
    {"name":"notes","type":"schnorr","address":"","public_key":"79be","status":"active","version":"2"}])"));
  rpc_.Succeed("eth_chainId", "0x7a69");
  ToolResult r = Call("list_accounts", json::object());
  ASSERT_FALSE(r.is_error) << r.text;
  EXPECT_EQ(rpc_.LastParams("sigil_listKeys"), json::array());
  EXPECT_EQ(r.structured["chain_id"], "0x7a69");
  ASSERT_EQ(r.structured["accounts"].size(), 2u);
  EXPECT_EQ(r.structured["accounts"][0]["address"], "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  EXPECT_EQ(r.structured["accounts"][0]["version"], 1);
  // Members of the wrong type are left out rather than breaking the schema.
  EXPECT_FALSE(r.structured["accounts"][1].contains("address"));
  EXPECT_FALSE(r.structured["accounts"][1].contains("version"));
  EXPECT_THAT(r.text, HasSubstr("- trader (secp256k1) 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
  EXPECT_THAT(r.text, HasSubstr("- notes (schnorr) 79be"));
}

TEST_F(ToolRunnerTest, ListAccountsFallsBackToEthAccounts) {
  rpc_.Succeed("eth_accounts", json::array({kAlice}));
  rpc_.Fail("eth_chainId", kUnavailable, "no upstream");
  ToolResult r = Call("list_accounts", json::object());
  ASSERT_FALSE(r.is_error) << r.text;
  EXPECT_EQ(r.structured["accounts"], json::parse(std::string(R"([{"type":"secp256k1","address":")") + kAlice + "\"}]"));
  EXPECT_FALSE(r.structured.contains("chain_id"));
}

TEST_F(ToolRunnerTest, ListAccountsRefusedForAuth) {
  rpc_.Fail("sigil_listKeys", kUnauthenticated, "invalid token");
  ToolResult r = Call("list_accounts", json::object());
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.structured["code"], kUnauthenticated);
  EXPECT_THAT(r.text, HasSubstr("Not authorized: invalid token."));
}

TEST_F(ToolRunnerTest, GetPolicyAndGetBudget) {
  rpc_.Succeed("sigil_getPolicy", json::parse(R"({"version":3,"hash":"ab","rules":[{"id":"small-payments"}],"summary":"Small payments up to 0.5 ether."})"));
  ToolResult p = Call("get_policy", json::object());
  ASSERT_FALSE(p.is_error);
  EXPECT_EQ(rpc_.LastParams("sigil_getPolicy"), json::array());
  EXPECT_THAT(p.text, HasSubstr("Policy version 3: 1 rule(s) apply to this agent.\nSmall payments up to 0.5 ether."));

  rpc_.Succeed("sigil_getBudget", json::parse(R"([{"rule":"small-payments","window":"24h","measure":"value","limit":"2000000000000000000","spent":"500000000000000000","remaining":"1500000000000000000"}])"));
  ToolResult b = Call("get_budget", json::object());
  ASSERT_FALSE(b.is_error) << b.text;
  EXPECT_EQ(b.structured["budgets"].size(), 1u);  // a bare array is wrapped
  EXPECT_THAT(b.text, HasSubstr("small-payments 24h value: 0.5 ether of 2 ether used, 1.5 ether left"));
}

TEST_F(ToolRunnerTest, SignTransactionConvertsQuantitiesAndMapsToEthSignTransaction) {
  rpc_.Succeed("eth_signTransaction", "0x02f86c");
  ToolResult r = Call("sign_transaction", {{"from", kAlice}, {"to", kBob}, {"value", "0.05 ether"}, {"chainId", 31337},
                                           {"nonce", 0}, {"gas", "21000"}, {"maxFeePerGas", "30 gwei"},
                                           {"maxPriorityFeePerGas", "1 gwei"}, {"data", "0x"}});
  ASSERT_FALSE(r.is_error) << r.text;
  EXPECT_EQ(rpc_.LastParams("eth_signTransaction"),
            json::array({{{"from", kAlice}, {"to", kBob}, {"value", "0xb1a2bc2ec50000"}, {"chainId", "0x7a69"},
                          {"nonce", "0x0"}, {"gas", "0x5208"}, {"maxFeePerGas", "0x6fc23ac00"},
                          {"maxPriorityFeePerGas", "0x3b9aca00"}, {"data", "0x"}}}));
  EXPECT_EQ(r.structured, json({{"raw_transaction", "0x02f86c"}, {"from", kAlice}}));
  EXPECT_THAT(r.text, HasSubstr("Raw transaction: 0x02f86c"));
  EXPECT_EQ(rpc_.CountOf("eth_accounts"), 0);
}

TEST_F(ToolRunnerTest, SendTransactionFillsFromWhenTheAgentHasOneAccount) {
  rpc_.Succeed("eth_accounts", json::array({kAlice}));
  rpc_.Succeed("eth_sendTransaction", "0xabc123");
  ToolResult r = Call("send_transaction", {{"to", kBob}, {"value", "1000"}});
  ASSERT_FALSE(r.is_error) << r.text;
  EXPECT_EQ(rpc_.LastParams("eth_sendTransaction"), json::array({{{"from", kAlice}, {"to", kBob}, {"value", "0x3e8"}}}));
  EXPECT_EQ(r.structured["tx_hash"], "0xabc123");
}

TEST_F(ToolRunnerTest, SeveralAccountsMeanFromMustBeNamed) {
  rpc_.Succeed("eth_accounts", json::array({kAlice, kBob}));
  ToolResult r = Call("send_transaction", {{"to", kBob}, {"value", "1000"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.structured["code"], kInvalidParams);
  EXPECT_THAT(r.text, HasSubstr(kAlice));
  EXPECT_THAT(r.text, HasSubstr(kBob));
  EXPECT_EQ(rpc_.CountOf("eth_sendTransaction"), 0);
}

TEST_F(ToolRunnerTest, BadArgumentsAreToolErrorsTheModelCanFix) {
  ToolResult f = Call("send_transaction", {{"from", kAlice}, {"to", kBob}, {"value", 0.05}});
  EXPECT_TRUE(f.is_error);
  EXPECT_EQ(f.structured["code"], kInvalidParams);
  EXPECT_THAT(f.text, HasSubstr("floating-point"));
  ToolResult typo = Call("send_transaction", {{"from", kAlice}, {"to", kBob}, {"amount", "1 ether"}});
  EXPECT_THAT(typo.text, HasSubstr("unknown member \"amount\""));
  EXPECT_THAT(typo.text, HasSubstr("value"));
  ToolResult addr = Call("send_transaction", {{"from", kAlice}, {"to", "bob"}});
  EXPECT_THAT(addr.text, HasSubstr("to \"bob\" is not an address"));
  ToolResult data = Call("sign_transaction", {{"from", kAlice}, {"to", kBob}, {"data", "0xabc"}});
  EXPECT_THAT(data.text, HasSubstr("data must be 0x-prefixed hex"));
  ToolResult not_object = Call("sign_transaction", json::array());
  EXPECT_THAT(not_object.text, HasSubstr("arguments must be a JSON object"));
  ToolResult missing = Call("approval_status", json::object());
  EXPECT_THAT(missing.text, HasSubstr("missing required member \"approval_id\""));
  EXPECT_TRUE(rpc_.calls().empty());
}

TEST_F(ToolRunnerTest, SignMessageAlwaysSendsHex) {
  rpc_.Succeed("personal_sign", "0xsig");
  ToolResult r = Call("sign_message", {{"message", "hello"}, {"address", kAlice}});
  ASSERT_FALSE(r.is_error) << r.text;
  EXPECT_EQ(rpc_.LastParams("personal_sign"), json::array({"0x68656c6c6f", kAlice}));
  EXPECT_EQ(r.structured, json({{"signature", "0xsig"}, {"address", kAlice}}));
  // Text that looks like hex is still signed as text.
  Call("sign_message", {{"message", "0xdead"}, {"address", kAlice}});
  EXPECT_EQ(rpc_.LastParams("personal_sign"), json::array({"0x307864656164", kAlice}));
  Call("sign_message", {{"message", "0xDEAD"}, {"encoding", "hex"}, {"address", kAlice}});
  EXPECT_EQ(rpc_.LastParams("personal_sign"), json::array({"0xdead", kAlice}));
  ToolResult bad = Call("sign_message", {{"message", "zz"}, {"encoding", "hex"}, {"address", kAlice}});
  EXPECT_TRUE(bad.is_error);
  ToolResult enc = Call("sign_message", {{"message", "x"}, {"encoding", "base64"}, {"address", kAlice}});
  EXPECT_THAT(enc.text, HasSubstr("must be one of \"text\", \"hex\""));
}

TEST_F(ToolRunnerTest, SignTypedDataPassesObjectOrTextThrough) {
  rpc_.Succeed("eth_signTypedData_v4", "0xsig712");
  rpc_.Succeed("eth_accounts", json::array({kAlice}));
  json doc = json::parse(R"({"types":{"EIP712Domain":[]},"primaryType":"EIP712Domain","domain":{},"message":{}})");
  ToolResult r = Call("sign_typed_data", {{"typed_data", doc}});
  ASSERT_FALSE(r.is_error) << r.text;
  EXPECT_EQ(rpc_.LastParams("eth_signTypedData_v4"), json::array({kAlice, doc}));
  Call("sign_typed_data", {{"typed_data", doc.dump()}, {"address", kBob}});
  EXPECT_EQ(rpc_.LastParams("eth_signTypedData_v4"), json::array({kBob, doc.dump()}));
  ToolResult bad = Call("sign_typed_data", {{"typed_data", "not json"}, {"address", kBob}});
  EXPECT_TRUE(bad.is_error);
  EXPECT_THAT(bad.text, HasSubstr("typed_data is not a JSON object"));
}

TEST_F(ToolRunnerTest, SignNostrEventDefaultsKeyAndTime) {
  rpc_.Succeed("sigil_listKeys", json::parse(R"([{"name":"trader","type":"secp256k1"},{"name":"notes","type":"schnorr","status":"active"}])"));
  rpc_.On("sigil_signNostrEvent", [](const json& params) {
    json ev = params[1];
    ev["id"] = std::string(64, 'a');
    ev["pubkey"] = std::string(64, 'b');
    ev["sig"] = std::string(128, 'c');
    return RpcResult::Success(ev);
  });
  ToolResult r = Call("sign_nostr_event", {{"kind", 1}, {"content", "gm"}});
  ASSERT_FALSE(r.is_error) << r.text;
  EXPECT_EQ(rpc_.LastParams("sigil_signNostrEvent"),
            json::array({"notes", {{"created_at", 1767225600}, {"kind", 1}, {"tags", json::array()}, {"content", "gm"}}}));
  EXPECT_EQ(r.structured["event"]["id"], std::string(64, 'a'));
  EXPECT_THAT(r.text, HasSubstr("ready to publish"));

  const json tags = json::array({json::array({"e", "abc"})});
  Call("sign_nostr_event", {{"key", "other"}, {"kind", 7}, {"content", "+"}, {"tags", tags}, {"created_at", 5}});
  EXPECT_EQ(rpc_.LastParams("sigil_signNostrEvent"),
            json::array({"other", {{"created_at", 5}, {"kind", 7}, {"tags", tags}, {"content", "+"}}}));
  ToolResult bad_tags = Call("sign_nostr_event", {{"key", "k"}, {"kind", 1}, {"content", "x"}, {"tags", {{"e", "abc"}}}});
  EXPECT_THAT(bad_tags.text, HasSubstr("/tags: expected array, got object"));
  ToolResult neg = Call("sign_nostr_event", {{"kind", -1}, {"content", "x"}, {"key", "k"}});
  EXPECT_TRUE(neg.is_error);
}

// A secp256k1 key is never picked for Nostr (the daemon would refuse it):
// an agent without a schnorr key is told so before anything is sent.
TEST_F(ToolRunnerTest, NostrDefaultKeyIsSchnorrOnly) {
  rpc_.Succeed("sigil_listKeys", json::parse(R"([{"name":"trader","type":"secp256k1","status":"active"}])"));
  ToolResult r = Call("sign_nostr_event", {{"kind", 1}, {"content", "gm"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.text, HasSubstr("no Nostr (schnorr) key"));
  EXPECT_EQ(rpc_.CountOf("sigil_signNostrEvent"), 0);
}

TEST_F(ToolRunnerTest, NostrEventOfTheWrongShapeIsAnError) {
  rpc_.Succeed("sigil_signNostrEvent", {{"id", "x"}});  // no pubkey/sig
  ToolResult r = Call("sign_nostr_event", {{"key", "notes"}, {"kind", 1}, {"content", "gm"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.structured["code"], kInternalError);
  EXPECT_THAT(r.text, HasSubstr("unexpected shape"));
}

TEST_F(ToolRunnerTest, SignSolana) {
  rpc_.Succeed("sigil_listKeys", json::parse(R"([{"name":"sol","type":"ed25519"},{"name":"sol-old","type":"ed25519","status":"retired"}])"));
  rpc_.Succeed("sigil_signSolanaMessage", "5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW");
  ToolResult r = Call("sign_solana_transaction", {{"message", "AQABAg=="}});
  ASSERT_FALSE(r.is_error) << r.text;
  EXPECT_EQ(rpc_.LastParams("sigil_signSolanaMessage"), json::array({"sol", "AQABAg=="}));
  EXPECT_EQ(r.structured["key"], "sol");
}

TEST_F(ToolRunnerTest, NoSuitableKeyOrSeveral) {
  rpc_.Succeed("sigil_listKeys", json::parse(R"([{"name":"a","type":"ed25519"},{"name":"b","type":"ed25519"}])"));
  ToolResult several = Call("sign_solana_transaction", {{"message", "AQ=="}});
  EXPECT_THAT(several.text, HasSubstr("several Solana (ed25519) keys; name one in `key`: a, b"));
  ToolResult none = Call("sign_nostr_event", {{"kind", 1}, {"content", "x"}});
  EXPECT_THAT(none.text, HasSubstr("no Nostr (schnorr) key"));
  EXPECT_EQ(rpc_.CountOf("sigil_signSolanaMessage"), 0);
}

TEST_F(ToolRunnerTest, ApprovalStatusPendingAndApprovedWithResult) {
  rpc_.Succeed("sigil_approvalStatus", json::parse(R"({"state":"pending","quorum":2,"approvals":1,"expires_at":1767229200})"));
  ToolResult p = Call("approval_status", {{"approval_id", "ap_0123456789abcdef"}});
  ASSERT_FALSE(p.is_error) << p.text;
  EXPECT_EQ(rpc_.LastParams("sigil_approvalStatus"), json::array({"ap_0123456789abcdef"}));
  EXPECT_EQ(p.structured["approval_id"], "ap_0123456789abcdef");
  EXPECT_THAT(p.text, HasSubstr("is pending: 1 of 2 approvals, expires at 2026-01-01T01:00:00Z"));

  // What the daemon answers the collecting poll: state "consumed" with the result.
  rpc_.Succeed("sigil_approvalStatus", json::parse(R"({"approval_id":"ap_0123456789abcdef","state":"consumed","quorum":2,"approvals":2,"approvers":[{"approver":"alice","time":"t"}],"raw":"0x02f8aa","hash":"0x1","result":"0x02f8aa","expires_at":"2026-01-01T01:00:00Z"})"));
  ToolResult a = Call("approval_status", {{"approval_id", "ap_0123456789abcdef"}});
  EXPECT_EQ(a.structured["result"], "0x02f8aa");
  EXPECT_THAT(a.text, HasSubstr("result: 0x02f8aa"));

  rpc_.Fail("sigil_approvalStatus", kInvalidParams, "unknown approval id");
  ToolResult u = Call("approval_status", {{"approval_id", "ap_nope"}});
  EXPECT_TRUE(u.is_error);
}

TEST_F(ToolRunnerTest, ExplainDryRunsTheSameCallAndFindsTheLargestAllowedValue) {
  rpc_.Succeed("eth_accounts", json::array({kAlice}));
  rpc_.Succeed("sigil_explain", json::parse(R"({"decision":"deny","rule":"small-payments","reason":"24h budget exceeded",
     "matched_rules":["small-payments"],
     "budgets":[{"rule":"small-payments","window":"24h","measure":"value","limit":"2000000000000000000","spent":"1900000000000000000","requested":"500000000000000000","remaining":"100000000000000000","exceeded":true,"on_exceed":"deny"},
                {"rule":"small-payments","window":"1m","measure":"count","limit":"10","spent":"3","requested":"1","remaining":"7","exceeded":false,"on_exceed":"deny"},
                {"rule":"weekly","window":"7d","measure":"value","limit":"5000000000000000000","spent":"0","requested":"500000000000000000","remaining":"5000000000000000000","exceeded":false,"on_exceed":"deny"}],
     "policy":{"version":1,"hash":"ab"},"rate_limit":null})"));
  ToolResult r = Call("explain", {{"tool", "send_transaction"}, {"arguments", {{"to", kBob}, {"value", "0.5 ether"}}}});
  ASSERT_FALSE(r.is_error) << r.text;
  EXPECT_EQ(rpc_.LastParams("sigil_explain"),
            json::array({"eth_sendTransaction", {{"from", kAlice}, {"to", kBob}, {"value", "0x6f05b59d3b20000"}}}));
  EXPECT_EQ(r.structured["largest_allowed_value"], "100000000000000000");
  EXPECT_EQ(r.structured["largest_allowed_value_text"], "0.1 ether");
  EXPECT_FALSE(r.structured.contains("rate_limit"));  // nulls are dropped
  EXPECT_THAT(r.text, HasSubstr("Dry run of send_transaction (nothing signed): deny by rule small-payments: 24h budget exceeded."));
  EXPECT_THAT(r.text, HasSubstr("at most 0.1 ether (100000000000000000 wei)"));
  EXPECT_EQ(rpc_.CountOf("eth_sendTransaction"), 0);
}

// A spend budget (value + the most the fees can be) allows its remaining less
// this request's fees; budgets in lamports are not wei and are left out.
TEST_F(ToolRunnerTest, ExplainCountsFeesUnderSpendBudgetsAndKeepsLamportsApart) {
  rpc_.Succeed("eth_accounts", json::array({kAlice}));
  rpc_.Succeed("sigil_explain", json::parse(R"({"decision":"allow","rule":"r","reason":"",
     "budgets":[{"rule":"r","window":"24h","measure":"value","unit":"wei","limit":"2000000000000000000","spent":"0","requested":"100000000000000000","remaining":"2000000000000000000","exceeded":false,"on_exceed":"deny"},
                {"rule":"r","window":"24h","measure":"spend","unit":"wei","limit":"1000000000000000000","spent":"500000000000000000","requested":"110000000000000000","remaining":"500000000000000000","exceeded":false,"on_exceed":"deny"},
                {"rule":"s","window":"24h","measure":"value","unit":"lamports","limit":"9","spent":"4","requested":"0","remaining":"5","exceeded":false,"on_exceed":"deny"}]})"));
  ToolResult r = Call("explain", {{"tool", "send_transaction"}, {"arguments", {{"to", kBob}, {"value", "0.1 ether"}}}});
  ASSERT_FALSE(r.is_error) << r.text;
  // 0.5 ether left under the spend budget, 0.01 ether of it this request's fees.
  EXPECT_EQ(r.structured["largest_allowed_value"], "490000000000000000");
  EXPECT_EQ(r.structured["largest_allowed_value_text"], "0.49 ether");
  EXPECT_THAT(r.text, HasSubstr("s 24h value: 4 lamports of 9 lamports used, 5 lamports left"));

  // An unbounded request (no fee cap known) says nothing about the value.
  rpc_.Succeed("sigil_explain", json::parse(R"({"decision":"deny","rule":"r","reason":"x",
     "budgets":[{"rule":"r","window":"24h","measure":"spend","unit":"wei","limit":"1","spent":"0","requested":"115792089237316195423570985008687907853269984665640564039457584007913129639935","remaining":"1","exceeded":true,"on_exceed":"deny","unbounded":"no gas limit"}]})"));
  r = Call("explain", {{"tool", "send_transaction"}, {"arguments", {{"to", kBob}, {"value", "0.1 ether"}}}});
  EXPECT_FALSE(r.structured.contains("largest_allowed_value"));
}

TEST_F(ToolRunnerTest, ExplainDuringLockdownLeadsWithTheLockdown) {
  rpc_.Succeed("eth_accounts", json::array({kAlice}));
  rpc_.Succeed("sigil_explain", json::parse(R"({"decision":"allow","rule":"login-messages","reason":"","lockdown":true})"));
  ToolResult r = Call("explain", {{"tool", "sign_message"}, {"arguments", {{"message", "hi"}}}});
  ASSERT_FALSE(r.is_error) << r.text;
  EXPECT_THAT(r.text, HasSubstr("Dry run of sign_message (nothing signed): lockdown is in force, so the request would be "
                                "refused now; the policy alone says allow by rule login-messages"));
}

TEST_F(ToolRunnerTest, ExplainOtherKindsAndBadInput) {
  rpc_.Succeed("sigil_explain", json::parse(R"({"decision":"require_approval","rule":"r","reason":"x","budgets":[],"approval":{"quorum":2,"expires":"1h"}})"));
  ToolResult r = Call("explain", {{"tool", "sign_message"}, {"arguments", {{"message", "hi"}, {"address", kAlice}}}});
  ASSERT_FALSE(r.is_error) << r.text;
  EXPECT_EQ(rpc_.LastParams("sigil_explain"), json::array({"personal_sign", "0x6869", kAlice}));
  EXPECT_THAT(r.text, HasSubstr("A human would have to approve (2 approver(s))."));
  EXPECT_FALSE(r.structured.contains("largest_allowed_value"));

  Call("explain", {{"tool", "sign_nostr_event"}, {"arguments", {{"key", "n"}, {"kind", 1}, {"content", "c"}}}});
  EXPECT_EQ(rpc_.LastParams("sigil_explain")[0], "sigil_signNostrEvent");
  EXPECT_EQ(rpc_.LastParams("sigil_explain")[1], "n");

  ToolResult wrong_tool = Call("explain", {{"tool", "get_policy"}, {"arguments", json::object()}});
  EXPECT_TRUE(wrong_tool.is_error);
  ToolResult wrong_args = Call("explain", {{"tool", "send_transaction"}, {"arguments", {{"amount", 1}}}});
  EXPECT_TRUE(wrong_args.is_error);
  EXPECT_THAT(wrong_args.text, HasSubstr("unknown member \"amount\""));
}

TEST_F(ToolRunnerTest, DeniedTransferIsAnErrorResultWithRuleReasonAndNextStep) {
  json data = json::parse(R"({"decision":"deny","rule":"small-payments","reason":"24h budget exceeded",
    "budget":{"window":"24h","limit":"2000000000000000000","spent":"1900000000000000000","requested":"500000000000000000"},"audit_seq":1042})");
  rpc_.Fail("eth_sendTransaction", kDeniedByPolicy, "denied by policy rule small-payments: 24h budget exceeded", data);
  ToolResult r = Call("send_transaction", {{"from", kAlice}, {"to", kBob}, {"value", "0.5 ether"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.text, HasSubstr("Denied by rule small-payments: 24h budget exceeded. At most 0.1 ether remains in the 24h "
                                "window (this request asked for 0.5 ether); retry with a smaller value or ask a human to "
                                "raise the limit."));
  json expected = data;
  expected["code"] = kDeniedByPolicy;
  expected["message"] = "denied by policy rule small-payments: 24h budget exceeded";
  EXPECT_EQ(r.structured, expected);
}

TEST_F(ToolRunnerTest, HeldTransferGivesTheApprovalId) {
  rpc_.Fail("eth_signTransaction", kApprovalRequired, "approval required by rule large-needs-two",
            json::parse(R"({"decision":"require_approval","rule":"large-needs-two","reason":"value above 0.5 ether",
                            "approval_id":"ap_00112233445566ff","expires_at":1767229200,"quorum":2,"approvals":0})"));
  ToolResult r = Call("sign_transaction", {{"from", kAlice}, {"to", kBob}, {"value", "2 ether"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.structured["approval_id"], "ap_00112233445566ff");
  EXPECT_EQ(r.structured["code"], kApprovalRequired);
  EXPECT_THAT(r.text, HasSubstr("Held for approval ap_00112233445566ff: 2 approvers must approve before 2026-01-01T01:00:00Z"));
  EXPECT_THAT(r.text, HasSubstr("approval_status"));
}

TEST_F(ToolRunnerTest, LockdownRateLimitAndUnavailable) {
  rpc_.Fail("personal_sign", kLockdown, "lockdown in force", {{"decision", "deny"}, {"reason", "incident 42"}});
  ToolResult l = Call("sign_message", {{"message", "x"}, {"address", kAlice}});
  EXPECT_THAT(l.text, HasSubstr("Lockdown in force: incident 42."));
  EXPECT_THAT(l.text, HasSubstr("ask a human"));
  rpc_.Fail("personal_sign", kRateLimited, "rate limited", {{"retry_after_ms", 1200}});
  EXPECT_THAT(Call("sign_message", {{"message", "x"}, {"address", kAlice}}).text, HasSubstr("Retry after 1200 ms."));
  EXPECT_EQ(Call("sign_message", {{"message", "x"}, {"address", kAlice}}).structured["retry_after_ms"], 1200);
  rpc_.Fail("personal_sign", kUnavailable, "connection refused");
  ToolResult u = Call("sign_message", {{"message", "x"}, {"address", kAlice}});
  EXPECT_EQ(u.structured, json({{"code", kUnavailable}, {"message", "connection refused"}}));
}

TEST_F(ToolRunnerTest, UnexpectedDaemonAnswersBecomeErrorsNotSchemaViolations) {
  rpc_.Succeed("eth_signTransaction", 42);
  ToolResult r = Call("sign_transaction", {{"from", kAlice}, {"to", kBob}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.structured["code"], kInternalError);
  EXPECT_EQ(r.structured["result"]["result"], 42);
  rpc_.Succeed("sigil_getPolicy", json::array());
  EXPECT_TRUE(Call("get_policy", json::object()).is_error);
  rpc_.Succeed("sigil_explain", "allow");
  EXPECT_TRUE(Call("explain", {{"tool", "sign_message"}, {"arguments", {{"message", "x"}, {"address", kAlice}}}}).is_error);
}

TEST_F(ToolRunnerTest, SignTransactionAcceptsAnObjectWithRaw) {
  rpc_.Succeed("eth_signTransaction", {{"raw", "0x02f8"}, {"tx", {{"hash", "0x1"}}}});
  ToolResult r = Call("sign_transaction", {{"from", kAlice}, {"to", kBob}});
  EXPECT_EQ(r.structured["raw_transaction"], "0x02f8");
}

}  // namespace
}  // namespace sigil::mcp
