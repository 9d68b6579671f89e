#include "policy/lockdown.h"

#include <algorithm>
#include <utility>

#include "base/hex.h"
#include "base/status.h"
#include "crypto/aead.h"
#include "nlohmann/json.hpp"

namespace sigil::policy {
namespace {

using json = nlohmann::json;

constexpr uint8_t kRowFormatV1 = 0x01;
constexpr int kRecordVersion = 1;
constexpr char kGlobalKey[] = "global";
constexpr char kAgentKeyPrefix[] = "agent:";
constexpr size_t kMaxAgentNameSize = 128;

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return out;
}

std::string RowName(std::string_view key) { return "lockdown row '" + Printable(key) + "'"; }
std::string AssociatedData(std::string_view key) { return std::string(kLockdownTable) + ":" + std::string(key); }
std::string AgentKey(std::string_view agent) { return kAgentKeyPrefix + std::string(agent); }

absl::Time Millis(absl::Time t) { return absl::FromUnixMillis(absl::ToUnixMillis(t)); }

json TimeJson(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return nullptr;
  return absl::ToUnixMillis(t);
}

absl::Time TimeFromJson(const json& j) {
  if (j.is_null()) return absl::InfinitePast();
  return absl::FromUnixMillis(j.get<int64_t>());
}

bool HasRole(std::span<const std::string> roles, std::string_view role) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

absl::Status ValidateText(std::string_view what, std::string_view value, size_t max, bool allow_empty) {
  if ((!allow_empty && value.empty()) || value.size() > max) {
    return absl::InvalidArgumentError(std::string(what) + " must be " + (allow_empty ? "at most " : "1 to ") +
                                      std::to_string(max) + " bytes");
  }
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(std::string(what) + " must not contain control characters");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<store::Bytes> SealRow(const SecretBytes& key, std::string_view row_key, const json& j) {
  const std::string text = j.dump();
  ASSIGN_OR_RETURN(std::vector<uint8_t> sealed,
                   crypto::AeadSeal(key, AsBytes(text), AsBytes(AssociatedData(row_key))));
  store::Bytes out;
  out.reserve(sealed.size() + 1);
  out.push_back(kRowFormatV1);
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

absl::StatusOr<json> OpenRow(const SecretBytes& key, std::string_view row_key, std::span<const uint8_t> row) {
  if (row.empty() || row[0] != kRowFormatV1) {
    return absl::DataLossError(RowName(row_key) + " has an unknown format (expected version 1)");
  }
  auto plain = crypto::AeadOpen(key, row.subspan(1), AsBytes(AssociatedData(row_key)));
  if (!plain.ok()) return absl::DataLossError(RowName(row_key) + " failed authentication");
  try {
    json j = json::parse(plain->RevealText(SecretAccess::Get()));
    if (j.at("v").get<int>() != kRecordVersion) {
      return absl::DataLossError(RowName(row_key) + " has an unsupported version");
    }
    return j;
  } catch (const json::exception&) {
    return absl::DataLossError(RowName(row_key) + " is not a valid lockdown record");
  }
}

}  // namespace

std::string_view LockdownStepName(LockdownStep step) {
  switch (step) {
    case LockdownStep::kLock:
      return "lock";
    case LockdownStep::kUnlock:
      return "unlock";
    case LockdownStep::kSuspend:
      return "suspend";
    case LockdownStep::kResume:
      return "resume";
  }
  return "unknown";
}

Lockdown::Lockdown(store::Store& store, SecretBytes state_key, const Clock& clock, SecondFactorVerifier* second_factor)
    : store_(store), state_key_(std::move(state_key)), clock_(clock), second_factor_(second_factor) {}

Lockdown::~Lockdown() = default;

absl::StatusOr<std::unique_ptr<Lockdown>> Lockdown::Open(store::Store& store, SecretBytes state_key,
                                                         const Clock& clock, SecondFactorVerifier* second_factor) {
  if (state_key.size() != crypto::kAeadKeySize) {
    return absl::InvalidArgumentError("lockdown state key must be 32 bytes");
  }
  std::unique_ptr<Lockdown> lockdown(new Lockdown(store, std::move(state_key), clock, second_factor));
  RETURN_IF_ERROR(lockdown->Refresh());
  return lockdown;
}

absl::Status Lockdown::Refresh() {
  absl::MutexLock step(&step_mu_);
  ASSIGN_OR_RETURN(std::vector<store::Entry> rows, store_.Scan(kLockdownTable, {}));
  LockdownStatus global;
  std::map<std::string, AgentSuspension, std::less<>> suspended;
  for (const store::Entry& e : rows) {
    ASSIGN_OR_RETURN(json j, OpenRow(state_key_, e.key, e.value));
    try {
      if (e.key == kGlobalKey) {
        global.locked = j.at("locked").get<bool>();
        global.reason = j.at("reason").get<std::string>();
        global.locked_by = j.at("by").get<std::string>();
        global.since = TimeFromJson(j.at("since_ms"));
        global.lifted_by = j.at("lifted_by").get<std::string>();
        global.lifted_at = TimeFromJson(j.at("lifted_ms"));
      } else if (e.key.rfind(kAgentKeyPrefix, 0) == 0) {
        const std::string agent = j.at("agent").get<std::string>();
        if (AgentKey(agent) != e.key) return absl::DataLossError(RowName(e.key) + " names a different agent");
        if (j.at("suspended").get<bool>()) {
          suspended[agent] = AgentSuspension{agent, j.at("reason").get<std::string>(), j.at("by").get<std::string>(),
                                             TimeFromJson(j.at("since_ms"))};
        }
      } else {
        return absl::DataLossError(RowName(e.key) + " is not a lockdown record this version knows");
      }
    } catch (const json::exception&) {
      return absl::DataLossError(RowName(e.key) + " is not a valid lockdown record");
    }
  }
  absl::MutexLock lock(&mu_);
  global_ = std::move(global);
  suspended_ = std::move(suspended);
  locked_.store(global_.locked, std::memory_order_release);
  suspended_count_.store(suspended_.size(), std::memory_order_release);
  return absl::OkStatus();
}

bool Lockdown::IsSuspended(std::string_view agent) const {
  if (suspended_count_.load(std::memory_order_acquire) == 0) return false;
  absl::ReaderMutexLock lock(&mu_);
  return suspended_.find(agent) != suspended_.end();
}

absl::Status Lockdown::CheckSigning(std::string_view agent) const {
  const bool locked = locked_.load(std::memory_order_acquire);
  if (!locked && suspended_count_.load(std::memory_order_acquire) == 0) return absl::OkStatus();
  absl::ReaderMutexLock lock(&mu_);
  if (global_.locked) {
    return absl::FailedPreconditionError("lockdown in force: " + (global_.reason.empty() ? "(no reason given)"
                                                                                          : global_.reason));
  }
  auto it = suspended_.find(agent);
  if (it != suspended_.end()) {
    return absl::FailedPreconditionError("agent '" + it->first + "' is suspended: " +
                                         (it->second.reason.empty() ? "(no reason given)" : it->second.reason));
  }
  return absl::OkStatus();
}

LockdownStatus Lockdown::Status() const {
  absl::ReaderMutexLock lock(&mu_);
  return global_;
}

std::vector<AgentSuspension> Lockdown::Suspensions() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<AgentSuspension> out;
  out.reserve(suspended_.size());
  for (const auto& [name, s] : suspended_) out.push_back(s);
  return out;
}

absl::Status Lockdown::WriteGlobal(const LockdownStatus& s) {
  json j = {{"v", kRecordVersion},        {"locked", s.locked},
            {"reason", s.reason},          {"by", s.locked_by},
            {"since_ms", TimeJson(s.since)}, {"lifted_by", s.lifted_by},
            {"lifted_ms", TimeJson(s.lifted_at)}};
  ASSIGN_OR_RETURN(store::Bytes value, SealRow(state_key_, kGlobalKey, j));
  return store_.Put(kLockdownTable, kGlobalKey, value);
}

absl::Status Lockdown::WriteAgent(const std::string& agent, const AgentSuspension* s) {
  json j = {{"v", kRecordVersion},
            {"agent", agent},
            {"suspended", s != nullptr},
            {"reason", s ? s->reason : ""},
            {"by", s ? s->suspended_by : ""},
            {"since_ms", s ? TimeJson(s->since) : json(nullptr)}};
  const std::string key = AgentKey(agent);
  ASSIGN_OR_RETURN(store::Bytes value, SealRow(state_key_, key, j));
  return store_.Put(kLockdownTable, key, value);
}

absl::Status Lockdown::CheckAdminWithSecondFactor(std::string_view actor, std::span<const std::string> roles,
                                                  std::string_view totp_code, std::string_view what) {
  if (!HasRole(roles, "admin")) {
    return absl::PermissionDeniedError(std::string(what) + " needs an admin; '" + Printable(actor) + "' is not one");
  }
  if (second_factor_ == nullptr) {
    return absl::FailedPreconditionError(std::string(what) + " needs an admin's second factor, and none is configured");
  }
  if (totp_code.empty()) {
    return absl::PermissionDeniedError(std::string(what) + " needs a TOTP code from '" + Printable(actor) + "'");
  }
  return second_factor_->Verify(actor, totp_code);
}

LockdownEvent Lockdown::Lock(std::string_view actor, std::span<const std::string> roles, std::string_view reason) {
  LockdownEvent ev;
  ev.step = LockdownStep::kLock;
  ev.actor = std::string(actor);
  ev.reason = std::string(reason);
  ev.time = Millis(clock_.Now());
  absl::MutexLock step(&step_mu_);
  ev.status = ValidateText("actor name", actor, kMaxAgentNameSize, false);
  if (ev.status.ok()) ev.status = ValidateText("lockdown reason", reason, kMaxLockdownReasonSize, true);
  if (ev.status.ok() && !HasRole(roles, "admin") && !HasRole(roles, "operator")) {
    ev.status = absl::PermissionDeniedError("lockdown needs an operator or admin; '" + Printable(actor) +
                                            "' is neither");
  }
  if (!ev.status.ok()) {
    ev.global = Status();
    return ev;
  }
  LockdownStatus next;
  {
    absl::MutexLock lock(&mu_);
    if (global_.locked) {
      ev.global = global_;  // already in force: nothing to change
      return ev;
    }
    next = global_;
    next.locked = true;
    next.reason = std::string(reason);
    next.locked_by = std::string(actor);
    next.since = ev.time;
    // Stop signing first; saving comes second and cannot undo it.
    global_ = next;
    locked_.store(true, std::memory_order_release);
  }
  absl::Status saved = WriteGlobal(next);
  if (!saved.ok()) {
    ev.status = absl::UnavailableError("lockdown is in force in this process but could not be saved (" +
                                       std::string(saved.message()) + "); it will not survive a restart");
  }
  ev.global = next;
  return ev;
}

LockdownEvent Lockdown::Unlock(std::string_view actor, std::span<const std::string> roles,
                               std::string_view totp_code) {
  LockdownEvent ev;
  ev.step = LockdownStep::kUnlock;
  ev.actor = std::string(actor);
  ev.time = Millis(clock_.Now());
  absl::MutexLock step(&step_mu_);
  LockdownStatus current = Status();
  ev.global = current;
  if (!current.locked) {
    ev.status = absl::FailedPreconditionError("no lockdown is in force");
    return ev;
  }
  ev.status = CheckAdminWithSecondFactor(actor, roles, totp_code, "lifting a lockdown");
  if (!ev.status.ok()) return ev;
  LockdownStatus next = current;
  next.locked = false;
  next.lifted_by = std::string(actor);
  next.lifted_at = ev.time;
  ev.status = WriteGlobal(next);  // durable first; only then may signing resume
  if (!ev.status.ok()) return ev;
  {
    absl::MutexLock lock(&mu_);
    global_ = next;
    locked_.store(false, std::memory_order_release);
  }
  ev.global = next;
  return ev;
}

LockdownEvent Lockdown::Suspend(std::string_view actor, std::span<const std::string> roles, std::string_view agent,
                                std::string_view reason) {
  LockdownEvent ev;
  ev.step = LockdownStep::kSuspend;
  ev.actor = std::string(actor);
  ev.agent = std::string(agent);
  ev.reason = std::string(reason);
  ev.time = Millis(clock_.Now());
  absl::MutexLock step(&step_mu_);
  ev.global = Status();
  ev.status = ValidateText("actor name", actor, kMaxAgentNameSize, false);
  if (ev.status.ok()) ev.status = ValidateText("agent name", agent, kMaxAgentNameSize, false);
  if (ev.status.ok()) ev.status = ValidateText("suspension reason", reason, kMaxLockdownReasonSize, true);
  if (ev.status.ok() && !HasRole(roles, "admin") && !HasRole(roles, "operator")) {
    ev.status = absl::PermissionDeniedError("suspending an agent needs an operator or admin; '" + Printable(actor) +
                                            "' is neither");
  }
  if (!ev.status.ok()) return ev;
  AgentSuspension s{std::string(agent), std::string(reason), std::string(actor), ev.time};
  {
    absl::MutexLock lock(&mu_);
    if (suspended_.count(agent) != 0) return ev;  // already suspended
    suspended_[s.agent] = s;  // in force before it is saved, as for Lock
    suspended_count_.store(suspended_.size(), std::memory_order_release);
  }
  absl::Status saved = WriteAgent(s.agent, &s);
  if (!saved.ok()) {
    ev.status = absl::UnavailableError("agent '" + s.agent + "' is suspended in this process but it could not be saved (" +
                                       std::string(saved.message()) + "); it will not survive a restart");
  }
  return ev;
}

LockdownEvent Lockdown::Resume(std::string_view actor, std::span<const std::string> roles, std::string_view agent,
                               std::string_view totp_code) {
  LockdownEvent ev;
  ev.step = LockdownStep::kResume;
  ev.actor = std::string(actor);
  ev.agent = std::string(agent);
  ev.time = Millis(clock_.Now());
  absl::MutexLock step(&step_mu_);
  ev.global = Status();
  if (!IsSuspended(agent)) {
    ev.status = absl::FailedPreconditionError("agent '" + Printable(agent) + "' is not suspended");
    return ev;
  }
  ev.status = CheckAdminWithSecondFactor(actor, roles, totp_code, "resuming a suspended agent");
  if (!ev.status.ok()) return ev;
  ev.status = WriteAgent(std::string(agent), nullptr);
  if (!ev.status.ok()) return ev;
  absl::MutexLock lock(&mu_);
  suspended_.erase(suspended_.find(agent));
  suspended_count_.store(suspended_.size(), std::memory_order_release);
  return ev;
}

}  // namespace sigil::policy
