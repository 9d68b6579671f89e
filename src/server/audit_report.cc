#include "server/audit_report.h"

#include <algorithm>
#include <utility>

namespace sigil::server {

absl::StatusOr<audit::ComplianceReport> ReportFromLog(const audit::AuditLog& log,
                                                      const audit::ComplianceFilter& filter,
                                                      uint64_t chunk_records, uint64_t max_records) {
  chunk_records = std::max<uint64_t>(chunk_records, 1);
  audit::ComplianceReportBuilder builder(filter);
  // The size when the report starts: records appended meanwhile are left
  // for the next report, so the report describes one prefix of the log.
  const uint64_t size = log.Size();
  uint64_t kept = 0;
  for (uint64_t seq = 0; seq < size;) {
    const uint64_t n = std::min(chunk_records, size - seq);
    auto chunk = log.ReadRecords(seq, n);
    if (!chunk.ok()) return chunk.status();
    for (const audit::AuditRecord& r : *chunk) {
      if (!filter.Matches(r)) continue;
      if (++kept > max_records) {
        return absl::OutOfRangeError("the report would hold more than " + std::to_string(max_records) +
                                     " records; narrow it with agent, since and until (unix seconds), or verify "
                                     "and read the whole log with sigil audit export");
      }
      builder.Add(r);
    }
    seq += n;
  }
  return std::move(builder).Build();
}

}  // namespace sigil::server
