// SigningService: the one place where decoding, policy, audit and signing
// meet (DESIGN.md §3). It is the trusted core: the front hands it canonical
// bytes and an authenticated principal; it decodes them itself, decides,
// records, and only then signs.
//
// Per request (Sign):
//   1. resolve the key (name, id, address or public key) and check the
//      caller may use it; 2. decode the payload into facts (payload.h);
//   3. lockdown / suspension; 4. PolicyEngine::Authorize (reserves budgets
//      atomically on allow); 5. allow: sign in memory, append the audit
//      record and wait until it is durable, commit the reservation, return
//      the signature with its receipt. Any failure before the signature
//      leaves releases the reservation (fail closed: if the audit log cannot
//      be written nothing is returned, error kUnavailable).
//   require_approval: the exact payload is held in the ApprovalBook; the
//      agent polls ApprovalStatus and receives the signature once, after
//      quorum. deny: audited refusal with the rule and reason.
//
// Security properties: private keys stay in the KeyStore; no secret reaches
// a response, an audit record or an error message; every refusal and every
// signature is audited before the caller learns of it.
//
// Thread-safety: all methods are thread-safe. Borrowed dependencies must
// outlive the service.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "audit/audit_log.h"
#include "base/clock.h"
#include "core/payload.h"
#include "crypto/secp256k1_key_table.h"
#include "keystore/key_store.h"
#include "nlohmann/json.hpp"
#include "policy/approval_book.h"
#include "policy/lockdown.h"
#include "policy/policy_engine.h"
#include "tokens/token_store.h"

namespace sigil::core {

enum class Outcome {
  kSigned,           // signature returned
  kExplained,        // dry run: decision only
  kDenied,           // policy said no
  kPendingApproval,  // held for approvers
  kLockdown,         // lockdown or agent suspension in force
  kRateLimited,
  kUnauthorized,     // the caller may not use this key / do this
  kInvalid,          // malformed request or payload
  kNotFound,         // no such key / approval
  kUnavailable,      // audit log, store or keystore cannot be used: nothing signed
};

struct SignRequest {
  std::string key;  // name, id, address or public key
  policy::Kind kind = policy::Kind::kEthTx;
  Bytes payload;    // canonical bytes (payload.h)
};

struct SignResponse {
  Outcome outcome = Outcome::kInvalid;
  std::string message;  // a sentence an agent can act on
  std::optional<policy::Decision> decision;
  std::optional<keystore::KeyInfo> key;
  std::string address;         // the key's display address
  nlohmann::json result;       // kind-specific signature output (see ResultFor)
  std::optional<audit::AuditReceipt> receipt;
  std::optional<policy::Approval> approval;
  int64_t retry_after_ms = 0;
};

// Key metadata as the API shows it.
struct KeyView {
  keystore::KeyInfo info;
  std::string address;
  // When the key's first version was created: a key keeps it through
  // rotations (eth_accounts lists keys in this order, so adding or rotating
  // a key never changes which account comes first).
  absl::Time first_created_at = absl::UnixEpoch();
};

class SigningService {
 public:
  struct Deps {
    keystore::KeyStore& keys;
    audit::AuditLog& audit;
    policy::PolicyEngine& engine;
    policy::ApprovalBook& approvals;
    policy::Lockdown& lockdown;
    const Clock& clock;
    // Called for alerts (log, metric, webhook); may be empty.
    std::function<void(const std::string& kind, const nlohmann::json& details)> alert;
  };
  explicit SigningService(Deps deps);

  SignResponse Sign(const tokens::Principal& caller, const SignRequest& request);
  // The decision only; nothing reserved, signed or held. Not audited.
  SignResponse Explain(const tokens::Principal& caller, const SignRequest& request);
  // The agent's poll. Once approved at quorum, the requester receives the
  // signature exactly once (the approval is consumed).
  SignResponse ApprovalStatus(const tokens::Principal& caller, const std::string& approval_id);

  // Keys the caller may see: agents their own active signing keys; roles
  // with key.list or sign (admin, operator) every key; others none.
  absl::StatusOr<std::vector<KeyView>> ListKeys(const tokens::Principal& caller);
  // Resolves name, id, address or public key to the active key.
  // FailedPrecondition for the address or public key of a retired version,
  // naming the key and its current address; with `scope`, a caller that may
  // not use the key gets PermissionDenied in its own words instead (retired
  // addresses are public on-chain: they must not reveal a key's name).
  absl::StatusOr<KeyView> ResolveKey(const std::string& name_or_address, const tokens::Principal* scope = nullptr);
  // Refreshes the address index after keys change.
  absl::Status RefreshKeys();

  // False after an audit append failed, until one succeeds again (/readyz).
  bool AuditWritable() const { return audit_ok_.load(std::memory_order_relaxed); }

  // Appends an administrative audit record (key.create, policy.apply, ...).
  absl::StatusOr<audit::AuditReceipt> Record(const std::string& type, const std::string& principal,
                                            nlohmann::json details, const std::string& key = "");

 private:
  SignResponse Refuse(Outcome outcome, std::string message);
  absl::StatusOr<DecodedPayload> Decode(const KeyView& key, const SignRequest& request);
  // Produces the signature for a decoded payload with the keystore.
  absl::StatusOr<nlohmann::json> SignDecoded(const KeyView& key, const DecodedPayload& payload,
                                             crypto::Hash256* signature_hash);
  SignResponse FinishSigned(const tokens::Principal& caller, const KeyView& key, const DecodedPayload& payload,
                            const policy::Decision& decision, policy::ReservationId reservation,
                            const std::string& approval_id);
  absl::StatusOr<audit::AuditReceipt> AuditDecision(const tokens::Principal& caller, const KeyView& key,
                                                    const DecodedPayload& payload, const policy::Decision& decision,
                                                    const std::string& outcome, const crypto::Hash256* sig_hash,
                                                    const std::string& approval_id);
  // The record of a refusal: `decision` with `reason` in its place. The
  // refusal stands whether or not the log can take it.
  void AuditRefusal(const tokens::Principal& caller, const KeyView& key, const DecodedPayload& payload,
                    policy::Decision decision, std::string reason, const std::string& outcome,
                    const std::string& approval_id);

  // Acts on what the trigger monitor asked for (suspend, lockdown, alert);
  // each action is audited.
  void HandleTrigger(const policy::TriggerEvent& trigger);

  absl::StatusOr<audit::AuditReceipt> Append(audit::AuditRecord record);

  // Verify before release: `sig` must be a valid signature over `digest`
  // by the key's recorded public key, with exactly that recovery id.
  absl::Status CheckSignedByKey(const KeyView& key, const crypto::Hash256& digest,
                                const crypto::RecoverableSignature& sig);

  Deps d_;
  // Precomputed multiples of the secp256k1 keys that sign often (from their
  // 64th signature; at most 32 keys, 510 KiB each), so the check above costs
  // about 30 us instead of a 40 us public-key recovery.
  crypto::Secp256k1KeyTableCache key_tables_{/*capacity=*/32, /*min_uses=*/64};
  std::atomic<bool> audit_ok_{true};
  absl::Mutex keys_mu_;
  struct AddressedVersion {
    std::string id;
    uint32_t version = 0;
  };
  // Lower-case address or public-key hex of every version -> that version.
  absl::flat_hash_map<std::string, AddressedVersion> key_by_address_ ABSL_GUARDED_BY(keys_mu_);
  // Approvals being collected right now: a second poll of the same one
  // (a client's retry) waits its turn instead of racing the first for the
  // budget and recording a denial beside the first's signature.
  absl::Mutex collecting_mu_;
  absl::flat_hash_set<std::string> collecting_ ABSL_GUARDED_BY(collecting_mu_);
};

// Stable names for the API ("signed", "denied", ...).
std::string_view OutcomeName(Outcome outcome);

// A request held for approval: the key (its id and the version current when
// it was held), the kind and the payload bytes. key_version is empty for
// requests held before versions were recorded (they sign with the current
// version).
struct HeldRequest {
  std::string key_id;
  std::optional<uint32_t> key_version;
  policy::Kind kind = policy::Kind::kEthTx;
  Bytes payload;
};

// The canonical bytes held for approval, so the approval binds the key
// version, the kind and the payload. DataLoss if `held` is malformed.
Bytes EncodeHeldRequest(const std::string& key_id, uint32_t key_version, policy::Kind kind,
                        std::span<const uint8_t> payload);
absl::StatusOr<HeldRequest> DecodeHeldRequest(std::span<const uint8_t> held);

}  // namespace sigil::core
