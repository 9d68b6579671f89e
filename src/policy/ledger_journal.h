// LedgerJournal: the durable record of the budget ledger (ledger.h).
//
// The ledger writes one record per Reserve, Commit and Release, and reads
// them all back at start-up. A Reserve record is appended and durable BEFORE
// the ledger returns the reservation, so a signature can never leave without
// its spend being on record; after a restart every reservation that was not
// explicitly released counts as spent (its signature may have left).
//
// Implementations: MemoryLedgerJournal (below; tests and the in-process
// "restart" simulation) and FileLedgerJournal (file_ledger_journal.h). The
// core may adapt any durable store to this interface.
//
// Thread-safety: implementations must be safe for concurrent calls.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/uint256.h"

namespace sigil::policy {

using ReservationId = uint64_t;

// One amount added to one spend stream ("account") for a rolling window.
struct LedgerCharge {
  std::string account;
  absl::Duration window;  // whole seconds
  Uint256 amount;
  friend bool operator==(const LedgerCharge&, const LedgerCharge&) = default;
};

struct LedgerRecord {
  enum class Type : uint8_t {
    kReserve = 1,  // id, time, charges
    kCommit = 2,   // id
    kRelease = 3,  // id
    kIdFloor = 4,  // id: the next id to issue (written by compaction)
  };
  Type type = Type::kReserve;
  ReservationId id = 0;
  int64_t time_unix_nanos = 0;
  std::vector<LedgerCharge> charges;
  friend bool operator==(const LedgerRecord&, const LedgerRecord&) = default;
};

// One record as a single line of JSON (no newline), and back. Decode fails
// with DataLoss on anything that is not a well-formed record.
std::string EncodeLedgerRecord(const LedgerRecord& record);
absl::StatusOr<LedgerRecord> DecodeLedgerRecord(std::string_view line);

class LedgerJournal {
 public:
  virtual ~LedgerJournal() = default;
  // Appends `record`. OK means durable: it will be returned by ReadAll after
  // a crash. Unavailable (or another error) means it may not be.
  virtual absl::Status Append(const LedgerRecord& record) = 0;
  // Appends `record` without waiting for it to become durable. Appends keep
  // their order, so it is durable at the latest when a later Append returns
  // OK; a crash before that may lose it. Only for records whose loss errs on
  // the safe side: a lost Commit or Release leaves its reservation counted
  // as spent.
  virtual absl::Status AppendLazily(const LedgerRecord& record) = 0;
  // Deferred durability, for a writer that has another durable write to wait
  // for anyway (the daemon: a reservation, then its audit record). Writes
  // `record` and returns a ticket without waiting; the record is durable once
  // SyncThrough(ticket) has returned OK. SyncAll() makes everything written
  // so far durable, sharing one sync with concurrent callers; a record that
  // was in a failed sync earlier may still be lost after SyncAll returns OK,
  // so only SyncThrough(ticket) vouches for one record. A journal that
  // is durable at Append (the default here) returns ticket 0, and its syncs
  // are no-ops.
  virtual absl::StatusOr<uint64_t> AppendDeferred(const LedgerRecord& record) {
    absl::Status st = Append(record);
    if (!st.ok()) return st;
    return uint64_t{0};
  }
  virtual absl::Status SyncThrough(uint64_t /*ticket*/) { return absl::OkStatus(); }
  virtual absl::Status SyncAll() { return absl::OkStatus(); }
  // Every record, in append order (after the last Rewrite).
  virtual absl::StatusOr<std::vector<LedgerRecord>> ReadAll() = 0;
  // Atomically replaces the whole journal with `records` (compaction): after
  // a crash either the old or the new contents are read back, never a mix.
  // The caller holds appends off for the duration.
  virtual absl::Status Rewrite(std::span<const LedgerRecord> records) = 0;

  // Compaction while appends continue. BeginRewrite() marks the point a
  // snapshot describes (the caller holds appends off only around the
  // snapshot and this call); appends after it go on as usual.
  // FinishRewrite(records) then atomically replaces everything up to the
  // mark with `records` and keeps every record appended since, in order,
  // after them: after a crash either the old journal or the new one is read
  // back, never a mix, and no Append that returned OK is lost. Records
  // written but not yet synced when it returns are durable afterwards (for
  // FileLedgerJournal: unless the folder could not be synced after the
  // rename; then the next sync does that first, and fails until it can).
  // BeginRewrite returns false if the journal cannot do this (the default)
  // or a rewrite is already under way; the caller then uses Rewrite. Every
  // successful BeginRewrite must be followed by one FinishRewrite, whose
  // failure leaves the old journal in place.
  virtual bool BeginRewrite() { return false; }
  virtual absl::Status FinishRewrite(std::span<const LedgerRecord> /*records*/) {
    return absl::FailedPreconditionError("ledger journal: no rewrite was begun");
  }
};

// A journal in memory. It outlives the Ledger that writes to it, so a test
// can "restart" by opening a new Ledger on the same journal. A test may make
// appends fail with FailAppends(), syncs fail with FailSyncs(), and simulate
// a power loss with DropUnsynced(): AppendDeferred records stay unsynced
// until a sync (or a later Append) covers them.
class MemoryLedgerJournal final : public LedgerJournal {
 public:
  absl::Status Append(const LedgerRecord& record) override;
  absl::Status AppendLazily(const LedgerRecord& record) override { return AppendDeferred(record).status(); }
  absl::StatusOr<uint64_t> AppendDeferred(const LedgerRecord& record) override;
  absl::Status SyncThrough(uint64_t ticket) override;
  absl::Status SyncAll() override;
  absl::StatusOr<std::vector<LedgerRecord>> ReadAll() override;
  absl::Status Rewrite(std::span<const LedgerRecord> records) override;
  bool BeginRewrite() override;
  absl::Status FinishRewrite(std::span<const LedgerRecord> records) override;

  // While true, Append returns Unavailable and records nothing.
  void FailAppends(bool fail);
  // While true, syncs that have something to do return Unavailable.
  void FailSyncs(bool fail);
  // Forgets every record no sync has covered (a power loss).
  void DropUnsynced();
  size_t size() const;
  size_t unsynced() const;
  size_t unsynced_reserves() const;  // kReserve records among them
  // Syncs that made at least one record durable.
  uint64_t effective_syncs() const;

 private:
  absl::Status SyncLocked(uint64_t ticket) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<LedgerRecord> records_ ABSL_GUARDED_BY(mu_);
  size_t synced_ ABSL_GUARDED_BY(mu_) = 0;  // records_[0, synced_) are durable
  // Tickets count appends since construction, so a Rewrite does not change
  // what a ticket names: the unsynced records hold tickets
  // (written_ - unsynced, written_].
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<size_t> rewrite_mark_ ABSL_GUARDED_BY(mu_);  // records_.size() at BeginRewrite
  uint64_t effective_syncs_ ABSL_GUARDED_BY(mu_) = 0;
  bool fail_ ABSL_GUARDED_BY(mu_) = false;
  bool fail_syncs_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sigil::policy
