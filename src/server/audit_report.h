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
absl::StatusOr<audit::ComplianceReport> ReportFromLog(const audit::AuditLog& log,
                                                      const audit::ComplianceFilter& filter,
                                                      uint64_t chunk_records = 10000);

}  // namespace sigil::server
