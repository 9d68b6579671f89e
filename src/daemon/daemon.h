// Daemon: builds every concrete backend from a Config (the only place in the
// code base that names them), runs the start-up self-test, and serves.
//
// Data directory layout (mode 0700):
//   sigil.db        SQLite store (keystore records, tokens, approvals,
//                   lockdown, policies)          — doc/keystore.md
//   audit.log       the Merkle audit log          — doc/audit-log.md
//   ledger.journal  budget reservations           — doc/policy.md
//   master.key      dev mode only: the 32-byte master key (0600)
//   admin.token     dev mode / init: the first admin token (0600)
//
// Thread-safety: Start/Stop from one thread; the running server is
// multi-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/secret.h"
#include "crypto/hash.h"
#include "daemon/config.h"

namespace sigil::policy {
class ApprovalBook;
}

namespace sigil::daemon {

// The secrets the daemon takes from its environment, or from files its
// configuration or environment names, read once before Daemon::Start.
struct StartupSecrets {
  // The keystore passphrase (keystore.passphrase_file or the file named by
  // SIGIL_PASSPHRASE_FILE); unset when a key file, dev mode or a TPM
  // provides the master key instead.
  std::optional<SecretBytes> keystore_passphrase;
  // The PKCS#11 PIN (pkcs11.pin_file or SIGIL_PKCS11_PIN); unset unless a
  // PKCS#11 module is configured.
  std::optional<SecretBytes> pkcs11_pin;
};

// Reads StartupSecrets for `config`. A PIN taken from SIGIL_PKCS11_PIN is
// wiped from the environment and the variable removed (pkcs11_settings.h).
// Call it before the process has any other thread: unsetenv racing a getenv
// on another thread is undefined behaviour in glibc, and Daemon::Start
// starts threads (audit log, server) before it opens the token. Daemon::Start
// itself reads no secret from the environment.
absl::StatusOr<StartupSecrets> TakeStartupSecrets(const Config& config);

// SHA-256 of the daemon's effective configuration: the attestation report's
// config_hash, and half of the TPM measurement (doc/tpm.md). Covers what
// changes what the daemon may do or what code runs beside the master key.
crypto::Hash256 EffectiveConfigHash(const Config& config);

class Daemon {
 public:
  // Runs the self-test, opens (dev: creates) the data directory and starts
  // listening, with the secrets TakeStartupSecrets read. Errors say what to
  // fix (wrong passphrase, tampered store row, port in use, ...).
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(const Config& config, StartupSecrets secrets);
  ~Daemon();

  // The running daemon's approval book (tests look at what housekeeping did).
  policy::ApprovalBook& approvals();

  // The URLs actually bound (port 0 resolved).
  std::vector<std::string> urls() const;
  // Blocks until SIGINT/SIGTERM, then stops gracefully.
  void WaitForSignal();
  // Graceful stop: in-flight requests finish, a final checkpoint is written.
  void Stop();

  struct Impl;

 private:
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What `sigil init` and `sigil backup restore` made.
struct DataDirSummary {
  std::string data_dir;
  std::string admin_token_file;
  uint32_t key_versions_restored = 0;  // restore only
};

// `sigil init`: creates a data directory with a passphrase-protected keystore
// (passphrase from SIGIL_PASSPHRASE_FILE) or a master key file, the internal
// keys and a first admin token (written to DIR/admin.token, mode 0600).
// On failure nothing it created is left behind.
absl::StatusOr<DataDirSummary> InitDataDir(const std::string& data_dir, const std::string& key_file);

// `sigil backup restore`: restores backup files (a passphrase backup, or the
// backup file followed by share files) into a fresh data directory. The
// passphrase comes from SIGIL_BACKUP_PASSPHRASE_FILE, else from a prompt on
// the terminal. The restored keystore is sealed under the passphrase in
// SIGIL_PASSPHRASE_FILE or under `key_file`; with neither, only `dev` (a
// trial directory whose master key lies in DIR/master.key, as the dev
// server's) makes it proceed, else InvalidArgument before anything is read.
// On failure nothing it created is left behind, so the same command can
// simply be run again.
absl::StatusOr<DataDirSummary> RestoreDataDir(const std::vector<std::string>& files, const std::string& data_dir,
                                              const std::string& key_file, bool dev);

// Hardens the process: no core dumps (PR_SET_DUMPABLE 0, RLIMIT_CORE 0)
// unless allowed.
void HardenProcess(bool allow_core_dumps);

}  // namespace sigil::daemon
