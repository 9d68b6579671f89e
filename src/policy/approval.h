// A held signing request and what happens to it: the record (Approval), the
// request that creates one (ApprovalRequest) and the event every step emits
// (ApprovalEvent), for the core to audit. ApprovalBook (approval_book.h)
// stores them and enforces the rules.
//
// Life cycle:
//   pending  -> approved   when a quorum of distinct approvers approved
//   approved -> consumed   by Consume with the matching payload hash, once
//   pending or approved -> rejected  by Reject
//   pending or approved -> expired   when expires passes
//
// Value types; not synchronised.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/hex.h"
#include "crypto/hash.h"
#include "policy/second_factor.h"

namespace sigil::policy {

enum class ApprovalState { kPending, kApproved, kRejected, kExpired, kConsumed };

// "pending", "approved", "rejected", "expired", "consumed".
std::string_view ApprovalStateName(ApprovalState state);
std::optional<ApprovalState> ParseApprovalState(std::string_view name);


struct ApprovalVote {
  std::string approver;  // principal name
  absl::Time time;

  friend bool operator==(const ApprovalVote&, const ApprovalVote&) = default;
};

// Limits on an ApprovalRequest (Invariant 7: every input bounded).
inline constexpr size_t kMaxApprovalNameSize = 128;     // key, agent, rule id, approver
inline constexpr size_t kMaxApprovalRoleSize = 32;
inline constexpr int kMaxApprovalQuorum = 16;
inline constexpr size_t kMaxCanonicalRequestSize = 1u << 20;  // 1 MiB
inline constexpr size_t kMaxRejectReasonSize = 512;
inline constexpr absl::Duration kMinApprovalTtl = absl::Seconds(1);
inline constexpr absl::Duration kMaxApprovalTtl = absl::Hours(24 * 30);

// What the core holds when policy says require_approval.
struct ApprovalRequest {
  // SHA-256 of the exact bytes that will be signed (the core decides what is
  // hashed; it must identify the key, the payload kind and the payload).
  crypto::Hash256 payload_hash{};
  std::string key;      // key name
  std::string agent;    // the requesting principal's name
  std::string rule_id;  // the policy rule that asked for approval
  int quorum = 1;       // distinct approvers needed, 1..16
  std::string required_role = "approver";
  SecondFactor second_factor = SecondFactor::kNone;
  absl::Duration ttl = absl::Hours(1);  // 1 s .. 30 days
  // Opaque to this module: what the core will re-decode and sign at quorum.
  Bytes canonical_request;
};

// One held request. Times are stored at millisecond precision.
struct Approval {
  std::string id;  // "ap_" + 16 lower-case hex
  crypto::Hash256 payload_hash{};
  std::string key;
  std::string agent;
  std::string rule_id;
  int quorum = 1;
  std::string required_role;
  SecondFactor second_factor = SecondFactor::kNone;
  absl::Time created;
  absl::Time expires;
  ApprovalState state = ApprovalState::kPending;
  std::vector<ApprovalVote> approvals;  // in the order given
  // When the state last changed away from pending/approved (approved,
  // rejected, expired); InfinitePast while pending.
  absl::Time decided = absl::InfinitePast();
  std::string rejected_by;    // who rejected (state rejected)
  std::string reject_reason;  // as given by the rejecter
  absl::Time consumed = absl::InfinitePast();  // when Consume succeeded
  Bytes canonical_request;

  friend bool operator==(const Approval&, const Approval&) = default;
};

// Which step an event reports.
enum class ApprovalStep { kCreate, kApprove, kReject, kConsume, kExpire, kReturn };

// "create", "approve", "reject", "consume", "expire", "return".
std::string_view ApprovalStepName(ApprovalStep step);

// What every ApprovalBook step returns, refused or not, for the audit log.
struct [[nodiscard]] ApprovalEvent {
  ApprovalStep step = ApprovalStep::kCreate;
  // OK: the step took effect. Otherwise why it was refused; nothing changed,
  // except that a request found past its expiry is recorded as expired.
  absl::Status status;
  std::string id;     // the approval id as given (or made, for create)
  std::string actor;  // approver for approve/reject, agent for create/consume, "" for expire
  absl::Time time;
  // The record after the step; nullopt when the id is unknown, malformed, or
  // create failed.
  std::optional<Approval> approval;
  // Create only: true when an open request for the same bytes was returned
  // instead of a new one (ApprovalBook::Create).
  bool existing = false;

  bool ok() const { return status.ok(); }
};

}  // namespace sigil::policy
