// ApprovalBook: held signing requests waiting for human approval, persisted
// in a Store and sealed at rest.
//
// Rules enforced (each refusal is an ApprovalEvent with a non-OK status):
//  * Approve: the request exists and is pending and not expired; the approver
//    holds the request's required role; the approver is not the requesting
//    agent (names compared exactly); each approver counts once; when the
//    request requires a second factor, the approver's TOTP code is checked
//    through SecondFactorVerifier (so it is also single use). At quorum the request
//    becomes approved.
//  * Reject: an approver with the required role ends a pending or approved
//    (not yet consumed) request.
//  * Consume: one time only; succeeds only if the request is approved, not
//    consumed, not expired, and `payload_hash` equals the hash it was created
//    with (constant-time compare). This binds the approval to exactly the
//    bytes that were shown to the approvers.
//  * Expiry: a pending or approved request whose expires time has passed is
//    expired; the first step that notices records it.
//
// Failure codes in ApprovalEvent::status / StatusOr:
//  InvalidArgument     malformed id or request fields
//  NotFound            no approval with that id
//  FailedPrecondition  not pending / already decided / expired / consumed;
//                      second factor required but none is configured
//  PermissionDenied    approver lacks the role, is the requester, TOTP code
//                      missing or wrong or reused; payload hash mismatch
//  AlreadyExists       this approver already approved
//  ResourceExhausted   the agent has too many pending requests (Create)
//  Unavailable         the store cannot be read or written (nothing changed)
//  DataLoss            a stored row failed authentication:
//                      "approval row 'ap_...' failed authentication"
//
// Storage: table "approvals", key = id, value = 0x01 || XChaCha20-Poly1305(
// state key, JSON record, ad = "approvals:" + id) (doc/approvals.md). Open
// reads and authenticates every row, so a row edited on disk stops start-up
// with an error naming the row. Every read goes to the Store, so several
// nodes sharing a database see one state.
//
// Thread-safety: thread-safe. Steps that change state are serialised by a
// mutex and each commits in one Store transaction, re-checking the rules
// inside it. REQUIRES: the SecondFactorVerifier never calls back into this book.
// Ownership: borrows store, clock and second_factor; they must outlive it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/clock.h"
#include "base/secret.h"
#include "policy/approval.h"
#include "policy/totp.h"
#include "store/store.h"

namespace sigil::policy {

inline constexpr char kApprovalsTable[] = "approvals";

class ApprovalBook {
 public:
  // `state_key`: 32 bytes from the core. `second_factor` may be null: then a
  // request that requires one cannot be approved (FailedPrecondition).
  // InvalidArgument for a bad key; DataLoss naming the row for a row that
  // fails authentication; Unavailable when the store cannot be read.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ApprovalBook>> Open(store::Store& store, SecretBytes state_key,
                                                                          const Clock& clock,
                                                                          SecondFactorVerifier* second_factor);
  ~ApprovalBook();
  ApprovalBook(const ApprovalBook&) = delete;
  ApprovalBook& operator=(const ApprovalBook&) = delete;

  // Holds a new request (state pending, expires = now + ttl). The event's id
  // is the new approval id. If the same agent already holds a request for the
  // same payload_hash and key, under the same rule and terms (quorum, role,
  // second factor), that is pending or approved and not expired, that request
  // is returned instead (event.existing): a retried call joins it rather than
  // asking the approvers again. Changed terms (a re-applied policy) make a new
  // request. ResourceExhausted if the agent already has kMaxPendingPerAgent
  // pending (unexpired) requests.
  ApprovalEvent Create(const ApprovalRequest& request);
  static constexpr size_t kMaxPendingPerAgent = 100;

  // Records `approver`'s approval. `roles` are the approver's role names
  // ("approver", "admin", ...); `totp_code` is ignored unless required.
  ApprovalEvent Approve(std::string_view id, std::string_view approver, std::span<const std::string> roles,
                        std::string_view totp_code);

  // Ends the request as rejected. `reason` (<= 512 bytes) is recorded.
  ApprovalEvent Reject(std::string_view id, std::string_view approver, std::span<const std::string> roles,
                       std::string_view reason);

  // Marks an approved request used, once, if `payload_hash` matches. On
  // success the event's approval holds the canonical request to sign.
  ApprovalEvent Consume(std::string_view id, const crypto::Hash256& payload_hash);
  // Undoes Consume when nothing was signed after all (the audit log or the
  // ledger could not be written, a lockdown landed, the signature failed its
  // check): approvers' work is spent only by a signature that leaves. The
  // request is approved again (or expired, if its time ran out meanwhile).
  ApprovalEvent ReturnUnspent(std::string_view id);

  // The request as it stands now (an overdue request reads as expired even
  // before a step records it). For sigil_approvalStatus the caller checks
  // that the asking agent is the record's agent.
  [[nodiscard]] absl::StatusOr<Approval> Status(std::string_view id) const;

  // Every pending, unexpired request, oldest first.
  [[nodiscard]] absl::StatusOr<std::vector<Approval>> ListPending() const;

  // Records every overdue pending/approved request as expired; one event per
  // request, for the audit log. Call periodically.
  [[nodiscard]] absl::StatusOr<std::vector<ApprovalEvent>> ExpireDue();

  // Deletes rejected, expired and consumed requests decided before `before`.
  // Returns how many were deleted.
  [[nodiscard]] absl::StatusOr<size_t> PurgeDecided(absl::Time before);

 private:
  struct Outcome;
  ApprovalBook(store::Store& store, SecretBytes state_key, const Clock& clock, SecondFactorVerifier* second_factor);

  absl::StatusOr<std::optional<Approval>> Read(store::Transaction* txn, std::string_view id) const;
  absl::StatusOr<std::vector<Approval>> ReadAll() const;
  absl::Status Write(store::Transaction& txn, const Approval& approval) const;
  // Runs `rule` on the record inside one transaction after applying expiry;
  // writes the record if the rule allowed the step (and `apply`), or if it was
  // just found expired.
  Outcome Update(std::string_view id, absl::Time now, bool apply,
                 const std::function<absl::Status(Approval&)>& rule);
  // One step on one request that needs no approver: checks the id, applies
  // `rule` through Update, and fills the event.
  ApprovalEvent Step(ApprovalStep step, std::string_view id, absl::Time now,
                     const std::function<absl::Status(Approval&)>& rule);

  store::Store& store_;
  const SecretBytes state_key_;
  const Clock& clock_;
  SecondFactorVerifier* const second_factor_;
  absl::Mutex mu_;  // serialises state-changing steps within this process
};

}  // namespace sigil::policy
