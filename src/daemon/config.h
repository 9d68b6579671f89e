// Config: everything `sigil server` needs to start, from a TOML file
// (`--config FILE`) or from `--dev` defaults plus command-line flags. Every
// flag has a config-file twin (the same name in its section).
//
// Secrets never live in the config: PINs and passphrases are named by file
// (or environment variable), and loaded at start into SecretBytes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sigil::daemon {

struct Config {
  std::string data_dir = ".sigil-dev";
  bool dev = false;
  bool require_environment_check = false;
  bool allow_key_import = false;
  bool allow_core_dumps = false;

  // [server]
  std::vector<std::string> listen = {"127.0.0.1:8700"};  // host:port, port 0 = any free port
  std::string unix_socket;                                // empty: none
  std::string tls_cert;                                   // PEM; with tls_key enables TLS on `listen`
  std::string tls_key;
  int workers = 0;  // handler threads; 0 = 32 per core (they mostly wait on the audit fsync)
  size_t max_body_bytes = 1 << 20;
  size_t max_connections = 1024;
  size_t max_inflight = 256;  // requests running or queued; beyond: 503 at once
  absl::Duration header_timeout = absl::Seconds(10);  // slow clients: whole header within this
  absl::Duration body_timeout = absl::Seconds(30);    // and the body within this

  // [rate_limits] role = "N/s": request rate of tokens of that role that
  // carry no --rate of their own (tokens/token_rate.h). Unlisted: unlimited.
  std::map<std::string, std::string> token_rates;

  // [keystore]
  std::string keystore_backend = "software";  // software | pkcs11
  std::string passphrase_file;                // master passphrase (SIGIL_PASSPHRASE_FILE)
  std::string key_file;                       // or a 32-byte master key file
  absl::Duration max_key_age = absl::Hours(24 * 365);

  // [pkcs11]
  std::string pkcs11_module;
  std::string pkcs11_token;
  std::string pkcs11_pin_file;

  // [tpm] (doc/tpm.md): with a TCTI the master key is sealed to the TPM.
  std::string tpm_tcti;
  uint32_t tpm_pcr = 16;                 // the PCR Sigil extends its measurement into
  bool tpm_nv_counter = false;           // rollback protection with a TPM NV counter
  uint32_t tpm_nv_index = 0x01005347;    // its NV index (owner range)
  bool tpm_reseal = false;               // `sigil server --tpm-reseal` only: re-seal to this binary + config
  // `sigil server --accept-audit-log-loss` only: start although audit.log
  // does not continue the log this data directory last wrote (deleted,
  // replaced, cut back); the new log's first record says so (doc/audit-log.md §6).
  bool accept_audit_log_loss = false;

  // [upstream]
  std::string upstream_url;
  uint64_t default_chain_id = 31337;

  // [backup]
  bool backup_enabled = true;

  // [audit]
  uint64_t checkpoint_every = 1000;
  absl::Duration checkpoint_interval = absl::Seconds(60);

  // [webhook]
  std::string alert_webhook_url;

  // Not in the configuration file: the housekeeping thread's schedule
  // (tests shorten it). Every `round` it expires overdue approvals; every
  // `purge_every` it deletes approvals decided more than `keep_decided` ago
  // (the audit log keeps their history; every held request scans the book).
  struct Housekeeping {
    absl::Duration round = absl::Seconds(5);
    absl::Duration purge_every = absl::Hours(1);
    absl::Duration keep_decided = absl::Hours(24 * 7);
  } housekeeping;
};

// Parses a TOML config file. Unknown keys are errors (a typo must not turn a
// setting off silently); errors name the key and the file.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);
// Parses TOML text (for tests); `origin` names the source in errors.
absl::StatusOr<Config> ParseConfig(const std::string& toml_text, const std::string& origin);

// "90s", "15m", "24h", "7d" → Duration. Errors on anything else.
absl::StatusOr<absl::Duration> ParseDuration(const std::string& text);

}  // namespace sigil::daemon
