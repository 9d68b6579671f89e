// AuditRecord: one entry of the audit log, and its canonical byte form.
//
// A record says who did what to which key, what was decided and why. It holds
// hashes of payloads and signatures, never secrets, never the payload itself.
//
// Canonical form (what the Merkle leaf hashes; doc/audit-log.md §3): compact
// JSON, one object with exactly the keys below in byte-wise sorted order, no
// whitespace, unsigned decimal integers without leading zeros, strings in
// UTF-8 with only `"` `\` and control characters escaped (\b \f \n \r \t,
// otherwise \u00xx with lower-case hex), `extra` an object of string values
// with sorted keys. EncodeRecord and ParseRecord are exact inverses:
// ParseRecord accepts only bytes that EncodeRecord would produce, so one
// record has exactly one leaf hash.
//
// Thread-safety: plain values and stateless functions.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "absl/status/statusor.h"

namespace sigil::audit {

// Record types the daemon writes. `type` may be any lower-case dotted name
// (approval.request, lockdown.on, ...); these are the well-known ones.
namespace record_type {
inline constexpr char kSignRequest[] = "sign.request";
inline constexpr char kKeyCreate[] = "key.create";
inline constexpr char kKeyRotate[] = "key.rotate";
inline constexpr char kBackupCreate[] = "backup.create";
inline constexpr char kBackupRestore[] = "backup.restore";
inline constexpr char kPolicyApply[] = "policy.apply";
inline constexpr char kTokenIssue[] = "token.issue";
inline constexpr char kTokenRevoke[] = "token.revoke";
inline constexpr char kApprovalRequest[] = "approval.request";
inline constexpr char kApprovalApprove[] = "approval.approve";
inline constexpr char kApprovalReject[] = "approval.reject";
inline constexpr char kApprovalExpire[] = "approval.expire";
inline constexpr char kLockdownOn[] = "lockdown.on";
inline constexpr char kLockdownOff[] = "lockdown.off";
inline constexpr char kAuthFailed[] = "auth.failed";
inline constexpr char kDaemonStart[] = "daemon.start";
inline constexpr char kDaemonStop[] = "daemon.stop";
// Written by AuditLog::Open when the file was not closed cleanly.
inline constexpr char kAuditRecovered[] = "audit.recovered";
// Written by AuditLog::Open, when told to accept it, for a file that does not
// continue the log its owner last saw (AuditLogOptions::anchor).
inline constexpr char kAuditDiscontinuity[] = "audit.discontinuity";
}  // namespace record_type

// Size bounds (invariant 7): anything larger is refused with InvalidArgument.
inline constexpr size_t kMaxRecordBytes = 64 * 1024;  // canonical encoding
inline constexpr size_t kMaxFieldBytes = 8 * 1024;    // any one string
inline constexpr size_t kMaxExtraEntries = 64;
inline constexpr size_t kMaxTypeBytes = 64;
inline constexpr size_t kMaxHashHexChars = 128;

struct AuditRecord {
  uint64_t seq = 0;      // leaf index in the log; assigned by AuditLog::Append
  uint64_t time_ms = 0;  // unix milliseconds; AuditLog fills it if 0
  std::string type;      // e.g. "sign.request"; [a-z0-9._-]+, 1..64 bytes
  std::string principal;  // authenticated principal (agent / operator name)
  std::string key;        // key id or name acted on, if any
  std::string decision;   // "allow", "deny", "require_approval", "ok", ...
  std::string rule;       // policy rule that fired, if any
  std::string reason;     // human/LLM-readable reason
  std::string payload_hash;    // lower-case hex (no 0x) or empty
  std::string signature_hash;  // lower-case hex (no 0x) or empty
  std::map<std::string, std::string> extra;  // e.g. {"to": "0x..", "value": "100", "chain_id": "1"}

  friend bool operator==(const AuditRecord&, const AuditRecord&) = default;
};

// Checks the field rules above (type syntax, UTF-8, hex hashes, bounds).
[[nodiscard]] absl::Status ValidateRecord(const AuditRecord& record);

// The canonical encoding. InvalidArgument if ValidateRecord fails.
[[nodiscard]] absl::StatusOr<std::string> EncodeRecord(const AuditRecord& record);

// Parses a canonical encoding. InvalidArgument, naming the byte position,
// for anything that is not exactly what EncodeRecord produces.
[[nodiscard]] absl::StatusOr<AuditRecord> ParseRecord(std::span<const uint8_t> bytes);

}  // namespace sigil::audit
