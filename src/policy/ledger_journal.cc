#include "policy/ledger_journal.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace sigil::policy {
namespace {

using nlohmann::json;

constexpr std::string_view kTypeNames[] = {"", "reserve", "commit", "release", "id_floor"};
constexpr size_t kMaxLine = 1 << 20;

absl::Status Corrupt(const std::string& why) {
  return absl::DataLossError("ledger journal record is corrupt: " + why);
}

}  // namespace

std::string EncodeLedgerRecord(const LedgerRecord& record) {
  // Written directly (one line per signing request is on the hot path), in
  // the form nlohmann::json would dump: keys in sorted order, no spaces.
  std::string line = "{";
  if (record.type == LedgerRecord::Type::kReserve) {
    line += "\"c\":[";
    for (size_t i = 0; i < record.charges.size(); ++i) {
      const LedgerCharge& c = record.charges[i];
      if (i > 0) line += ',';
      line += "{\"a\":";
      line += json(c.account).dump(-1, ' ', false, json::error_handler_t::replace);
      line += ",\"v\":\"";
      line += c.amount.ToDecimal();
      line += "\",\"w\":";
      line += std::to_string(absl::ToInt64Seconds(c.window));
      line += '}';
    }
    line += "],";
  }
  line += "\"id\":";
  line += std::to_string(record.id);
  line += ",\"t\":\"";
  line += kTypeNames[static_cast<int>(record.type)];
  line += '"';
  if (record.type == LedgerRecord::Type::kReserve) {
    line += ",\"ts\":";
    line += std::to_string(record.time_unix_nanos);
  }
  line += '}';
  return line;
}

absl::StatusOr<LedgerRecord> DecodeLedgerRecord(std::string_view line) {
  if (line.size() > kMaxLine) return Corrupt("line longer than 1 MiB");
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Corrupt("not a JSON object");
  LedgerRecord r;
  auto t = j.find("t");
  auto id = j.find("id");
  if (t == j.end() || !t->is_string()) return Corrupt("missing type");
  if (id == j.end() || !id->is_number_unsigned()) return Corrupt("missing id");
  std::string type = t->get<std::string>();
  bool known = false;
  for (int i = 1; i <= 4; ++i) {
    if (type == kTypeNames[i]) {
      r.type = static_cast<LedgerRecord::Type>(i);
      known = true;
    }
  }
  if (!known) return Corrupt("unknown type \"" + type.substr(0, 20) + "\"");
  r.id = id->get<uint64_t>();
  if (r.type != LedgerRecord::Type::kReserve) return r;
  auto ts = j.find("ts");
  auto c = j.find("c");
  if (ts == j.end() || !ts->is_number_integer()) return Corrupt("missing time");
  if (c == j.end() || !c->is_array()) return Corrupt("missing charges");
  r.time_unix_nanos = ts->get<int64_t>();
  for (const json& e : *c) {
    if (!e.is_object()) return Corrupt("charge is not an object");
    auto a = e.find("a");
    auto w = e.find("w");
    auto v = e.find("v");
    if (a == e.end() || !a->is_string() || w == e.end() || !w->is_number_unsigned() || v == e.end() ||
        !v->is_string()) {
      return Corrupt("charge lacks account, window or amount");
    }
    auto amount = Uint256::ParseDecimal(v->get<std::string>());
    if (!amount.ok()) return Corrupt("bad amount");
    r.charges.push_back(LedgerCharge{a->get<std::string>(), absl::Seconds(w->get<int64_t>()), *amount});
  }
  return r;
}

absl::Status MemoryLedgerJournal::Append(const LedgerRecord& record) {
  absl::MutexLock lock(&mu_);
  if (fail_) return absl::UnavailableError("ledger journal is not writable (injected failure)");
  records_.push_back(record);
  return SyncLocked(++written_);
}

absl::StatusOr<uint64_t> MemoryLedgerJournal::AppendDeferred(const LedgerRecord& record) {
  absl::MutexLock lock(&mu_);
  if (fail_) return absl::UnavailableError("ledger journal is not writable (injected failure)");
  records_.push_back(record);
  return ++written_;
}

absl::Status MemoryLedgerJournal::SyncThrough(uint64_t ticket) {
  absl::MutexLock lock(&mu_);
  return SyncLocked(ticket);
}

absl::Status MemoryLedgerJournal::SyncAll() {
  absl::MutexLock lock(&mu_);
  return SyncLocked(written_);
}

absl::Status MemoryLedgerJournal::SyncLocked(uint64_t ticket) {
  if (ticket <= written_ - (records_.size() - synced_)) return absl::OkStatus();
  if (fail_syncs_) return absl::UnavailableError("ledger journal sync failed (injected failure)");
  synced_ = records_.size();
  ++effective_syncs_;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<LedgerRecord>> MemoryLedgerJournal::ReadAll() {
  absl::MutexLock lock(&mu_);
  return records_;
}

absl::Status MemoryLedgerJournal::Rewrite(std::span<const LedgerRecord> records) {
  absl::MutexLock lock(&mu_);
  if (fail_) return absl::UnavailableError("ledger journal is not writable (injected failure)");
  if (rewrite_mark_) return absl::FailedPreconditionError("ledger journal: a rewrite is under way");
  records_.assign(records.begin(), records.end());
  synced_ = records_.size();
  return absl::OkStatus();
}

bool MemoryLedgerJournal::BeginRewrite() {
  absl::MutexLock lock(&mu_);
  if (rewrite_mark_) return false;
  rewrite_mark_ = records_.size();
  return true;
}

absl::Status MemoryLedgerJournal::FinishRewrite(std::span<const LedgerRecord> records) {
  absl::MutexLock lock(&mu_);
  if (!rewrite_mark_) return absl::FailedPreconditionError("ledger journal: no rewrite was begun");
  const size_t mark = std::min(*rewrite_mark_, records_.size());
  rewrite_mark_.reset();
  if (fail_) return absl::UnavailableError("ledger journal is not writable (injected failure)");
  std::vector<LedgerRecord> next(records.begin(), records.end());
  next.insert(next.end(), records_.begin() + static_cast<ptrdiff_t>(mark), records_.end());
  records_ = std::move(next);
  synced_ = records_.size();
  return absl::OkStatus();
}

void MemoryLedgerJournal::FailAppends(bool fail) {
  absl::MutexLock lock(&mu_);
  fail_ = fail;
}

void MemoryLedgerJournal::FailSyncs(bool fail) {
  absl::MutexLock lock(&mu_);
  fail_syncs_ = fail;
}

void MemoryLedgerJournal::DropUnsynced() {
  absl::MutexLock lock(&mu_);
  records_.resize(synced_);
}

size_t MemoryLedgerJournal::size() const {
  absl::MutexLock lock(&mu_);
  return records_.size();
}

size_t MemoryLedgerJournal::unsynced() const {
  absl::MutexLock lock(&mu_);
  return records_.size() - synced_;
}

size_t MemoryLedgerJournal::unsynced_reserves() const {
  absl::MutexLock lock(&mu_);
  return static_cast<size_t>(std::count_if(records_.begin() + static_cast<ptrdiff_t>(synced_), records_.end(),
                                           [](const LedgerRecord& r) { return r.type == LedgerRecord::Type::kReserve; }));
}

uint64_t MemoryLedgerJournal::effective_syncs() const {
  absl::MutexLock lock(&mu_);
  return effective_syncs_;
}

}  // namespace sigil::policy
