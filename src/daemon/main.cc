// The `sigil` binary: the daemon (`sigil server`), local commands that need
// no daemon (init, restore, offline verifiers, policy test, mcp) and the
// client commands (src/cli) that talk to a running daemon.
#include <CLI/CLI.hpp>
#include <cctype>
#include <fstream>
#include <iostream>
#include <string_view>

#include "absl/strings/escaping.h"
#include "attest/verifier.h"
#include "audit/env.h"
#include "audit/log_verifier.h"
#include "base/json_rpc_codes.h"
#include "base/hex.h"
#include "cli/api_client.h"
#include "cli/commands.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "mcp/mcp_server.h"
#include "mcp/stdio_transport.h"
#include "net/http_client.h"
#include "policy/policy.h"
#include "policy/policy_cases.h"
#include "server/json_log.h"
#include "tokens/token_store.h"

namespace {

using sigil::cli::kExitBadInput;
using sigil::cli::kExitOk;
using sigil::cli::kExitRefused;
using sigil::cli::kExitUnavailable;

// Set when the command line asks for --json: a failure then also prints
// {"error": message} on stdout, as the client commands do, so a script
// reading stdout gets one JSON document either way.
bool g_json_errors = false;

int Fail(int code, const std::string& message) {
  std::cerr << "sigil: " << message << "\n";
  if (g_json_errors) {
    std::cout << nlohmann::json{{"error", message}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return code;
}

static_assert(std::string_view(sigil::tokens::kTokenPrefix) == sigil::cli::kTokenPrefix);

int ExitFor(const absl::Status& st) {
  switch (st.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange: return kExitBadInput;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated: return kExitRefused;
    default: return kExitUnavailable;
  }
}

// `sigil server --tpm-reseal` (doc/tpm.md): re-seal the TPM master key to
// this binary and configuration before starting.
bool g_tpm_reseal = false;
bool g_accept_audit_log_loss = false;

int RunServer(const std::string& config_file, bool dev, const std::string& data, const std::string& listen,
              const std::string& upstream, const std::string& unix_socket, const std::string& pkcs11_module,
              const std::string& pkcs11_token, const std::string& pkcs11_pin_file, const std::string& tpm_tcti) {
  sigil::daemon::Config config;
  if (!config_file.empty()) {
    auto c = sigil::daemon::LoadConfigFile(config_file);
    if (!c.ok()) return Fail(kExitBadInput, std::string(c.status().message()));
    config = *c;
  } else if (!dev) {
    return Fail(kExitBadInput, "give --dev (embedded default) or --config FILE");
  }
  if (dev) config.dev = true;
  if (!data.empty()) config.data_dir = data;
  if (!listen.empty()) config.listen = {listen};
  if (!upstream.empty()) config.upstream_url = upstream;
  if (!unix_socket.empty()) config.unix_socket = unix_socket;
  if (!pkcs11_module.empty()) config.pkcs11_module = pkcs11_module;
  if (!pkcs11_token.empty()) config.pkcs11_token = pkcs11_token;
  if (!pkcs11_pin_file.empty()) config.pkcs11_pin_file = pkcs11_pin_file;
  if (!tpm_tcti.empty()) config.tpm_tcti = tpm_tcti;
  config.tpm_reseal = g_tpm_reseal;
  config.accept_audit_log_loss = g_accept_audit_log_loss;
  if (config.tpm_reseal && config.tpm_tcti.empty()) return Fail(kExitBadInput, "--tpm-reseal needs --tpm-tcti (or [tpm] tcti)");
  // Secrets first, while this is the only thread: taking the PKCS#11 PIN
  // out of the environment (unsetenv) must not race another thread's getenv.
  auto secrets = sigil::daemon::TakeStartupSecrets(config);
  if (!secrets.ok()) return Fail(ExitFor(secrets.status()), std::string(secrets.status().message()));
  // One JSON object per log line on stderr (request ids, never secrets).
  if (auto st = sigil::server::InstallJsonLogger(); !st.ok()) return Fail(kExitUnavailable, std::string(st.message()));
  auto daemon = sigil::daemon::Daemon::Start(config, std::move(*secrets));
  if (!daemon.ok()) return Fail(ExitFor(daemon.status()), std::string(daemon.status().message()));
  auto urls = (*daemon)->urls();
  std::string url = urls.empty() ? "" : urls[0];
  if (config.dev) {
    std::cout << "==============================================================\n"
              << " SIGIL DEV MODE: master key in " << config.data_dir << "/master.key,\n"
              << " not for production. Every attestation report says so.\n"
              << "==============================================================\n";
  }
  std::cout << "sigil listening on " << url << "\n";
  for (size_t i = 1; i < urls.size(); ++i) std::cout << "  also on " << urls[i] << "\n";
  if (config.dev) {
    std::cout << "admin token: " << config.data_dir << "/admin.token\n"
              << "try:  SIGIL_URL=" << url << " ./build/sigil key create trader --data " << config.data_dir << "\n";
  }
  std::cout.flush();
  (*daemon)->WaitForSignal();
  std::cout << "sigil: stopping\n";
  (*daemon)->Stop();
  return kExitOk;
}

int RunPolicyTest(const std::string& policy_file, const std::string& cases_file, bool json) {
  auto read = [](const std::string& path) -> absl::StatusOr<std::string> { return sigil::cli::ReadFileBounded(path, 16 << 20); };
  auto policy_text = read(policy_file);
  if (!policy_text.ok()) return Fail(kExitBadInput, std::string(policy_text.status().message()));
  auto cases_text = read(cases_file);
  if (!cases_text.ok()) return Fail(kExitBadInput, std::string(cases_text.status().message()));
  std::vector<sigil::policy::PolicyError> errors;
  auto policy = sigil::policy::Policy::Parse(*policy_text, &errors);
  if (!policy.ok()) {
    std::cerr << "sigil: invalid policy " << policy_file << "\n";
    for (const auto& e : errors) std::cerr << "  " << e.ToString() << "\n";
    if (errors.empty()) std::cerr << "  " << policy.status().message() << "\n";
    return kExitBadInput;
  }
  auto cases = sigil::policy::ParsePolicyCases(*cases_text);
  if (!cases.ok()) return Fail(kExitBadInput, std::string(cases.status().message()));
  auto results = sigil::policy::RunCases(*policy, *cases);
  size_t failed = 0;
  for (const auto& r : results) {
    if (!r.passed) ++failed;
    if (!json) std::cout << (r.passed ? "PASS " : "FAIL ") << r.name << (r.passed ? "" : ": " + r.failure) << "\n";
  }
  if (json) {
    std::cout << sigil::policy::CaseResultsToJson(results).dump(2) << "\n";
  } else {
    std::cout << (results.size() - failed) << " passed, " << failed << " failed\n";
  }
  return failed == 0 ? kExitOk : kExitRefused;
}

// Trusted state for `audit verify --file`: a checkpoint saved earlier, or a
// tree size and root recorded earlier, so that an export cut behind it (with
// its trailing checkpoints stripped) is refused.
struct AuditTrust {
  std::string checkpoint_file;
  uint64_t min_size = 0;
  std::string root_hex;
};

int RunAuditVerifyFile(const std::string& file, const std::string& pubkey_hex, const AuditTrust& trust, bool json) {
  if (!std::ifstream(file, std::ios::binary)) return Fail(kExitBadInput, "cannot read " + file);
  auto key = sigil::HexDecode(pubkey_hex);
  if (!key.ok() || key->size() != 32) return Fail(kExitBadInput, "--pubkey must be the 32-byte audit public key in hex");
  sigil::crypto::Ed25519PublicKey pk;
  std::copy(key->begin(), key->end(), pk.begin());
  sigil::audit::VerifyOptions options;
  if (!trust.checkpoint_file.empty()) {
    auto text = sigil::cli::ReadFileBounded(trust.checkpoint_file, 64 * 1024);
    if (!text.ok()) return Fail(kExitBadInput, std::string(text.status().message()));
    auto checkpoint = sigil::audit::ParseTrustedCheckpoint(*text);
    if (!checkpoint.ok()) return Fail(kExitBadInput, trust.checkpoint_file + ": " + std::string(checkpoint.status().message()));
    options.trusted_checkpoint = *checkpoint;
  }
  if (!trust.root_hex.empty()) {
    auto root = sigil::HexDecode(trust.root_hex);
    if (!root.ok() || root->size() != 32) return Fail(kExitBadInput, "--root must be a 32-byte Merkle root in hex");
    sigil::audit::VerifyOptions::TreeHead head;
    head.size = trust.min_size;
    std::copy(root->begin(), root->end(), head.root.begin());
    options.trusted_head = head;
  } else if (trust.min_size > 0) {
    return Fail(kExitBadInput, "--min-size needs --root (the Merkle root at that size), so the prefix is checked too");
  }
  // Streamed in bounded chunks: an export of any size verifies in constant memory.
  sigil::audit::VerifyReport report = sigil::audit::VerifyExportFile(sigil::audit::PosixEnv(), file, pk, options);
  if (json) {
    std::cout << report.ToJson().dump(2) << "\n";
  } else {
    std::cout << (report.valid ? "audit log verifies: " : "AUDIT LOG DOES NOT VERIFY: ") << report.records << " records, "
              << report.checkpoints << " checkpoints\n";
    for (const auto& e : report.errors) std::cout << "  " << e.ToJson().dump() << "\n";
  }
  return report.valid ? kExitOk : kExitRefused;
}

// `sigil mcp`: MCP on stdio, each tool call a JSON-RPC call to the daemon
// with the agent's token. Logs go to stderr; stdout carries MCP only.
int RunMcpStdio(const std::string& url_flag, const std::string& token_flag) {
  std::string url = url_flag;
  if (url.empty()) {
    if (const char* env = std::getenv("SIGIL_URL")) url = env;
  }
  if (url.empty()) url = "http://127.0.0.1:8700";
  std::string token = token_flag;
  if (token.empty()) {
    if (const char* env = std::getenv("SIGIL_TOKEN")) token = env;
  }
  if (token.empty()) return Fail(kExitBadInput, "sigil mcp needs the agent's token in SIGIL_TOKEN");
  auto client = sigil::net::HttpClient::Create(url);
  if (!client.ok()) return Fail(kExitBadInput, std::string(client.status().message()));
  uint64_t next_id = 1;
  sigil::mcp::RpcCaller caller = [&](const std::string& method, const nlohmann::json& params) {
    nlohmann::json call = {{"jsonrpc", "2.0"}, {"id", next_id++}, {"method", method}, {"params", params}};
    sigil::net::HttpHeaders headers;
    headers.Set("Authorization", "Bearer " + token);
    auto response = (*client)->Post("/rpc", call.dump(), "application/json", headers);
    if (!response.ok()) {
      const std::string why(response.status().message());
      // Not connected: the daemon never saw the call. Anything later (lost
      // answer, timeout) may come after it signed: the outcome is unknown,
      // and a blind retry could sign (and send) twice.
      if (why.rfind("cannot reach", 0) == 0 || why.rfind("TLS handshake", 0) == 0) {
        return sigil::mcp::RpcResult::Failure(sigil::kUnavailable, why);
      }
      return sigil::mcp::RpcResult::Failure(sigil::kUpstreamError, "no complete answer from the daemon (" + why + ")",
                                            nlohmann::json{{"outcome", "unknown"}});
    }
    const auto doc = nlohmann::json::parse(response->body, nullptr, false);
    const nlohmann::json* error = nullptr;
    if (doc.is_object()) {
      if (auto it = doc.find("error"); it != doc.end() && !it->is_null()) error = &*it;
    }
    const bool rpc_error = error != nullptr && error->is_object() && error->contains("code") && (*error)["code"].is_number_integer();
    if (!doc.is_object() || (error != nullptr && !rpc_error)) {
      // Refused by the HTTP front before JSON-RPC ran (too large, bad token,
      // overloaded): nothing was decided or signed.
      const int status = response->status;
      const int code = status == 413 || status == 400 ? sigil::kInvalidParams
                       : status == 401 || status == 403 ? sigil::kUnauthenticated
                       : status == 429              ? sigil::kRateLimited
                                                    : sigil::kUnavailable;
      std::string why = "the daemon answered HTTP " + std::to_string(status);
      if (error != nullptr && error->is_object() && error->contains("message") && (*error)["message"].is_string()) {
        why += ": " + (*error)["message"].get<std::string>();
      } else if (error != nullptr && error->is_string()) {
        why += ": " + error->get<std::string>();
      }
      return sigil::mcp::RpcResult::Failure(code, why);
    }
    if (rpc_error) {
      const auto& e = *error;
      return sigil::mcp::RpcResult::Failure(e["code"].get<int>(),
                                            e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "error",
                                            e.contains("data") ? e["data"] : nlohmann::json());
    }
    return sigil::mcp::RpcResult::Success(doc.contains("result") ? doc["result"] : nlohmann::json());
  };
  sigil::mcp::McpServer server(std::move(caller), sigil::mcp::McpServerInfo{});
  return sigil::mcp::RunStdio(std::cin, std::cout, server);
}

int RunAttestVerify(const std::string& file, const sigil::attest::VerifyFlags& flags, bool json) {
  auto text = sigil::cli::ReadFileBounded(file, 1 << 20);
  if (!text.ok()) return Fail(kExitBadInput, std::string(text.status().message()));
  auto options = sigil::attest::VerifyOptionsFromFlags(flags);
  if (!options.ok()) return Fail(kExitBadInput, std::string(options.status().message()));
  sigil::attest::VerifyResult result = sigil::attest::Verify(*text, *options);
  if (json) {
    std::cout << result.ToJson().dump(2) << "\n";
  } else {
    std::cout << (result.valid ? "attestation report is valid" : "ATTESTATION REPORT IS NOT VALID") << "\n";
    for (const auto& e : result.ToJson().value("errors", nlohmann::json::array())) std::cout << "  " << e.dump() << "\n";
  }
  return result.valid ? kExitOk : kExitRefused;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sigil: key custody and policy-checked signing for AI agents"};
  app.require_subcommand(1);
  sigil::cli::ClientOptions client;
  client.transport = sigil::cli::HttpApiTransport();
  int exit_code = kExitOk;

  // --- server
  std::string config_file, data, listen, upstream, unix_socket, p11_module, p11_token, p11_pin, tpm_tcti;
  bool dev = false;
  auto* server = app.add_subcommand("server", "run the daemon");
  server->add_option("--config", config_file, "TOML config file");
  server->add_flag("--dev", dev, "embedded default: SQLite + software keystore in --data");
  server->add_option("--data", data, "data directory (default ./.sigil-dev)");
  server->add_option("--listen", listen, "HOST:PORT (default 127.0.0.1:8700)");
  server->add_option("--upstream", upstream, "Ethereum node URL for eth_sendTransaction and proxied methods");
  server->add_option("--unix-socket", unix_socket, "also listen on this Unix socket");
  server->add_option("--pkcs11-module", p11_module);
  server->add_option("--pkcs11-token", p11_token);
  server->add_option("--pkcs11-pin-file", p11_pin);
  server->add_option("--tpm-tcti", tpm_tcti, "seal the master key to this TPM (swtpm:host=H,port=P or device:/dev/tpmrm0)");
  server->add_flag("--tpm-reseal", g_tpm_reseal, "upgrade: re-seal the TPM master key to this binary + configuration (doc/tpm.md)");
  server->add_flag("--accept-audit-log-loss", g_accept_audit_log_loss,
                   "start although audit.log does not continue the log this data directory last wrote (deleted, "
                   "replaced, cut back); the new log's first record says so (doc/audit-log.md)");
  server->callback([&] {
    exit_code = RunServer(config_file, dev, data, listen, upstream, unix_socket, p11_module, p11_token, p11_pin, tpm_tcti);
  });

  // --- init
  std::string init_data, init_key_file;
  bool init_json = false;
  auto* init = app.add_subcommand("init", "create a data directory (passphrase from SIGIL_PASSPHRASE_FILE)");
  init->add_option("--data", init_data, "data directory")->required();
  init->add_option("--key-file", init_key_file, "use (or create) a 32-byte master key file instead of a passphrase");
  init->add_flag("--json", init_json, "print JSON");
  init->callback([&] {
    auto made = sigil::daemon::InitDataDir(init_data, init_key_file);
    if (!made.ok()) {
      exit_code = Fail(ExitFor(made.status()), std::string(made.status().message()));
      return;
    }
    if (init_json) {
      std::cout << nlohmann::json{{"data_dir", made->data_dir}, {"admin_token_file", made->admin_token_file}}.dump()
                << "\n";
    } else {
      std::cout << "initialised " << made->data_dir << "; admin token in " << made->admin_token_file << "\n";
    }
  });

  // --- client commands (key, policy, token, approval, lockdown, backup, audit, attest)
  sigil::cli::AddClientCommands(app, client);

  // Local additions to the client command groups.
  auto* policy_cmd = app.get_subcommand("policy");
  std::string test_policy, test_cases;
  bool test_json = false;
  auto* ptest = policy_cmd->add_subcommand("test", "check a policy offline against cases with expected decisions");
  ptest->add_option("file", test_policy, "policy JSON")->required();
  ptest->add_option("--cases", test_cases, "cases JSON")->required();
  ptest->add_flag("--json", test_json);
  ptest->callback([&] { exit_code = RunPolicyTest(test_policy, test_cases, test_json); });

  auto* backup_cmd = app.get_subcommand("backup");
  std::vector<std::string> restore_files;
  std::string restore_data, restore_key_file;
  auto* restore = backup_cmd->add_subcommand("restore", "restore backup (and share) files into a fresh data directory");
  restore->add_option("files", restore_files, "backup file, then share files for a shared backup")->required();
  restore->add_option("--data", restore_data, "fresh data directory")->required();
  restore->add_option("--key-file", restore_key_file, "master key file for the restored directory");
  bool restore_dev = false;
  restore->add_flag("--dev", restore_dev,
                    "trial restore: without SIGIL_PASSPHRASE_FILE or --key-file, keep the master key in DIR/master.key");
  bool restore_json = false;
  restore->add_flag("--json", restore_json, "print JSON");
  restore->callback([&] {
    auto r = sigil::daemon::RestoreDataDir(restore_files, restore_data, restore_key_file, restore_dev);
    if (!r.ok()) {
      exit_code = Fail(ExitFor(r.status()), std::string(r.status().message()));
      return;
    }
    if (restore_json) {
      std::cout << nlohmann::json{{"data_dir", r->data_dir},
                                  {"key_versions_restored", r->key_versions_restored},
                                  {"admin_token_file", r->admin_token_file}}
                       .dump()
                << "\n";
    } else {
      std::cout << r->key_versions_restored << " key versions restored into " << r->data_dir << "; admin token in "
                << r->admin_token_file << "\n";
    }
  });

  auto* attest_cmd = app.get_subcommand("attest");
  std::string att_file;
  sigil::attest::VerifyFlags att_flags;
  bool att_json = false;
  auto* att_verify = attest_cmd->add_subcommand("verify", "verify an attestation report offline");
  att_verify->add_option("file", att_file, "report JSON")->required();
  att_verify->add_option("--nonce", att_flags.nonce_hex, "the nonce you asked for (hex)")->required();
  att_verify->add_option("--expected-measurement", att_flags.expected_measurement_hex, "SHA-256 of the binary you expect");
  att_verify->add_option("--pubkey", att_flags.pubkey_hex, "pin the attestation public key (hex)");
  att_verify->add_flag("--allow-debug", att_flags.allow_debug, "accept dev-mode (debug) reports");
  att_verify->add_option("--expected-pcr", att_flags.expected_pcrs, "tpm2: N:HEX, the SHA-256 value PCR N must hold (repeatable)");
  att_verify->add_option("--tpm-ak", att_flags.tpm_ak_hex, "tpm2: pin the TPM attestation key (tpm_quote.ak_public hex)");
  att_verify->add_option("--min-security-version", att_flags.min_security_version);
  att_verify->add_flag("--json", att_json);
  att_verify->callback([&] { exit_code = RunAttestVerify(att_file, att_flags, att_json); });

  AuditTrust audit_trust;
  auto* audit_verify = app.get_subcommand("audit")->get_subcommand("verify");
  audit_verify->add_option("--checkpoint", audit_trust.checkpoint_file,
                           "with --file: a checkpoint saved earlier (JSON, or a `verify --json` report); "
                           "the export must contain it");
  audit_verify->add_option("--min-size", audit_trust.min_size, "with --file and --root: the log held at least N records");
  audit_verify->add_option("--root", audit_trust.root_hex, "with --file: the Merkle root (hex) at --min-size");

  // --- mcp (stdio)
  std::string mcp_url, mcp_token;
  auto* mcp = app.add_subcommand("mcp", "MCP server on stdio for one agent token (SIGIL_TOKEN)");
  mcp->add_option("--url", mcp_url, "daemon URL; default $SIGIL_URL");
  mcp->add_option("--token", mcp_token, "agent token; default $SIGIL_TOKEN");
  mcp->callback([&] { exit_code = RunMcpStdio(mcp_url, mcp_token); });

  for (int i = 1; i < argc; ++i) g_json_errors = g_json_errors || std::string_view(argv[i]) == "--json";
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return Fail(kExitBadInput, sigil::cli::RedactTokens(e.what()) + " (sigil --help lists the commands)");
  }
  // `audit verify --file` runs offline.
  auto* audit_cmd = app.get_subcommand("audit");
  if (audit_cmd->parsed()) {
    auto* verify = audit_cmd->get_subcommand("verify");
    if (verify->parsed() && !verify->get_option("--file")->empty()) {
      return RunAuditVerifyFile(verify->get_option("--file")->as<std::string>(),
                                verify->get_option("--pubkey")->as<std::string>(), audit_trust, client.json);
    }
    if (verify->parsed() && (!audit_trust.checkpoint_file.empty() || !audit_trust.root_hex.empty())) {
      return Fail(kExitBadInput, "--checkpoint, --min-size and --root apply to an export (--file); the live log "
                                 "is checked against the daemon's latest checkpoint");
    }
  }
  return exit_code != kExitOk ? exit_code : client.exit_code;
}
