// FileLedgerJournal: a LedgerJournal in one append-only file of JSON lines,
// fdatasync'ed after every append, so a record that Append reported OK
// survives kill -9 and power loss (as far as the file system honours fsync).
//
// A crash in the middle of an append can leave a torn last line: ReadAll
// ignores a final line that has no newline (that Append never returned OK).
// Any other malformed line is DataLoss: the ledger refuses to start rather
// than forget a spend. Rewrite writes a temporary file, syncs it and renames
// it over the journal (atomic on POSIX file systems), then syncs the folder.
//
// Thread-safety: all methods are safe to call concurrently (one mutex; the
// lock is held across the local file write and sync, never network I/O).
#pragma once

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "policy/ledger_journal.h"

namespace sigil::policy {

class FileLedgerJournal final : public LedgerJournal {
 public:
  // Opens (creating with mode 0600 if needed) the journal at `path`.
  // Unavailable if the file cannot be opened for appending.
  static absl::StatusOr<std::unique_ptr<FileLedgerJournal>> Open(const std::string& path);
  ~FileLedgerJournal() override;
  FileLedgerJournal(const FileLedgerJournal&) = delete;
  FileLedgerJournal& operator=(const FileLedgerJournal&) = delete;

  absl::Status Append(const LedgerRecord& record) override;
  absl::StatusOr<std::vector<LedgerRecord>> ReadAll() override;
  absl::Status Rewrite(std::span<const LedgerRecord> records) override;

 private:
  FileLedgerJournal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  const std::string path_;
  absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::policy
