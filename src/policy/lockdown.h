// Lockdown: the emergency stop. A global lockdown refuses every signature at
// once; a per-agent suspension refuses one agent's. Both survive restart.
//
// Who may do what (roles are checked here as well as by the caller):
//  Lock     operator or admin, with a reason
//  Unlock   admin, with a valid, unused TOTP code of that same admin
//  Suspend  operator or admin, with a reason
//  Resume   admin, with a valid, unused TOTP code of that same admin
//
// Hot path: IsLocked() is one atomic load; CheckSigning() is one or two
// atomic loads when nothing is locked or suspended.
//
// Fail closed: Lock takes effect in this process before it is written, and
// stays in effect if writing fails (the event reports Unavailable). Unlock
// and Resume are written first and take effect only once durable.
//
// Storage: table "lockdown"; key "global" and "agent:" + name; each value is
// 0x01 || XChaCha20-Poly1305(state key, JSON, ad = "lockdown:" + key)
// (doc/approvals.md). Rows are kept when lifted (locked=false), never
// deleted. Open reads and authenticates every row and refuses to start
// (DataLoss naming the row) if one was altered. Several nodes sharing a
// database: each node sees another's change at its next Refresh().
//
// Thread-safety: thread-safe. REQUIRES: the SecondFactorVerifier never calls back
// into this object.
// Ownership: borrows store, clock and second_factor; they must outlive it.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/secret.h"
#include "policy/totp.h"
#include "store/store.h"

namespace sigil::policy {

inline constexpr char kLockdownTable[] = "lockdown";
inline constexpr size_t kMaxLockdownReasonSize = 512;

struct LockdownStatus {
  bool locked = false;
  std::string reason;                      // as given to Lock
  std::string locked_by;                   // principal name
  absl::Time since = absl::InfinitePast();  // when locked
  std::string lifted_by;                   // who lifted the last lockdown
  absl::Time lifted_at = absl::InfinitePast();

  friend bool operator==(const LockdownStatus&, const LockdownStatus&) = default;
};

struct AgentSuspension {
  std::string agent;
  std::string reason;
  std::string suspended_by;
  absl::Time since;

  friend bool operator==(const AgentSuspension&, const AgentSuspension&) = default;
};

enum class LockdownStep { kLock, kUnlock, kSuspend, kResume };

// "lock", "unlock", "suspend", "resume".
std::string_view LockdownStepName(LockdownStep step);

// What every step returns, refused or not, for the audit log.
struct [[nodiscard]] LockdownEvent {
  LockdownStep step = LockdownStep::kLock;
  // OK: the step took effect (Lock while already locked is OK and changes
  // nothing). Otherwise why it was refused.
  absl::Status status;
  std::string actor;    // principal name
  std::string agent;    // suspend/resume: the agent; "" for the global lockdown
  std::string reason;   // lock/suspend: as given
  absl::Time time;
  LockdownStatus global;  // the global state after the step

  bool ok() const { return status.ok(); }
};

class Lockdown {
 public:
  // `state_key`: 32 bytes from the core. `second_factor` may be null: then
  // nothing can be unlocked or resumed (FailedPrecondition) -- enrol the
  // admin's TOTP before relying on lockdown. Loads and authenticates the
  // persisted state.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Lockdown>> Open(store::Store& store, SecretBytes state_key,
                                                                      const Clock& clock, SecondFactorVerifier* second_factor);
  ~Lockdown();
  Lockdown(const Lockdown&) = delete;
  Lockdown& operator=(const Lockdown&) = delete;

  // True while a global lockdown is in force. One atomic load.
  bool IsLocked() const { return locked_.load(std::memory_order_acquire); }
  // True while `agent` is suspended.
  bool IsSuspended(std::string_view agent) const;
  // OK when `agent` may sign now; otherwise FailedPrecondition
  // "lockdown in force: REASON" or "agent 'NAME' is suspended: REASON".
  [[nodiscard]] absl::Status CheckSigning(std::string_view agent) const;

  LockdownStatus Status() const;
  // Current suspensions, by agent name.
  std::vector<AgentSuspension> Suspensions() const;

  // `roles` are the actor's role names ("admin", "operator", ...).
  LockdownEvent Lock(std::string_view actor, std::span<const std::string> roles, std::string_view reason);
  LockdownEvent Unlock(std::string_view actor, std::span<const std::string> roles, std::string_view totp_code);
  LockdownEvent Suspend(std::string_view actor, std::span<const std::string> roles, std::string_view agent,
                        std::string_view reason);
  LockdownEvent Resume(std::string_view actor, std::span<const std::string> roles, std::string_view agent,
                       std::string_view totp_code);

  // Reloads the persisted state (for a node sharing the database with
  // others). DataLoss naming the row if one fails authentication; on error
  // the in-memory state is unchanged.
  [[nodiscard]] absl::Status Refresh();

 private:
  Lockdown(store::Store& store, SecretBytes state_key, const Clock& clock, SecondFactorVerifier* second_factor);

  absl::Status WriteGlobal(const LockdownStatus& s);
  absl::Status WriteAgent(const std::string& agent, const AgentSuspension* suspension);
  // Admin role, then the second factor of `actor`.
  absl::Status CheckAdminWithSecondFactor(std::string_view actor, std::span<const std::string> roles,
                                          std::string_view totp_code, std::string_view what);

  store::Store& store_;
  const SecretBytes state_key_;
  const Clock& clock_;
  SecondFactorVerifier* const second_factor_;

  std::atomic<bool> locked_{false};
  std::atomic<size_t> suspended_count_{0};
  // Serialises steps (held across the second-factor check and store I/O);
  // taken before mu_.
  absl::Mutex step_mu_;
  // Guards the in-memory state; held only briefly, so a signing check never
  // waits behind a step's I/O.
  mutable absl::Mutex mu_;
  LockdownStatus global_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, AgentSuspension, std::less<>> suspended_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::policy
