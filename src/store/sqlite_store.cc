#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "base/status.h"

namespace sigil::store {
namespace {

// Migrations run in order inside one transaction; each entry moves the schema
// from version-1 to version. Never edit a released entry: append a new one.
struct Migration {
  int version;
  const char* sql;
};
constexpr std::array<Migration, 1> kMigrations = {{
    {1,
     "CREATE TABLE kv (tbl TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,"
     " PRIMARY KEY (tbl, key)) WITHOUT ROWID;"},
}};
static_assert(kMigrations.back().version == SqliteStore::kSchemaVersion);

// Resets a statement when the call that used it returns, so no statement
// keeps a read transaction open between calls.
class StatementScope {
 public:
  explicit StatementScope(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StatementScope() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StatementScope(const StatementScope&) = delete;
  StatementScope& operator=(const StatementScope&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

int BindBlob(sqlite3_stmt* stmt, int index, std::span<const uint8_t> bytes) {
  // A zero-length blob bound with a null pointer would become SQL NULL.
  if (bytes.empty()) return sqlite3_bind_zeroblob(stmt, index, 0);
  return sqlite3_bind_blob(stmt, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
}

int BindBlob(sqlite3_stmt* stmt, int index, std::string_view bytes) {
  return BindBlob(stmt, index,
                  std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

int BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  return sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

Bytes ColumnBytes(sqlite3_stmt* stmt, int column) {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, column));
  int n = sqlite3_column_bytes(stmt, column);
  if (p == nullptr || n <= 0) return {};
  return Bytes(p, p + n);
}

std::string ColumnString(sqlite3_stmt* stmt, int column) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, column));
  int n = sqlite3_column_bytes(stmt, column);
  if (p == nullptr || n <= 0) return {};
  return std::string(p, static_cast<size_t>(n));
}

absl::Status CodeFor(int rc, std::string message) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return absl::UnavailableError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
    case SQLITE_TOOBIG:  // only a row edited outside Sigil is (see Open)
      return absl::DataLossError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace

// Statements prepared once per connection. Scans pick one of four shapes:
// lower bound inclusive (>= prefix) or exclusive (> start_after), with or
// without an upper bound (the prefix successor), so SQLite can always use
// the primary key as a range.
struct SqliteStore::Statements {
  sqlite3_stmt* get = nullptr;
  sqlite3_stmt* put = nullptr;
  sqlite3_stmt* del = nullptr;
  sqlite3_stmt* begin = nullptr;
  sqlite3_stmt* commit = nullptr;
  sqlite3_stmt* rollback = nullptr;
  // [exclusive_lower][has_upper]
  sqlite3_stmt* scan[2][2] = {{nullptr, nullptr}, {nullptr, nullptr}};

  ~Statements() {
    for (sqlite3_stmt* s : {get, put, del, begin, commit, rollback, scan[0][0], scan[0][1], scan[1][0], scan[1][1]}) {
      sqlite3_finalize(s);  // no-op on nullptr
    }
  }
};

// The Transaction handed to fn: runs the *Locked operations on the
// connection, whose mutex RunTransaction holds for the whole call.
class SqliteStore::SqliteTransaction final : public Transaction {
 public:
  explicit SqliteTransaction(SqliteStore& store) : store_(store) {}

  absl::StatusOr<std::optional<Bytes>> Get(std::string_view table, std::string_view key) override {
    store_.mu_.AssertHeld();
    return store_.GetLocked(table, key);
  }
  absl::StatusOr<std::vector<Entry>> Scan(std::string_view table, const ScanOptions& options) override {
    store_.mu_.AssertHeld();
    return store_.ScanLocked(table, options);
  }
  absl::Status Put(std::string_view table, std::string_view key, std::span<const uint8_t> value) override {
    store_.mu_.AssertHeld();
    return store_.PutLocked(table, key, value);
  }
  absl::Status Delete(std::string_view table, std::string_view key) override {
    store_.mu_.AssertHeld();
    return store_.DeleteLocked(table, key);
  }

 private:
  SqliteStore& store_;
};

SqliteStore::SqliteStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

SqliteStore::~SqliteStore() {
  absl::MutexLock lock(&mu_);
  stmts_.reset();
  sqlite3_close_v2(db_);
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& data_dir,
                                                               const SqliteStoreOptions& options) {
  if (data_dir.empty()) return absl::InvalidArgumentError("store: the data directory path is empty");
  std::error_code ec;
  std::filesystem::path dir(data_dir);
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return absl::UnavailableError("store: cannot create data directory " + data_dir + ": " + ec.message());
    }
    // Only the daemon's user may list or enter the data directory.
    ::chmod(data_dir.c_str(), 0700);
  } else if (!std::filesystem::is_directory(dir, ec)) {
    return absl::FailedPreconditionError("store: " + data_dir + " exists and is not a directory");
  }
  std::string path = (dir / kDatabaseFileName).string();

  // Create the file ourselves so it is 0600 from the first byte; SQLite gives
  // the -wal and -shm files the same mode as the database file.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    return absl::UnavailableError("store: cannot open " + path + ": " + std::strerror(err));
  }
  ::close(fd);

  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return CodeFor(rc, "store: cannot open " + path + ": " + msg);
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, db));
  absl::MutexLock lock(&store->mu_);
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  // No row Sigil writes is larger than its bounded key and value; one that
  // is (a database edited outside Sigil) is refused as SQLITE_TOOBIG when
  // read instead of being loaded whole (SQLite's default allows 1 GB).
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, static_cast<int>(kMaxValueSize + kMaxKeySize + 64 * 1024));

  // journal_mode answers with the mode now in force; anything but "wal"
  // (e.g. a file system without shared memory) is refused rather than
  // silently running with weaker durability.
  std::string mode;
  char* err = nullptr;
  rc = sqlite3_exec(
      db, "PRAGMA journal_mode=WAL;",
      [](void* out, int n, char** values, char**) {
        if (n > 0 && values[0] != nullptr) *static_cast<std::string*>(out) = values[0];
        return 0;
      },
      &mode, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return CodeFor(rc, "store: cannot use " + path + ": " + msg);
  }
  if (mode != "wal") {
    return absl::FailedPreconditionError("store: " + path + " cannot use write-ahead logging (journal mode is '" +
                                         mode + "'); put the data directory on a local file system");
  }
  RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL;", "set synchronous=FULL"));
  RETURN_IF_ERROR(store->Migrate());
  RETURN_IF_ERROR(store->Prepare());
  return store;
}

absl::Status SqliteStore::Error(int rc, std::string_view what) {
  return CodeFor(rc, "store: " + std::string(what) + " failed in " + path_ + ": " + sqlite3_errmsg(db_));
}

absl::Status SqliteStore::Exec(const char* sql, std::string_view what) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, what);
  return absl::OkStatus();
}

absl::Status SqliteStore::Migrate() {
  // Read the version without writing, so opening an up-to-date database
  // leaves its file untouched.
  auto read_version = [this]() -> absl::StatusOr<int> {
    mu_.AssertHeld();
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(
        db_, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_version';", -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, "read the schema");
    rc = sqlite3_step(stmt);
    int64_t has_table = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW) return Error(rc, "read the schema");
    if (has_table == 0) return 0;
    rc = sqlite3_prepare_v2(db_, "SELECT max(version) FROM schema_version;", -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, "read the schema version");
    rc = sqlite3_step(stmt);
    int version = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW) return Error(rc, "read the schema version");
    return version;
  };

  ASSIGN_OR_RETURN(int version, read_version());
  if (version == kSchemaVersion) {
    schema_version_ = version;
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE;", "begin the schema migration"));
  auto migrate = [&]() -> absl::Status {
    mu_.AssertHeld();
    // Another process may have migrated while we waited for the lock.
    ASSIGN_OR_RETURN(version, read_version());
    if (version > kSchemaVersion) {
      return absl::FailedPreconditionError("store: " + path_ + " has schema version " + std::to_string(version) +
                                           ", newer than this Sigil understands (" +
                                           std::to_string(kSchemaVersion) + "); upgrade Sigil");
    }
    RETURN_IF_ERROR(Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);",
                         "create the schema_version table"));
    for (const Migration& m : kMigrations) {
      if (m.version <= version) continue;
      RETURN_IF_ERROR(Exec(m.sql, "migrate the schema to version " + std::to_string(m.version)));
    }
    RETURN_IF_ERROR(Exec("DELETE FROM schema_version;", "record the schema version"));
    std::string insert = "INSERT INTO schema_version(version) VALUES(" + std::to_string(kSchemaVersion) + ");";
    RETURN_IF_ERROR(Exec(insert.c_str(), "record the schema version"));
    return Exec("COMMIT;", "commit the schema migration");
  };
  absl::Status st = migrate();
  if (!st.ok()) {
    if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK;", nullptr, nullptr, nullptr);
    return st;
  }
  schema_version_ = kSchemaVersion;
  return absl::OkStatus();
}

absl::Status SqliteStore::Prepare() {
  auto stmts = std::make_unique<Statements>();
  auto prep = [this](const char* sql, sqlite3_stmt** out) -> absl::Status {
    mu_.AssertHeld();
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, out, nullptr);
    if (rc != SQLITE_OK) return Error(rc, "prepare a statement");
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(prep("SELECT value FROM kv WHERE tbl = ?1 AND key = ?2;", &stmts->get));
  RETURN_IF_ERROR(prep("INSERT OR REPLACE INTO kv(tbl, key, value) VALUES(?1, ?2, ?3);", &stmts->put));
  RETURN_IF_ERROR(prep("DELETE FROM kv WHERE tbl = ?1 AND key = ?2;", &stmts->del));
  RETURN_IF_ERROR(prep("BEGIN IMMEDIATE;", &stmts->begin));
  RETURN_IF_ERROR(prep("COMMIT;", &stmts->commit));
  RETURN_IF_ERROR(prep("ROLLBACK;", &stmts->rollback));
  RETURN_IF_ERROR(prep("SELECT key, value FROM kv WHERE tbl = ?1 AND key >= ?2 ORDER BY key LIMIT ?4;",
                       &stmts->scan[0][0]));
  RETURN_IF_ERROR(prep("SELECT key, value FROM kv WHERE tbl = ?1 AND key >= ?2 AND key < ?3 ORDER BY key LIMIT ?4;",
                       &stmts->scan[0][1]));
  RETURN_IF_ERROR(prep("SELECT key, value FROM kv WHERE tbl = ?1 AND key > ?2 ORDER BY key LIMIT ?4;",
                       &stmts->scan[1][0]));
  RETURN_IF_ERROR(prep("SELECT key, value FROM kv WHERE tbl = ?1 AND key > ?2 AND key < ?3 ORDER BY key LIMIT ?4;",
                       &stmts->scan[1][1]));
  stmts_ = std::move(stmts);
  return absl::OkStatus();
}

int SqliteStore::schema_version() const {
  absl::MutexLock lock(&mu_);
  return schema_version_;
}

absl::StatusOr<std::optional<Bytes>> SqliteStore::GetLocked(std::string_view table, std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(table, key));
  sqlite3_stmt* stmt = stmts_->get;
  StatementScope scope(stmt);
  BindText(stmt, 1, table);
  BindBlob(stmt, 2, key);
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return std::optional<Bytes>();
  if (rc != SQLITE_ROW) return Error(rc, "read from table '" + std::string(table) + "'");
  return std::optional<Bytes>(ColumnBytes(stmt, 0));
}

absl::StatusOr<std::vector<Entry>> SqliteStore::ScanLocked(std::string_view table, const ScanOptions& options) {
  RETURN_IF_ERROR(ValidateTableName(table));
  if (options.prefix.size() > kMaxKeySize || options.start_after.size() > kMaxKeySize) {
    return absl::InvalidArgumentError("store: scan bounds longer than the key limit");
  }
  // The tighter of the two lower bounds: start_after (exclusive) if it sorts
  // at or after the prefix, otherwise the prefix itself (inclusive).
  bool exclusive = !options.start_after.empty() && options.start_after >= options.prefix;
  const std::string& lower = exclusive ? options.start_after : options.prefix;
  std::optional<std::string> upper = PrefixSuccessor(options.prefix);
  sqlite3_stmt* stmt = stmts_->scan[exclusive ? 1 : 0][upper.has_value() ? 1 : 0];
  StatementScope scope(stmt);
  BindText(stmt, 1, table);
  BindBlob(stmt, 2, lower);
  if (upper.has_value()) BindBlob(stmt, 3, *upper);
  sqlite3_bind_int64(stmt, 4, options.limit == 0 ? -1 : static_cast<int64_t>(options.limit));
  std::vector<Entry> out;
  while (true) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return Error(rc, "scan table '" + std::string(table) + "'");
    out.push_back(Entry{ColumnString(stmt, 0), ColumnBytes(stmt, 1)});
  }
  return out;
}

absl::Status SqliteStore::PutLocked(std::string_view table, std::string_view key, std::span<const uint8_t> value) {
  RETURN_IF_ERROR(ValidateValue(table, key, value));
  sqlite3_stmt* stmt = stmts_->put;
  StatementScope scope(stmt);
  BindText(stmt, 1, table);
  BindBlob(stmt, 2, key);
  BindBlob(stmt, 3, value);
  int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) return Error(rc, "write to table '" + std::string(table) + "'");
  return absl::OkStatus();
}

absl::Status SqliteStore::DeleteLocked(std::string_view table, std::string_view key) {
  RETURN_IF_ERROR(ValidateKey(table, key));
  sqlite3_stmt* stmt = stmts_->del;
  StatementScope scope(stmt);
  BindText(stmt, 1, table);
  BindBlob(stmt, 2, key);
  int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) return Error(rc, "delete from table '" + std::string(table) + "'");
  return absl::OkStatus();
}

absl::Status SqliteStore::RunLocked(const TransactionFn& fn) {
  auto step = [this](sqlite3_stmt* stmt, std::string_view what) -> absl::Status {
    mu_.AssertHeld();
    StatementScope scope(stmt);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) return Error(rc, what);
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(step(stmts_->begin, "begin a transaction"));
  // Whatever happens below (an error from fn, a failed commit), the
  // connection leaves this function outside any transaction.
  struct RollbackGuard {
    SqliteStore* store;
    ~RollbackGuard() {
      store->mu_.AssertHeld();
      if (sqlite3_get_autocommit(store->db_) == 0) {
        StatementScope scope(store->stmts_->rollback);
        sqlite3_step(store->stmts_->rollback);
      }
    }
  } guard{this};
  SqliteTransaction tx(*this);
  RETURN_IF_ERROR(fn(tx));
  return step(stmts_->commit, "commit a transaction");
}

absl::StatusOr<std::optional<Bytes>> SqliteStore::Get(std::string_view table, std::string_view key) {
  absl::MutexLock lock(&mu_);
  return GetLocked(table, key);
}

absl::StatusOr<std::vector<Entry>> SqliteStore::Scan(std::string_view table, const ScanOptions& options) {
  absl::MutexLock lock(&mu_);
  return ScanLocked(table, options);
}

absl::Status SqliteStore::Put(std::string_view table, std::string_view key, std::span<const uint8_t> value) {
  absl::MutexLock lock(&mu_);
  return PutLocked(table, key, value);  // one statement in autocommit mode: its own durable transaction
}

absl::Status SqliteStore::Delete(std::string_view table, std::string_view key) {
  absl::MutexLock lock(&mu_);
  return DeleteLocked(table, key);
}

absl::Status SqliteStore::RunTransaction(const TransactionFn& fn) {
  absl::MutexLock lock(&mu_);
  return RunLocked(fn);
}

}  // namespace sigil::store
