#include "policy/ledger.h"

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace sigil::policy {
namespace {

using ::testing::HasSubstr;

Uint256 U(uint64_t v) { return Uint256(v); }

BudgetCharge Charge(const std::string& account, absl::Duration window, uint64_t amount, std::optional<uint64_t> limit) {
  BudgetCharge c{account, window, U(amount), std::nullopt};
  if (limit) c.limit = U(*limit);
  return c;
}

Uint256 SpentOf(Ledger& ledger, const std::string& account, absl::Duration window) {
  BudgetCharge c{account, window, U(0), std::nullopt};
  return ledger.Spent(std::span<const BudgetCharge>(&c, 1))[0];
}

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override { ledger_ = Ledger::Open(journal_, clock_).value(); }
  std::unique_ptr<Ledger> Restart() { return Ledger::Open(journal_, clock_).value(); }

  FakeClock clock_;
  MemoryLedgerJournal journal_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerTest, ReserveWithinLimitRecordsSpend) {
  std::vector<BudgetCharge> charges = {Charge("a", absl::Hours(24), 7, 10)};
  auto out = ledger_->Reserve(charges);
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(out->id.has_value());
  EXPECT_EQ(out->spent[0], U(0));
  EXPECT_EQ(SpentOf(*ledger_, "a", absl::Hours(24)), U(7));
  ASSERT_TRUE(ledger_->Commit(*out->id).ok());
  EXPECT_EQ(SpentOf(*ledger_, "a", absl::Hours(24)), U(7));
  EXPECT_EQ(ledger_->pending_count(), 0u);
}

TEST_F(LedgerTest, ExactLimitFitsOneMoreDoesNot) {
  std::vector<BudgetCharge> seven = {Charge("a", absl::Hours(1), 7, 10)};
  std::vector<BudgetCharge> three = {Charge("a", absl::Hours(1), 3, 10)};
  std::vector<BudgetCharge> one = {Charge("a", absl::Hours(1), 1, 10)};
  ASSERT_TRUE(ledger_->Reserve(seven)->id);
  ASSERT_TRUE(ledger_->Reserve(three)->id);
  auto refused = ledger_->Reserve(one);
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->id);
  EXPECT_EQ(refused->exceeded_index, 0u);
  EXPECT_EQ(refused->spent[0], U(10));
}

TEST_F(LedgerTest, ReserveIsAllOrNothingAcrossCharges) {
  std::vector<BudgetCharge> fill_b = {Charge("b", absl::Hours(1), 5, 5)};
  ASSERT_TRUE(ledger_->Reserve(fill_b)->id);
  std::vector<BudgetCharge> both = {Charge("a", absl::Hours(1), 1, 100), Charge("b", absl::Hours(1), 1, 5)};
  auto out = ledger_->Reserve(both);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->id);
  EXPECT_EQ(out->exceeded_index, 1u);
  // The charge that fit was not recorded either.
  EXPECT_EQ(SpentOf(*ledger_, "a", absl::Hours(1)), U(0));
}

TEST_F(LedgerTest, ChargesToTheSameAccountInOneCallAddUp) {
  std::vector<BudgetCharge> twice = {Charge("a", absl::Hours(1), 6, 10), Charge("a", absl::Hours(1), 6, 10)};
  auto out = ledger_->Reserve(twice);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->id);
  EXPECT_EQ(out->exceeded_index, 1u);
}

TEST_F(LedgerTest, SameAccountDifferentWindowsAreSeparateStreams) {
  std::vector<BudgetCharge> c = {Charge("a", absl::Hours(1), 4, 10)};
  ASSERT_TRUE(ledger_->Reserve(c)->id);
  EXPECT_EQ(SpentOf(*ledger_, "a", absl::Hours(1)), U(4));
  EXPECT_EQ(SpentOf(*ledger_, "a", absl::Hours(24)), U(0));
}

TEST_F(LedgerTest, RollingWindowForgetsOldSpend) {
  std::vector<BudgetCharge> c = {Charge("a", absl::Hours(1), 10, 10)};
  ASSERT_TRUE(ledger_->Reserve(c)->id);
  clock_.Advance(absl::Minutes(30));
  EXPECT_FALSE(ledger_->Reserve(c)->id);
  clock_.Advance(absl::Minutes(29) + absl::Seconds(59));
  EXPECT_FALSE(ledger_->Reserve(c)->id) << "still inside the window";
  clock_.Advance(absl::Seconds(1));  // exactly one window later: the old entry leaves
  auto out = ledger_->Reserve(c);
  ASSERT_TRUE(out->id);
  EXPECT_EQ(out->spent[0], U(0));
}

TEST_F(LedgerTest, ReleaseGivesTheBudgetBack) {
  std::vector<BudgetCharge> c = {Charge("a", absl::Hours(1), 10, 10)};
  auto first = ledger_->Reserve(c);
  ASSERT_TRUE(first->id);
  EXPECT_FALSE(ledger_->Reserve(c)->id);
  ASSERT_TRUE(ledger_->Release(*first->id).ok());
  EXPECT_TRUE(ledger_->Reserve(c)->id);
}

TEST_F(LedgerTest, CommitAndReleaseOnlyPendingReservations) {
  std::vector<BudgetCharge> c = {Charge("a", absl::Hours(1), 1, 10)};
  auto r = ledger_->Reserve(c);
  ASSERT_TRUE(ledger_->Commit(*r->id).ok());
  EXPECT_EQ(ledger_->Commit(*r->id).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ledger_->Release(*r->id).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ledger_->Release(424242).code(), absl::StatusCode::kNotFound);
}

TEST_F(LedgerTest, UnlimitedChargeIsRecordedWithoutCheck) {
  std::vector<BudgetCharge> fill = {Charge("a", absl::Hours(1), 10, 10)};
  ASSERT_TRUE(ledger_->Reserve(fill)->id);
  std::vector<BudgetCharge> over = {Charge("a", absl::Hours(1), 5, std::nullopt)};
  ASSERT_TRUE(ledger_->Reserve(over)->id);
  EXPECT_EQ(SpentOf(*ledger_, "a", absl::Hours(1)), U(15));
}

TEST_F(LedgerTest, HugeAmountsSaturateAndStillRefuse) {
  BudgetCharge max{"a", absl::Hours(1), Uint256::Max(), std::nullopt};
  auto r = ledger_->Reserve(std::span<const BudgetCharge>(&max, 1));
  ASSERT_TRUE(r->id);
  std::vector<BudgetCharge> one = {Charge("a", absl::Hours(1), 1, std::nullopt)};
  auto r2 = ledger_->Reserve(one);
  ASSERT_TRUE(r2->id);
  BudgetCharge limited{"a", absl::Hours(1), U(1), Uint256::Max()};
  EXPECT_FALSE(ledger_->Reserve(std::span<const BudgetCharge>(&limited, 1))->id);
  // Releasing the huge entry brings the sum back exactly.
  ASSERT_TRUE(ledger_->Release(*r->id).ok());
  EXPECT_EQ(SpentOf(*ledger_, "a", absl::Hours(1)), U(1));
}

TEST_F(LedgerTest, ZeroAmountsAreNotJournaled) {
  std::vector<BudgetCharge> zero = {Charge("a", absl::Hours(1), 0, 0)};
  auto r = ledger_->Reserve(zero);
  ASSERT_TRUE(r->id);
  EXPECT_EQ(journal_.size(), 0u);
  EXPECT_TRUE(ledger_->Commit(*r->id).ok());
}

TEST_F(LedgerTest, InvalidChargesAreRejected) {
  std::vector<BudgetCharge> no_account = {Charge("", absl::Hours(1), 1, 1)};
  EXPECT_EQ(ledger_->Reserve(no_account).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<BudgetCharge> no_window = {Charge("a", absl::ZeroDuration(), 1, 1)};
  EXPECT_EQ(ledger_->Reserve(no_window).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LedgerTest, JournalFailureReservesNothing) {
  journal_.FailAppends(true);
  std::vector<BudgetCharge> c = {Charge("a", absl::Hours(1), 4, 10)};
  auto r = ledger_->Reserve(c);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("nothing was reserved"));
  EXPECT_EQ(SpentOf(*ledger_, "a", absl::Hours(1)), U(0));
  EXPECT_EQ(ledger_->pending_count(), 0u);
  journal_.FailAppends(false);
  EXPECT_TRUE(ledger_->Reserve(c)->id);
}

// Crash rule: a reservation whose signature may have left counts as spent
// after a restart, unless it was explicitly released.
TEST_F(LedgerTest, RestartCountsReservedButUncommittedAsSpent) {
  std::vector<BudgetCharge> c = {Charge("a", absl::Hours(24), 3, 100), Charge("b", absl::Hours(1), 1, 100)};
  auto committed = ledger_->Reserve(c);
  ASSERT_TRUE(ledger_->Commit(*committed->id).ok());
  auto pending = ledger_->Reserve(c);  // "signed", then the process died before Commit
  ASSERT_TRUE(pending->id);
  auto released = ledger_->Reserve(c);
  ASSERT_TRUE(ledger_->Release(*released->id).ok());
  ledger_.reset();  // crash

  auto restarted = Restart();
  EXPECT_EQ(SpentOf(*restarted, "a", absl::Hours(24)), U(6));
  EXPECT_EQ(SpentOf(*restarted, "b", absl::Hours(1)), U(2));
  EXPECT_EQ(restarted->pending_count(), 0u);
  // The uncommitted reservation cannot be released after the restart.
  EXPECT_EQ(restarted->Release(*pending->id).code(), absl::StatusCode::kNotFound);
  // New ids never collide with old ones.
  auto next = restarted->Reserve(c);
  ASSERT_TRUE(next->id);
  EXPECT_GT(*next->id, *released->id);
  // Windows still roll after the restart.
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(SpentOf(*restarted, "b", absl::Hours(1)), U(0));
  EXPECT_EQ(SpentOf(*restarted, "a", absl::Hours(24)), U(9));
}

// defer_reserve_sync: a reservation is durable only after MakeDurable. A
// power loss before it may lose the reservation (no signature had left);
// after it, never.
TEST_F(LedgerTest, DeferredReservationIsDurableOnceMadeDurable) {
  auto ledger = Ledger::Open(journal_, clock_, LedgerOptions{.defer_reserve_sync = true}).value();
  std::vector<BudgetCharge> c = {Charge("a", absl::Hours(24), 3, 100)};
  auto lost = ledger->Reserve(c);
  ASSERT_TRUE(lost.ok() && lost->id);
  EXPECT_EQ(journal_.unsynced(), 1u);
  EXPECT_EQ(SpentOf(*ledger, "a", absl::Hours(24)), U(3));  // counts at once in memory
  auto kept = ledger->Reserve(c);
  ASSERT_TRUE(kept.ok() && kept->id);
  ASSERT_TRUE(ledger->MakeDurable(*kept->id).ok());
  EXPECT_EQ(journal_.unsynced(), 0u);  // one sync covers both lines
  EXPECT_EQ(journal_.effective_syncs(), 1u);
  ASSERT_TRUE(ledger->MakeDurable(*lost->id).ok());  // nothing left to do
  EXPECT_EQ(journal_.effective_syncs(), 1u);

  auto third = ledger->Reserve(c);
  ASSERT_TRUE(third.ok() && third->id);
  ledger.reset();
  journal_.DropUnsynced();  // power loss: the third reservation's line is gone
  auto restarted = Restart();
  EXPECT_EQ(SpentOf(*restarted, "a", absl::Hours(24)), U(6));
  EXPECT_EQ(restarted->MakeDurable(*third->id).code(), absl::StatusCode::kNotFound);
}

TEST_F(LedgerTest, DeferredReservationWhoseSyncFailsIsNotDurable) {
  auto ledger = Ledger::Open(journal_, clock_, LedgerOptions{.defer_reserve_sync = true}).value();
  std::vector<BudgetCharge> c = {Charge("a", absl::Hours(24), 3, 100)};
  auto r = ledger->Reserve(c);
  ASSERT_TRUE(r.ok() && r->id);
  journal_.FailSyncs(true);
  absl::Status st = ledger->MakeDurable(*r->id);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(st.message()), HasSubstr("could not be made durable"));
  ASSERT_TRUE(ledger->Release(*r->id).ok());
  EXPECT_EQ(SpentOf(*ledger, "a", absl::Hours(24)), U(0));
  journal_.FailSyncs(false);
  auto again = ledger->Reserve(c);
  ASSERT_TRUE(again.ok() && again->id);
  EXPECT_TRUE(ledger->MakeDurable(*again->id).ok());
  EXPECT_EQ(ledger->MakeDurable(12345).code(), absl::StatusCode::kNotFound);
}

// Without the option, Reserve is durable when it returns (MakeDurable: no-op).
TEST_F(LedgerTest, ReserveIsDurableByDefault) {
  std::vector<BudgetCharge> c = {Charge("a", absl::Hours(24), 3, 100)};
  auto r = ledger_->Reserve(c);
  ASSERT_TRUE(r.ok() && r->id);
  EXPECT_EQ(journal_.unsynced(), 0u);
  EXPECT_TRUE(ledger_->MakeDurable(*r->id).ok());
}

TEST_F(LedgerTest, CompactionKeepsWhatCountsAndDropsTheRest) {
  std::vector<BudgetCharge> hour = {Charge("h", absl::Hours(1), 5, 1000)};
  std::vector<BudgetCharge> day = {Charge("d", absl::Hours(24), 7, 1000)};
  for (int i = 0; i < 10; ++i) {
    auto r = ledger_->Reserve(hour);
    ASSERT_TRUE(ledger_->Commit(*r->id).ok());
  }
  auto released = ledger_->Reserve(day);
  ASSERT_TRUE(ledger_->Release(*released->id).ok());
  auto kept = ledger_->Reserve(day);
  ASSERT_TRUE(ledger_->Commit(*kept->id).ok());
  auto pending = ledger_->Reserve(day);
  clock_.Advance(absl::Hours(2));  // the hourly entries expire
  const size_t before = journal_.size();
  ASSERT_TRUE(ledger_->Compact().ok());
  EXPECT_LT(journal_.size(), before);
  EXPECT_EQ(ledger_->account_count(), 1u);  // "h" is empty and dropped
  // The pending reservation can still be committed after compaction.
  ASSERT_TRUE(ledger_->Commit(*pending->id).ok());
  auto restarted = Restart();
  EXPECT_EQ(SpentOf(*restarted, "d", absl::Hours(24)), U(14));
  EXPECT_EQ(SpentOf(*restarted, "h", absl::Hours(1)), U(0));
  auto next = restarted->Reserve(day);
  EXPECT_GT(*next->id, *pending->id);
}

TEST_F(LedgerTest, OpenCompactsAJournalOfMostlyExpiredSpending) {
  std::vector<BudgetCharge> c = {Charge("a", absl::Minutes(1), 1, std::nullopt)};
  for (int i = 0; i < 3000; ++i) {
    auto r = ledger_->Reserve(c);
    ASSERT_TRUE(ledger_->Commit(*r->id).ok());
  }
  clock_.Advance(absl::Minutes(2));
  auto live = ledger_->Reserve(c);
  ASSERT_EQ(journal_.size(), 6001u);
  auto restarted = Restart();
  // The id floor and the live reservation, which after a restart counts as
  // committed (reserve + commit).
  EXPECT_EQ(journal_.size(), 3u);
  EXPECT_EQ(SpentOf(*restarted, "a", absl::Minutes(1)), U(1));
  EXPECT_GT(*restarted->Reserve(c)->id, *live->id);
}

TEST_F(LedgerTest, MaybeCompactRewritesOnlyAfterTheJournalHasGrown) {
  // A long window: nothing expires, so a rewrite would not shrink anything.
  std::vector<BudgetCharge> day = {Charge("d", absl::Hours(24), 1, std::nullopt)};
  auto spend = [&](int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(ledger_->Commit(*ledger_->Reserve(day)->id).ok());
  };
  spend(1000);  // 2000 records: below the growth allowance
  ASSERT_TRUE(ledger_->MaybeCompact().ok());
  EXPECT_EQ(journal_.size(), 2000u);  // untouched
  spend(1100);  // 4200 records
  ASSERT_TRUE(ledger_->MaybeCompact().ok());
  // Rewritten: the id floor, then reserve + commit per reservation.
  EXPECT_EQ(journal_.size(), 4201u);
  spend(10);
  ASSERT_TRUE(ledger_->MaybeCompact().ok());
  EXPECT_EQ(journal_.size(), 4221u);  // not again until it has doubled (plus the allowance)
  clock_.Advance(absl::Hours(25));  // everything expires
  spend(4200);  // 4221 + 8400 records > 2 * 4201 + 4096
  ASSERT_TRUE(ledger_->MaybeCompact().ok());
  EXPECT_EQ(journal_.size(), 8401u);
  EXPECT_EQ(SpentOf(*Restart(), "d", absl::Hours(24)), U(4200));
}

// Delegates to a MemoryLedgerJournal and runs `during_rewrite` inside
// FinishRewrite, before the new contents replace the old: where a Reserve
// lands while a compaction writes the new file.
class RewriteHookJournal final : public LedgerJournal {
 public:
  explicit RewriteHookJournal(MemoryLedgerJournal& inner) : inner_(inner) {}
  absl::Status Append(const LedgerRecord& r) override { return inner_.Append(r); }
  absl::Status AppendLazily(const LedgerRecord& r) override { return inner_.AppendLazily(r); }
  absl::StatusOr<uint64_t> AppendDeferred(const LedgerRecord& r) override { return inner_.AppendDeferred(r); }
  absl::Status SyncThrough(uint64_t ticket) override { return inner_.SyncThrough(ticket); }
  absl::Status SyncAll() override { return inner_.SyncAll(); }
  absl::StatusOr<std::vector<LedgerRecord>> ReadAll() override { return inner_.ReadAll(); }
  absl::Status Rewrite(std::span<const LedgerRecord> records) override { return inner_.Rewrite(records); }
  bool BeginRewrite() override { return inner_.BeginRewrite(); }
  absl::Status FinishRewrite(std::span<const LedgerRecord> records) override {
    if (during_rewrite) during_rewrite();
    return inner_.FinishRewrite(records);
  }
  std::function<void()> during_rewrite;

 private:
  MemoryLedgerJournal& inner_;
};

// Compaction holds reservations up only for its in-memory snapshot, not
// while the journal writes the new file; what they record meanwhile is kept.
TEST_F(LedgerTest, ReservationsGoOnWhileCompactionRewritesTheJournal) {
  RewriteHookJournal journal(journal_);
  LedgerOptions deferred;
  deferred.defer_reserve_sync = true;
  auto ledger = Ledger::Open(journal, clock_, deferred).value();
  std::vector<BudgetCharge> day = {Charge("d", absl::Hours(24), 3, 1000)};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(ledger->Commit(*ledger->Reserve(day)->id).ok());
  auto pending = ledger->Reserve(day);  // reserved before, committed after
  ASSERT_TRUE(ledger->MakeDurable(*pending->id).ok());

  std::thread during;
  absl::Notification done;
  bool finished_during_rewrite = false;
  journal.during_rewrite = [&] {
    during = std::thread([&] {
      auto kept = ledger->Reserve(day);
      ASSERT_TRUE(kept.ok() && kept->id);
      EXPECT_TRUE(ledger->MakeDurable(*kept->id).ok());
      EXPECT_TRUE(ledger->Commit(*kept->id).ok());
      auto dropped = ledger->Reserve(day);
      ASSERT_TRUE(dropped.ok() && dropped->id);
      EXPECT_TRUE(ledger->Release(*dropped->id).ok());
      done.Notify();
    });
    // Were appends held off for the whole rewrite, this would time out.
    finished_during_rewrite = done.WaitForNotificationWithTimeout(absl::Seconds(10));
  };
  ASSERT_TRUE(ledger->Compact().ok());
  during.join();
  EXPECT_TRUE(finished_during_rewrite);
  ASSERT_TRUE(ledger->Commit(*pending->id).ok());
  EXPECT_EQ(SpentOf(*ledger, "d", absl::Hours(24)), U(21));
  // The journal holds the snapshot and what came after it: a restart sees
  // the same spend, and a later compaction starts from the new size.
  journal.during_rewrite = nullptr;
  EXPECT_EQ(SpentOf(*Ledger::Open(journal, clock_).value(), "d", absl::Hours(24)), U(21));
  const size_t after = journal_.size();
  ASSERT_TRUE(ledger->MaybeCompact().ok());
  EXPECT_EQ(journal_.size(), after);  // far below twice the compacted size: untouched
}

// A journal without concurrent rewrites is compacted with appends held off.
TEST_F(LedgerTest, CompactionFallsBackToAWholeRewrite) {
  class NoConcurrentRewrite final : public LedgerJournal {
   public:
    explicit NoConcurrentRewrite(MemoryLedgerJournal& inner) : inner_(inner) {}
    absl::Status Append(const LedgerRecord& r) override { return inner_.Append(r); }
    absl::Status AppendLazily(const LedgerRecord& r) override { return inner_.AppendLazily(r); }
    absl::StatusOr<std::vector<LedgerRecord>> ReadAll() override { return inner_.ReadAll(); }
    absl::Status Rewrite(std::span<const LedgerRecord> records) override {
      ++rewrites;
      return inner_.Rewrite(records);
    }
    int rewrites = 0;

   private:
    MemoryLedgerJournal& inner_;
  } journal(journal_);
  auto ledger = Ledger::Open(journal, clock_).value();
  std::vector<BudgetCharge> hour = {Charge("h", absl::Hours(1), 2, 1000)};
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(ledger->Commit(*ledger->Reserve(hour)->id).ok());
  clock_.Advance(absl::Minutes(90));
  ASSERT_TRUE(ledger->Commit(*ledger->Reserve(hour)->id).ok());
  ASSERT_TRUE(ledger->Compact().ok());
  EXPECT_EQ(journal.rewrites, 1);
  EXPECT_EQ(journal_.size(), 3u);  // id floor, reserve, commit
  EXPECT_EQ(SpentOf(*Ledger::Open(journal, clock_).value(), "h", absl::Hours(1)), U(2));
}

TEST_F(LedgerTest, ReplayIgnoresDuplicateReserveRecords) {
  std::vector<BudgetCharge> c = {Charge("a", absl::Hours(1), 5, 100)};
  auto r = ledger_->Reserve(c);
  ASSERT_TRUE(r->id);
  auto records = journal_.ReadAll().value();
  ASSERT_EQ(records.size(), 1u);
  ASSERT_TRUE(journal_.Append(records[0]).ok());  // as a racing compaction could leave it
  auto restarted = Restart();
  EXPECT_EQ(SpentOf(*restarted, "a", absl::Hours(1)), U(5));
}

TEST(LedgerRecordTest, EncodeDecodeRoundTrip) {
  LedgerRecord r{LedgerRecord::Type::kReserve, 42, 1767225600123456789,
                 {LedgerCharge{"rule:x|key:k|value", absl::Hours(24), Uint256::Max()},
                  LedgerCharge{"agent:\"odd\"\n", absl::Seconds(60), U(1)}}};
  auto back = DecodeLedgerRecord(EncodeLedgerRecord(r));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, r);
  for (auto type : {LedgerRecord::Type::kCommit, LedgerRecord::Type::kRelease, LedgerRecord::Type::kIdFloor}) {
    LedgerRecord s{type, 7, 0, {}};
    EXPECT_EQ(DecodeLedgerRecord(EncodeLedgerRecord(s)).value(), s);
  }
  EXPECT_EQ(DecodeLedgerRecord("{").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeLedgerRecord(R"({"t":"reserve","id":1})").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeLedgerRecord(R"({"t":"what","id":1})").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeLedgerRecord(R"({"t":"reserve","id":1,"ts":0,"c":[{"a":"x","w":60,"v":"-1"}]})").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(LedgerRecordTest, EncodingIsTheDocumentedLine) {
  // Journals written before the encoder was hand-rolled must stay byte-identical.
  LedgerRecord r{LedgerRecord::Type::kReserve, 42, 1767225600123456789,
                 {LedgerCharge{"rule:x|key:k|value", absl::Hours(24), U(10000000000000000)},
                  LedgerCharge{"agent:\"odd\"\n\x01", absl::Seconds(60), U(1)}}};
  EXPECT_EQ(EncodeLedgerRecord(r),
            R"({"c":[{"a":"rule:x|key:k|value","v":"10000000000000000","w":86400},)"
            R"({"a":"agent:\"odd\"\n\u0001","v":"1","w":60}],"id":42,"t":"reserve","ts":1767225600123456789})");
  EXPECT_EQ(EncodeLedgerRecord(LedgerRecord{LedgerRecord::Type::kCommit, 7, 0, {}}), R"({"id":7,"t":"commit"})");
  EXPECT_EQ(EncodeLedgerRecord(LedgerRecord{LedgerRecord::Type::kIdFloor, 9, 0, {}}), R"({"id":9,"t":"id_floor"})");
}

// 64 threads x 1,000 requests against budgets that allow exactly K; some
// reservations are released (nothing signed) and their room reused. Exactly
// K commit, in each of 20 runs, and the two budgets a request touches never
// disagree.
TEST(LedgerRaceTest, ConcurrentReservationsNeverOverspend) {
  constexpr int kThreads = 64;
  constexpr int kRequests = 1000;
  constexpr uint64_t kBudget = 3000;
  constexpr uint64_t kValue = 1000;
  for (int run = 0; run < 20; ++run) {
    FakeClock clock;
    MemoryLedgerJournal journal;
    auto ledger = Ledger::Open(journal, clock).value();
    const std::vector<BudgetCharge> charges = {
        Charge("rule:race|key:k|count", absl::Hours(1), 1, kBudget),
        Charge("rule:race|key:k|value", absl::Hours(24), kValue, kBudget * kValue),
    };
    std::atomic<uint64_t> committed{0}, released{0}, refused{0}, errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kRequests; ++i) {
          auto out = ledger->Reserve(charges);
          if (!out.ok()) {
            ++errors;
            continue;
          }
          if (!out->id) {
            ++refused;
            continue;
          }
          // Releases only in the first half, so every freed slot is
          // refilled by the later attempts of the releasing thread.
          const bool release = i < kRequests / 2 && (i + t) % 5 == 0;
          absl::Status st = release ? ledger->Release(*out->id) : ledger->Commit(*out->id);
          if (!st.ok()) ++errors;
          ++(release ? released : committed);
        }
      });
    }
    for (auto& th : threads) th.join();
    ASSERT_EQ(errors.load(), 0u) << "run " << run;
    ASSERT_EQ(committed.load(), kBudget) << "run " << run;
    ASSERT_EQ(committed + released + refused, uint64_t{kThreads} * kRequests);
    EXPECT_EQ(ledger->Spent(charges)[0], U(kBudget));
    EXPECT_EQ(ledger->Spent(charges)[1], U(kBudget * kValue));
    // The journal agrees after a restart.
    auto restarted = Ledger::Open(journal, clock).value();
    EXPECT_EQ(restarted->Spent(charges)[0], U(kBudget)) << "run " << run;
    EXPECT_EQ(restarted->Spent(charges)[1], U(kBudget * kValue)) << "run " << run;
  }
}

}  // namespace
}  // namespace sigil::policy
