#include "store/sqlite_store.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>

#include "store/store_contract_test.h"

namespace sigil::store {
namespace {

std::unique_ptr<Store> MakeSqlite(const std::string& dir) {
  auto store = SqliteStore::Open(dir + "/data", SqliteStoreOptions{});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(store).value() : nullptr;
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest, ::testing::Values(StoreFactory{"sqlite", MakeSqlite}),
                         [](const auto& info) { return info.param.name; });

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sigil-sqlite-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    data_ = root_ + "/data";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  std::unique_ptr<SqliteStore> OpenStore() {
    auto store = SqliteStore::Open(data_, SqliteStoreOptions{});
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  // Runs SQL directly against the database file, outside the store.
  void RawSql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((data_ + "/sigil.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  std::string root_;
  std::string data_;
};

TEST_F(SqliteStoreTest, CreatesPrivateDirectoryAndFile) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("t", "k", B("v")).ok());
  struct stat st {};
  ASSERT_EQ(::stat(data_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(store->database_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((store->database_path() + "-wal").c_str(), &st), 0) << "WAL mode is in force";
  EXPECT_EQ(st.st_mode & 0077, 0u);
  EXPECT_EQ(store->schema_version(), SqliteStore::kSchemaVersion);
}

// A value larger than any Sigil writes (the file edited outside Sigil) is
// refused when read, not loaded: SQLite's default limit is 1 GB.
TEST_F(SqliteStoreTest, AnOversizedRowIsRefusedNotLoaded) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Put("t", "big", B("small")).ok());
    ASSERT_TRUE(store->Put("t", "ok", B("fine")).ok());
  }
  RawSql("UPDATE kv SET value = zeroblob(" + std::to_string(kMaxValueSize + (1 << 20)) + ") WHERE key = CAST('big' AS BLOB);");
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get("t", "big").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store->Scan("t", {}).status().code(), absl::StatusCode::kDataLoss);
  auto fine = store->Get("t", "ok");
  ASSERT_TRUE(fine.ok()) << fine.status();
  ASSERT_TRUE(fine->has_value());
}

TEST_F(SqliteStoreTest, DataSurvivesReopen) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->RunTransaction([](Transaction& tx) -> absl::Status {
                       RETURN_IF_ERROR(tx.Put("t", "a", B("1")));
                       return tx.Put("u", "b", B("2"));
                     })
                    .ok());
  }
  auto store = OpenStore();
  EXPECT_EQ(**store->Get("t", "a"), B("1"));
  EXPECT_EQ(**store->Get("u", "b"), B("2"));
}

TEST_F(SqliteStoreTest, RecordsSchemaVersionInItsTable) {
  { auto store = OpenStore(); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_ + "/sigil.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT version FROM schema_version;", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), SqliteStore::kSchemaVersion);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << "exactly one version row";
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, RefusesDatabaseFromNewerVersion) {
  { auto store = OpenStore(); }
  RawSql("UPDATE schema_version SET version = 99;");
  auto store = SqliteStore::Open(data_, SqliteStoreOptions{});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), ::testing::HasSubstr("upgrade Sigil"));
}

TEST_F(SqliteStoreTest, MigratesAnOldDatabaseWithoutVersionTable) {
  // A version-0 database: created by hand with nothing in it.
  std::filesystem::create_directories(data_);
  RawSql("CREATE TABLE unrelated(x);");
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), SqliteStore::kSchemaVersion);
  EXPECT_TRUE(store->Put("t", "k", B("v")).ok());
}

TEST_F(SqliteStoreTest, NotADatabaseIsDataLoss) {
  std::filesystem::create_directories(data_);
  std::ofstream(data_ + "/sigil.db") << std::string(8192, 'x');
  auto store = SqliteStore::Open(data_, SqliteStoreOptions{});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
}

TEST_F(SqliteStoreTest, DataDirThatIsAFileIsRefused) {
  std::ofstream(data_) << "not a directory";
  auto store = SqliteStore::Open(data_, SqliteStoreOptions{});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
}

// A file-size limit makes every write past it fail with EFBIG, the way a full
// disk does, even for root (who ignores permission bits).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old_);
    rlimit lim = old_;
    lim.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  sighandler_t old_handler_;
};

TEST_F(SqliteStoreTest, UnwritableDiskIsUnavailableAndRecovers) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Put("t", "before", B("ok")).ok());
  Bytes big(2 << 20, 0x5a);
  {
    FileSizeLimit limit(256 * 1024);
    absl::Status st = store->Put("t", "big", big);
    EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
    st = store->RunTransaction([&](Transaction& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.Put("t", "small", B("x")));
      return tx.Put("t", "big", big);
    });
    EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  }
  EXPECT_FALSE(store->Get("t", "big")->has_value());
  EXPECT_FALSE(store->Get("t", "small")->has_value()) << "the failed transaction left nothing behind";
  EXPECT_EQ(**store->Get("t", "before"), B("ok"));
  // Once the disk has room again the same store writes without a restart.
  EXPECT_TRUE(store->Put("t", "big", big).ok());
  EXPECT_EQ(store->Get("t", "big")->value().size(), big.size());
}

// A child process commits transactions and acknowledges each one over a pipe
// only after RunTransaction returned; the parent kills it with SIGKILL at a
// random point. Every acknowledged transaction must be there, whole, and no
// transaction may be there in part.
TEST_F(SqliteStoreTest, CommittedTransactionsSurviveKill9) {
  { auto store = OpenStore(); }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    auto store = SqliteStore::Open(data_, SqliteStoreOptions{});
    if (!store.ok()) _exit(2);
    for (uint32_t i = 0;; ++i) {
      std::string n = std::to_string(i);
      absl::Status st = (*store)->RunTransaction([&](Transaction& tx) -> absl::Status {
        RETURN_IF_ERROR(tx.Put("a", n, B(n)));
        return tx.Put("b", n, Bytes(4096, 0x42));
      });
      if (!st.ok()) _exit(3);
      if (write(fds[1], &i, sizeof i) != sizeof i) _exit(4);
    }
  }
  close(fds[1]);
  uint32_t last = 0;
  int acks = 0;
  while (acks < 150 && read(fds[0], &last, sizeof last) == sizeof last) ++acks;
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
  ASSERT_EQ(acks, 150);

  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto a = store->Scan("a", {});
  auto b = store->Scan("b", {});
  ASSERT_TRUE(a.ok() && b.ok());
  std::set<std::string> a_keys, b_keys;
  for (const auto& e : *a) a_keys.insert(e.key);
  for (const auto& e : *b) b_keys.insert(e.key);
  EXPECT_EQ(a_keys, b_keys) << "a transaction was applied in part";
  for (uint32_t i = 0; i <= last; ++i) {
    EXPECT_TRUE(a_keys.count(std::to_string(i))) << "acknowledged transaction " << i << " lost";
  }
}

}  // namespace
}  // namespace sigil::store
