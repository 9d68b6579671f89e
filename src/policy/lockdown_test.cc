#include "policy/lockdown.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "base/hex.h"
#include "crypto/aead.h"
#include "crypto/random.h"
#include "nlohmann/json.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/totp.h"
#include "store/forwarding_store.h"
#include "store/sqlite_store.h"

namespace sigil::policy {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

// The ```json block that follows `marker` in a doc/ page.
json DocExample(const std::string& page, const std::string& marker) {
  std::ifstream in(std::string(SIGIL_SOURCE_DIR) + "/doc/" + page);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t at = text.find(marker);
  EXPECT_NE(at, std::string::npos) << marker;
  size_t begin = text.find("```json\n", at) + 8;
  size_t end = text.find("```", begin);
  return json::parse(text.substr(begin, end - begin));
}

// Same field names, recursively into objects and arrays of objects.
void ExpectSameShape(const json& documented, const json& actual, const std::string& path = "") {
  ASSERT_TRUE(actual.is_object()) << path;
  for (auto it = documented.begin(); it != documented.end(); ++it) {
    ASSERT_TRUE(actual.contains(it.key())) << "documented field missing: " << path << it.key();
    const json& a = actual[it.key()];
    if (it->is_object() && !a.is_null()) ExpectSameShape(*it, a, path + it.key() + ".");
    if (it->is_array() && !it->empty() && a.is_array() && !a.empty()) ExpectSameShape((*it)[0], a[0], path + it.key() + "[].");
  }
  for (auto it = actual.begin(); it != actual.end(); ++it) {
    EXPECT_TRUE(documented.contains(it.key())) << "undocumented field: " << path << it.key();
  }
}

json OpenDocumentedRow(const SecretBytes& key, const std::string& table, const std::string& row_key,
                       const std::vector<uint8_t>& row) {
  // value = 0x01 || XChaCha20-Poly1305(state key, JSON, ad = TABLE ":" KEY)
  EXPECT_EQ(row.at(0), 0x01);
  auto plain = crypto::AeadOpen(key, std::span<const uint8_t>(row).subspan(1), AsBytes(table + ":" + row_key));
  EXPECT_TRUE(plain.ok()) << plain.status();
  return json::parse(plain->RevealText(SecretAccess::Get()));
}

// TOTP per principal in memory, verified with VerifyTotp (replay included).
class MemoryTotp final : public SecondFactorVerifier {
 public:
  explicit MemoryTotp(const Clock& clock) : clock_(clock) {}
  void Enrol(const std::string& who) {
    absl::MutexLock lock(&mu_);
    secrets_[who] = NewTotpSecret();
    last_[who] = kTotpNeverUsed;
  }
  std::string CodeFor(const std::string& who) {
    absl::MutexLock lock(&mu_);
    return TotpCode(secrets_.at(who), clock_.Now()).value();
  }
  absl::Status Verify(std::string_view principal, std::string_view code) override {
    absl::MutexLock lock(&mu_);
    auto it = secrets_.find(std::string(principal));
    if (it == secrets_.end()) return absl::PermissionDeniedError("no second factor enrolled");
    auto step = VerifyTotp(it->second, code, clock_.Now(), last_[it->first]);
    if (!step.ok()) return step.status();
    last_[it->first] = *step;
    return absl::OkStatus();
  }

 private:
  const Clock& clock_;
  absl::Mutex mu_;
  std::map<std::string, SecretBytes> secrets_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> last_ ABSL_GUARDED_BY(mu_);
};

// A store whose writes can be made to fail, as a full or read-only disk would.
class BreakableStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  std::atomic<bool> broken{false};
  absl::Status Put(std::string_view table, std::string_view key, std::span<const uint8_t> value) override {
    if (broken) return absl::UnavailableError("disk full");
    return ForwardingStore::Put(table, key, value);
  }
};

const std::vector<std::string> kAdmin = {"admin"};
const std::vector<std::string> kOperator = {"operator"};

class LockdownTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sigil-lockdown-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    key_ = crypto::RandomSecret(32);
    totp_.Enrol("root");
    totp_.Enrol("root2");
    totp_.Enrol("ops");
    Reopen();
  }
  void TearDown() override {
    lockdown_.reset();
    breakable_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Reopen() {
    lockdown_.reset();
    breakable_.reset();
    db_.reset();
    auto db = store::SqliteStore::Open(dir_, {});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(db).value();
    breakable_ = std::make_unique<BreakableStore>(*db_);
    auto l = Lockdown::Open(*breakable_, key_.Clone(), clock_, &totp_);
    ASSERT_TRUE(l.ok()) << l.status();
    lockdown_ = std::move(l).value();
  }

  std::string DiskBytes() const {
    std::string all;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      std::ifstream in(entry.path(), std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return all;
  }

  std::string dir_;
  SecretBytes key_;
  FakeClock clock_;
  MemoryTotp totp_{clock_};
  std::unique_ptr<store::SqliteStore> db_;
  std::unique_ptr<BreakableStore> breakable_;
  std::unique_ptr<Lockdown> lockdown_;
};

TEST_F(LockdownTest, LockStopsEverySignatureAndSurvivesRestart) {
  EXPECT_FALSE(lockdown_->IsLocked());
  EXPECT_TRUE(lockdown_->CheckSigning("bot-1").ok());

  LockdownEvent ev = lockdown_->Lock("ops", kOperator, "key compromise suspected");
  ASSERT_TRUE(ev.ok()) << ev.status;
  EXPECT_EQ(ev.step, LockdownStep::kLock);
  EXPECT_EQ(ev.actor, "ops");
  EXPECT_TRUE(ev.global.locked);
  EXPECT_EQ(ev.global.since, clock_.Now());
  EXPECT_TRUE(lockdown_->IsLocked());
  absl::Status refused = lockdown_->CheckSigning("bot-1");
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(), "lockdown in force: key compromise suspected");

  const LockdownStatus before = lockdown_->Status();
  Reopen();
  EXPECT_TRUE(lockdown_->IsLocked());
  EXPECT_EQ(lockdown_->Status(), before);
  EXPECT_EQ(lockdown_->Status().locked_by, "ops");
  EXPECT_FALSE(lockdown_->CheckSigning("anyone").ok());

  // Locking again changes nothing.
  clock_.Advance(absl::Minutes(1));
  LockdownEvent again = lockdown_->Lock("root", kAdmin, "other reason");
  EXPECT_TRUE(again.ok());
  EXPECT_EQ(lockdown_->Status(), before);
}

TEST_F(LockdownTest, OnlyOperatorOrAdminMayLock) {
  for (const auto& roles : std::vector<std::vector<std::string>>{{}, {"agent"}, {"approver"}, {"auditor"}}) {
    LockdownEvent ev = lockdown_->Lock("someone", roles, "x");
    EXPECT_EQ(ev.status.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_FALSE(lockdown_->IsLocked());
  }
  EXPECT_TRUE(lockdown_->Lock("root", kAdmin, "").ok());
  EXPECT_EQ(lockdown_->CheckSigning("bot").message(), "lockdown in force: (no reason given)");
}

TEST_F(LockdownTest, LiftingNeedsAdminAndTheirValidTotp) {
  ASSERT_TRUE(lockdown_->Lock("ops", kOperator, "drill").ok());

  // An operator cannot lift it, even with a valid code of their own.
  LockdownEvent op = lockdown_->Unlock("ops", kOperator, totp_.CodeFor("ops"));
  EXPECT_EQ(op.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(op.status.message()), HasSubstr("needs an admin"));

  LockdownEvent no_code = lockdown_->Unlock("root", kAdmin, "");
  EXPECT_EQ(no_code.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(no_code.status.message()), HasSubstr("needs a TOTP code"));

  std::string good = totp_.CodeFor("root");
  std::string wrong = good;
  wrong[5] = wrong[5] == '0' ? '1' : '0';
  EXPECT_EQ(lockdown_->Unlock("root", kAdmin, wrong).status.message(), "invalid TOTP code");
  // Another admin's code does not count for this admin.
  const std::string other_admin = totp_.CodeFor("root2");
  if (other_admin != good) {
    EXPECT_EQ(lockdown_->Unlock("root", kAdmin, other_admin).status.message(), "invalid TOTP code");
  }
  EXPECT_TRUE(lockdown_->IsLocked());

  LockdownEvent lifted = lockdown_->Unlock("root", kAdmin, good);
  ASSERT_TRUE(lifted.ok()) << lifted.status;
  EXPECT_EQ(lifted.step, LockdownStep::kUnlock);
  EXPECT_FALSE(lifted.global.locked);
  EXPECT_EQ(lifted.global.lifted_by, "root");
  EXPECT_FALSE(lockdown_->IsLocked());
  EXPECT_TRUE(lockdown_->CheckSigning("bot-1").ok());

  Reopen();
  EXPECT_FALSE(lockdown_->IsLocked());
  EXPECT_EQ(lockdown_->Status().lifted_by, "root");
  EXPECT_EQ(lockdown_->Status().locked_by, "ops");

  // The same code cannot lift the next lockdown (replay).
  ASSERT_TRUE(lockdown_->Lock("ops", kOperator, "again").ok());
  EXPECT_EQ(lockdown_->Unlock("root", kAdmin, good).status.message(), "TOTP code already used");
  EXPECT_TRUE(lockdown_->IsLocked());
  clock_.Advance(absl::Seconds(30));
  EXPECT_TRUE(lockdown_->Unlock("root", kAdmin, totp_.CodeFor("root")).ok());
}

TEST_F(LockdownTest, UnlockWhenNotLockedIsRefused) {
  EXPECT_EQ(lockdown_->Unlock("root", kAdmin, totp_.CodeFor("root")).status.code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(LockdownTest, NoSecondFactorMeansNoUnlock) {
  ASSERT_TRUE(lockdown_->Lock("ops", kOperator, "x").ok());
  auto l = Lockdown::Open(*db_, key_.Clone(), clock_, nullptr);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE((*l)->IsLocked());
  EXPECT_EQ((*l)->Unlock("root", kAdmin, "123456").status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*l)->IsLocked());
}

TEST_F(LockdownTest, LockIsFailClosedWhenTheStoreCannotBeWritten) {
  breakable_->broken = true;
  LockdownEvent ev = lockdown_->Lock("ops", kOperator, "disk is full");
  EXPECT_EQ(ev.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(lockdown_->IsLocked());  // in force anyway
  EXPECT_FALSE(lockdown_->CheckSigning("bot").ok());

  breakable_->broken = false;
  ASSERT_TRUE(lockdown_->Lock("ops", kOperator, "x").ok());  // already locked in memory
  breakable_->broken = true;
  LockdownEvent lift = lockdown_->Unlock("root", kAdmin, totp_.CodeFor("root"));
  EXPECT_EQ(lift.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(lockdown_->IsLocked());  // not lifted unless durable
}

TEST_F(LockdownTest, SuspendOneAgent) {
  EXPECT_EQ(lockdown_->Suspend("bot-2", std::vector<std::string>{"agent"}, "bot-1", "x").status.code(), absl::StatusCode::kPermissionDenied);
  LockdownEvent ev = lockdown_->Suspend("ops", kOperator, "bot-1", "looping on approvals");
  ASSERT_TRUE(ev.ok()) << ev.status;
  EXPECT_EQ(ev.step, LockdownStep::kSuspend);
  EXPECT_EQ(ev.agent, "bot-1");
  EXPECT_FALSE(lockdown_->IsLocked());
  EXPECT_TRUE(lockdown_->IsSuspended("bot-1"));
  EXPECT_FALSE(lockdown_->IsSuspended("bot-2"));
  EXPECT_EQ(lockdown_->CheckSigning("bot-1").message(), "agent 'bot-1' is suspended: looping on approvals");
  EXPECT_TRUE(lockdown_->CheckSigning("bot-2").ok());

  Reopen();
  EXPECT_TRUE(lockdown_->IsSuspended("bot-1"));
  ASSERT_EQ(lockdown_->Suspensions().size(), 1u);
  EXPECT_EQ(lockdown_->Suspensions()[0],
            (AgentSuspension{"bot-1", "looping on approvals", "ops", clock_.Now()}));

  EXPECT_EQ(lockdown_->Resume("ops", kOperator, "bot-1", totp_.CodeFor("ops")).status.code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(lockdown_->Resume("root", kAdmin, "bot-1", "").status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(lockdown_->Resume("root", kAdmin, "bot-2", totp_.CodeFor("root")).status.code(),
            absl::StatusCode::kFailedPrecondition);
  LockdownEvent resumed = lockdown_->Resume("root", kAdmin, "bot-1", totp_.CodeFor("root"));
  ASSERT_TRUE(resumed.ok()) << resumed.status;
  EXPECT_FALSE(lockdown_->IsSuspended("bot-1"));
  EXPECT_TRUE(lockdown_->CheckSigning("bot-1").ok());
  Reopen();
  EXPECT_FALSE(lockdown_->IsSuspended("bot-1"));
  EXPECT_TRUE(lockdown_->Suspensions().empty());
}

TEST_F(LockdownTest, GlobalLockdownBeatsEverything) {
  ASSERT_TRUE(lockdown_->Suspend("ops", kOperator, "bot-1", "a").ok());
  ASSERT_TRUE(lockdown_->Lock("ops", kOperator, "b").ok());
  EXPECT_EQ(lockdown_->CheckSigning("bot-1").message(), "lockdown in force: b");
  EXPECT_EQ(lockdown_->CheckSigning("bot-9").message(), "lockdown in force: b");
}

TEST_F(LockdownTest, SealedAtRest) {
  ASSERT_TRUE(lockdown_->Lock("ops", kOperator, "a-very-distinctive-reason").ok());
  ASSERT_TRUE(lockdown_->Suspend("ops", kOperator, "bot-distinctive", "another-distinctive-reason").ok());
  const std::string disk = DiskBytes();
  EXPECT_EQ(disk.find("a-very-distinctive-reason"), std::string::npos);
  EXPECT_EQ(disk.find("another-distinctive-reason"), std::string::npos);
  EXPECT_EQ(disk.find("\"locked\""), std::string::npos);
}

TEST_F(LockdownTest, TamperedRowStopsStartupNamingTheRow) {
  ASSERT_TRUE(lockdown_->Lock("ops", kOperator, "x").ok());
  auto row = db_->Get(kLockdownTable, "global").value().value();
  row[10] ^= 0x01;
  ASSERT_TRUE(db_->Put(kLockdownTable, "global", row).ok());
  auto reopened = Lockdown::Open(*db_, key_.Clone(), clock_, &totp_);
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(reopened.status().message(), "lockdown row 'global' failed authentication");
  // A live instance refuses the refresh and stays locked.
  EXPECT_EQ(lockdown_->Refresh().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(lockdown_->IsLocked());
}

TEST_F(LockdownTest, RowCopiedToAnotherAgentDetected) {
  ASSERT_TRUE(lockdown_->Suspend("ops", kOperator, "bot-1", "x").ok());
  ASSERT_TRUE(lockdown_->Suspend("ops", kOperator, "bot-2", "y").ok());
  ASSERT_TRUE(lockdown_->Resume("root", kAdmin, "bot-2", totp_.CodeFor("root")).ok());
  // Copy the resumed bot-2 row over bot-1's to lift its suspension.
  auto row = db_->Get(kLockdownTable, "agent:bot-2").value().value();
  ASSERT_TRUE(db_->Put(kLockdownTable, "agent:bot-1", row).ok());
  auto reopened = Lockdown::Open(*db_, key_.Clone(), clock_, &totp_);
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(reopened.status().message(), "lockdown row 'agent:bot-1' failed authentication");
}

TEST_F(LockdownTest, RefreshSeesAnotherNodesChange) {
  auto other = Lockdown::Open(*db_, key_.Clone(), clock_, &totp_);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Lock("ops", kOperator, "from node B").ok());
  EXPECT_FALSE(lockdown_->IsLocked());
  ASSERT_TRUE(lockdown_->Refresh().ok());
  EXPECT_TRUE(lockdown_->IsLocked());
  EXPECT_EQ(lockdown_->Status().reason, "from node B");
}

TEST_F(LockdownTest, HotPathCheckIsSafeUnderConcurrentLock) {
  std::atomic<bool> stop{false};
  std::atomic<long> checks{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      while (!stop) {
        (void)lockdown_->CheckSigning("bot-1");
        (void)lockdown_->IsSuspended("bot-1");
        ++checks;
      }
    });
  }
  ASSERT_TRUE(lockdown_->Suspend("ops", kOperator, "bot-1", "x").ok());
  ASSERT_TRUE(lockdown_->Lock("ops", kOperator, "y").ok());
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(checks.load(), 0);
  EXPECT_FALSE(lockdown_->CheckSigning("bot-1").ok());
}

TEST_F(LockdownTest, BadInputs) {
  EXPECT_EQ(lockdown_->Lock("ops", kOperator, std::string(513, 'r')).status.code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(lockdown_->Lock("", kOperator, "r").status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(lockdown_->Suspend("ops", kOperator, "", "r").status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(lockdown_->Suspend("ops", kOperator, "bad\nname", "r").status.code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(lockdown_->IsLocked());
  EXPECT_EQ(Lockdown::Open(*db_, crypto::RandomSecret(8), clock_, &totp_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(LockdownTest, StoredFormatMatchesDocApprovalsMd) {
  ASSERT_TRUE(lockdown_->Lock("ops", kOperator, "x").ok());
  ASSERT_TRUE(lockdown_->Suspend("ops", kOperator, "bot-1", "y").ok());
  json global = OpenDocumentedRow(key_, "lockdown", "global", db_->Get(kLockdownTable, "global").value().value());
  ExpectSameShape(DocExample("approvals.md", "<!-- lockdown-global-example -->"), global);
  EXPECT_EQ(global["locked"], true);
  json agent =
      OpenDocumentedRow(key_, "lockdown", "agent:bot-1", db_->Get(kLockdownTable, "agent:bot-1").value().value());
  ExpectSameShape(DocExample("approvals.md", "<!-- lockdown-agent-example -->"), agent);
  EXPECT_EQ(agent["suspended"], true);
}

}  // namespace
}  // namespace sigil::policy
