#include "policy/file_ledger_journal.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "policy/ledger.h"

namespace sigil::policy {
namespace {

class FileJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sigil-ledger-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/ledger.jsonl";
  }
  // Makes `journal`'s fdatasync fail with EIO while `fail` is set.
  static void FailSyncsWhile(FileLedgerJournal& journal, const std::atomic<bool>& fail) {
    journal.SetFdatasyncForTesting([&fail](int fd) {
      if (fail) {
        errno = EIO;
        return -1;
      }
      return ::fdatasync(fd);
    });
  }
  void TearDown() override {
    std::remove(path_.c_str());
    std::remove((path_ + ".tmp").c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_, path_;
};

LedgerRecord CommitRecord(ReservationId id) {
  LedgerRecord r;
  r.type = LedgerRecord::Type::kCommit;
  r.id = id;
  return r;
}

BudgetCharge Charge(uint64_t amount) { return BudgetCharge{"acct", absl::Hours(24), Uint256(amount), Uint256(1000)}; }

Uint256 Spent(Ledger& l) {
  BudgetCharge c = Charge(0);
  return l.Spent(std::span<const BudgetCharge>(&c, 1))[0];
}

// Many threads appending at once share syncs; every record that Append
// reported comes back once, lazily appended ones included.
TEST_F(FileJournalTest, ConcurrentAppendsAreAllReadBack) {
  auto journal = FileLedgerJournal::Open(path_);
  ASSERT_TRUE(journal.ok());
  constexpr int kThreads = 16, kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const ReservationId id = static_cast<ReservationId>(t * kEach + i + 1);
        LedgerRecord r{LedgerRecord::Type::kReserve, id, 1, {LedgerCharge{"a", absl::Hours(1), Uint256(id)}}};
        ASSERT_TRUE((*journal)->Append(r).ok());
        ASSERT_TRUE((*journal)->AppendLazily(LedgerRecord{LedgerRecord::Type::kCommit, id, 0, {}}).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto again = FileLedgerJournal::Open(path_);
  ASSERT_TRUE(again.ok());
  auto records = (*again)->ReadAll();
  ASSERT_TRUE(records.ok()) << records.status();
  std::set<ReservationId> reserved, committed;
  for (const LedgerRecord& r : *records) {
    auto& set = r.type == LedgerRecord::Type::kReserve ? reserved : committed;
    EXPECT_TRUE(set.insert(r.id).second) << "record " << r.id << " twice";
  }
  EXPECT_EQ(reserved.size(), size_t{kThreads * kEach});
  EXPECT_EQ(committed.size(), size_t{kThreads * kEach});
}

// Deferred appends from many threads: tickets increase in append order, and
// every record a SyncThrough covered comes back, with the plain appends.
TEST_F(FileJournalTest, DeferredAppendsAndSyncsFromManyThreads) {
  auto journal = FileLedgerJournal::Open(path_).value();
  EXPECT_TRUE(journal->SyncAll().ok());  // nothing written yet
  EXPECT_TRUE(journal->SyncThrough(0).ok());
  constexpr int kThreads = 8, kEach = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      uint64_t last = 0;
      for (int i = 0; i < kEach; ++i) {
        const ReservationId id = static_cast<ReservationId>(t * kEach + i + 1);
        LedgerRecord r{LedgerRecord::Type::kReserve, id, 1, {LedgerCharge{"a", absl::Hours(1), Uint256(id)}}};
        auto ticket = journal->AppendDeferred(r);
        ASSERT_TRUE(ticket.ok()) << ticket.status();
        EXPECT_GT(*ticket, last);
        last = *ticket;
        ASSERT_TRUE(i % 2 == 0 ? journal->SyncThrough(*ticket).ok() : journal->SyncAll().ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(journal->Append(LedgerRecord{LedgerRecord::Type::kCommit, 1, 0, {}}).ok());
  journal.reset();
  auto records = FileLedgerJournal::Open(path_).value()->ReadAll();
  ASSERT_TRUE(records.ok()) << records.status();
  std::set<ReservationId> reserved;
  for (const LedgerRecord& r : *records) {
    if (r.type == LedgerRecord::Type::kReserve) {
      EXPECT_TRUE(reserved.insert(r.id).second);
    }
  }
  EXPECT_EQ(reserved.size(), size_t{kThreads * kEach});
  EXPECT_EQ(records->size(), size_t{kThreads * kEach + 1});
}

TEST_F(FileJournalTest, AppendReadRewrite) {
  auto j = FileLedgerJournal::Open(path_).value();
  LedgerRecord r{LedgerRecord::Type::kReserve, 1, 5, {LedgerCharge{"a", absl::Hours(1), Uint256(3)}}};
  ASSERT_TRUE(j->Append(r).ok());
  ASSERT_TRUE(j->Append(LedgerRecord{LedgerRecord::Type::kCommit, 1, 0, {}}).ok());
  auto all = j->ReadAll().value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], r);
  std::vector<LedgerRecord> fresh = {LedgerRecord{LedgerRecord::Type::kIdFloor, 9, 0, {}}};
  ASSERT_TRUE(j->Rewrite(fresh).ok());
  ASSERT_TRUE(j->Append(r).ok());  // appends go to the new file
  all = j->ReadAll().value();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].type, LedgerRecord::Type::kIdFloor);
  // Reopening reads the same.
  j.reset();
  EXPECT_EQ(FileLedgerJournal::Open(path_).value()->ReadAll().value().size(), 2u);
}

LedgerRecord Reserve(ReservationId id) {
  return LedgerRecord{LedgerRecord::Type::kReserve, id, 1, {LedgerCharge{"a", absl::Hours(1), Uint256(id)}}};
}

// A rewrite keeps what was appended after BeginRewrite, after the snapshot,
// and what it carried over stays durable with the same tickets.
TEST_F(FileJournalTest, RewriteKeepsRecordsAppendedWhileItRan) {
  auto j = FileLedgerJournal::Open(path_).value();
  for (ReservationId id = 1; id <= 4; ++id) ASSERT_TRUE(j->Append(Reserve(id)).ok());
  ASSERT_TRUE(j->BeginRewrite());
  EXPECT_FALSE(j->BeginRewrite());  // one at a time
  ASSERT_TRUE(j->Append(Reserve(5)).ok());
  auto ticket = j->AppendDeferred(Reserve(6));
  ASSERT_TRUE(ticket.ok());
  ASSERT_TRUE(j->AppendLazily(LedgerRecord{LedgerRecord::Type::kCommit, 5, 0, {}}).ok());
  const std::vector<LedgerRecord> snapshot = {LedgerRecord{LedgerRecord::Type::kIdFloor, 5, 0, {}}, Reserve(4)};
  ASSERT_TRUE(j->FinishRewrite(snapshot).ok());
  EXPECT_TRUE(j->SyncThrough(*ticket).ok());
  ASSERT_TRUE(j->Append(Reserve(7)).ok());  // appends go to the new file
  std::vector<LedgerRecord> want = snapshot;
  want.push_back(Reserve(5));
  want.push_back(Reserve(6));
  want.push_back(LedgerRecord{LedgerRecord::Type::kCommit, 5, 0, {}});
  want.push_back(Reserve(7));
  j.reset();
  EXPECT_EQ(FileLedgerJournal::Open(path_).value()->ReadAll().value(), want);
  EXPECT_NE(access((path_ + ".tmp").c_str(), F_OK), 0);
  EXPECT_EQ(FileLedgerJournal::Open(path_).value()->FinishRewrite(snapshot).code(),
            absl::StatusCode::kFailedPrecondition);  // nothing begun
}

// Threads append while another thread rewrites again and again, with each
// rewrite's snapshot empty: after every rewrite that returned OK, each
// record whose Append started after BeginRewrite and returned OK before the
// check is in the file. With a tiny bound on the kept lines many rewrites
// overflow; those must fail and lose nothing either (the old file stays).
TEST_F(FileJournalTest, RewritesRacingAppendsLoseNothing) {
  for (size_t bound : {size_t{400}, size_t{1} << 20}) {
    std::remove(path_.c_str());
    auto j = FileLedgerJournal::Open(path_, bound).value();
    constexpr int kThreads = 4;
    constexpr uint64_t kPerThread = uint64_t{1} << 32;
    std::atomic<uint64_t> last[kThreads];
    for (auto& l : last) l = 0;
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (uint64_t i = 1; !stop.load(); ++i) {
          const ReservationId id = static_cast<ReservationId>(t) * kPerThread + i;
          if (i % 2) {
            ASSERT_TRUE(j->Append(Reserve(id)).ok());
          } else {
            auto ticket = j->AppendDeferred(Reserve(id));
            ASSERT_TRUE(ticket.ok());
            ASSERT_TRUE(j->SyncThrough(*ticket).ok());
          }
          last[t] = i;
        }
      });
    }
    int ok = 0, refused = 0, lost = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(600);
    while (std::chrono::steady_clock::now() < until || ok == 0) {
      ASSERT_TRUE(j->BeginRewrite());
      uint64_t before[kThreads];
      for (int t = 0; t < kThreads; ++t) before[t] = last[t].load();
      absl::Status st = j->FinishRewrite({});
      if (!st.ok()) {
        ASSERT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
        ++refused;
        continue;
      }
      ++ok;
      uint64_t after[kThreads];
      for (int t = 0; t < kThreads; ++t) after[t] = last[t].load();
      auto records = j->ReadAll();
      ASSERT_TRUE(records.ok()) << records.status();
      std::set<ReservationId> have;
      for (const LedgerRecord& r : *records) EXPECT_TRUE(have.insert(r.id).second) << "record " << r.id << " twice";
      for (int t = 0; t < kThreads; ++t) {
        // before[t] + 1 may have been under way when the rewrite began.
        for (uint64_t i = before[t] + 2; i <= after[t]; ++i) {
          lost += !have.contains(static_cast<ReservationId>(t) * kPerThread + i);
        }
      }
    }
    stop = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(lost, 0) << "bound " << bound << ": " << ok << " rewrites, " << refused << " refused";
    EXPECT_GT(ok, 0);
    if (bound > 1000) {
      EXPECT_EQ(refused, 0);
    }
  }
}

// A rewrite that cannot finish leaves the old journal whole and working.
TEST_F(FileJournalTest, FailedRewriteKeepsTheOldJournal) {
  auto j = FileLedgerJournal::Open(path_, /*max_rewrite_tail_bytes=*/200).value();
  ASSERT_TRUE(j->Append(Reserve(1)).ok());
  // The temporary file cannot be created: a directory is in the way.
  ASSERT_EQ(mkdir((path_ + ".tmp").c_str(), 0700), 0);
  ASSERT_TRUE(j->BeginRewrite());
  ASSERT_TRUE(j->Append(Reserve(2)).ok());
  EXPECT_EQ(j->FinishRewrite({}).code(), absl::StatusCode::kUnavailable);
  ASSERT_EQ(rmdir((path_ + ".tmp").c_str()), 0);
  ASSERT_TRUE(j->Append(Reserve(3)).ok());
  // More appended during a rewrite than the bound: refused, old file kept.
  ASSERT_TRUE(j->BeginRewrite());
  for (ReservationId id = 4; id <= 8; ++id) ASSERT_TRUE(j->Append(Reserve(id)).ok());
  absl::Status st = j->FinishRewrite({});
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_NE(access((path_ + ".tmp").c_str(), F_OK), 0);
  ASSERT_TRUE(j->Append(Reserve(9)).ok());
  auto all = j->ReadAll().value();
  ASSERT_EQ(all.size(), 9u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], Reserve(i + 1));
  // And a rewrite works again once nothing is in its way.
  ASSERT_TRUE(j->Rewrite(std::vector<LedgerRecord>{Reserve(9)}).ok());
  EXPECT_EQ(j->ReadAll().value(), std::vector<LedgerRecord>{Reserve(9)});
}

// A line that was in a failed fdatasync is never reported durable, not
// even after a later sync succeeds (Linux may drop the failed pages and then
// report the next fdatasync as a success without them): its reservation
// must not let a signature leave. Lines synced before the failure, and lines
// written after it, are not affected.
TEST_F(FileJournalTest, ALineInAFailedSyncStaysInDoubt) {
  auto j = FileLedgerJournal::Open(path_);
  ASSERT_TRUE(j.ok()) << j.status();
  auto before = (*j)->AppendDeferred(CommitRecord(1));
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE((*j)->SyncAll().ok());

  std::atomic<bool> fail{true};
  FailSyncsWhile(**j, fail);
  auto doubtful = (*j)->AppendDeferred(CommitRecord(2));
  ASSERT_TRUE(doubtful.ok());
  EXPECT_TRUE(absl::IsUnavailable((*j)->SyncThrough(*doubtful)));
  fail = false;
  auto after = (*j)->AppendDeferred(CommitRecord(3));
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE((*j)->SyncAll().ok());  // a barrier: it does not vouch for line 2
  EXPECT_TRUE((*j)->SyncThrough(*after).ok());
  EXPECT_TRUE((*j)->SyncThrough(*before).ok());
  absl::Status st = (*j)->SyncThrough(*doubtful);
  EXPECT_TRUE(absl::IsUnavailable(st)) << st;
  EXPECT_NE(std::string(st.message()).find("fdatasync failed"), std::string::npos) << st;
  (*j)->SetFdatasyncForTesting(nullptr);
}

// A line written while the failing fdatasync ran may share a failed page:
// it is in doubt too, though the failed sync's target was taken before it.
TEST_F(FileJournalTest, ALineWrittenDuringAFailedSyncStaysInDoubt) {
  auto j = FileLedgerJournal::Open(path_);
  ASSERT_TRUE(j.ok()) << j.status();
  ASSERT_TRUE((*j)->AppendDeferred(CommitRecord(1)).ok());
  std::atomic<bool> fail{true};
  std::optional<uint64_t> during;
  FileLedgerJournal* journal = j->get();
  journal->SetFdatasyncForTesting([&](int fd) {
    if (!fail) return ::fdatasync(fd);
    auto ticket = journal->AppendDeferred(CommitRecord(2));  // the journal's lock is not held here
    if (ticket.ok()) during = *ticket;
    errno = EIO;
    return -1;
  });
  EXPECT_FALSE(journal->SyncAll().ok());
  ASSERT_TRUE(during.has_value());
  fail = false;
  auto after = journal->AppendDeferred(CommitRecord(3));
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(journal->SyncAll().ok());
  EXPECT_TRUE(journal->SyncThrough(*after).ok());
  EXPECT_TRUE(absl::IsUnavailable(journal->SyncThrough(*during)));
  journal->SetFdatasyncForTesting(nullptr);
}

// Two failed syncs with a good one between: the lines the good one made
// durable are not in doubt (they were once, with one range spanning both
// failures); the lines of each failed sync are. Many failures stay bounded.
TEST_F(FileJournalTest, ALineSyncedBetweenTwoFailedSyncsIsNotInDoubt) {
  auto j = FileLedgerJournal::Open(path_);
  ASSERT_TRUE(j.ok()) << j.status();
  std::atomic<bool> fail{false};
  FailSyncsWhile(**j, fail);
  auto line = [&](int id) {
    auto t = (*j)->AppendDeferred(CommitRecord(id));
    EXPECT_TRUE(t.ok());
    return t.value_or(0);
  };
  fail = true;
  const uint64_t first_failed = line(1);
  EXPECT_FALSE((*j)->SyncAll().ok());
  fail = false;
  const uint64_t good = line(2);
  EXPECT_TRUE((*j)->SyncAll().ok());
  fail = true;
  const uint64_t second_failed = line(3);
  EXPECT_FALSE((*j)->SyncAll().ok());
  fail = false;
  const uint64_t after = line(4);
  EXPECT_TRUE((*j)->SyncAll().ok());
  EXPECT_TRUE((*j)->SyncThrough(good).ok());
  EXPECT_TRUE((*j)->SyncThrough(after).ok());
  EXPECT_TRUE(absl::IsUnavailable((*j)->SyncThrough(first_failed)));
  EXPECT_TRUE(absl::IsUnavailable((*j)->SyncThrough(second_failed)));

  // A hundred alternating failures: every failed line stays in doubt.
  std::vector<uint64_t> failed;
  for (int i = 0; i < 100; ++i) {
    fail = true;
    failed.push_back(line(10 + 2 * i));
    EXPECT_FALSE((*j)->SyncAll().ok());
    fail = false;
    line(11 + 2 * i);
    EXPECT_TRUE((*j)->SyncAll().ok());
  }
  for (uint64_t f : failed) EXPECT_TRUE(absl::IsUnavailable((*j)->SyncThrough(f))) << f;
  (*j)->SetFdatasyncForTesting(nullptr);
}

TEST_F(FileJournalTest, TornLastLineIsIgnoredCorruptionIsNot) {
  auto j = FileLedgerJournal::Open(path_).value();
  ASSERT_TRUE(j->Append(LedgerRecord{LedgerRecord::Type::kCommit, 1, 0, {}}).ok());
  {
    std::ofstream out(path_, std::ios::app);
    out << R"({"t":"reserve","id":2,"ts":1,"c":[{"a":)";  // a crash mid-append
  }
  EXPECT_EQ(j->ReadAll().value().size(), 1u);
  // The restart cuts the fragment off, so the next append is a line of its
  // own and the restart after that reads every record.
  j.reset();
  j = FileLedgerJournal::Open(path_).value();
  ASSERT_TRUE(j->Append(LedgerRecord{LedgerRecord::Type::kCommit, 3, 0, {}}).ok());
  j.reset();
  j = FileLedgerJournal::Open(path_).value();
  auto records = j->ReadAll();
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[1].id, 3u);
  {
    std::ofstream out(path_, std::ios::app);
    out << "\ngarbage\n";
  }
  EXPECT_EQ(j->ReadAll().status().code(), absl::StatusCode::kDataLoss);
}

// The cut looks back past more than one read for the last newline, and a
// file that is one torn line is emptied.
TEST_F(FileJournalTest, OpenCutsALongTornLine) {
  auto j = FileLedgerJournal::Open(path_).value();
  ASSERT_TRUE(j->Append(LedgerRecord{LedgerRecord::Type::kCommit, 1, 0, {}}).ok());
  j.reset();
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  const off_t whole = st.st_size;
  {
    std::ofstream out(path_, std::ios::app);
    out << std::string(10000, 'x');
  }
  j = FileLedgerJournal::Open(path_).value();
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, whole);
  j.reset();
  ASSERT_EQ(truncate(path_.c_str(), 0), 0);
  {
    std::ofstream out(path_, std::ios::app);
    out << std::string(5000, 'y');
  }
  j = FileLedgerJournal::Open(path_).value();
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
  EXPECT_TRUE(j->ReadAll().value().empty());
}

TEST_F(FileJournalTest, UnwritablePathIsUnavailable) {
  EXPECT_EQ(FileLedgerJournal::Open("/nonexistent-dir/x/ledger").status().code(), absl::StatusCode::kUnavailable);
}

// Invariant 4 across kill -9: a child process reserves (durably), "signs",
// and is killed before it can commit. The parent restarts the ledger from
// the file: the reservation counts as spent.
TEST_F(FileJournalTest, KillNineBetweenReserveAndCommit) {
  FakeClock clock;
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipefd[0]);
    auto journal = FileLedgerJournal::Open(path_);
    if (!journal.ok()) _exit(2);
    auto ledger = Ledger::Open(**journal, clock);
    if (!ledger.ok()) _exit(3);
    std::vector<BudgetCharge> c = {Charge(300)};
    auto committed = (*ledger)->Reserve(c);
    if (!committed.ok() || !committed->id || !(*ledger)->Commit(*committed->id).ok()) _exit(4);
    auto released = (*ledger)->Reserve(c);
    if (!released.ok() || !released->id || !(*ledger)->Release(*released->id).ok()) _exit(5);
    auto in_flight = (*ledger)->Reserve(c);
    if (!in_flight.ok() || !in_flight->id) _exit(6);
    char ok = 'k';
    if (write(pipefd[1], &ok, 1) != 1) _exit(7);
    raise(SIGKILL);  // the signature "left"; Commit never ran
    _exit(8);
  }
  close(pipefd[1]);
  char buf = 0;
  ASSERT_EQ(read(pipefd[0], &buf, 1), 1);
  close(pipefd[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_EQ(WTERMSIG(status), SIGKILL);

  auto journal = FileLedgerJournal::Open(path_).value();
  auto ledger = Ledger::Open(*journal, clock).value();
  EXPECT_EQ(Spent(*ledger), Uint256(600));  // committed + in flight; not the released one
  std::vector<BudgetCharge> c = {Charge(401)};
  EXPECT_FALSE(ledger->Reserve(c)->id);
  std::vector<BudgetCharge> fits = {Charge(400)};
  EXPECT_TRUE(ledger->Reserve(fits)->id);
}

}  // namespace
}  // namespace sigil::policy
