// ApiServer: the front (DESIGN.md §2). It authenticates callers, turns
// JSON-RPC and REST requests into core requests (canonical bytes + the
// principal), and turns core responses into the external contract
// (INTERFACE.md): JSON-RPC codes -32001..-32006 with structured `data`, REST
// JSON bodies, Prometheus text. It holds no key material and cannot sign.
//
// Routes: POST /rpc, /v1/..., GET /metrics, /healthz (no auth), /readyz,
// /mcp (when an MCP handler is installed).
//
// Thread-safety: Handle() is thread-safe; the server is immutable after
// construction.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "audit/audit_log.h"
#include "base/clock.h"
#include "core/policy_store.h"
#include "core/signing_service.h"
#include "keystore/key_store.h"
#include "metrics/metrics.h"
#include "net/http_message.h"
#include "policy/approval_book.h"
#include "policy/lockdown.h"
#include "policy/policy_engine.h"
#include "server/json_rpc.h"
#include "server/upstream_node.h"
#include "tokens/token_rate.h"
#include "tokens/token_store.h"

namespace sigil::server {

struct ApiOptions {
  bool dev = false;
  std::string upstream_url;
  uint64_t default_chain_id = 31337;
  bool backup_enabled = true;
  bool allow_key_import = false;
  // Where POST /v1/keys (sigil key create) makes a key when the request
  // names no backend: keystore.backend in the config.
  std::string default_key_backend = "software";
  absl::Duration max_key_age = absl::Hours(24 * 365);
  std::string version = "0.1.0";
  // Request rate of tokens that carry none of their own, by role; a role not
  // listed is unlimited. Exceeded: JSON-RPC -32005 with data.retry_after_ms,
  // REST 429 with Retry-After. JSON-RPC calls count one each (a batch of n
  // counts n); other routes one per request; /healthz never.
  std::map<tokens::Role, tokens::TokenRate> default_token_rates;
};

// Hooks the daemon supplies (each may be empty: the route then answers 501
// with an explanation).
struct ApiHooks {
  // {nonce hex} → signed attestation report JSON.
  std::function<absl::StatusOr<nlohmann::json>(const std::string& nonce_hex)> attest;
  // Environment check {valid, errors[], checks[]}.
  std::function<nlohmann::json()> environment_check;
  // {passphrase} or {shares: {m, n}} → {file: text} or {shares: [text...]}.
  std::function<absl::StatusOr<nlohmann::json>(const nlohmann::json& request)> backup;
  // Raw private key import (admin; only when allowed by configuration).
  std::function<absl::StatusOr<keystore::KeyInfo>(const std::string& name, keystore::KeyType type,
                                                  const SecretBytes& private_key)>
      import_key;
  // Key generation on a backend other than "software" (e.g. "pkcs11").
  std::function<absl::StatusOr<keystore::KeyInfo>(const std::string& name, keystore::KeyType type,
                                                  const std::string& backend)>
      generate_key;
  // OK when signing may proceed; otherwise why not (e.g. the environment
  // check failed with require_environment_check = true). Checked before
  // every signature; nothing is signed while it fails.
  std::function<absl::Status()> signing_precondition;
  // /mcp: (request, principal) → response.
  std::function<net::HttpResponse(const net::HttpRequest&, const tokens::Principal&)> mcp;
};

struct ApiDeps {
  core::SigningService& core;
  core::PolicyStore& policies;
  policy::PolicyEngine& engine;
  keystore::KeyStore& keys;
  tokens::TokenStore& tokens;
  policy::ApprovalBook& approvals;
  policy::Lockdown& lockdown;
  audit::AuditLog& audit;
  metrics::Metrics& metrics;
  const Clock& clock;
};

// What the access log learns about a request's JSON-RPC calls (filled by the
// dispatcher's observer and the signing path; never secrets).
struct RpcCallLog {
  std::string method;  // the first call's method; "batch" when several
  size_t calls = 0;
  int first_code = 0;  // the first call's error code, 0 = success
  std::string decision;
  std::string rule;
  // Bytes of upstream node answers taken for this request (a batch of
  // proxied calls shares UpstreamNode::kMaxRequestAnswerBytes).
  size_t upstream_answer_bytes = 0;
};

// What a JSON-RPC method handler sees.
struct RpcContext {
  tokens::Principal principal;
  std::string request_id;
  RpcCallLog* log = nullptr;  // may be null (e.g. MCP calls)
  // eth_signTransaction answers geth's object {raw, tx} instead of the raw
  // hex string. web3.py reads the result that way and fails on a string;
  // ethers and viem need the string. Set when the request asks for it
  // (?signed_tx=object, Sigil-Signed-Tx: object) or says it is web3.py.
  bool signed_tx_as_object = false;
};

class ApiServer {
 public:
  ApiServer(ApiDeps deps, ApiOptions options, ApiHooks hooks);
  ~ApiServer();

  net::HttpResponse Handle(const net::HttpRequest& request);

  // JSON-RPC for an authenticated principal (used by /rpc and by MCP).
  RpcOutcome CallRpc(const tokens::Principal& principal, const std::string& method, const nlohmann::json& params);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sigil::server
