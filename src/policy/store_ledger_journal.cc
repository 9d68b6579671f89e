#include "policy/store_ledger_journal.h"

#include "base/hex.h"
#include "base/status.h"

namespace sigil::policy {
namespace {

constexpr size_t kPage = 4096;

std::string SeqKey(uint64_t seq) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i) {
    key[static_cast<size_t>(i)] = static_cast<char>(seq & 0xff);
    seq >>= 8;
  }
  return key;
}

absl::StatusOr<uint64_t> KeySeq(const std::string& key) {
  if (key.size() != 8) return absl::DataLossError("policy_ledger row has a malformed key");
  uint64_t seq = 0;
  for (char c : key) seq = (seq << 8) | static_cast<uint8_t>(c);
  return seq;
}

// Calls fn(entry) for every row, in key order, a page at a time.
template <typename Scanner, typename Fn>
absl::Status ForEachRow(Scanner& scanner, Fn fn) {
  store::ScanOptions options;
  options.limit = kPage;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<store::Entry> page, scanner.Scan(StoreLedgerJournal::kTable, options));
    for (const store::Entry& e : page) RETURN_IF_ERROR(fn(e));
    if (page.size() < kPage) return absl::OkStatus();
    options.start_after = page.back().key;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<StoreLedgerJournal>> StoreLedgerJournal::Open(store::Store& store) {
  uint64_t last = 0;
  RETURN_IF_ERROR(ForEachRow(store, [&](const store::Entry& e) -> absl::Status {
    ASSIGN_OR_RETURN(last, KeySeq(e.key));
    return absl::OkStatus();
  }));
  return std::unique_ptr<StoreLedgerJournal>(new StoreLedgerJournal(store, last + 1));
}

absl::Status StoreLedgerJournal::Append(const LedgerRecord& record) {
  const std::string value = EncodeLedgerRecord(record);
  return store_.Put(kTable, SeqKey(next_.fetch_add(1)), AsBytes(value));
}

absl::StatusOr<std::vector<LedgerRecord>> StoreLedgerJournal::ReadAll() {
  std::vector<LedgerRecord> out;
  RETURN_IF_ERROR(ForEachRow(store_, [&](const store::Entry& e) -> absl::Status {
    std::string_view line(reinterpret_cast<const char*>(e.value.data()), e.value.size());
    ASSIGN_OR_RETURN(LedgerRecord r, DecodeLedgerRecord(line));
    out.push_back(std::move(r));
    return absl::OkStatus();
  }));
  return out;
}

absl::Status StoreLedgerJournal::Rewrite(std::span<const LedgerRecord> records) {
  std::vector<std::string> values;
  values.reserve(records.size());
  for (const LedgerRecord& r : records) values.push_back(EncodeLedgerRecord(r));
  RETURN_IF_ERROR(store_.RunTransaction([&](store::Transaction& tx) -> absl::Status {
    std::vector<std::string> keys;
    RETURN_IF_ERROR(ForEachRow(tx, [&](const store::Entry& e) -> absl::Status {
      keys.push_back(e.key);
      return absl::OkStatus();
    }));
    for (const std::string& k : keys) RETURN_IF_ERROR(tx.Delete(kTable, k));
    for (size_t i = 0; i < values.size(); ++i) RETURN_IF_ERROR(tx.Put(kTable, SeqKey(i + 1), AsBytes(values[i])));
    return absl::OkStatus();
  }));
  next_.store(values.size() + 1);
  return absl::OkStatus();
}

}  // namespace sigil::policy
