// StoreLedgerJournal: a LedgerJournal kept in a store::Store (SQLite by
// default, PostgreSQL for several nodes), table "policy_ledger".
//
// Each record is one row: key = 8-byte big-endian sequence number, value =
// EncodeLedgerRecord. Append is one Store::Put, which the Store makes durable
// before it returns (store.h), so a reservation is on disk before the
// signature may leave. Rewrite replaces every row in one transaction.
//
// One writer per table: two processes appending to the same table would
// reuse sequence numbers. (A shared PostgreSQL deployment needs one ledger
// owner, or a sequence from the database.)
//
// Thread-safety: safe for concurrent calls (sequence numbers are atomic; the
// Store is thread-safe).
#pragma once

#include <atomic>
#include <memory>

#include "policy/ledger_journal.h"
#include "store/store.h"

namespace sigil::policy {

class StoreLedgerJournal final : public LedgerJournal {
 public:
  static constexpr char kTable[] = "policy_ledger";

  // Finds the last sequence number in use. `store` must outlive the journal.
  static absl::StatusOr<std::unique_ptr<StoreLedgerJournal>> Open(store::Store& store);

  absl::Status Append(const LedgerRecord& record) override;
  // The store commits every write durably: the same as Append.
  absl::Status AppendLazily(const LedgerRecord& record) override { return Append(record); }
  absl::StatusOr<std::vector<LedgerRecord>> ReadAll() override;
  absl::Status Rewrite(std::span<const LedgerRecord> records) override;

 private:
  StoreLedgerJournal(store::Store& store, uint64_t next) : store_(store), next_(next) {}

  store::Store& store_;
  std::atomic<uint64_t> next_;
};

}  // namespace sigil::policy
