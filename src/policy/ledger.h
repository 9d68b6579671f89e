// Ledger: rolling-window spending budgets with exact Uint256 arithmetic.
//
// A spend stream is an "account" (a string the policy engine builds from the
// budget's scope, e.g. "rule:small-payments|key:trader|value") with a rolling
// window; the same account name with two windows is two streams. What an
// account has spent is the sum of its non-released entries younger than its
// window.
//
// Protocol, per signing request:
//   Reserve(charges)   all-or-nothing: either every charge fits its limit and
//                      is recorded, or nothing is recorded and the outcome
//                      names the first charge that did not fit. The Reserve
//                      record is durable in the journal before Reserve
//                      returns an id; or, with LedgerOptions::defer_reserve_sync,
//                      written but durable only once MakeDurable(id) returned
//                      OK (the caller then must not let a signature out before).
//   (the caller signs)
//   Commit(id)         the signature left; the spend stays.
//   Release(id)        nothing was signed (audit or signer failed); the spend
//                      is removed.
// Concurrency: Reserve checks and records under one lock, so no interleaving
// of concurrent requests can spend more than a limit. The lock is never held
// across journal I/O: a reservation is visible (counts as spent) while its
// record is being written, and is undone if the write fails.
//
// Crash rule: after a restart (Open on the same journal) every reservation
// that was not explicitly released counts as spent, committed or not,
// because its signature may have left. Such a reservation can no longer be
// released.
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/clock.h"
#include "base/uint256.h"
#include "policy/ledger_journal.h"

namespace sigil::policy {

// One amount to reserve against one account, with the limit it must fit
// (spent + amount <= limit). Without a limit the charge is recorded
// unconditionally (used after a human approved a request over budget).
struct BudgetCharge {
  std::string account;
  absl::Duration window;  // > 0, whole seconds
  Uint256 amount;
  std::optional<Uint256> limit;
};

struct LedgerOptions {
  // Reserve writes its record without waiting for the journal's sync;
  // MakeDurable(id) waits. For a caller that makes another write durable
  // before the signature leaves (the audit record) and can have one sync
  // cover both: the daemon's audit log syncs the journal alongside its
  // records (AuditLogOptions::sync_alongside), so MakeDurable finds the work
  // done.
  bool defer_reserve_sync = false;
};

struct ReserveOutcome {
  // Set when every charge fit and the reservation is durable.
  std::optional<ReservationId> id;
  // When id is empty: the index of the first charge that did not fit.
  size_t exceeded_index = 0;
  // What each charge's account had spent just before this request.
  std::vector<Uint256> spent;
};

class Ledger {
 public:
  // Loads every record of `journal` and rebuilds the accounts; compacts the
  // journal when most of it no longer counts. The journal and clock must
  // outlive the Ledger. DataLoss if the journal is corrupt, Unavailable if it
  // cannot be read.
  static absl::StatusOr<std::unique_ptr<Ledger>> Open(LedgerJournal& journal, const Clock& clock,
                                                      LedgerOptions options = {});

  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // See the protocol above. Charges to the same account in one call add up.
  // Errors: InvalidArgument (empty account, window <= 0), Unavailable (the
  // journal could not record the reservation: nothing was reserved).
  [[nodiscard]] absl::StatusOr<ReserveOutcome> Reserve(std::span<const BudgetCharge> charges);
  // NotFound if `id` is not a pending reservation of this process.
  // A journal failure is returned, but the in-memory state has changed.
  // Returns once reservation `id`'s record is durable (at once unless
  // defer_reserve_sync). NotFound if `id` is not pending; Unavailable if the
  // journal's sync failed: the reservation's durability is unknown, so the
  // caller must not sign, and should Release it.
  [[nodiscard]] absl::Status MakeDurable(ReservationId id);
  [[nodiscard]] absl::Status Commit(ReservationId id);
  [[nodiscard]] absl::Status Release(ReservationId id);

  // What each charge's account has spent now (limits and amounts ignored).
  std::vector<Uint256> Spent(std::span<const BudgetCharge> charges);

  // Rewrites the journal with only what still counts (entries inside their
  // windows) and drops empty accounts. Safe to run while requests flow:
  // Reserve, Commit and Release wait only while the snapshot is taken
  // (O(live entries) in memory) and, if the journal rewrites concurrently
  // (LedgerJournal::BeginRewrite), for its final short step; the new file
  // itself is written and synced while they go on. A journal that cannot
  // holds them up for the whole rewrite.
  [[nodiscard]] absl::Status Compact();
  // Compacts only when the journal has grown to twice what the last
  // compaction (or the load) left plus kCompactGrowthRecords: the rewrite
  // then costs O(1) per appended record however long the windows are, and
  // the journal stays within about twice the live entries. The owner calls
  // it periodically (e.g. every few seconds); most calls do nothing.
  [[nodiscard]] absl::Status MaybeCompact();

  size_t pending_count() const;
  size_t account_count() const;

 private:
  struct Entry {
    int64_t time_ns;
    Uint256 amount;
    ReservationId id;
    bool released;
  };
  struct Account {
    int64_t window_ns = 0;
    std::deque<Entry> entries;  // append order; entry i has sequence base_seq + i
    uint64_t base_seq = 0;
    Uint256 sum;  // of non-released entries still in `entries`
    std::string name;
  };
  struct Pending {
    std::vector<std::pair<Account*, uint64_t>> entries;  // account, sequence
    uint64_t journal_ticket = 0;  // for LedgerJournal::SyncThrough
  };

  Ledger(LedgerJournal& journal, const Clock& clock, LedgerOptions options)
      : journal_(journal), clock_(clock), options_(options) {}
  static constexpr size_t kCompactAtStartupRecords = 4096;
  static constexpr uint64_t kCompactGrowthRecords = 4096;
  absl::Status Load(size_t* record_count, size_t* live_entries);
  Account& AccountFor(const std::string& name, absl::Duration window) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Account& AccountFor(const std::string& key, const std::string& name, absl::Duration window)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void Evict(Account& account, int64_t now_ns);
  void Undo(ReservationId id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CompactLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(compact_mu_);

  LedgerJournal& journal_;
  const Clock& clock_;
  const LedgerOptions options_;
  // One compaction at a time.
  absl::Mutex compact_mu_;
  // Appenders hold it shared; Compact holds it exclusively while it takes
  // its snapshot and marks the journal, so no record is appended between.
  absl::Mutex journal_mu_ ABSL_ACQUIRED_AFTER(compact_mu_);
  mutable absl::Mutex mu_ ABSL_ACQUIRED_AFTER(journal_mu_);
  // node_hash_map: Pending holds Account pointers, which must stay valid.
  absl::node_hash_map<std::string, Account> accounts_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ReservationId, Pending> pending_ ABSL_GUARDED_BY(mu_);
  ReservationId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // Records in the journal (appended since the last rewrite included), and
  // how many the last rewrite (or the load) left.
  std::atomic<uint64_t> journal_records_{0};
  uint64_t records_after_compaction_ ABSL_GUARDED_BY(compact_mu_) = 0;
};

}  // namespace sigil::policy
