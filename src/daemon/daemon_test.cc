#include "daemon/daemon.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <vector>
#include <string>
#include <thread>

#include "audit/log_format.h"
#include "audit/record.h"
#include "daemon/audit_anchor.h"
#include "gtest/gtest.h"
#include "keystore/pkcs11/pkcs11_settings.h"
#include "net/http_client.h"
#include "policy/approval_book.h"
#include "store/sqlite_store.h"
#include "testing/scoped_temp_dir.h"
#include "testing/softhsm_token.h"

namespace sigil::daemon {
namespace {

using keystore::pkcs11::kPinEnvironmentVariable;

// A dev daemon in a fresh folder on a free loopback port, cores allowed (the
// test process stays debuggable).
Config DevConfig(const std::string& dir) {
  Config c;
  c.dev = true;
  c.data_dir = dir + "/data";
  c.listen = {"127.0.0.1:0"};
  c.allow_core_dumps = true;
  return c;
}

// Secrets leave the environment in TakeStartupSecrets, which the binary
// calls while it has one thread; Daemon::Start (which starts the audit log's
// and the server's threads before it opens the token) reads none itself.
TEST(StartupSecretsTest, PinFromTheEnvironmentIsTakenUpFrontAndRemoved) {
  Config c;
  c.pkcs11_module = "/no/such/module.so";  // not loaded here: only the PIN is read
  c.key_file = "/no/such/master.key";      // not a passphrase source
  ASSERT_EQ(::setenv(kPinEnvironmentVariable, "24680", 1), 0);
  auto secrets = TakeStartupSecrets(c);
  ASSERT_TRUE(secrets.ok()) << secrets.status();
  ASSERT_TRUE(secrets->pkcs11_pin.has_value());
  EXPECT_EQ(secrets->pkcs11_pin->RevealText(SecretAccess::Get()), "24680");
  EXPECT_EQ(::getenv(kPinEnvironmentVariable), nullptr);
  EXPECT_FALSE(secrets->keystore_passphrase.has_value());

  // No PKCS#11 module: the variable is not the daemon's business.
  ASSERT_EQ(::setenv(kPinEnvironmentVariable, "24680", 1), 0);
  c.pkcs11_module.clear();
  secrets = TakeStartupSecrets(c);
  ASSERT_TRUE(secrets.ok()) << secrets.status();
  EXPECT_FALSE(secrets->pkcs11_pin.has_value());
  ::unsetenv(kPinEnvironmentVariable);
}

TEST(StartupSecretsTest, PassphraseFileIsReadUpFront) {
  ScopedTempDir dir;
  ASSERT_FALSE(dir.path().empty());
  Config c;
  c.passphrase_file = dir.path() + "/pass";
  std::ofstream(c.passphrase_file) << "correct horse battery staple\n";
  auto secrets = TakeStartupSecrets(c);
  ASSERT_TRUE(secrets.ok()) << secrets.status();
  ASSERT_TRUE(secrets->keystore_passphrase.has_value());
  EXPECT_EQ(secrets->keystore_passphrase->RevealText(SecretAccess::Get()), "correct horse battery staple");
  c.passphrase_file = dir.path() + "/missing";
  EXPECT_FALSE(TakeStartupSecrets(c).ok());
}

TEST(DaemonStartTest, OpensThePkcs11TokenWithThePinReadUpFrontNeverTheEnvironment) {
  if (!SoftHsmToken::Installed()) GTEST_SKIP() << "softhsm2 is not installed";
  auto token = SoftHsmToken::Create();
  ASSERT_TRUE(token.ok()) << token.status();
  ScopedTempDir dir;
  ASSERT_FALSE(dir.path().empty());
  Config c = DevConfig(dir.path());
  c.pkcs11_module = (*token)->module_path();
  c.pkcs11_token = (*token)->label();

  // The right PIN sits in the environment, but Start was given none: it
  // must not fall back to reading (and unsetenv-ing) the variable while its
  // threads run.
  ASSERT_EQ(::setenv(kPinEnvironmentVariable, SoftHsmToken::kPin, 1), 0);
  auto refused = Daemon::Start(c, StartupSecrets{});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_NE(std::string(refused.status().message()).find("PIN"), std::string::npos) << refused.status();
  ASSERT_NE(::getenv(kPinEnvironmentVariable), nullptr) << "Daemon::Start changed the environment";

  // What TakeStartupSecrets read is what opens the token.
  auto secrets = TakeStartupSecrets(c);
  ASSERT_TRUE(secrets.ok()) << secrets.status();
  ASSERT_EQ(::getenv(kPinEnvironmentVariable), nullptr);
  auto daemon = Daemon::Start(c, std::move(*secrets));
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  (*daemon)->Stop();
}

// Housekeeping purges decided approvals (here: as soon as decided, every
// 10 ms round); a pending one stays.
TEST(DaemonHousekeepingTest, PurgesDecidedApprovals) {
  ScopedTempDir dir;
  ASSERT_FALSE(dir.path().empty());
  Config c = DevConfig(dir.path());
  c.housekeeping.round = absl::Milliseconds(10);
  c.housekeeping.purge_every = absl::ZeroDuration();
  c.housekeeping.keep_decided = absl::ZeroDuration();
  auto daemon = Daemon::Start(c, StartupSecrets{});
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  policy::ApprovalBook& book = (*daemon)->approvals();

  policy::ApprovalRequest request;
  request.key = "treasury";
  request.agent = "bot";
  request.rule_id = "big";
  request.payload_hash[0] = 1;
  const policy::ApprovalEvent decided = book.Create(request);
  ASSERT_TRUE(decided.status.ok()) << decided.status;
  request.payload_hash[0] = 2;
  const policy::ApprovalEvent pending = book.Create(request);
  ASSERT_TRUE(pending.status.ok()) << pending.status;
  const std::vector<std::string> roles = {"approver"};
  const policy::ApprovalEvent rejected = book.Reject(decided.id, "alice", roles, "no");
  ASSERT_TRUE(rejected.status.ok()) << rejected.status;

  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  absl::StatusOr<policy::Approval> status = book.Status(decided.id);
  while (status.ok() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    status = book.Status(decided.id);
  }
  EXPECT_EQ(status.status().code(), absl::StatusCode::kNotFound) << "the rejected approval was never purged";
  EXPECT_TRUE(book.Status(pending.id).ok()) << "a pending approval was purged";
  (*daemon)->Stop();
}

// One data directory, one daemon: the second refuses before it touches
// anything (it used to cut the ledger journal's "torn" tail, a line the first
// was writing, before failing on the audit log's lock).
TEST(DaemonStartTest, ASecondDaemonOnTheSameDirectoryRefusesAndTouchesNothing) {
  ScopedTempDir dir;
  ASSERT_FALSE(dir.path().empty());
  Config c = DevConfig(dir.path());
  auto first = Daemon::Start(c, StartupSecrets{});
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string journal = c.data_dir + "/ledger.journal";
  {
    std::ofstream out(journal, std::ios::app | std::ios::binary);
    out << "{\"half a line the first daemon is writing";
  }
  const auto size_before = std::filesystem::file_size(journal);
  auto second = Daemon::Start(c, StartupSecrets{});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  EXPECT_NE(second.status().message().find("another sigil server"), std::string::npos) << second.status();
  EXPECT_EQ(std::filesystem::file_size(journal), size_before);
  (*first)->Stop();
  first->reset();
  // Once the first has stopped, the directory is free again.
  auto third = Daemon::Start(c, StartupSecrets{});
  EXPECT_TRUE(third.ok()) << third.status();
  if (third.ok()) (*third)->Stop();
}

// The records of the audit log at `path`, in order (the file as a stopped
// daemon left it).
std::vector<audit::AuditRecord> AuditRecords(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<audit::AuditRecord> out;
  auto scan = audit::ScanLog(bytes);
  EXPECT_TRUE(scan.ok()) << scan.status();
  if (!scan.ok()) return out;
  for (const auto& f : scan->frames) {
    if (f.type != audit::FrameType::kRecord) continue;
    auto r = audit::ParseRecord(f.payload);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) out.push_back(*r);
  }
  return out;
}

absl::Status StartAndStop(const Config& c) {
  auto daemon = Daemon::Start(c, StartupSecrets{});
  if (!daemon.ok()) return daemon.status();
  (*daemon)->Stop();
  return absl::OkStatus();
}

// The store anchors the audit log (doc/audit-log.md §6): a log deleted or
// put back to an older copy while the daemon was stopped is refused at start,
// until the operator accepts the loss, which the new log records first.
TEST(DaemonAuditAnchorTest, ADeletedLogIsRefusedUntilItsLossIsAccepted) {
  ScopedTempDir dir;
  ASSERT_FALSE(dir.path().empty());
  Config c = DevConfig(dir.path());
  ASSERT_TRUE(StartAndStop(c).ok());
  const std::string log = c.data_dir + "/audit.log";
  ASSERT_TRUE(std::filesystem::remove(log));

  absl::Status refused = StartAndStop(c);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_NE(refused.message().find("deleted"), std::string::npos) << refused;
  EXPECT_NE(refused.message().find("--accept-audit-log-loss"), std::string::npos) << refused;

  c.accept_audit_log_loss = true;
  ASSERT_TRUE(StartAndStop(c).ok());
  const auto records = AuditRecords(log);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records[0].type, audit::record_type::kAuditDiscontinuity);
  EXPECT_EQ(records[0].seq, 0u);
  EXPECT_EQ(records[0].extra.at("records_at_open"), "0");

  // The new log is the anchored one now: later starts need no flag.
  c.accept_audit_log_loss = false;
  EXPECT_TRUE(StartAndStop(c).ok());
}

TEST(DaemonAuditAnchorTest, AnOlderCopyOfTheLogIsRefused) {
  ScopedTempDir dir;
  ASSERT_FALSE(dir.path().empty());
  Config c = DevConfig(dir.path());
  ASSERT_TRUE(StartAndStop(c).ok());
  const std::string log = c.data_dir + "/audit.log";
  std::filesystem::copy_file(log, dir.path() + "/older.log");
  ASSERT_TRUE(StartAndStop(c).ok());  // daemon.start, daemon.stop: the log grows
  std::filesystem::copy_file(dir.path() + "/older.log", log, std::filesystem::copy_options::overwrite_existing);
  const auto size = std::filesystem::file_size(log);

  absl::Status refused = StartAndStop(c);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_NE(refused.message().find("records were cut"), std::string::npos) << refused;
  EXPECT_EQ(std::filesystem::file_size(log), size);  // refused before anything was written

  c.accept_audit_log_loss = true;
  ASSERT_TRUE(StartAndStop(c).ok());
  const auto records = AuditRecords(log);
  size_t discontinuities = 0;
  for (const auto& r : records) discontinuities += r.type == audit::record_type::kAuditDiscontinuity;
  EXPECT_EQ(discontinuities, 1u);
}

TEST(DaemonAuditAnchorTest, AnEditedAnchorIsRefused) {
  ScopedTempDir dir;
  ASSERT_FALSE(dir.path().empty());
  Config c = DevConfig(dir.path());
  ASSERT_TRUE(StartAndStop(c).ok());
  {
    auto store = store::SqliteStore::Open(c.data_dir, {});
    ASSERT_TRUE(store.ok()) << store.status();
    auto row = (*store)->Get(AuditAnchorStore::kTable, AuditAnchorStore::kRow);
    ASSERT_TRUE(row.ok() && row->has_value());
    store::Bytes edited = **row;
    edited[23] ^= 1;  // the size's last byte
    ASSERT_TRUE((*store)->Put(AuditAnchorStore::kTable, AuditAnchorStore::kRow, edited).ok());
  }
  absl::Status refused = StartAndStop(c);
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss) << refused;
  EXPECT_NE(refused.message().find("fails its MAC"), std::string::npos) << refused;
  // Accepted: the log says that nothing could be checked, before anything
  // else this start writes.
  c.accept_audit_log_loss = true;
  ASSERT_TRUE(StartAndStop(c).ok());
  const auto records = AuditRecords(c.data_dir + "/audit.log");
  size_t at = 0;
  while (at < records.size() && records[at].type != audit::record_type::kAuditDiscontinuity) ++at;
  ASSERT_LT(at, records.size()) << "no audit.discontinuity record";
  EXPECT_NE(records[at].reason.find("could not be read"), std::string::npos) << records[at].reason;
  ASSERT_GT(at, 0u);
  EXPECT_EQ(records[at - 1].type, audit::record_type::kDaemonStop);  // the previous run's last record
  c.accept_audit_log_loss = false;
  EXPECT_TRUE(StartAndStop(c).ok());  // a fresh anchor was saved
}

// The running daemon keeps its anchor current (every housekeeping round), so
// a log cut back after a crash is noticed too, not only after a clean stop.
TEST(DaemonAuditAnchorTest, TheAnchorFollowsTheLogWhileTheDaemonRuns) {
  ScopedTempDir dir;
  ASSERT_FALSE(dir.path().empty());
  Config c = DevConfig(dir.path());
  c.housekeeping.round = absl::Milliseconds(10);
  auto daemon = Daemon::Start(c, StartupSecrets{});
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  auto store = store::SqliteStore::Open(c.data_dir, {});
  ASSERT_TRUE(store.ok()) << store.status();
  // The size field of the row (bytes 16..23, big-endian); MAC not checked here.
  auto anchored_size = [&]() -> uint64_t {
    auto row = (*store)->Get(AuditAnchorStore::kTable, AuditAnchorStore::kRow);
    if (!row.ok() || !row->has_value() || (*row)->size() < 24) return 0;
    uint64_t n = 0;
    for (size_t i = 16; i < 24; ++i) n = (n << 8) | (**row)[i];
    return n;
  };
  auto wait_for_size_above = [&](uint64_t floor) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (anchored_size() <= floor && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return anchored_size();
  };
  const uint64_t first = wait_for_size_above(0);  // daemon.start at least
  ASSERT_GT(first, 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const uint64_t settled = anchored_size();
  // A refused request appends auth.failed; the anchor must follow it.
  auto client = net::HttpClient::Create((*daemon)->urls().at(0));
  ASSERT_TRUE(client.ok()) << client.status();
  net::HttpHeaders headers;
  headers.Set("Authorization", "Bearer not-a-token");
  auto r = (*client)->Get("/v1/keys", headers);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 401);
  EXPECT_GT(wait_for_size_above(settled), settled) << "the anchor did not follow the log while the daemon ran";
  (*daemon)->Stop();
}

// What can put foreign code beside the master key, let it reach a file, or
// switch the rollback check off is measured; a configuration that sets none
// of the newer ones keeps the hash it always had.
TEST(EffectiveConfigHashTest, MeasuresWhatChangesTheKeysSafety) {
  Config base;
  const crypto::Hash256 plain = EffectiveConfigHash(base);
  Config c = base;
  c.pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so";
  EXPECT_NE(EffectiveConfigHash(c), plain);
  c = base;
  c.allow_core_dumps = true;
  EXPECT_NE(EffectiveConfigHash(c), plain);
  // TPM settings count with a TPM, and only then.
  c = base;
  c.tpm_nv_counter = true;
  EXPECT_EQ(EffectiveConfigHash(c), plain);
  c.tpm_tcti = "swtpm:host=127.0.0.1,port=2321";
  const crypto::Hash256 tpm = EffectiveConfigHash(c);
  EXPECT_NE(tpm, plain);
  for (auto change : std::vector<std::function<void(Config&)>>{
           [](Config& x) { x.tpm_nv_counter = false; }, [](Config& x) { x.tpm_nv_index += 1; },
           [](Config& x) { x.tpm_pcr = 23; }, [](Config& x) { x.tpm_tcti = "libtpms-evil.so"; }}) {
    Config changed = c;
    change(changed);
    EXPECT_NE(EffectiveConfigHash(changed), tpm);
  }
}

}  // namespace
}  // namespace sigil::daemon
