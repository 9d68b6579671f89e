// FileLedgerJournal: a LedgerJournal in one append-only file of JSON lines.
// A record that Append reported OK has been fdatasync'ed, so it survives
// kill -9 and power loss (as far as the file system honours fsync).
// Concurrent Appends share one fdatasync (group commit): each writes its line,
// then either runs the sync for every line written so far or waits for the
// one in progress and, if that did not cover its line, the next.
// AppendDeferred writes a line and returns its number as the ticket;
// SyncThrough(ticket) and SyncAll() wait in the same group commit.
//
// A crash in the middle of an append can leave a torn last line: ReadAll
// ignores a final line that has no newline (that Append never returned OK),
// and Open cuts it off (and syncs the cut), so the next append starts a
// line of its own.
// Any other malformed line is DataLoss: the ledger refuses to start rather
// than forget a spend. Rewrite writes a temporary file, syncs it and renames
// it over the journal (atomic on POSIX file systems), then syncs the folder.
// Between BeginRewrite and FinishRewrite every line appended is also kept in
// memory (at most max_rewrite_tail_bytes; beyond, the rewrite fails and the old
// journal stays); FinishRewrite writes and syncs the new contents without the
// lock, then, under it, appends the kept lines to the temporary file, syncs
// it again and renames it: appenders wait for that tail (what they appended
// while the bulk was written) and the rename, not for the bulk.
//
// Thread-safety: all methods are safe to call concurrently (one mutex, held
// across the local write but not across the sync; never network I/O).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "policy/ledger_journal.h"

namespace sigil::policy {

class FileLedgerJournal final : public LedgerJournal {
 public:
  static constexpr size_t kMaxRewriteTailBytes = 64 << 20;

  // Opens (creating with mode 0600 if needed) the journal at `path`.
  // Cuts off a torn last line (see above). Unavailable if the file cannot
  // be opened for reading and appending, or the cut fails.
  // `max_rewrite_tail_bytes` bounds the lines kept during a rewrite.
  static absl::StatusOr<std::unique_ptr<FileLedgerJournal>> Open(const std::string& path,
                                                                 size_t max_rewrite_tail_bytes = kMaxRewriteTailBytes);
  ~FileLedgerJournal() override;
  FileLedgerJournal(const FileLedgerJournal&) = delete;
  FileLedgerJournal& operator=(const FileLedgerJournal&) = delete;

  absl::Status Append(const LedgerRecord& record) override;
  absl::Status AppendLazily(const LedgerRecord& record) override;
  absl::StatusOr<uint64_t> AppendDeferred(const LedgerRecord& record) override;
  absl::Status SyncThrough(uint64_t ticket) override;
  absl::Status SyncAll() override;
  absl::StatusOr<std::vector<LedgerRecord>> ReadAll() override;
  absl::Status Rewrite(std::span<const LedgerRecord> records) override;
  bool BeginRewrite() override;
  absl::Status FinishRewrite(std::span<const LedgerRecord> records) override;

  // Tests only: replaces ::fdatasync for this journal's file (to inject a
  // failed sync). Empty restores it.
  void SetFdatasyncForTesting(std::function<int(int fd)> sync);

 private:
  FileLedgerJournal(std::string path, int fd, size_t max_tail)
      : path_(std::move(path)), max_rewrite_tail_bytes_(max_tail), fd_(fd) {}

  // Writes the record's line; returns its sequence number.
  absl::StatusOr<uint64_t> WriteLine(const LedgerRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns once line `seq` is durable: leads an fdatasync covering every
  // line written so far, or waits for the one in progress. Unavailable if
  // that sync fails, or (fail_doubtful) if line `seq` was in a sync that
  // failed before.
  absl::Status SyncLocked(uint64_t seq, bool fail_doubtful = true) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends a rewrite with `st`: drops the kept lines, closes the temporary
  // file `fd` (if open) and removes it unless the rewrite succeeded.
  absl::Status EndRewrite(int fd, const std::string& tmp, absl::Status st) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const size_t max_rewrite_tail_bytes_;
  absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_);
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;  // lines written (sequence of the last)
  uint64_t synced_ ABSL_GUARDED_BY(mu_) = 0;   // lines known durable
  bool syncing_ ABSL_GUARDED_BY(mu_) = false;  // a thread is in fdatasync (without mu_)
  // Whether line `seq` was in a sync that failed.
  bool InDoubt(uint64_t seq) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Lines (after, through] of each range were in a sync that failed: their
  // durability is unknown, so waiting for any of them fails, even after a
  // later sync succeeds (after a failed fdatasync Linux may have dropped the
  // pages, and the next fdatasync reports success without them). Sorted,
  // disjoint; at most kMaxDoubtRanges (beyond, the two closest merge, which
  // only ever adds lines: fails closed).
  static constexpr size_t kMaxDoubtRanges = 32;
  std::vector<std::pair<uint64_t, uint64_t>> doubt_ ABSL_GUARDED_BY(mu_);
  std::function<int(int)> fdatasync_ ABSL_GUARDED_BY(mu_);
  // Between BeginRewrite and FinishRewrite: the lines written since.
  bool rewriting_ ABSL_GUARDED_BY(mu_) = false;
  // A rewrite renamed the new file but could not sync the folder: the next
  // sync does, before anything counts as durable.
  bool dir_unsynced_ ABSL_GUARDED_BY(mu_) = false;
  bool tail_overflow_ ABSL_GUARDED_BY(mu_) = false;
  std::string tail_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::policy
