#include "server/audit_report.h"

#include <gtest/gtest.h>

#include "audit/audit_testing.h"

namespace sigil::server {
namespace {

std::unique_ptr<audit::AuditLog> OpenLog(audit::testing::TempDir& dir, audit::CheckpointSigner& signer) {
  audit::AuditLogOptions o;
  o.signer = &signer;
  o.sync = false;
  o.background_checkpoints = false;
  return audit::AuditLog::Open(dir.File("audit.log"), o).value();
}

// Chunked or not, the report is the same.
TEST(ReportFromLog, ChunksGiveTheSameReport) {
  audit::testing::TempDir dir;
  auto signer = audit::testing::TestSigner();
  auto log = OpenLog(dir, *signer);
  for (uint64_t i = 0; i < 50; ++i) ASSERT_TRUE(log->Append(audit::testing::SampleRecord(i)).ok());
  audit::ComplianceFilter f;
  f.principal = "agent-3";
  const auto whole = audit::BuildComplianceReport(log->ReadRecords(0, log->Size()).value(), f);
  for (uint64_t chunk : {1, 7, 50, 1000}) {
    auto report = ReportFromLog(*log, f, chunk);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(report->ToJson(), whole.ToJson()) << chunk;
  }
}

// The endpoint read the whole log in one call, which AuditLog refuses past
// 100,000 records: a long-running daemon's report failed for good.
TEST(ReportFromLog, ALogPastOneReadIsReportedOn) {
  audit::testing::TempDir dir;
  auto signer = audit::testing::TestSigner();
  auto log = OpenLog(dir, *signer);
  constexpr uint64_t kRecords = 100001;
  for (uint64_t i = 0; i < kRecords; ++i) ASSERT_TRUE(log->Append(audit::testing::SampleRecord(i)).ok());
  ASSERT_FALSE(log->ReadRecords(0, log->Size()).ok());  // what the endpoint did
  auto report = ReportFromLog(*log, audit::ComplianceFilter{}, 10000, kRecords);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->records.size(), kRecords);
  // One past the cap is refused with how to narrow it; a filter that keeps
  // fewer passes.
  auto too_many = ReportFromLog(*log, audit::ComplianceFilter{}, 10000, kRecords - 1);
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kOutOfRange) << too_many.status();
  EXPECT_NE(too_many.status().message().find("narrow it"), std::string::npos) << too_many.status();
  audit::ComplianceFilter one_agent;
  one_agent.principal = "agent-3";
  EXPECT_TRUE(ReportFromLog(*log, one_agent, 10000, kRecords - 1).ok());
}

}  // namespace
}  // namespace sigil::server
