#include "audit/compliance_report.h"

#include "absl/time/time.h"

namespace sigil::audit {
namespace {

std::string Extra(const AuditRecord& r, const char* name) {
  auto it = r.extra.find(name);
  return it == r.extra.end() ? std::string() : it->second;
}

void Count(ComplianceTotal& t, const std::optional<Uint256>& value, bool has_value) {
  ++t.count;
  if (value) {
    auto sum = t.value.Add(*value);
    if (sum.ok()) {
      t.value = *sum;
    } else {
      t.value = Uint256::Max();
      t.value_overflow = true;
    }
  } else if (has_value) {
    ++t.unparsed_values;
  }
}

std::string CsvCell(std::string s) {
  if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r')) {
    s.insert(s.begin(), '\'');
  }
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

void CsvRow(std::string& out, std::initializer_list<std::string> cells) {
  bool first = true;
  for (const std::string& c : cells) {
    if (!first) out.push_back(',');
    first = false;
    out += CsvCell(c);
  }
  out += "\r\n";
}

std::string TimeUtc(uint64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(static_cast<int64_t>(ms)),
                          absl::UTCTimeZone());
}

nlohmann::json TotalJson(const ComplianceTotal& t) {
  nlohmann::json j{{"count", t.count}, {"value", t.value.ToDecimal()}};
  if (t.unparsed_values) j["unparsed_values"] = t.unparsed_values;
  if (t.value_overflow) j["value_overflow"] = true;
  return j;
}

nlohmann::json TotalsJson(const std::map<std::string, ComplianceTotal>& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, t] : m) j[k] = TotalJson(t);
  return j;
}

// What a record sent to each recipient, for the by-recipient totals: a
// solana_tx record's native transfers each go to their own recipient
// (extra.solana_recipients, several per message; when that list was cut,
// what it leaves of the value goes to kMoreSolanaRecipients); any other
// record's value goes to RecipientOf. nullopt: count the record under
// RecipientOf as before (no list, or one that does not parse).
constexpr char kMoreSolanaRecipients[] = "(further solana recipients)";

std::optional<std::map<std::string, Uint256>> SolanaShares(const AuditRecord& r, const std::optional<Uint256>& value) {
  const std::string list = Extra(r, "solana_recipients");
  if (list.empty() || !value) return std::nullopt;
  const nlohmann::json parsed = nlohmann::json::parse(list, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array() || parsed.empty()) return std::nullopt;
  std::map<std::string, Uint256> shares;
  Uint256 listed;
  for (const auto& t : parsed) {
    if (!t.is_object() || !t.contains("to") || !t["to"].is_string() || !t.contains("lamports") ||
        !t["lamports"].is_string()) {
      return std::nullopt;
    }
    auto lamports = Uint256::ParseInteger(t["lamports"].get<std::string>());
    if (!lamports.ok()) return std::nullopt;
    auto sum = listed.Add(*lamports);
    if (!sum.ok()) return std::nullopt;
    listed = *sum;
    Uint256& share = shares[t["to"].get<std::string>()];
    share = share.Add(*lamports).value();  // share <= listed: cannot overflow
  }
  // The listed transfers cannot exceed the record's total.
  auto rest = value->Sub(listed);
  if (!rest.ok()) return std::nullopt;
  if (!Extra(r, "solana_recipients_omitted").empty() || !rest->IsZero()) shares[kMoreSolanaRecipients] = *rest;
  return shares;
}

}  // namespace

std::string RecipientOf(const AuditRecord& r) {
  std::string token_recipient = Extra(r, "erc20_to");
  return token_recipient.empty() ? Extra(r, "to") : token_recipient;
}

bool ComplianceFilter::Matches(const AuditRecord& r) const {
  if (principal && r.principal != *principal) return false;
  if (from_ms && r.time_ms < *from_ms) return false;
  if (to_ms && r.time_ms >= *to_ms) return false;
  if (type) {
    if (!type->empty() && type->back() == '.') {
      if (r.type.rfind(*type, 0) != 0) return false;
    } else if (r.type != *type) {
      return false;
    }
  }
  return true;
}

ComplianceReportBuilder::ComplianceReportBuilder(ComplianceFilter filter) { report_.filter = std::move(filter); }

void ComplianceReportBuilder::Add(const AuditRecord& r) {
  if (!report_.filter.Matches(r)) return;
  auto it = r.extra.find("value");
  const bool has_value = it != r.extra.end() && !it->second.empty();
  std::optional<Uint256> value;
  if (has_value) {
    auto parsed = Uint256::ParseInteger(it->second);
    if (parsed.ok()) value = *parsed;
  }
  Count(report_.total, value, has_value);
  Count(report_.by_key[r.key], value, has_value);
  if (auto shares = SolanaShares(r, value)) {
    for (const auto& [to, lamports] : *shares) Count(report_.by_recipient[to], lamports, true);
  } else {
    Count(report_.by_recipient[RecipientOf(r)], value, has_value);
  }
  Count(report_.by_decision[r.decision], value, has_value);
  report_.records.push_back(r);
}

ComplianceReport ComplianceReportBuilder::Build() && { return std::move(report_); }

ComplianceReport BuildComplianceReport(std::span<const AuditRecord> records, const ComplianceFilter& filter) {
  ComplianceReportBuilder builder(filter);
  for (const AuditRecord& r : records) builder.Add(r);
  return std::move(builder).Build();
}

std::string ComplianceReport::RecordsCsv() const {
  std::string out;
  CsvRow(out, {"seq", "time", "time_utc", "type", "principal", "key", "decision", "rule", "reason", "recipient",
               "value", "chain_id", "erc20_token", "erc20_amount", "payload_hash", "signature_hash"});
  for (const AuditRecord& r : records) {
    CsvRow(out, {std::to_string(r.seq), std::to_string(r.time_ms), TimeUtc(r.time_ms), r.type, r.principal, r.key,
                 r.decision, r.rule, r.reason, RecipientOf(r), Extra(r, "value"), Extra(r, "chain_id"),
                 Extra(r, "erc20_token"), Extra(r, "erc20_amount"), r.payload_hash, r.signature_hash});
  }
  return out;
}

std::string ComplianceReport::TotalsCsv() const {
  std::string out;
  CsvRow(out, {"total_by", "name", "count", "value", "unparsed_values"});
  auto row = [&](const char* by, const std::string& name, const ComplianceTotal& t) {
    CsvRow(out, {by, name, std::to_string(t.count), t.value.ToDecimal(), std::to_string(t.unparsed_values)});
  };
  row("all", "", total);
  for (const auto& [k, t] : by_key) row("key", k, t);
  for (const auto& [k, t] : by_recipient) row("recipient", k, t);
  for (const auto& [k, t] : by_decision) row("decision", k, t);
  return out;
}

nlohmann::json AuditRecordToJson(const AuditRecord& r) {
  return {{"seq", r.seq},
          {"time", r.time_ms},
          {"type", r.type},
          {"principal", r.principal},
          {"key", r.key},
          {"decision", r.decision},
          {"rule", r.rule},
          {"reason", r.reason},
          {"payload_hash", r.payload_hash},
          {"signature_hash", r.signature_hash},
          {"extra", r.extra}};
}

nlohmann::json ComplianceReport::ToJson() const {
  nlohmann::json f = nlohmann::json::object();
  if (filter.principal) f["principal"] = *filter.principal;
  if (filter.from_ms) f["from_ms"] = *filter.from_ms;
  if (filter.to_ms) f["to_ms"] = *filter.to_ms;
  if (filter.type) f["type"] = *filter.type;
  nlohmann::json recs = nlohmann::json::array();
  for (const AuditRecord& r : records) recs.push_back(AuditRecordToJson(r));
  return {{"filter", f},
          {"count", records.size()},
          {"records", recs},
          {"totals",
           {{"all", TotalJson(total)},
            {"by_key", TotalsJson(by_key)},
            {"by_recipient", TotalsJson(by_recipient)},
            {"by_decision", TotalsJson(by_decision)}}}};
}

}  // namespace sigil::audit
