#include "server/audit_report.h"

#include <algorithm>
#include <utility>

namespace sigil::server {

absl::StatusOr<audit::ComplianceReport> ReportFromLog(const audit::AuditLog& log,
                                                      const audit::ComplianceFilter& filter,
                                                      uint64_t chunk_records) {
  chunk_records = std::max<uint64_t>(chunk_records, 1);
  audit::ComplianceReportBuilder builder(filter);
  // The size when the report starts: records appended meanwhile are left
  // for the next report, so the report describes one prefix of the log.
  const uint64_t size = log.Size();
  for (uint64_t seq = 0; seq < size;) {
    const uint64_t n = std::min(chunk_records, size - seq);
    auto chunk = log.ReadRecords(seq, n);
    if (!chunk.ok()) return chunk.status();
    for (const audit::AuditRecord& r : *chunk) builder.Add(r);
    seq += n;
  }
  return std::move(builder).Build();
}

}  // namespace sigil::server
