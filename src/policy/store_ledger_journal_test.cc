#include "policy/store_ledger_journal.h"

#include <cstdlib>
#include <filesystem>

#include "gtest/gtest.h"
#include "policy/ledger.h"
#include "store/sqlite_store.h"

namespace sigil::policy {
namespace {

class StoreJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sigil-policy-store-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = store::SqliteStore::Open(dir_ + "/data", {}).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<store::SqliteStore> store_;
};

TEST_F(StoreJournalTest, LedgerStateSurvivesReopeningTheStore) {
  FakeClock clock;
  std::vector<BudgetCharge> c = {BudgetCharge{"acct", absl::Hours(1), Uint256(40), Uint256(100)}};
  ReservationId pending_id = 0;
  {
    auto journal = StoreLedgerJournal::Open(*store_).value();
    auto ledger = Ledger::Open(*journal, clock).value();
    auto a = ledger->Reserve(c);
    ASSERT_TRUE(ledger->Commit(*a->id).ok());
    auto b = ledger->Reserve(c);
    ASSERT_TRUE(ledger->Release(*b->id).ok());
    auto pending = ledger->Reserve(c);
    ASSERT_TRUE(pending->id);
    pending_id = *pending->id;
  }
  store_.reset();
  store_ = store::SqliteStore::Open(dir_ + "/data", {}).value();
  auto journal = StoreLedgerJournal::Open(*store_).value();
  auto ledger = Ledger::Open(*journal, clock).value();
  EXPECT_EQ(ledger->Spent(c)[0], Uint256(80));
  EXPECT_FALSE(ledger->Reserve(c)->id);
  // Appends continue after the existing rows, and compaction rewrites them.
  clock.Advance(absl::Hours(2));
  auto next = ledger->Reserve(c);
  ASSERT_TRUE(next->id);
  EXPECT_GT(*next->id, pending_id);
  ASSERT_TRUE(ledger->Compact().ok());
  auto rows = journal->ReadAll().value();
  ASSERT_EQ(rows.size(), 2u);  // the id floor and the one live reservation
  auto reopened = Ledger::Open(*journal, clock).value();
  EXPECT_EQ(reopened->Spent(c)[0], Uint256(40));
}

}  // namespace
}  // namespace sigil::policy
