// ComplianceReport: the audit records of one principal (agent) over a time
// range, with totals by key, by recipient and by decision, as CSV or JSON,
// for `sigil audit export --report` and the REST API.
//
// Records come from a verified source: feed a ComplianceReportBuilder from
// VerifyOptions::on_record (an export) or AuditLog::ReadRecords (the live
// log). Recipient is extra["erc20_to"] for a token transfer (as the core
// records it), otherwise extra["to"]. Value is extra["value"] (native units,
// decimal or 0x-hex wei), summed exactly as Uint256; token amounts are
// listed per record (erc20_amount) but not summed with native value.
//
// CSV follows RFC 4180 (CRLF line ends, fields quoted when they hold a comma,
// quote, CR or LF). Cells that a spreadsheet would run as a formula (starting
// with = + - @ TAB or CR) are prefixed with a single quote (OWASP CSV
// injection); JSON output is never altered.
//
// Thread-safety: a builder is not synchronised; reports are plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "audit/record.h"
#include "base/uint256.h"
#include "nlohmann/json.hpp"

namespace sigil::audit {

struct ComplianceFilter {
  std::optional<std::string> principal;  // exact match
  std::optional<uint64_t> from_ms;       // inclusive, unix ms
  std::optional<uint64_t> to_ms;         // exclusive, unix ms
  std::optional<std::string> type;       // exact, or a prefix ending in '.' ("approval.")

  bool Matches(const AuditRecord& record) const;
};

struct ComplianceTotal {
  uint64_t count = 0;
  Uint256 value;                  // sum of parseable extra["value"]
  uint64_t unparsed_values = 0;   // records whose extra["value"] was not an integer
  bool value_overflow = false;    // the sum exceeded 2^256-1 (value saturated)
};

struct ComplianceReport {
  ComplianceFilter filter;
  std::vector<AuditRecord> records;  // matching records, in log order
  ComplianceTotal total;
  std::map<std::string, ComplianceTotal> by_key;
  std::map<std::string, ComplianceTotal> by_recipient;  // "" = no recipient
  std::map<std::string, ComplianceTotal> by_decision;

  // One row per record: seq,time,time_utc,type,principal,key,decision,rule,
  // reason,recipient,value,chain_id,erc20_token,erc20_amount,payload_hash,
  // signature_hash.
  std::string RecordsCsv() const;
  // total_by,name,count,value,unparsed_values: rows for "all", then every
  // key, recipient and decision.
  std::string TotalsCsv() const;
  // {"filter":{..},"count":N,"records":[..],"totals":{"all":{..},"by_key":{..},
  //  "by_recipient":{..},"by_decision":{..}}}; values as decimal strings.
  nlohmann::json ToJson() const;
};

class ComplianceReportBuilder {
 public:
  explicit ComplianceReportBuilder(ComplianceFilter filter);
  // Adds `record` if it matches the filter.
  void Add(const AuditRecord& record);
  ComplianceReport Build() &&;

 private:
  ComplianceReport report_;
};

ComplianceReport BuildComplianceReport(std::span<const AuditRecord> records, const ComplianceFilter& filter);

// The recipient as the report counts it (see above); "" if none.
std::string RecipientOf(const AuditRecord& record);

// The record as a JSON object with the canonical keys.
nlohmann::json AuditRecordToJson(const AuditRecord& record);

}  // namespace sigil::audit
