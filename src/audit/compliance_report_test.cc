#include "audit/compliance_report.h"

#include "audit/audit_log.h"
#include "audit/audit_testing.h"
#include "gtest/gtest.h"

namespace sigil::audit {
namespace {

AuditRecord Rec(uint64_t seq, uint64_t time_ms, std::string principal, std::string key, std::string decision,
                std::string to, std::string value) {
  AuditRecord r;
  r.seq = seq;
  r.time_ms = time_ms;
  r.type = "sign.request";
  r.principal = std::move(principal);
  r.key = std::move(key);
  r.decision = std::move(decision);
  if (!to.empty()) r.extra["to"] = std::move(to);
  if (!value.empty()) r.extra["value"] = std::move(value);
  return r;
}

TEST(ComplianceReport, FiltersByPrincipalAndTimeAndTotalsExactly) {
  const std::string big = "100000000000000000000000";  // > 2^64
  std::vector<AuditRecord> records = {
      Rec(0, 1000, "bot-1", "trader", "allow", "0xaa", big),
      Rec(1, 2000, "bot-1", "trader", "deny", "0xbb", "5"),
      Rec(2, 3000, "bot-2", "trader", "allow", "0xaa", "7"),
      Rec(3, 4000, "bot-1", "vault", "allow", "0xaa", "0x10"),
      Rec(4, 5000, "bot-1", "vault", "require_approval", "", "not a number"),
      Rec(5, 6000, "bot-1", "trader", "allow", "0xaa", "1"),  // outside the range
  };
  ComplianceFilter f;
  f.principal = "bot-1";
  f.from_ms = 1000;
  f.to_ms = 6000;
  ComplianceReport report = BuildComplianceReport(records, f);
  ASSERT_EQ(report.records.size(), 4u);
  EXPECT_EQ(report.records[0].seq, 0u);
  EXPECT_EQ(report.records[3].seq, 4u);
  EXPECT_EQ(report.total.count, 4u);
  EXPECT_EQ(report.total.value.ToDecimal(), "100000000000000000000021");  // big + 5 + 16
  EXPECT_EQ(report.total.unparsed_values, 1u);
  EXPECT_EQ(report.by_key.at("trader").count, 2u);
  EXPECT_EQ(report.by_key.at("vault").count, 2u);
  EXPECT_EQ(report.by_key.at("vault").value.ToDecimal(), "16");
  EXPECT_EQ(report.by_recipient.at("0xaa").count, 2u);
  EXPECT_EQ(report.by_recipient.at("0xbb").value.ToDecimal(), "5");
  EXPECT_EQ(report.by_recipient.at("").count, 1u);
  EXPECT_EQ(report.by_decision.at("allow").count, 2u);
  EXPECT_EQ(report.by_decision.at("deny").count, 1u);
  EXPECT_EQ(report.by_decision.at("require_approval").count, 1u);

  nlohmann::json j = report.ToJson();
  EXPECT_EQ(j["count"], 4);
  EXPECT_EQ(j["filter"]["principal"], "bot-1");
  EXPECT_EQ(j["totals"]["all"]["value"], "100000000000000000000021");
  EXPECT_EQ(j["totals"]["by_decision"]["deny"]["count"], 1);
  EXPECT_EQ(j["records"][0]["extra"]["to"], "0xaa");

  ComplianceFilter types;
  types.type = "sign.";
  EXPECT_EQ(BuildComplianceReport(records, types).records.size(), 6u);
  types.type = "key.";
  EXPECT_EQ(BuildComplianceReport(records, types).records.size(), 0u);
}

TEST(ComplianceReport, TokenTransfersCountTheTokenRecipient) {
  AuditRecord r = Rec(0, 1, "bot-1", "trader", "allow", "0xtoken", "0");
  r.extra["erc20_to"] = "0xtreasury";
  r.extra["erc20_amount"] = "1000000";
  ComplianceReport report = BuildComplianceReport(std::vector<AuditRecord>{r}, {});
  EXPECT_EQ(report.by_recipient.count("0xtoken"), 0u);
  EXPECT_EQ(report.by_recipient.at("0xtreasury").count, 1u);
  EXPECT_EQ(report.total.value.ToDecimal(), "0");  // token amounts are not native value
  EXPECT_NE(report.RecordsCsv().find(",0xtreasury,0,,,1000000,"), std::string::npos) << report.RecordsCsv();
}

// A Solana message may pay several recipients: each is totalled with its own
// lamports, not the whole value under the first (extra.to).
TEST(ComplianceReport, SolanaTransfersCountEachRecipient) {
  AuditRecord r = Rec(0, 1, "bot-1", "sol", "allow", "Alice111", "2500001000");
  r.extra["solana_recipients"] =
      R"([{"lamports":"1000","to":"Alice111"},{"lamports":"2000000000","to":"Bob222"},)"
      R"({"lamports":"500000000","to":"Bob222"}])";
  AuditRecord cut = Rec(1, 2, "bot-1", "sol", "allow", "Alice111", "70");
  cut.extra["solana_recipients"] = R"([{"lamports":"30","to":"Alice111"}])";
  cut.extra["solana_recipients_omitted"] = "2";
  ComplianceReport report = BuildComplianceReport(std::vector<AuditRecord>{r, cut}, {});
  EXPECT_EQ(report.by_recipient.at("Alice111").value.ToDecimal(), "1030");
  EXPECT_EQ(report.by_recipient.at("Alice111").count, 2u);
  EXPECT_EQ(report.by_recipient.at("Bob222").value.ToDecimal(), "2500000000");
  EXPECT_EQ(report.by_recipient.at("Bob222").count, 1u);
  EXPECT_EQ(report.by_recipient.at("(further solana recipients)").value.ToDecimal(), "40");
  EXPECT_EQ(report.total.value.ToDecimal(), "2500001070");

  // A list that does not add up (or parse) leaves the record under `to`.
  AuditRecord odd = Rec(2, 3, "bot-1", "sol", "allow", "Carol333", "5");
  odd.extra["solana_recipients"] = R"([{"lamports":"6","to":"Dave444"}])";
  report = BuildComplianceReport(std::vector<AuditRecord>{odd}, {});
  EXPECT_EQ(report.by_recipient.at("Carol333").value.ToDecimal(), "5");
  EXPECT_EQ(report.by_recipient.count("Dave444"), 0u);
}

TEST(ComplianceReport, ValueOverflowSaturatesAndIsFlagged) {
  const std::string max = Uint256::Max().ToDecimal();
  std::vector<AuditRecord> records = {Rec(0, 1, "a", "k", "allow", "", max), Rec(1, 2, "a", "k", "allow", "", "1")};
  ComplianceReport report = BuildComplianceReport(records, {});
  EXPECT_TRUE(report.total.value_overflow);
  EXPECT_EQ(report.total.value, Uint256::Max());
}

TEST(ComplianceReport, CsvQuotesAndDefusesFormulas) {
  AuditRecord r = Rec(9, 1767225600123, "bot,1", "=HYPERLINK(\"x\")", "allow", "0xaa", "1");
  r.reason = "line1\nline2 \"quoted\"";
  ComplianceReport report = BuildComplianceReport(std::vector<AuditRecord>{r}, {});
  const std::string csv = report.RecordsCsv();
  EXPECT_EQ(csv.substr(0, csv.find("\r\n")),
            "seq,time,time_utc,type,principal,key,decision,rule,reason,recipient,value,chain_id,erc20_token,"
            "erc20_amount,payload_hash,signature_hash");
  const std::string row = csv.substr(csv.find("\r\n") + 2);
  EXPECT_EQ(row,
            "9,1767225600123,2026-01-01T00:00:00.123Z,sign.request,\"bot,1\",\"'=HYPERLINK(\"\"x\"\")\",allow,,"
            "\"line1\nline2 \"\"quoted\"\"\",0xaa,1,,,,,\r\n");
  const std::string totals = report.TotalsCsv();
  EXPECT_NE(totals.find("all,,1,1,0\r\n"), std::string::npos) << totals;
  EXPECT_NE(totals.find("recipient,0xaa,1,1,0\r\n"), std::string::npos);
  EXPECT_NE(totals.find("decision,allow,1,1,0\r\n"), std::string::npos);
}

TEST(ComplianceReport, BuiltFromAVerifiedExport) {
  testing::TempDir dir;
  auto signer = testing::TestSigner();
  AuditLogOptions o;
  o.signer = signer.get();
  o.sync = false;
  o.background_checkpoints = false;
  auto log = AuditLog::Open(dir.File("audit.log"), o).value();
  for (uint64_t i = 0; i < 70; ++i) ASSERT_TRUE(log->Append(testing::SampleRecord(i)).ok());
  ASSERT_TRUE(log->Export(dir.File("export")).ok());

  ComplianceFilter f;
  f.principal = "agent-3";
  ComplianceReportBuilder builder(f);
  VerifyOptions vo;
  vo.on_record = [&](const AuditRecord& r) { builder.Add(r); };
  VerifyReport verified = VerifyExportFile(PosixEnv(), dir.File("export"), signer->PublicKey(), vo);
  ASSERT_TRUE(verified.valid);
  ComplianceReport report = std::move(builder).Build();
  EXPECT_EQ(report.records.size(), 10u);  // i % 7 == 3 for i < 70
  for (const AuditRecord& r : report.records) EXPECT_EQ(r.principal, "agent-3");
  uint64_t by_decision = 0;
  for (const auto& [d, t] : report.by_decision) by_decision += t.count;
  EXPECT_EQ(by_decision, 10u);
  // The live log gives the same answer.
  auto all = log->ReadRecords(0, log->Size()).value();
  EXPECT_EQ(BuildComplianceReport(all, f).ToJson(), report.ToJson());
}

}  // namespace
}  // namespace sigil::audit
