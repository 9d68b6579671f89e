// SqliteStore: the embedded default Store, one SQLite database in WAL mode
// inside a data directory.
//
// On disk: DATA_DIR/sigil.db (plus SQLite's sigil.db-wal and sigil.db-shm),
// created with mode 0600 in a directory created with mode 0700. Schema: one
// table `kv(tbl TEXT, key BLOB, value BLOB, PRIMARY KEY(tbl, key))` and a
// `schema_version` table holding one row; Open applies pending migrations in
// one transaction and refuses (FailedPrecondition) a database written by a
// newer Sigil.
//
// Durability: journal_mode=WAL with synchronous=FULL, so the WAL is fsynced
// at every commit and a transaction that returned OK survives kill -9 and a
// power cut. Transactions use BEGIN IMMEDIATE (they take the write lock at
// the start), so they are serializable and never retried here.
//
// Thread-safety: thread-safe. One connection, guarded by one mutex: every
// call, and the whole of RunTransaction including fn, holds it, so calls are
// serialised within the process. Another process using the same file waits up
// to `busy_timeout` for SQLite's lock and then gets Unavailable.
//
// Failure codes: see store.h. Open returns Unavailable if the directory or
// database cannot be created or opened, DataLoss if the file is not a SQLite
// database or is corrupt.
#pragma once

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace sigil::store {

struct SqliteStoreOptions {
  // How long a call waits for a lock held by another process.
  absl::Duration busy_timeout = absl::Seconds(5);
};

class SqliteStore final : public Store {
 public:
  static constexpr char kDatabaseFileName[] = "sigil.db";
  // The schema version this build writes.
  static constexpr int kSchemaVersion = 1;

  // Opens DATA_DIR/sigil.db, creating the directory and the database if
  // needed, and migrates the schema to kSchemaVersion.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& data_dir,
                                                                         const SqliteStoreOptions& options);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  absl::StatusOr<std::optional<Bytes>> Get(std::string_view table, std::string_view key) override;
  absl::StatusOr<std::vector<Entry>> Scan(std::string_view table, const ScanOptions& options) override;
  absl::Status Put(std::string_view table, std::string_view key, std::span<const uint8_t> value) override;
  absl::Status Delete(std::string_view table, std::string_view key) override;
  absl::Status RunTransaction(const TransactionFn& fn) override;

  // Path of the database file.
  const std::string& database_path() const { return path_; }
  // The schema version found in the file (kSchemaVersion after Open).
  int schema_version() const;

 private:
  class SqliteTransaction;
  struct Statements;

  SqliteStore(std::string path, sqlite3* db);

  absl::Status Migrate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Exec(const char* sql, std::string_view what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Prepare() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The operations, run with the lock held inside an open transaction.
  absl::StatusOr<std::optional<Bytes>> GetLocked(std::string_view table, std::string_view key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<Entry>> ScanLocked(std::string_view table, const ScanOptions& options)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status PutLocked(std::string_view table, std::string_view key, std::span<const uint8_t> value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status DeleteLocked(std::string_view table, std::string_view key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RunLocked(const TransactionFn& fn) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Error(int rc, std::string_view what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  mutable absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Statements> stmts_ ABSL_GUARDED_BY(mu_);
  int schema_version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sigil::store
