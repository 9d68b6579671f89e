#include "policy/approval_book.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "crypto/hash.h"
#include "crypto/aead.h"
#include "crypto/random.h"
#include "nlohmann/json.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "policy/totp.h"
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

// A real TOTP second factor held in memory: secrets per principal, the last
// used step per principal (replay), verified with VerifyTotp at the clock's
// time. Counts calls so tests can see whether a code was spent.
class MemoryTotp final : public SecondFactorVerifier {
 public:
  explicit MemoryTotp(const Clock& clock) : clock_(clock) {}

  void Enrol(const std::string& who) {
    absl::MutexLock lock(&mu_);
    secrets_[who] = NewTotpSecret();
    last_[who] = kTotpNeverUsed;
  }
  std::string CodeFor(const std::string& who, absl::Duration offset = absl::ZeroDuration()) {
    absl::MutexLock lock(&mu_);
    return TotpCode(secrets_.at(who), clock_.Now() + offset).value();
  }
  absl::Status Verify(std::string_view principal, std::string_view code) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    auto it = secrets_.find(std::string(principal));
    if (it == secrets_.end()) return absl::PermissionDeniedError("no second factor enrolled");
    auto step = VerifyTotp(it->second, code, clock_.Now(), last_[it->first]);
    if (!step.ok()) return step.status();
    last_[it->first] = *step;
    return absl::OkStatus();
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  const Clock& clock_;
  absl::Mutex mu_;
  std::map<std::string, SecretBytes> secrets_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> last_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

crypto::Hash256 HashOf(std::string_view payload) { return crypto::Sha256(AsBytes(payload)); }

const std::vector<std::string> kApproverRoles = {"approver"};

class ApprovalBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sigil-approvals-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    key_ = crypto::RandomSecret(32);
    totp_.Enrol("alice");
    totp_.Enrol("bob");
    totp_.Enrol("carol");
    Reopen();
  }
  void TearDown() override {
    book_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Reopen() {
    book_.reset();
    db_.reset();
    auto db = store::SqliteStore::Open(dir_, {});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(db).value();
    auto book = ApprovalBook::Open(*db_, key_.Clone(), clock_, &totp_);
    ASSERT_TRUE(book.ok()) << book.status();
    book_ = std::move(book).value();
  }

  ApprovalRequest Request(int quorum = 2, SecondFactor sf = SecondFactor::kNone) {
    ApprovalRequest r;
    r.payload_hash = HashOf("tx: 1 ether to 0x1111");
    r.key = "treasury";
    r.agent = "bot-1";
    r.rule_id = "large-needs-two";
    r.quorum = quorum;
    r.required_role = "approver";
    r.second_factor = sf;
    r.ttl = absl::Hours(1);
    r.canonical_request = {0x02, 0xf8, 0x70, 0x01, 0x80};
    return r;
  }

  std::string MustCreate(const ApprovalRequest& r) {
    ApprovalEvent ev = book_->Create(r);
    EXPECT_TRUE(ev.ok()) << ev.status;
    EXPECT_EQ(ev.step, ApprovalStep::kCreate);
    return ev.id;
  }

  ApprovalEvent Approve(const std::string& id, const std::string& who,
                        const std::vector<std::string>& roles = kApproverRoles, std::string code = "") {
    return book_->Approve(id, who, roles, code);
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
  std::unique_ptr<ApprovalBook> book_;
};

TEST_F(ApprovalBookTest, CreateRecordsEverything) {
  ApprovalRequest r = Request();
  ApprovalEvent ev = book_->Create(r);
  ASSERT_TRUE(ev.ok()) << ev.status;
  EXPECT_THAT(ev.id, ::testing::MatchesRegex("ap_[0-9a-f]{16}"));
  EXPECT_EQ(ev.actor, "bot-1");
  ASSERT_TRUE(ev.approval.has_value());
  const Approval& a = *ev.approval;
  EXPECT_EQ(a.id, ev.id);
  EXPECT_EQ(a.payload_hash, r.payload_hash);
  EXPECT_EQ(a.key, "treasury");
  EXPECT_EQ(a.agent, "bot-1");
  EXPECT_EQ(a.rule_id, "large-needs-two");
  EXPECT_EQ(a.quorum, 2);
  EXPECT_EQ(a.required_role, "approver");
  EXPECT_EQ(a.state, ApprovalState::kPending);
  EXPECT_EQ(a.created, clock_.Now());
  EXPECT_EQ(a.expires, clock_.Now() + absl::Hours(1));
  EXPECT_TRUE(a.approvals.empty());
  EXPECT_EQ(a.canonical_request, r.canonical_request);
  EXPECT_EQ(book_->Status(ev.id).value(), a);
  ApprovalRequest other = Request();
  other.payload_hash = HashOf("tx: 2 ether to 0x1111");
  EXPECT_NE(MustCreate(other), ev.id);
}

TEST_F(ApprovalBookTest, ARetriedRequestJoinsTheOpenOneInsteadOfAskingAgain) {
  const ApprovalRequest r = Request(1);
  const std::string id = MustCreate(r);
  ApprovalEvent again = book_->Create(r);
  ASSERT_TRUE(again.ok()) << again.status;
  EXPECT_TRUE(again.existing);
  EXPECT_EQ(again.id, id);
  ASSERT_EQ(book_->ListPending()->size(), 1u);

  // Another agent, key, rule or payload is another request.
  for (auto change : std::vector<std::function<void(ApprovalRequest&)>>{
           [](ApprovalRequest& x) { x.agent = "bot-2"; }, [](ApprovalRequest& x) { x.key = "ops"; },
           [](ApprovalRequest& x) { x.rule_id = "other-rule"; }, [](ApprovalRequest& x) { x.quorum = 2; },
           [](ApprovalRequest& x) { x.required_role = "treasury"; },
           [](ApprovalRequest& x) { x.second_factor = SecondFactor::kTotp; },
           [this](ApprovalRequest& x) { x.payload_hash = HashOf("tx: 3 ether to 0x1111"); }}) {
    ApprovalRequest different = r;
    change(different);
    ApprovalEvent ev = book_->Create(different);
    ASSERT_TRUE(ev.ok()) << ev.status;
    EXPECT_FALSE(ev.existing);
    EXPECT_NE(ev.id, id);
  }

  // Approved but not yet used: still joined (the agent collects it).
  ASSERT_TRUE(Approve(id, "alice").ok());
  EXPECT_EQ(book_->Create(r).id, id);
  // Used, rejected or expired: a new request.
  ASSERT_TRUE(book_->Consume(id, r.payload_hash).ok());
  const std::string after_use = MustCreate(r);
  EXPECT_NE(after_use, id);
  ASSERT_TRUE(book_->Reject(after_use, "alice", kApproverRoles, "no").ok());
  const std::string after_reject = MustCreate(r);
  EXPECT_NE(after_reject, after_use);
  clock_.Advance(absl::Hours(2));
  EXPECT_NE(MustCreate(r), after_reject);
}

TEST_F(ApprovalBookTest, PendingRequestsPerAgentAreCapped) {
  ApprovalRequest r = Request(1);
  std::string first;
  for (size_t i = 0; i < ApprovalBook::kMaxPendingPerAgent; ++i) {
    r.payload_hash = HashOf("tx " + std::to_string(i));
    const std::string id = MustCreate(r);
    if (i == 0) first = id;
  }
  r.payload_hash = HashOf("one too many");
  ApprovalEvent over = book_->Create(r);
  EXPECT_EQ(over.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(over.status.message(), HasSubstr("'bot-1' already has 100 requests waiting for approval"));
  EXPECT_FALSE(over.approval.has_value());
  EXPECT_EQ(book_->ListPending()->size(), ApprovalBook::kMaxPendingPerAgent);
  // A retry of a held request still joins it.
  ApprovalRequest retry = r;
  retry.payload_hash = HashOf("tx 0");
  EXPECT_EQ(book_->Create(retry).id, first);
  // Another agent is not affected.
  ApprovalRequest other = r;
  other.agent = "bot-2";
  MustCreate(other);
  // A decided request (here approved) frees a place.
  ASSERT_TRUE(Approve(first, "alice").ok());
  MustCreate(r);
}

TEST_F(ApprovalBookTest, QuorumOfTwoApproversThenConsumeOnce) {
  const std::string id = MustCreate(Request(2));
  ApprovalEvent first = Approve(id, "alice");
  ASSERT_TRUE(first.ok()) << first.status;
  EXPECT_EQ(first.step, ApprovalStep::kApprove);
  EXPECT_EQ(first.actor, "alice");
  EXPECT_EQ(first.approval->state, ApprovalState::kPending);
  ASSERT_EQ(first.approval->approvals.size(), 1u);
  EXPECT_EQ(first.approval->approvals[0], (ApprovalVote{"alice", clock_.Now()}));

  // Not usable before quorum.
  ApprovalEvent early = book_->Consume(id, HashOf("tx: 1 ether to 0x1111"));
  EXPECT_EQ(early.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(early.status.message()), HasSubstr("1 of 2 approvals"));

  clock_.Advance(absl::Minutes(3));
  ApprovalEvent second = Approve(id, "bob");
  ASSERT_TRUE(second.ok()) << second.status;
  EXPECT_EQ(second.approval->state, ApprovalState::kApproved);
  EXPECT_EQ(second.approval->decided, clock_.Now());
  EXPECT_EQ(book_->Status(id)->state, ApprovalState::kApproved);

  // A third approver is too late: the decision is made.
  EXPECT_EQ(Approve(id, "carol").status.code(), absl::StatusCode::kFailedPrecondition);

  ApprovalEvent used = book_->Consume(id, HashOf("tx: 1 ether to 0x1111"));
  ASSERT_TRUE(used.ok()) << used.status;
  EXPECT_EQ(used.step, ApprovalStep::kConsume);
  EXPECT_EQ(used.actor, "bot-1");
  EXPECT_EQ(used.approval->state, ApprovalState::kConsumed);
  EXPECT_EQ(used.approval->canonical_request, Request().canonical_request);

  ApprovalEvent twice = book_->Consume(id, HashOf("tx: 1 ether to 0x1111"));
  EXPECT_EQ(twice.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(twice.status.message()), HasSubstr("already used"));
}

TEST_F(ApprovalBookTest, DuplicateApproverRefused) {
  const std::string id = MustCreate(Request(2));
  ASSERT_TRUE(Approve(id, "alice").ok());
  ApprovalEvent again = Approve(id, "alice");
  EXPECT_EQ(again.status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(again.status.message()), HasSubstr("2 distinct approvers"));
  EXPECT_EQ(again.approval->approvals.size(), 1u);
  EXPECT_EQ(book_->Status(id)->state, ApprovalState::kPending);
  EXPECT_EQ(book_->Status(id)->approvals.size(), 1u);
}

TEST_F(ApprovalBookTest, RequesterCannotApprove) {
  const std::string id = MustCreate(Request(1));
  // Even holding the approver role, the requesting agent's name is refused.
  ApprovalEvent self = Approve(id, "bot-1", {"approver", "agent"});
  EXPECT_EQ(self.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(self.status.message()), HasSubstr("cannot approve"));
  EXPECT_EQ(book_->Status(id)->state, ApprovalState::kPending);
}

TEST_F(ApprovalBookTest, WrongRoleRefused) {
  const std::string id = MustCreate(Request(1));
  for (const auto& roles : std::vector<std::vector<std::string>>{{}, {"auditor"}, {"operator", "agent"}, {"Approver"}}) {
    ApprovalEvent ev = Approve(id, "alice", roles);
    EXPECT_EQ(ev.status.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(std::string(ev.status.message()), HasSubstr("does not hold the role 'approver'"));
  }
  ApprovalRequest treasury = Request(1);
  treasury.required_role = "treasury";
  const std::string id2 = MustCreate(treasury);
  EXPECT_EQ(Approve(id2, "alice", {"approver"}).status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Approve(id2, "alice", {"approver", "treasury"}).ok());
  EXPECT_EQ(book_->Status(id)->state, ApprovalState::kPending);
}

TEST_F(ApprovalBookTest, TotpRequiredWrongAndReusedCodesRefused) {
  const std::string id = MustCreate(Request(2, SecondFactor::kTotp));
  ApprovalEvent none = Approve(id, "alice", kApproverRoles, "");
  EXPECT_EQ(none.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(none.status.message()), HasSubstr("requires a TOTP code"));

  const std::string good = totp_.CodeFor("alice");
  std::string wrong = good;
  wrong[0] = wrong[0] == '9' ? '0' : static_cast<char>(wrong[0] + 1);
  ApprovalEvent bad = Approve(id, "alice", kApproverRoles, wrong);
  EXPECT_EQ(bad.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(bad.status.message(), "invalid TOTP code");
  // Bob's code is not Alice's.
  EXPECT_FALSE(Approve(id, "alice", kApproverRoles, totp_.CodeFor("bob", absl::Seconds(30))).ok());
  EXPECT_TRUE(book_->Status(id)->approvals.empty());

  ASSERT_TRUE(Approve(id, "alice", kApproverRoles, good).ok());
  // Alice's code cannot be replayed on another request in the same step.
  const std::string id2 = MustCreate(Request(1, SecondFactor::kTotp));
  ApprovalEvent replay = Approve(id2, "alice", kApproverRoles, good);
  EXPECT_EQ(replay.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(replay.status.message(), "TOTP code already used");

  ApprovalEvent done = Approve(id, "bob", kApproverRoles, totp_.CodeFor("bob"));
  ASSERT_TRUE(done.ok()) << done.status;
  EXPECT_EQ(done.approval->state, ApprovalState::kApproved);
}

TEST_F(ApprovalBookTest, CodeNotSpentWhenAnotherRuleRefuses) {
  const std::string id = MustCreate(Request(1, SecondFactor::kTotp));
  const int before = totp_.calls();
  EXPECT_EQ(Approve(id, "alice", {"auditor"}, totp_.CodeFor("alice")).status.code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Approve(id, "bot-1", kApproverRoles, "123456").status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(totp_.calls(), before);
  // The same code still works for the right principal and role.
  EXPECT_TRUE(Approve(id, "alice", kApproverRoles, totp_.CodeFor("alice")).ok());
  EXPECT_EQ(totp_.calls(), before + 1);
}

TEST_F(ApprovalBookTest, TotpRequiredWithoutSecondFactorConfigured) {
  auto book = ApprovalBook::Open(*db_, key_.Clone(), clock_, nullptr);
  ASSERT_TRUE(book.ok());
  ApprovalEvent created = (*book)->Create(Request(1, SecondFactor::kTotp));
  ASSERT_TRUE(created.ok());
  ApprovalEvent ev = (*book)->Approve(created.id, "alice", kApproverRoles, "123456");
  EXPECT_EQ(ev.status.code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ApprovalBookTest, ExpiryIsRecordedAndBlocksEverything) {
  const std::string pending = MustCreate(Request(2));
  const std::string approved = MustCreate(Request(1));
  ASSERT_TRUE(Approve(approved, "alice").ok());
  clock_.Advance(absl::Hours(1));

  // Status reads as expired before anything records it.
  EXPECT_EQ(book_->Status(pending)->state, ApprovalState::kExpired);
  EXPECT_TRUE(book_->ListPending()->empty());

  ApprovalEvent late = Approve(pending, "alice");
  EXPECT_EQ(late.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(late.status.message()), HasSubstr("expired at"));
  EXPECT_EQ(late.approval->state, ApprovalState::kExpired);

  ApprovalEvent late_use = book_->Consume(approved, HashOf("tx: 1 ether to 0x1111"));
  EXPECT_EQ(late_use.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(late_use.approval->state, ApprovalState::kExpired);

  // Both are recorded as expired (they survive a reopen with the clock
  // turned back), so a sweep has nothing left to report.
  auto swept = book_->ExpireDue();
  ASSERT_TRUE(swept.ok());
  EXPECT_TRUE(swept->empty());
  clock_.Advance(-absl::Hours(1));
  Reopen();
  EXPECT_EQ(book_->Status(pending)->state, ApprovalState::kExpired);
  EXPECT_EQ(book_->Status(approved)->state, ApprovalState::kExpired);
}

TEST_F(ApprovalBookTest, ExpireDueReportsEachOnce) {
  const std::string a = MustCreate(Request(2));
  ApprovalRequest longer = Request(2);
  longer.payload_hash = HashOf("tx: 2 ether to 0x1111");
  longer.ttl = absl::Hours(2);
  const std::string b = MustCreate(longer);
  clock_.Advance(absl::Minutes(61));
  auto events = book_->ExpireDue();
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].step, ApprovalStep::kExpire);
  EXPECT_EQ((*events)[0].id, a);
  EXPECT_TRUE((*events)[0].ok());
  EXPECT_EQ((*events)[0].approval->state, ApprovalState::kExpired);
  EXPECT_TRUE(book_->ExpireDue()->empty());
  EXPECT_EQ(book_->ListPending()->size(), 1u);
  EXPECT_EQ(book_->ListPending()->at(0).id, b);
}

TEST_F(ApprovalBookTest, RejectEndsTheRequest) {
  const std::string id = MustCreate(Request(2));
  ASSERT_TRUE(Approve(id, "alice").ok());
  ApprovalEvent wrong_role = book_->Reject(id, "mallory", std::vector<std::string>{"agent"}, "no");
  EXPECT_EQ(wrong_role.status.code(), absl::StatusCode::kPermissionDenied);

  ApprovalEvent rej = book_->Reject(id, "bob", kApproverRoles, "amount too large");
  ASSERT_TRUE(rej.ok()) << rej.status;
  EXPECT_EQ(rej.step, ApprovalStep::kReject);
  EXPECT_EQ(rej.approval->state, ApprovalState::kRejected);
  EXPECT_EQ(rej.approval->rejected_by, "bob");
  EXPECT_EQ(rej.approval->reject_reason, "amount too large");

  ApprovalEvent after = Approve(id, "carol");
  EXPECT_EQ(after.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(after.status.message()), HasSubstr("rejected by 'bob'"));
  EXPECT_EQ(book_->Consume(id, HashOf("tx: 1 ether to 0x1111")).status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(book_->Reject(id, "carol", kApproverRoles, "").status.code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ApprovalBookTest, ApprovedButUnusedCanBeVetoed) {
  const std::string id = MustCreate(Request(1));
  ASSERT_TRUE(Approve(id, "alice").ok());
  ASSERT_TRUE(book_->Reject(id, "bob", kApproverRoles, "changed my mind").ok());
  EXPECT_FALSE(book_->Consume(id, HashOf("tx: 1 ether to 0x1111")).ok());
}

TEST_F(ApprovalBookTest, ConsumeIsBoundToThePayload) {
  const std::string id = MustCreate(Request(1));
  ASSERT_TRUE(Approve(id, "alice").ok());
  ApprovalEvent other = book_->Consume(id, HashOf("tx: 100 ether to 0xbad"));
  EXPECT_EQ(other.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(other.status.message()), HasSubstr("does not match"));
  EXPECT_EQ(book_->Status(id)->state, ApprovalState::kApproved);
  EXPECT_TRUE(book_->Consume(id, HashOf("tx: 1 ether to 0x1111")).ok());
  EXPECT_FALSE(book_->Consume(id, HashOf("tx: 1 ether to 0x1111")).ok());
}

// A consumed request whose signature never left is approved again, or
// expired if its time ran out meanwhile; only a consumed one can be returned.
TEST_F(ApprovalBookTest, AnUnspentConsumeIsReturned) {
  const std::string id = MustCreate(Request(1));
  EXPECT_EQ(book_->ReturnUnspent(id).status.code(), absl::StatusCode::kFailedPrecondition);  // pending
  ASSERT_TRUE(Approve(id, "alice").ok());
  EXPECT_EQ(book_->ReturnUnspent(id).status.code(), absl::StatusCode::kFailedPrecondition);  // approved
  ASSERT_TRUE(book_->Consume(id, HashOf("tx: 1 ether to 0x1111")).ok());
  ApprovalEvent returned = book_->ReturnUnspent(id);
  ASSERT_TRUE(returned.ok()) << returned.status;
  EXPECT_EQ(returned.step, ApprovalStep::kReturn);
  EXPECT_EQ(returned.approval->state, ApprovalState::kApproved);
  EXPECT_EQ(book_->Status(id)->state, ApprovalState::kApproved);
  ASSERT_TRUE(book_->Consume(id, HashOf("tx: 1 ether to 0x1111")).ok());
  clock_.Advance(absl::Hours(48));
  returned = book_->ReturnUnspent(id);
  ASSERT_TRUE(returned.ok()) << returned.status;
  EXPECT_EQ(returned.approval->state, ApprovalState::kExpired);
  EXPECT_FALSE(book_->Consume(id, HashOf("tx: 1 ether to 0x1111")).ok());
}

TEST_F(ApprovalBookTest, ConcurrentConsumeSucceedsExactlyOnce) {
  const std::string id = MustCreate(Request(1));
  ASSERT_TRUE(Approve(id, "alice").ok());
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (book_->Consume(id, HashOf("tx: 1 ether to 0x1111")).ok()) ++wins;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
}

TEST_F(ApprovalBookTest, ConcurrentApproversReachQuorumOnce) {
  ApprovalRequest r = Request(3);
  const std::string id = MustCreate(r);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (const char* who : {"a1", "a2", "a3", "a4", "a5", "a6"}) {
    threads.emplace_back([&, who] {
      if (Approve(id, who).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 3);
  auto a = book_->Status(id);
  EXPECT_EQ(a->state, ApprovalState::kApproved);
  EXPECT_EQ(a->approvals.size(), 3u);
}

TEST_F(ApprovalBookTest, ListPendingOldestFirst) {
  const std::string a = MustCreate(Request(2));
  clock_.Advance(absl::Seconds(1));
  ApprovalRequest second = Request(2);
  second.payload_hash = HashOf("tx: 2 ether to 0x1111");
  const std::string b = MustCreate(second);
  clock_.Advance(absl::Seconds(1));
  const std::string c = MustCreate(Request(1));
  ASSERT_TRUE(Approve(c, "alice").ok());
  auto pending = book_->ListPending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].id, a);
  EXPECT_EQ((*pending)[1].id, b);
}

TEST_F(ApprovalBookTest, BadInputsRefused) {
  EXPECT_EQ(Approve("ap_nothex000000000", "alice").status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Approve("../../etc", "alice").status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Approve("ap_0123456789abcdef", "alice").status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(book_->Consume("x", {}).status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(book_->Status("ap_0123456789abcdef").status().code(), absl::StatusCode::kNotFound);
  const std::string id = MustCreate(Request(1));
  EXPECT_EQ(Approve(id, "").status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(book_->Reject(id, "bob", kApproverRoles, std::string(513, 'x')).status.code(),
            absl::StatusCode::kInvalidArgument);

  auto invalid = [&](auto mutate) {
    ApprovalRequest r = Request();
    mutate(r);
    ApprovalEvent ev = book_->Create(r);
    EXPECT_EQ(ev.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(ev.approval.has_value());
  };
  invalid([](ApprovalRequest& r) { r.quorum = 0; });
  invalid([](ApprovalRequest& r) { r.quorum = 17; });
  invalid([](ApprovalRequest& r) { r.agent = ""; });
  invalid([](ApprovalRequest& r) { r.key = std::string(129, 'k'); });
  invalid([](ApprovalRequest& r) { r.rule_id = "a\nb"; });
  invalid([](ApprovalRequest& r) { r.required_role = ""; });
  invalid([](ApprovalRequest& r) { r.ttl = absl::ZeroDuration(); });
  invalid([](ApprovalRequest& r) { r.ttl = absl::Hours(24 * 31); });
  invalid([](ApprovalRequest& r) { r.canonical_request.resize(kMaxCanonicalRequestSize + 1); });
}

TEST_F(ApprovalBookTest, PersistsAcrossReopen) {
  const std::string id = MustCreate(Request(2, SecondFactor::kTotp));
  ASSERT_TRUE(Approve(id, "alice", kApproverRoles, totp_.CodeFor("alice")).ok());
  const Approval before = book_->Status(id).value();
  Reopen();
  auto after = book_->Status(id);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, before);
  EXPECT_EQ(after->second_factor, SecondFactor::kTotp);
  // The decision continues where it stopped.
  ApprovalEvent second = Approve(id, "bob", kApproverRoles, totp_.CodeFor("bob"));
  ASSERT_TRUE(second.ok()) << second.status;
  EXPECT_EQ(second.approval->state, ApprovalState::kApproved);
  Reopen();
  EXPECT_TRUE(book_->Consume(id, before.payload_hash).ok());
  Reopen();
  EXPECT_EQ(book_->Status(id)->state, ApprovalState::kConsumed);
}

TEST_F(ApprovalBookTest, SealedAtRest) {
  ApprovalRequest r = Request(1);
  r.agent = "agent-with-a-distinctive-name";
  r.canonical_request.assign(64, 0xAB);
  const std::string id = MustCreate(r);
  ASSERT_TRUE(Approve(id, "alice").ok());
  const std::string disk = DiskBytes();
  EXPECT_EQ(disk.find("agent-with-a-distinctive-name"), std::string::npos);
  EXPECT_EQ(disk.find(std::string(32, static_cast<char>(0xAB))), std::string::npos);
  EXPECT_EQ(disk.find(HexEncode(r.payload_hash)), std::string::npos);
  EXPECT_EQ(disk.find("alice"), std::string::npos);
}

TEST_F(ApprovalBookTest, TamperedRowDetectedNamingTheRow) {
  const std::string id = MustCreate(Request(2));
  auto row = db_->Get(kApprovalsTable, id).value().value();
  row[row.size() - 3] ^= 0x40;
  ASSERT_TRUE(db_->Put(kApprovalsTable, id, row).ok());
  const std::string expected = "approval row '" + id + "' failed authentication";

  auto status = book_->Status(id);
  EXPECT_EQ(status.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status.status().message(), expected);
  ApprovalEvent ev = Approve(id, "alice");
  EXPECT_EQ(ev.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ev.status.message(), expected);

  auto reopened = ApprovalBook::Open(*db_, key_.Clone(), clock_, &totp_);
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(reopened.status().message(), expected);
}

TEST_F(ApprovalBookTest, RowCopiedUnderAnotherIdDetected) {
  // An approved row copied over a pending one must not make it approved.
  const std::string pending = MustCreate(Request(2));
  const std::string approved = MustCreate(Request(1));
  ASSERT_TRUE(Approve(approved, "alice").ok());
  auto row = db_->Get(kApprovalsTable, approved).value().value();
  ASSERT_TRUE(db_->Put(kApprovalsTable, pending, row).ok());
  ApprovalEvent ev = book_->Consume(pending, HashOf("tx: 1 ether to 0x1111"));
  EXPECT_EQ(ev.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ev.status.message(), "approval row '" + pending + "' failed authentication");
}

TEST_F(ApprovalBookTest, WrongStateKeyRefusedAtOpen) {
  MustCreate(Request());
  auto other = ApprovalBook::Open(*db_, crypto::RandomSecret(32), clock_, &totp_);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ApprovalBook::Open(*db_, crypto::RandomSecret(31), clock_, &totp_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ApprovalBookTest, PurgeDecidedKeepsLiveRequests) {
  const std::string live = MustCreate(Request(2));
  const std::string used = MustCreate(Request(1));
  ASSERT_TRUE(Approve(used, "alice").ok());
  ASSERT_TRUE(book_->Consume(used, HashOf("tx: 1 ether to 0x1111")).ok());
  const std::string rejected = MustCreate(Request(1));
  ASSERT_TRUE(book_->Reject(rejected, "bob", kApproverRoles, "").ok());
  clock_.Advance(absl::Minutes(1));
  auto n = book_->PurgeDecided(clock_.Now());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2u);
  EXPECT_TRUE(book_->Status(live).ok());
  EXPECT_EQ(book_->Status(used).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(book_->Status(rejected).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ApprovalBookTest, StoredFormatMatchesDocApprovalsMd) {
  const std::string id = MustCreate(Request(2, SecondFactor::kTotp));
  ASSERT_TRUE(Approve(id, "alice", kApproverRoles, totp_.CodeFor("alice")).ok());
  json record = OpenDocumentedRow(key_, "approvals", id, db_->Get(kApprovalsTable, id).value().value());
  ExpectSameShape(DocExample("approvals.md", "<!-- approval-record-example -->"), record);
  EXPECT_EQ(record["v"], 1);
  EXPECT_EQ(record["state"], "pending");
  EXPECT_EQ(record["second_factor"], "totp");
  EXPECT_EQ(record["payload_hash"], HexEncode(Request().payload_hash));
  EXPECT_EQ(record["request"], "02f8700180");
  EXPECT_EQ(record["created_ms"], absl::ToUnixMillis(clock_.Now()));
}

}  // namespace
}  // namespace sigil::policy
