#include "daemon/daemon.h"
#include "daemon/alert_webhook.h"
#include "daemon/audit_anchor.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/synchronization/mutex.h"
#include "attest/environment_check.h"
#include "attest/reporter.h"
#include "audit/audit_log.h"
#include "base/hex.h"
#include "base/status.h"
#include "cli/passphrase_source.h"
#include "core/policy_store.h"
#include "core/signing_service.h"
#include "crypto/kdf.h"
#include "crypto/known_answers.h"
#include "crypto/secp256k1_key_table.h"
#include "keystore/backup.h"
#include "keystore/backup_share.h"
#include "keystore/master_key_file.h"
#include "keystore/software_key_store.h"
#include "keystore/tpm2/rollback_counter.h"
#include "keystore/tpm2/sealed_master_key.h"
#include "keystore/tpm2/tpm2_device.h"
#include "attest/tpm2_quote.h"
#include "keystore/pkcs11/pkcs11_settings.h"
#include "keystore/routing_key_store.h"
#include "mcp/http_transport.h"
#include "mcp/mcp_session_registry.h"
#include "metrics/metrics.h"
#include "net/http_server.h"
#include "net/http_url.h"
#include "policy/approval_book.h"
#include "policy/file_ledger_journal.h"
#include "policy/ledger.h"
#include "policy/lockdown.h"
#include "policy/policy_engine.h"
#include "policy/totp.h"
#include "server/api_server.h"
#include "spdlog/spdlog.h"
#include "store/sqlite_store.h"
#include "tokens/token_store.h"

namespace sigil::daemon {
namespace {

namespace fs = std::filesystem;

constexpr char kAuditKeyName[] = "sigil-audit";
constexpr char kAttestKeyName[] = "sigil-attestation";
constexpr char kStateKeyName[] = "sigil-state";

// Approvals and lockdown ask for a principal's TOTP through this adapter;
// the secret stays sealed in the token store.
class TokenTotpVerifier final : public policy::SecondFactorVerifier {
 public:
  TokenTotpVerifier(tokens::TokenStore& tokens, const Clock& clock) : tokens_(tokens), clock_(clock) {}
  absl::Status Verify(std::string_view principal, std::string_view code) override {
    absl::Time now = clock_.Now();
    return tokens_.CheckTotp(principal, [&](const SecretBytes& secret, int64_t last) {
      return policy::VerifyTotp(secret, code, now, last);
    });
  }

 private:
  tokens::TokenStore& tokens_;
  const Clock& clock_;
};

// Audit checkpoints are signed by the audit-purpose key in the keystore.
class KeystoreCheckpointSigner final : public audit::CheckpointSigner {
 public:
  KeystoreCheckpointSigner(keystore::KeyStore& keys, keystore::KeyInfo key) : keys_(keys), key_(std::move(key)) {
    std::copy(key_.public_key.begin(), key_.public_key.end(), public_key_.begin());
  }
  absl::StatusOr<crypto::Ed25519Signature> Sign(std::span<const uint8_t> message) override {
    return keys_.SignEd25519(key_.id, keystore::KeyPurpose::kAudit, message);
  }
  crypto::Ed25519PublicKey PublicKey() const override { return public_key_; }

 private:
  keystore::KeyStore& keys_;
  keystore::KeyInfo key_;
  crypto::Ed25519PublicKey public_key_{};
};

absl::Status WritePrivateFile(const std::string& path, std::string_view content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError("cannot write " + path + ": " + std::strerror(errno));
  ssize_t n = ::write(fd, content.data(), content.size());
  bool ok = n == static_cast<ssize_t>(content.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return absl::UnavailableError("cannot write " + path);
  return absl::OkStatus();
}

absl::Status EnsureDataDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::UnavailableError("cannot create data directory " + dir + ": " + ec.message());
  if (::chmod(dir.c_str(), 0700) != 0) return absl::UnavailableError("cannot set mode 0700 on " + dir);
  return absl::OkStatus();
}


// TPM: the master key sealed to this binary + configuration (doc/tpm.md).
absl::StatusOr<SecretBytes> TpmMasterKey(const Config& c, bool exists, bool create) {
  ASSIGN_OR_RETURN(crypto::Hash256 binary, attest::MeasureSelf());
  const crypto::Hash256 event = attest::MeasurementEvent(binary, EffectiveConfigHash(c));
  ASSIGN_OR_RETURN(auto tpm, keystore::tpm2::Tpm2Device::Open(c.tpm_tcti));
  const std::string path = c.data_dir + "/" + keystore::tpm2::kSealedMasterKeyFile;
  if (c.tpm_reseal && exists) RETURN_IF_ERROR(keystore::tpm2::ResealMasterKey(*tpm, path, event));
  if (!exists) {
    if (!create) return absl::NotFoundError("no keystore in " + c.data_dir + "; run `sigil init --data " + c.data_dir + "` first");
    return keystore::tpm2::CreateSealedMasterKey(*tpm, path, c.tpm_pcr, event);
  }
  return keystore::tpm2::UnsealMasterKey(*tpm, path, event);
}

// The keystore passphrase, when one is the master key source: the file named
// by keystore.passphrase_file, else by SIGIL_PASSPHRASE_FILE (neither is
// looked at when a TPM or a key file provides the master key).
absl::StatusOr<std::optional<SecretBytes>> ReadKeystorePassphrase(const Config& c) {
  if (!c.tpm_tcti.empty() || !c.key_file.empty()) return std::nullopt;
  std::string pass_file = c.passphrase_file;
  if (pass_file.empty()) {
    if (const char* env = std::getenv("SIGIL_PASSPHRASE_FILE")) pass_file = env;
  }
  if (pass_file.empty()) return std::nullopt;
  ASSIGN_OR_RETURN(SecretBytes pass, cli::ReadSecretFile(pass_file, "passphrase"));
  return pass;
}

// Opens (or, when `create`, creates) the software keystore in `store`.
// `passphrase` is ReadKeystorePassphrase's: this reads no environment.
absl::StatusOr<std::unique_ptr<keystore::SoftwareKeyStore>> OpenKeystore(store::Store& store, const Config& c,
                                                                         const Clock& clock, bool create,
                                                                         const std::optional<SecretBytes>& passphrase) {
  keystore::SoftwareKeyStoreOptions options;
  options.clock = &clock;
  options.allow_import = c.allow_key_import;
  ASSIGN_OR_RETURN(bool exists, keystore::SoftwareKeyStore::Exists(store));
  if (!c.tpm_tcti.empty()) {
    ASSIGN_OR_RETURN(SecretBytes master, TpmMasterKey(c, exists, create));
    if (!exists) return keystore::SoftwareKeyStore::CreateWithMasterKey(store, master, options);
    return keystore::SoftwareKeyStore::OpenWithMasterKey(store, master, options);
  }
  std::string key_file = c.key_file;
  // Dev mode keeps its master key in a file beside the data (and says so).
  if (c.dev && key_file.empty() && !passphrase) key_file = c.data_dir + "/master.key";
  if (!key_file.empty()) {
    if (!fs::exists(key_file)) {
      if (exists || !create) return absl::NotFoundError("master key file " + key_file + " is missing");
      RETURN_IF_ERROR(keystore::CreateMasterKeyFile(key_file));
    }
    ASSIGN_OR_RETURN(SecretBytes master, keystore::ReadMasterKeyFile(key_file));
    if (!exists) {
      if (!create) return absl::NotFoundError("no keystore in " + c.data_dir + "; run `sigil init --data " + c.data_dir + "` first");
      return keystore::SoftwareKeyStore::CreateWithMasterKey(store, master, options);
    }
    return keystore::SoftwareKeyStore::OpenWithMasterKey(store, master, options);
  }
  if (!passphrase) {
    return absl::InvalidArgumentError("no master key source: set SIGIL_PASSPHRASE_FILE, keystore.passphrase_file or keystore.key_file");
  }
  const SecretBytes& pass = *passphrase;
  if (!exists) {
    if (!create) return absl::NotFoundError("no keystore in " + c.data_dir + "; run `sigil init --data " + c.data_dir + "` first");
    return keystore::SoftwareKeyStore::CreateWithPassphrase(store, pass, crypto::Argon2Params::Moderate(), options);
  }
  return keystore::SoftwareKeyStore::OpenWithPassphrase(store, pass, options);
}

absl::StatusOr<keystore::KeyInfo> EnsureInternalKey(keystore::KeyStore& keys, const std::string& name,
                                                    keystore::KeyPurpose purpose) {
  auto k = keys.Get(name);
  if (k.ok()) return k;
  if (k.status().code() != absl::StatusCode::kNotFound) return k.status();
  return keys.Generate(name, keystore::KeyType::kEd25519, purpose);
}

absl::StatusOr<SecretBytes> DeriveStateKey(keystore::SoftwareKeyStore& keys, const keystore::KeyInfo& state_key) {
  SecretBytes out;
  RETURN_IF_ERROR(keys.WithUnsealedKey(state_key.id, keystore::KeyPurpose::kEncryption,
                                       [&](const keystore::KeyInfo&, const SecretBytes& seed) -> absl::Status {
                                         ASSIGN_OR_RETURN(out, crypto::HkdfSha256(seed, {}, "sigil-state-v1", 32));
                                         return absl::OkStatus();
                                       }));
  return out;
}

absl::StatusOr<std::string> IssueAdminToken(tokens::TokenStore& tokens, const std::string& data_dir) {
  tokens::TokenSpec spec;
  spec.role = tokens::Role::kAdmin;
  spec.name = "admin";
  ASSIGN_OR_RETURN(auto issued, tokens.Create(spec));
  std::string path = data_dir + "/admin.token";
  RETURN_IF_ERROR(WritePrivateFile(path, std::string(issued.token.RevealText(SecretAccess::Get())) + "\n"));
  return path;
}

volatile std::sig_atomic_t g_signal = 0;
void OnSignal(int sig) { g_signal = sig; }

}  // namespace

crypto::Hash256 EffectiveConfigHash(const Config& c) {
  nlohmann::json effective = {{"data_dir", c.data_dir}, {"dev", c.dev}, {"listen", c.listen}, {"unix_socket", c.unix_socket},
                              {"tls", !c.tls_cert.empty()}, {"keystore", c.keystore_backend}, {"upstream", c.upstream_url},
                              {"backup_enabled", c.backup_enabled}, {"allow_key_import", c.allow_key_import},
                              {"require_environment_check", c.require_environment_check}};
  // Settings that put foreign code in the process or let key material reach
  // a file: measured once set (left out at their defaults, so an existing
  // configuration keeps its hash).
  if (!c.pkcs11_module.empty()) effective["pkcs11_module"] = c.pkcs11_module;
  if (c.allow_core_dumps) effective["allow_core_dumps"] = true;
  // With a TPM, its settings too: otherwise turning the rollback counter off
  // (or moving it) would leave the master key unsealable by the same
  // measurement. Without one they have no effect and stay out, so the hash
  // of a configuration without a TPM is what it always was.
  if (!c.tpm_tcti.empty()) {
    // The TCTI too: it names a library the TSS loads into this process,
    // which sees the unsealed master key pass by.
    effective["tpm"] = {{"tcti", c.tpm_tcti}, {"pcr", c.tpm_pcr}, {"nv_counter", c.tpm_nv_counter},
                        {"nv_index", c.tpm_nv_index}};
  }
  std::string text = effective.dump();
  return crypto::Sha256(AsBytes(text));
}

void HardenProcess(bool allow_core_dumps) {
  if (allow_core_dumps) return;
  // Secrets live in MADV_DONTDUMP pages already; this also stops ptrace
  // attach by other unprivileged processes and any core file at all.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct rlimit none = {0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
}

namespace {

// An exclusive flock on a folder, released with the descriptor (a folder
// lock needs only read access).
//  * ParentOf(data_dir), waiting: held while init or restore runs. Without
//    it two of them on one fresh folder both find it empty, and the loser's
//    undo removes the winner's files. With it the second waits, then finds
//    the keystore and refuses. The folder is made first if missing, as
//    creating the data directory would.
//  * Of(data_dir), not waiting: held by a running daemon from before it
//    touches anything in the directory. A second daemon on the same
//    directory would otherwise repair files the first is writing (the
//    ledger journal's torn-tail cut, the TPM rollback counter) before it
//    failed on the audit log's lock.
class FolderLock {
 public:
  static absl::StatusOr<FolderLock> ParentOf(const std::string& data_dir) {
    const fs::path folder = fs::path(data_dir).parent_path();
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) return absl::UnavailableError("cannot create " + folder.string() + ": " + ec.message());
    return Acquire(folder, /*wait=*/true);
  }
  static absl::StatusOr<FolderLock> Of(const std::string& data_dir) {
    auto lock = Acquire(fs::path(data_dir), /*wait=*/false);
    if (!lock.ok() && absl::IsAlreadyExists(lock.status())) {
      return absl::FailedPreconditionError("another sigil server is using the data directory " + data_dir +
                                           "; stop it first (two daemons on one directory would corrupt it)");
    }
    return lock;
  }
  FolderLock(FolderLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FolderLock& operator=(FolderLock&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~FolderLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit FolderLock(int fd) : fd_(fd) {}
  // AlreadyExists if another holds it and `wait` is false.
  static absl::StatusOr<FolderLock> Acquire(const fs::path& folder, bool wait) {
    int fd;
    do {
      fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return absl::UnavailableError("cannot open " + folder.string() + ": " + std::strerror(errno));
    int rc;
    do {
      rc = ::flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) return absl::AlreadyExistsError("held by another process: " + folder.string());
      return absl::UnavailableError("cannot lock " + folder.string() + ": " + std::strerror(err));
    }
    return FolderLock(fd);
  }
  int fd_;
};

}  // namespace

struct Daemon::Impl {
  // First member, so released last: held from before Open touches the
  // directory until everything below has stopped.
  std::optional<FolderLock> data_dir_lock;
  Config config;
  StartupSecrets secrets;  // consumed by Open()
  RealClock& clock = RealClock::Instance();
  std::unique_ptr<store::SqliteStore> store;
  std::unique_ptr<keystore::SoftwareKeyStore> keys;
  std::unique_ptr<keystore::pkcs11::Pkcs11KeyStore> hsm;  // null unless a PKCS#11 module is configured
  std::unique_ptr<keystore::RoutingKeyStore> router;      // software + pkcs11: what signing and the API use
  std::unique_ptr<keystore::tpm2::Tpm2Device> tpm;        // null unless [tpm] tcti: quotes, rollback counter
  keystore::KeyInfo audit_key, attest_key;
  std::unique_ptr<KeystoreCheckpointSigner> checkpoint_signer;
  // Before the audit log: the log's sync_alongside hook syncs the journal,
  // so the journal must outlive it.
  std::unique_ptr<policy::FileLedgerJournal> journal;
  // Before the audit log too: it reports every group commit's size.
  std::unique_ptr<metrics::Metrics> metrics;
  std::unique_ptr<AuditAnchorStore> audit_anchor;  // before `audit`: saved after it closes
  std::unique_ptr<audit::AuditLog> audit;
  // Saves the audit log's anchor; a failure is logged, not fatal: the anchor
  // then lags, which narrows what a later start can check but loses nothing.
  void SaveAuditAnchor();
  std::unique_ptr<policy::Ledger> ledger;
  std::unique_ptr<core::PolicyStore> policies;
  std::unique_ptr<policy::PolicyEngine> engine;
  std::unique_ptr<tokens::TokenStore> tokens;
  std::unique_ptr<TokenTotpVerifier> totp;
  std::unique_ptr<policy::ApprovalBook> approvals;
  std::unique_ptr<policy::Lockdown> lockdown;
  std::unique_ptr<AlertWebhook> webhook;  // null unless [webhook] alert_url; outlives `core`, which calls it
  std::unique_ptr<core::SigningService> core;
  std::unique_ptr<server::ApiServer> api;
  std::unique_ptr<mcp::McpSessionRegistry> mcp_sessions;
  std::optional<attest::Reporter> reporter;
  // require_environment_check: the last check's verdict, refreshed by housekeeping.
  std::mutex env_mu;
  absl::Status env_status;
  void RefreshEnvironmentCheck();
  // The environment check over the live process and the current audit log.
  nlohmann::json CheckEnvironment();
  crypto::Hash256 config_hash{};
  std::unique_ptr<net::HttpServer> http;
  std::thread housekeeping;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  bool stopped = false;

  absl::Status Open();
  absl::Status Serve();
  void Housekeeping();
};

absl::Status Daemon::Impl::Open() {
  const Config& c = config;
  RETURN_IF_ERROR(EnsureDataDir(c.data_dir));
  ASSIGN_OR_RETURN(data_dir_lock, FolderLock::Of(c.data_dir));
  ASSIGN_OR_RETURN(store, store::SqliteStore::Open(c.data_dir, {}));
  ASSIGN_OR_RETURN(keys, OpenKeystore(*store, c, clock, /*create=*/c.dev, secrets.keystore_passphrase));
  secrets.keystore_passphrase.reset();
  ASSIGN_OR_RETURN(audit_key, EnsureInternalKey(*keys, kAuditKeyName, keystore::KeyPurpose::kAudit));
  ASSIGN_OR_RETURN(attest_key, EnsureInternalKey(*keys, kAttestKeyName, keystore::KeyPurpose::kAttestation));
  ASSIGN_OR_RETURN(auto state_info, EnsureInternalKey(*keys, kStateKeyName, keystore::KeyPurpose::kEncryption));
  ASSIGN_OR_RETURN(SecretBytes state_key, DeriveStateKey(*keys, state_info));
  if (!c.tpm_tcti.empty()) {
    ASSIGN_OR_RETURN(tpm, keystore::tpm2::Tpm2Device::Open(c.tpm_tcti));
    if (c.tpm_nv_counter) {
      ASSIGN_OR_RETURN(SecretBytes rollback_key, DeriveStateKey(*keys, state_info));
      ASSIGN_OR_RETURN(uint64_t n, keystore::tpm2::RollbackCounter::CheckAndAdvance(*tpm, *store, c.tpm_nv_index, rollback_key));
      spdlog::info(nlohmann::json{{"event", "tpm_rollback_counter"}, {"value", n}}.dump());
    }
  }

  checkpoint_signer = std::make_unique<KeystoreCheckpointSigner>(*keys, audit_key);
  audit::AuditLogOptions ao;
  ao.clock = &clock;
  ao.signer = checkpoint_signer.get();
  ao.checkpoint_every_records = c.checkpoint_every;
  ao.checkpoint_interval = c.checkpoint_interval;
  // One durability wait per signature: a reservation is written to the
  // ledger journal unsynced, and the audit log's group commit syncs the
  // journal alongside the sign.request records (which come after their
  // reservations), the two fsyncs overlapping. SigningService checks the
  // reservation is durable before the signature leaves (Ledger::MakeDurable:
  // free by then).
  ASSIGN_OR_RETURN(journal, policy::FileLedgerJournal::Open(c.data_dir + "/ledger.journal"));
  ao.sync_alongside = [j = journal.get()] { return j->SyncAll(); };
  metrics = std::make_unique<metrics::Metrics>();
  ao.on_batch = [m = metrics.get()](size_t records) { m->ObserveAuditFsyncBatchSize(records); };
  ASSIGN_OR_RETURN(SecretBytes anchor_key, crypto::HkdfSha256(state_key, {}, "sigil-audit-anchor-v1", 32));
  audit_anchor = std::make_unique<AuditAnchorStore>(*store, std::move(anchor_key));
  if (auto anchored = audit_anchor->Load(); anchored.ok()) {
    ao.anchor = *anchored;
  } else if (!absl::IsDataLoss(anchored.status()) || !c.accept_audit_log_loss) {
    return absl::Status(anchored.status().code(),
                        std::string(anchored.status().message()) +
                            (absl::IsDataLoss(anchored.status())
                                 ? ". Start once with --accept-audit-log-loss to replace it (doc/audit-log.md §6)"
                                 : ""));
  } else {
    // Accepted: the new log's first record says nothing could be checked.
    ao.anchor_unreadable = std::string(anchored.status().message());
  }
  ao.accept_discontinuity = c.accept_audit_log_loss;
  ao.discontinuity_hint =
      ". Put back audit.log together with sigil.db from one copy of this data directory taken while the daemon was "
      "stopped; or, if the log is lost, start once with "
      "--accept-audit-log-loss to begin a new log whose first record (audit.discontinuity) names what is missing "
      "(doc/audit-log.md §6)";
  ASSIGN_OR_RETURN(audit, audit::AuditLog::Open(c.data_dir + "/audit.log", ao));
  if (audit->Stats().discontinuity_accepted) {
    nlohmann::json event{{"event", "audit_discontinuity_accepted"}};
    if (ao.anchor) {
      event["anchored_log_id"] = HexEncode(ao.anchor->log_id);
      event["anchored_size"] = ao.anchor->size;
    } else {
      event["anchor_unreadable"] = ao.anchor_unreadable;
    }
    spdlog::warn(event.dump());
  }
  // Anchored now, so a log deleted before the first housekeeping round is
  // noticed too.
  RETURN_IF_ERROR(audit_anchor->Save(audit->Anchor()));

  ASSIGN_OR_RETURN(ledger, policy::Ledger::Open(*journal, clock, policy::LedgerOptions{.defer_reserve_sync = true}));
  ASSIGN_OR_RETURN(policies, core::PolicyStore::Open(*store, state_key.Clone(), clock));
  engine = std::make_unique<policy::PolicyEngine>(policies->Current().policy, *ledger, clock);
  ASSIGN_OR_RETURN(tokens, tokens::TokenStore::Open(*store, state_key.Clone(), clock));
  totp = std::make_unique<TokenTotpVerifier>(*tokens, clock);
  ASSIGN_OR_RETURN(approvals, policy::ApprovalBook::Open(*store, state_key.Clone(), clock, totp.get()));
  ASSIGN_OR_RETURN(lockdown, policy::Lockdown::Open(*store, std::move(state_key), clock, totp.get()));

  if (c.keystore_backend == "pkcs11" && c.pkcs11_module.empty()) {
    return absl::InvalidArgumentError(
        "keystore.backend = \"pkcs11\" needs a PKCS#11 token: [pkcs11] module, token and pin_file, or "
        "--pkcs11-module, --pkcs11-token and --pkcs11-pin-file");
  }
  router = std::make_unique<keystore::RoutingKeyStore>(std::string(keystore::SoftwareKeyStore::kBackendName), *keys);
  if (!c.pkcs11_module.empty()) {
    if (!secrets.pkcs11_pin) return absl::InvalidArgumentError("no PKCS#11 PIN was read before the daemon started");
    SecretBytes pin = std::move(*secrets.pkcs11_pin);
    secrets.pkcs11_pin.reset();
    ASSIGN_OR_RETURN(hsm, keystore::pkcs11::OpenPkcs11KeyStore(*store, {c.pkcs11_module, c.pkcs11_token, c.pkcs11_pin_file},
                                                               std::move(pin), clock));
    for (const auto& p : hsm->Problems()) {
      spdlog::error(nlohmann::json{{"event", "pkcs11_key_refused"}, {"key", p.name}, {"key_id", p.key_id},
                                   {"version", p.version}, {"reason", p.reason}}.dump());
    }
    router->AddBackend(std::string(keystore::pkcs11::Pkcs11KeyStore::kBackendName), *hsm);
  }
  core::SigningService::Deps deps{*router, *audit, *engine, *approvals, *lockdown, clock, {}};
  if (!c.alert_webhook_url.empty()) {
    ASSIGN_OR_RETURN(webhook, AlertWebhook::Create(c.alert_webhook_url));
  }
  deps.alert = [this](const std::string& kind, const nlohmann::json& details) {
    spdlog::warn(nlohmann::json{{"event", "risk_alert"}, {"kind", kind}, {"details", details}}.dump());
    if (webhook) webhook->Notify(kind, details);
  };
  core = std::make_unique<core::SigningService>(std::move(deps));
  RETURN_IF_ERROR(core->RefreshKeys());
  return absl::OkStatus();
}

absl::Status Daemon::Impl::Serve() {
  const Config& c = config;
  server::ApiOptions options;
  options.dev = c.dev;
  options.upstream_url = c.upstream_url;
  options.default_chain_id = c.default_chain_id;
  options.backup_enabled = c.backup_enabled;
  options.allow_key_import = c.allow_key_import;
  options.default_key_backend = c.keystore_backend;
  options.max_key_age = c.max_key_age;
  for (const auto& [role, text] : c.token_rates) {
    auto r = tokens::ParseRole(role);
    auto rate = tokens::ParseTokenRate(text);
    if (r && rate.ok()) options.default_token_rates[*r] = *rate;  // both validated by the config parser
  }
  server::ApiHooks hooks;
  hooks.backup = [this](const nlohmann::json& request) -> absl::StatusOr<nlohmann::json> {
    // PKCS#11 keys never leave their token, so a backup cannot carry them.
    size_t hsm_keys = 0;
    if (hsm) {
      ASSIGN_OR_RETURN(auto held, hsm->List());
      hsm_keys = held.size();
    }
    keystore::BackupOptions bo;
    bo.enabled = config.backup_enabled;
    bo.clock = &clock;
    if (request.contains("shares") && request["shares"].is_object()) {
      int m = request["shares"].value("m", 0);
      int n = request["shares"].value("n", 0);
      ASSIGN_OR_RETURN(auto shared, keystore::CreateSharedBackup(*keys, m, n, bo));
      nlohmann::json shares = nlohmann::json::array();
      for (const auto& s : shared.shares) shares.push_back(std::string(s.RevealText(SecretAccess::Get())));
      std::string file(shared.file.begin(), shared.file.end());
      return nlohmann::json{{"file_base64", absl::Base64Escape(file)}, {"shares", shares},
                            {"backup_id", HexEncode(shared.summary.backup_id)}, {"keys", shared.summary.key_count},
                            {"pkcs11_keys_not_included", hsm_keys}};
    }
    if (!request.contains("passphrase") || !request["passphrase"].is_string()) {
      return absl::InvalidArgumentError("give a backup passphrase or shares {m, n}");
    }
    SecretBytes pass = SecretBytes::CopyFrom(std::string_view(request["passphrase"].get_ref<const std::string&>()));
    ASSIGN_OR_RETURN(auto file, keystore::CreateBackup(*keys, pass, bo));
    ASSIGN_OR_RETURN(auto summary, keystore::InspectBackup(file));
    std::string bytes(file.begin(), file.end());
    return nlohmann::json{{"file_base64", absl::Base64Escape(bytes)}, {"backup_id", HexEncode(summary.backup_id)},
                          {"keys", summary.key_count}, {"pkcs11_keys_not_included", hsm_keys}};
  };
  if (hsm) {
    hooks.generate_key = [this](const std::string& name, keystore::KeyType type, const std::string& backend) {
      return router->GenerateOn(backend, name, type, keystore::KeyPurpose::kSigning);
    };
  }
  hooks.import_key = [this](const std::string& name, keystore::KeyType type, const SecretBytes& key) {
    return keys->Import(name, type, keystore::KeyPurpose::kSigning, key);
  };
  // Attestation: measured once at start; reports signed by the attestation key.
  {
    ASSIGN_OR_RETURN(crypto::Hash256 measurement, attest::MeasureSelf());
    attest::ReporterOptions ro;
    ro.signer = [this](std::span<const uint8_t> msg) {
      return keys->SignEd25519(attest_key.id, keystore::KeyPurpose::kAttestation, msg);
    };
    std::copy(attest_key.public_key.begin(), attest_key.public_key.end(), ro.attestation_public_key.begin());
    ro.measurement = measurement;
    ro.sigil_version = "0.1.0";
    ro.debug = c.dev;
    ro.clock = &clock;
    if (tpm) {
      ro.tpm_quoter = [this](const crypto::Hash256& qd) -> absl::StatusOr<attest::TpmQuote> {
        std::vector<uint32_t> pcrs = {config.tpm_pcr};
        ASSIGN_OR_RETURN(auto q, tpm->MakeQuote(pcrs, qd));
        return attest::TpmQuote{q.attest, q.signature, q.ak_public, q.pcrs, q.pcr_values, config.tpm_pcr};
      };
    }
    ASSIGN_OR_RETURN(auto rep, attest::Reporter::Create(std::move(ro)));
    reporter.emplace(std::move(rep));
    config_hash = EffectiveConfigHash(c);
  }
  hooks.attest = [this](const std::string& nonce_hex) -> absl::StatusOr<nlohmann::json> {
    auto nonce = HexDecode(nonce_hex);
    if (!nonce.ok()) return absl::InvalidArgumentError("nonce must be hex: " + std::string(nonce.status().message()));
    attest::ReportState st;
    st.config_hash = config_hash;
    auto policy_hash = HexDecode(policies->Current().hash_hex);
    if (policy_hash.ok() && policy_hash->size() == 32) std::copy(policy_hash->begin(), policy_hash->end(), st.policy_hash.begin());
    st.audit.size = audit->Size();
    st.audit.root = audit->Root();
    st.audit_public_key = audit->PublicKey();
    ASSIGN_OR_RETURN(auto all, router->List());
    for (const auto& k : all) {
      if (k.status != keystore::KeyStatus::kActive || k.purpose != keystore::KeyPurpose::kSigning) continue;
      // doc/attestation.md: the chain address (EIP-55 with 0x, base58), or
      // "" for a key that has none (a Nostr key is its public key).
      std::string address =
          k.type == keystore::KeyType::kSchnorr ? std::string() : core::KeyAddress(k.type, k.public_key);
      st.keys.push_back({k.name, std::string(keystore::KeyTypeName(k.type)), k.public_key, address});
    }
    ASSIGN_OR_RETURN(auto report, reporter->Build(*nonce, st));
    return report.ToJson();
  };
  hooks.environment_check = [this]() { return CheckEnvironment(); };
  if (c.require_environment_check) {
    hooks.signing_precondition = [this]() {
      std::lock_guard<std::mutex> lock(env_mu);
      return env_status;
    };
  }
  mcp_sessions = std::make_unique<mcp::McpSessionRegistry>(mcp::McpServerInfo{}, clock);
  hooks.mcp = [this](const net::HttpRequest& r, const tokens::Principal& p) {
    mcp::McpHttpRequest req;
    req.method = r.method;
    req.session_id = r.headers.Get("Mcp-Session-Id");
    // Repeated lines are combined: Accept is a list; two version lines are
    // refused as one unsupported value rather than read as the first.
    req.protocol_version = r.headers.GetCombined("MCP-Protocol-Version");
    req.accept = r.headers.GetCombined("Accept");
    req.content_type = r.headers.Get("Content-Type");
    req.origin = r.headers.Get("Origin");
    req.body = r.body;
    req.principal = p.id;  // sessions are bound to the token that opened them
    req.rpc = [this, p](const std::string& method, const nlohmann::json& params) {
      server::RpcOutcome o = api->CallRpc(p, method, params);
      if (auto* v = std::get_if<nlohmann::json>(&o)) return mcp::RpcResult::Success(*v);
      const server::RpcError& e = std::get<server::RpcError>(o);
      return mcp::RpcResult::Failure(e.code, e.message, e.data);
    };
    mcp::McpHttpResponse m = mcp::HandleHttp(req, *mcp_sessions);
    net::HttpResponse out;
    out.status = m.status;
    out.content_type = m.content_type;
    out.body = std::move(m.body);
    for (const auto& [name, value] : m.headers) out.headers.Add(name, value);
    return out;
  };
  api = std::make_unique<server::ApiServer>(server::ApiDeps{*core, *policies, *engine, *router, *tokens, *approvals,
                                                            *lockdown, *audit, *metrics, clock},
                                            options, std::move(hooks));

  net::HttpServerOptions ho;
  for (const auto& l : c.listen) {
    size_t colon = l.rfind(':');
    if (colon == std::string::npos) return absl::InvalidArgumentError("listen address '" + l + "' must be HOST:PORT");
    std::string host = l.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    int port = 0;
    try {
      port = std::stoi(l.substr(colon + 1));
    } catch (const std::exception&) {
      port = -1;
    }
    if (port < 0 || port > 65535) return absl::InvalidArgumentError("listen address '" + l + "' has a bad port");
    ho.listeners.push_back(c.tls_cert.empty()
                               ? net::ListenerConfig::Tcp(host, static_cast<uint16_t>(port))
                               : net::ListenerConfig::Tls(host, static_cast<uint16_t>(port), c.tls_cert, c.tls_key));
  }
  if (!c.unix_socket.empty()) ho.listeners.push_back(net::ListenerConfig::Unix(c.unix_socket));
  ho.worker_threads = c.workers;
  ho.max_body_bytes = c.max_body_bytes;
  ho.max_connections = c.max_connections;
  ho.max_in_flight = c.max_inflight;
  ho.header_timeout = c.header_timeout;
  ho.body_timeout = c.body_timeout;
  ho.on_response = [this](const net::HttpAccessRecord& r) { metrics->CountHttpResponse(r.status); };
  // The first verdict exists before the first request can arrive.
  RefreshEnvironmentCheck();
  ASSIGN_OR_RETURN(http, net::HttpServer::Start(std::move(ho), [this](const net::HttpRequest& r) { return api->Handle(r); }));
  (void)core->Record("daemon.start", "sigil", {{"dev", c.dev ? "true" : "false"}, {"version", "0.1.0"}});
  housekeeping = std::thread([this] {
    // Off the request path: the table every signature check shares.
    crypto::Secp256k1KeyTable::WarmUp();
    Housekeeping();
  });
  return absl::OkStatus();
}

nlohmann::json Daemon::Impl::CheckEnvironment() {
  attest::EnvironmentInputs in;
  in.data_dir = config.data_dir;
  for (const auto& l : config.listen) in.listeners.push_back({l.substr(0, l.rfind(':')), !config.tls_cert.empty()});
  in.dev_mode = config.dev;
  in.backup_enabled = config.backup_enabled;
  in.audit_verification = audit->Verify().valid ? absl::OkStatus() : absl::DataLossError("the audit log does not verify");
  return attest::CheckEnvironment(attest::GatherEnvironmentFacts(in)).ToJson();
}

void Daemon::Impl::RefreshEnvironmentCheck() {
  if (!config.require_environment_check) return;
  nlohmann::json report = CheckEnvironment();
  absl::Status st;
  if (!report.value("valid", false)) {
    std::string why;
    for (const auto& e : report.value("errors", nlohmann::json::array())) {
      if (!why.empty()) why += "; ";
      why += e.value("code", std::string("?"));
    }
    st = absl::UnavailableError("environment check failed (" + why +
                                "); require_environment_check = true refuses to sign until it passes");
  }
  std::lock_guard<std::mutex> lock(env_mu);
  env_status = st;
}

void Daemon::Impl::SaveAuditAnchor() {
  if (absl::Status st = audit_anchor->Save(audit->Anchor()); !st.ok()) {
    spdlog::warn(nlohmann::json{{"event", "audit_anchor_not_saved"}, {"error", std::string(st.message())}}.dump());
  }
}

void Daemon::Impl::Housekeeping() {
  // Decided approvals (used, rejected, expired) are kept a week for
  // sigil_approvalStatus, then deleted: the audit log keeps their history,
  // and every held request scans the book. Checked about hourly (the first
  // round purges at once).
  const Config::Housekeeping& schedule = config.housekeeping;
  std::optional<absl::Time> last_purge;
  std::unique_lock<std::mutex> lock(stop_mu);
  while (!stopping) {
    stop_cv.wait_for(lock, absl::ToChronoNanoseconds(schedule.round));
    if (stopping) break;
    lock.unlock();
    auto expired = approvals->ExpireDue();
    if (expired.ok()) {
      for (const auto& ev : *expired) (void)core->Record("approval.expire", "sigil", {{"approval_id", ev.id}});
    }
    if (const absl::Time now = clock.Now(); !last_purge || now - *last_purge >= schedule.purge_every) {
      last_purge = now;
      auto purged = approvals->PurgeDecided(now - schedule.keep_decided);
      if (!purged.ok()) spdlog::warn("approvals purge: {}", std::string(purged.status().message()));
    }
    (void)ledger->MaybeCompact();
    SaveAuditAnchor();
    RefreshEnvironmentCheck();
    lock.lock();
  }
}

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Daemon::~Daemon() { Stop(); }

policy::ApprovalBook& Daemon::approvals() { return *impl_->approvals; }

absl::StatusOr<StartupSecrets> TakeStartupSecrets(const Config& config) {
  StartupSecrets out;
  // The PIN first: whatever fails next, it has left the environment.
  if (!config.pkcs11_module.empty()) {
    ASSIGN_OR_RETURN(SecretBytes pin, keystore::pkcs11::ReadPkcs11Pin(
                                          {config.pkcs11_module, config.pkcs11_token, config.pkcs11_pin_file}));
    out.pkcs11_pin = std::move(pin);
  }
  ASSIGN_OR_RETURN(out.keystore_passphrase, ReadKeystorePassphrase(config));
  return out;
}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(const Config& config, StartupSecrets secrets) {
  // Known answers first: a broken primitive must never sign anything.
  RETURN_IF_ERROR(crypto::RunSelfTest());
  HardenProcess(config.allow_core_dumps);
#ifdef NDEBUG
  // Debian builds absl without NDEBUG, so its Mutex deadlock detector (a
  // debugging aid: a global lock and graph update on every acquisition)
  // would run in our release builds too. Debug builds and tests keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  // A bad upstream URL is a configuration error now, not a -32006 on every
  // proxied call later (the message never quotes the URL's path, query or
  // credentials: they may hold an API key).
  if (!config.upstream_url.empty()) {
    if (auto url = net::ParseHttpUrl(config.upstream_url); !url.ok()) {
      return absl::InvalidArgumentError("upstream URL (--upstream or [upstream] url): " + std::string(url.status().message()));
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->secrets = std::move(secrets);
  RETURN_IF_ERROR(impl->Open());
  if (config.dev && !fs::exists(config.data_dir + "/admin.token")) {
    ASSIGN_OR_RETURN(auto path, IssueAdminToken(*impl->tokens, config.data_dir));
    (void)impl->core->Record("token.issue", "sigil", {{"name", "admin"}, {"role", "admin"}});
  }
  RETURN_IF_ERROR(impl->Serve());
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

std::vector<std::string> Daemon::urls() const {
  std::vector<std::string> out;
  if (impl_->http) {
    for (const auto& l : impl_->http->listeners()) out.push_back(l.url);
  }
  return out;
}

void Daemon::WaitForSignal() {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (g_signal == 0) ::usleep(100 * 1000);
}

void Daemon::Stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  {
    std::lock_guard<std::mutex> lock(impl_->stop_mu);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  if (impl_->http) impl_->http->Stop();
  if (impl_->housekeeping.joinable()) impl_->housekeeping.join();
  if (impl_->core) (void)impl_->core->Record("daemon.stop", "sigil", {});
  if (impl_->audit) {
    auto st = impl_->audit->Close();
    if (!st.ok()) spdlog::error("audit log close: {}", std::string(st.message()));
    impl_->SaveAuditAnchor();  // the size the final checkpoint covers
  }
}

namespace {

// The entries `sigil init` and `sigil backup restore` create in a data
// directory: the only names a failed one removes.
constexpr const char* kCreatedEntries[] = {"sigil.db",   "sigil.db-wal",   "sigil.db-shm", "sigil.db-journal",
                                           "master.key", "master.key.tmp", "admin.token",  "admin.token.tmp"};

// Whether something is at `p` (a symlink is not followed). An error other
// than "not found" counts as present: when in doubt, nothing is removed.
bool Present(const fs::path& p) {
  std::error_code ec;  // libstdc++ sets it for "not found" too: the type tells
  return fs::symlink_status(p, ec).type() != fs::file_type::not_found;
}

// The data directory as it resolves now ("new/.." is its parent), so the
// undo below cannot mistake an existing folder for one it made. "/" is
// refused.
absl::StatusOr<std::string> ResolveDataDir(const std::string& data_dir) {
  if (data_dir.empty()) return absl::InvalidArgumentError("name the data directory (--data DIR)");
  std::error_code ec;
  fs::path dir = fs::weakly_canonical(fs::absolute(data_dir, ec), ec);
  if (ec) return absl::InvalidArgumentError("cannot resolve the data directory " + data_dir + ": " + ec.message());
  if (dir == dir.root_path()) return absl::InvalidArgumentError("refusing to use " + dir.string() + " as a data directory");
  return dir.string();
}

// Runs `create`, which makes files in `dir` (resolved) and `key_file`, if one
// is named. If it fails, removes exactly what it made: the entries of
// kCreatedEntries that were absent before, `key_file` if it was absent, and
// `dir` itself if it was absent and is empty again. Nothing else is touched.
// The objects holding those files (the store) live inside `create`, so they
// are closed by then.
absl::StatusOr<DataDirSummary> UndoOnFailure(const std::string& dir, const std::string& key_file,
                                             const std::function<absl::StatusOr<DataDirSummary>()>& create) {
  const bool dir_existed = Present(dir);
  std::vector<fs::path> absent;
  for (const char* name : kCreatedEntries) {
    if (!Present(fs::path(dir) / name)) absent.push_back(fs::path(dir) / name);
  }
  // The key file resolved now too: "dir/new/../master.key" is dir/master.key
  // once create() has made dir/new, and must not be taken for a new file.
  std::error_code ec;
  const fs::path key = key_file.empty() ? fs::path() : fs::weakly_canonical(fs::absolute(key_file, ec), ec);
  const bool key_absent = !key_file.empty() && !ec && !Present(key);
  absl::StatusOr<DataDirSummary> out = create();
  if (out.ok()) return out;
  for (const fs::path& p : absent) fs::remove(p, ec);  // a file, or an empty folder: never a tree
  if (key_absent) fs::remove(key, ec);
  if (!dir_existed) fs::remove(dir, ec);  // only if empty
  return out;
}

// Whether `data_dir` already has a keystore; creates nothing when it has no
// database yet.
absl::StatusOr<bool> HoldsKeystore(const std::string& data_dir) {
  std::error_code ec;
  if (!fs::exists(fs::path(data_dir) / store::SqliteStore::kDatabaseFileName, ec)) return false;
  ASSIGN_OR_RETURN(auto store, store::SqliteStore::Open(data_dir, {}));
  return keystore::SoftwareKeyStore::Exists(*store);
}

}  // namespace

absl::StatusOr<DataDirSummary> InitDataDir(const std::string& requested_dir, const std::string& key_file) {
  RETURN_IF_ERROR(crypto::RunSelfTest());
  ASSIGN_OR_RETURN(const std::string data_dir, ResolveDataDir(requested_dir));
  ASSIGN_OR_RETURN(FolderLock lock, FolderLock::ParentOf(data_dir));
  // Refused before anything is touched.
  ASSIGN_OR_RETURN(bool held, HoldsKeystore(data_dir));
  if (held) return absl::AlreadyExistsError(data_dir + " already holds a keystore");
  return UndoOnFailure(data_dir, key_file, [&]() -> absl::StatusOr<DataDirSummary> {
    RETURN_IF_ERROR(EnsureDataDir(data_dir));
    Config c;
    c.data_dir = data_dir;
    c.key_file = key_file;
    ASSIGN_OR_RETURN(std::optional<SecretBytes> passphrase, ReadKeystorePassphrase(c));
    ASSIGN_OR_RETURN(auto store, store::SqliteStore::Open(data_dir, {}));
    RealClock& clock = RealClock::Instance();
    ASSIGN_OR_RETURN(auto keys, OpenKeystore(*store, c, clock, /*create=*/true, passphrase));
    RETURN_IF_ERROR(EnsureInternalKey(*keys, kAuditKeyName, keystore::KeyPurpose::kAudit).status());
    RETURN_IF_ERROR(EnsureInternalKey(*keys, kAttestKeyName, keystore::KeyPurpose::kAttestation).status());
    ASSIGN_OR_RETURN(auto state_info, EnsureInternalKey(*keys, kStateKeyName, keystore::KeyPurpose::kEncryption));
    ASSIGN_OR_RETURN(SecretBytes state_key, DeriveStateKey(*keys, state_info));
    ASSIGN_OR_RETURN(auto tokens, tokens::TokenStore::Open(*store, std::move(state_key), clock));
    ASSIGN_OR_RETURN(auto path, IssueAdminToken(*tokens, data_dir));
    return DataDirSummary{data_dir, path, 0};
  });
}

absl::StatusOr<DataDirSummary> RestoreDataDir(const std::vector<std::string>& files, const std::string& requested_dir,
                                              const std::string& key_file, bool dev) {
  if (files.empty()) return absl::InvalidArgumentError("name the backup file (and, for a shared backup, the share files)");
  const char* passphrase_file = std::getenv("SIGIL_PASSPHRASE_FILE");
  const bool passphrase = passphrase_file != nullptr && *passphrase_file != '\0';
  if (!dev && key_file.empty() && !passphrase) {
    // Restored production keys must not end up under a master key lying in
    // plain text beside them without anyone having asked for that.
    return absl::InvalidArgumentError(
        "no master key source for the restored keystore: set SIGIL_PASSPHRASE_FILE or pass --key-file FILE "
        "(--dev restores into a trial directory whose master key is kept in DIR/master.key). Nothing was restored");
  }
  ASSIGN_OR_RETURN(const std::string data_dir, ResolveDataDir(requested_dir));
  auto read = [](const std::string& path) -> absl::StatusOr<std::vector<uint8_t>> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError("cannot read " + path);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() > keystore::kMaxBackupFileSize) return absl::InvalidArgumentError(path + " is too large");
    return bytes;
  };
  // Everything that can be checked without touching DIR is checked first.
  ASSIGN_OR_RETURN(auto backup, read(files[0]));
  ASSIGN_OR_RETURN(auto summary, keystore::InspectBackup(backup));
  std::vector<SecretBytes> shares;
  std::optional<SecretBytes> pass;
  if (summary.protection == keystore::BackupProtection::kShares) {
    for (size_t i = 1; i < files.size(); ++i) {
      ASSIGN_OR_RETURN(auto bytes, read(files[i]));
      shares.push_back(SecretBytes::CopyFrom(bytes));
      SecureWipe(bytes);
    }
    if (shares.size() < static_cast<size_t>(summary.threshold)) {
      return absl::InvalidArgumentError(std::to_string(shares.size()) + " share file" + (shares.size() == 1 ? "" : "s") +
                                        " given, but this backup needs " + std::to_string(summary.threshold) + " of " +
                                        std::to_string(summary.share_count) +
                                        "; name the backup file, then the share files. Nothing was restored");
    }
  } else {
    if (files.size() > 1) {
      return absl::InvalidArgumentError("this is a passphrase backup: name only the backup file. Nothing was restored");
    }
    ASSIGN_OR_RETURN(pass, cli::ReadPassphrase("SIGIL_BACKUP_PASSPHRASE_FILE", "backup passphrase", /*confirm=*/false));
  }
  ASSIGN_OR_RETURN(FolderLock lock, FolderLock::ParentOf(data_dir));
  ASSIGN_OR_RETURN(bool held, HoldsKeystore(data_dir));
  if (held) return absl::FailedPreconditionError(data_dir + " already holds a keystore; restore into a fresh directory");
  return UndoOnFailure(data_dir, key_file, [&]() -> absl::StatusOr<DataDirSummary> {
    RETURN_IF_ERROR(EnsureDataDir(data_dir));
    ASSIGN_OR_RETURN(auto store, store::SqliteStore::Open(data_dir, {}));
    Config c;
    c.data_dir = data_dir;
    c.key_file = key_file;
    // Asked for (--dev) and without a passphrase or key file: master.key.
    c.dev = dev && !passphrase;
    ASSIGN_OR_RETURN(std::optional<SecretBytes> keystore_passphrase, ReadKeystorePassphrase(c));
    RealClock& clock = RealClock::Instance();
    ASSIGN_OR_RETURN(auto keys, OpenKeystore(*store, c, clock, /*create=*/true, keystore_passphrase));
    keystore::BackupSummary restored;
    if (pass) {
      ASSIGN_OR_RETURN(restored, keystore::RestoreBackup(backup, *pass, *keys));
    } else {
      ASSIGN_OR_RETURN(restored, keystore::RestoreSharedBackup(backup, shares, *keys));
    }
    // A restored directory gets its own admin token: tokens are not in backups.
    ASSIGN_OR_RETURN(auto state_info, EnsureInternalKey(*keys, kStateKeyName, keystore::KeyPurpose::kEncryption));
    ASSIGN_OR_RETURN(SecretBytes state_key, DeriveStateKey(*keys, state_info));
    ASSIGN_OR_RETURN(auto tokens, tokens::TokenStore::Open(*store, std::move(state_key), clock));
    ASSIGN_OR_RETURN(auto path, IssueAdminToken(*tokens, data_dir));
    return DataDirSummary{data_dir, path, restored.key_count};
  });
}

}  // namespace sigil::daemon
