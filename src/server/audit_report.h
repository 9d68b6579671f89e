// The compliance report (GET /v1/audit/report) over the live audit log.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "audit/audit_log.h"
#include "audit/compliance_report.h"

namespace sigil::server {

// Reads `log` in chunks of `chunk_records` and keeps what `filter` matches,
// so a log of any size is reported on (AuditLog::ReadRecords serves at most
// 100,000 records at a time) and memory holds one chunk plus the report.
// A report that would hold more than `max_records` records is refused
// (OutOfRange, saying how to narrow it): the report is built in memory, and
// an unfiltered one over a long-running daemon's log could exhaust it.
inline constexpr uint64_t kMaxReportRecords = 100000;
absl::StatusOr<audit::ComplianceReport> ReportFromLog(const audit::AuditLog& log,
                                                      const audit::ComplianceFilter& filter,
                                                      uint64_t chunk_records = 10000,
                                                      uint64_t max_records = kMaxReportRecords);

}  // namespace sigil::server
