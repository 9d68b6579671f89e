// FaultInjectingStore: a Store decorator that makes chosen operations fail
// with Unavailable, the code a real store returns when the disk cannot be
// written. Crash and fail-closed tests wrap the store under test with it.
//
// A "write" is one Put or Delete, on the store or inside a transaction,
// counted from 1 since construction or the last Heal(). A "commit" is one
// RunTransaction call; a failed commit runs fn and then applies nothing (the
// wrapped store rolls back), exactly like a commit that hit a full disk.
//
// Ownership: borrows `base`. Thread-safety: thread-safe.
#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "store/forwarding_store.h"

namespace sigil::store {

class FaultInjectingStore final : public ForwardingStore {
 public:
  explicit FaultInjectingStore(Store& base) : ForwardingStore(base) {}

  // Only the n-th write from now (1-based) fails.
  void FailNthWrite(int n);
  // The n-th write from now and every later one fail until Heal(): a full disk.
  void FailWritesFrom(int n);
  // The n-th RunTransaction from now and every later one fail at commit.
  void FailCommitsFrom(int n);
  // Every Get and Scan fails while set.
  void FailReads(bool fail);
  // Stops injecting faults and resets the counters.
  void Heal();

  int writes_seen() const;
  int faults_injected() const;

  absl::StatusOr<std::optional<Bytes>> Get(std::string_view table, std::string_view key) override;
  absl::StatusOr<std::vector<Entry>> Scan(std::string_view table, const ScanOptions& options) override;
  absl::Status Put(std::string_view table, std::string_view key, std::span<const uint8_t> value) override;
  absl::Status Delete(std::string_view table, std::string_view key) override;
  absl::Status RunTransaction(const TransactionFn& fn) override;

 private:
  class FaultTransaction;

  // Counts one write; the error to return instead of performing it, if any.
  absl::Status NextWrite(std::string_view what);
  absl::Status NextCommit();
  absl::Status ReadFault(std::string_view what);

  mutable absl::Mutex mu_;
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
  int commits_ ABSL_GUARDED_BY(mu_) = 0;
  int fail_nth_write_ ABSL_GUARDED_BY(mu_) = 0;    // 0 = off
  int fail_writes_from_ ABSL_GUARDED_BY(mu_) = 0;  // 0 = off
  int fail_commits_from_ ABSL_GUARDED_BY(mu_) = 0; // 0 = off
  bool fail_reads_ ABSL_GUARDED_BY(mu_) = false;
  int faults_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sigil::store
