#include "policy/approval_book.h"

#include <algorithm>
#include <array>
#include <functional>
#include <optional>
#include <utility>

#include "base/hex.h"
#include "base/status.h"
#include "crypto/aead.h"
#include "crypto/random.h"
#include "nlohmann/json.hpp"

namespace sigil::policy {
namespace {

using json = nlohmann::json;

constexpr uint8_t kRowFormatV1 = 0x01;
constexpr int kRecordVersion = 1;
constexpr char kIdPrefix[] = "ap_";
constexpr size_t kIdHexSize = 16;

// Row keys and names reach error messages; a tampered row may hold anything.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return out;
}

std::string RowName(std::string_view id) { return "approval row '" + Printable(id) + "'"; }
std::string Quoted(std::string_view id) { return "approval '" + Printable(id) + "'"; }

std::string AssociatedData(std::string_view id) { return std::string(kApprovalsTable) + ":" + std::string(id); }

bool IsApprovalId(std::string_view id) {
  if (id.size() != 3 + kIdHexSize || id.substr(0, 3) != kIdPrefix) return false;
  return std::all_of(id.begin() + 3, id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

absl::Time Millis(absl::Time t) { return absl::FromUnixMillis(absl::ToUnixMillis(t)); }

std::string TimeText(absl::Time t) { return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone()); }

json TimeJson(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return nullptr;
  return absl::ToUnixMillis(t);
}

absl::Time TimeFromJson(const json& j) {
  if (j.is_null()) return absl::InfinitePast();
  return absl::FromUnixMillis(j.get<int64_t>());
}

absl::Status ValidateName(std::string_view what, std::string_view value) {
  if (value.empty() || value.size() > kMaxApprovalNameSize) {
    return absl::InvalidArgumentError(std::string(what) + " must be 1 to 128 bytes");
  }
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(std::string(what) + " must not contain control characters");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRequest(const ApprovalRequest& r) {
  RETURN_IF_ERROR(ValidateName("approval key", r.key));
  RETURN_IF_ERROR(ValidateName("approval agent", r.agent));
  RETURN_IF_ERROR(ValidateName("approval rule id", r.rule_id));
  if (r.required_role.empty() || r.required_role.size() > kMaxApprovalRoleSize) {
    return absl::InvalidArgumentError("approval role must be 1 to 32 bytes");
  }
  if (r.quorum < 1 || r.quorum > kMaxApprovalQuorum) {
    return absl::InvalidArgumentError("approval quorum must be between 1 and 16");
  }
  if (r.ttl < kMinApprovalTtl || r.ttl > kMaxApprovalTtl) {
    return absl::InvalidArgumentError("approval expiry must be between 1 second and 30 days");
  }
  if (r.canonical_request.size() > kMaxCanonicalRequestSize) {
    return absl::InvalidArgumentError("held request is larger than 1 MiB");
  }
  return absl::OkStatus();
}

// A pending or approved request past its expiry becomes expired. True if
// this call changed it.
bool ApplyExpiry(Approval& a, absl::Time now) {
  if ((a.state == ApprovalState::kPending || a.state == ApprovalState::kApproved) && now >= a.expires) {
    a.state = ApprovalState::kExpired;
    a.decided = a.expires;
    return true;
  }
  return false;
}

// Why a request that is not pending cannot take a decision.
absl::Status NotPending(const Approval& a) {
  switch (a.state) {
    case ApprovalState::kPending:
      return absl::OkStatus();
    case ApprovalState::kApproved:
      return absl::FailedPreconditionError(Quoted(a.id) + " is already approved");
    case ApprovalState::kRejected:
      return absl::FailedPreconditionError(Quoted(a.id) + " was rejected by '" + a.rejected_by + "'");
    case ApprovalState::kExpired:
      return absl::FailedPreconditionError(Quoted(a.id) + " expired at " + TimeText(a.expires));
    case ApprovalState::kConsumed:
      return absl::FailedPreconditionError(Quoted(a.id) + " was already used");
  }
  return absl::InternalError("unknown approval state");
}

absl::Status CheckRole(const Approval& a, std::string_view approver, std::span<const std::string> roles) {
  if (std::find(roles.begin(), roles.end(), a.required_role) == roles.end()) {
    return absl::PermissionDeniedError("'" + Printable(approver) + "' does not hold the role '" + a.required_role +
                                       "' that " + Quoted(a.id) + " requires");
  }
  return absl::OkStatus();
}

absl::StatusOr<store::Bytes> SealRecord(const SecretBytes& key, std::string_view id, std::string_view text) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> sealed, crypto::AeadSeal(key, AsBytes(text), AsBytes(AssociatedData(id))));
  store::Bytes out;
  out.reserve(sealed.size() + 1);
  out.push_back(kRowFormatV1);
  out.insert(out.end(), sealed.begin(), sealed.end());
  return out;
}

json ToJson(const Approval& a) {
  json votes = json::array();
  for (const ApprovalVote& v : a.approvals) votes.push_back({{"approver", v.approver}, {"time_ms", TimeJson(v.time)}});
  return {
      {"v", kRecordVersion},
      {"id", a.id},
      {"payload_hash", HexEncode(a.payload_hash)},
      {"key", a.key},
      {"agent", a.agent},
      {"rule", a.rule_id},
      {"quorum", a.quorum},
      {"role", a.required_role},
      {"second_factor", std::string(SecondFactorName(a.second_factor))},
      {"created_ms", TimeJson(a.created)},
      {"expires_ms", TimeJson(a.expires)},
      {"state", std::string(ApprovalStateName(a.state))},
      {"approvals", votes},
      {"decided_ms", TimeJson(a.decided)},
      {"rejected_by", a.rejected_by},
      {"reject_reason", a.reject_reason},
      {"consumed_ms", TimeJson(a.consumed)},
      {"request", HexEncode(a.canonical_request)},
  };
}

absl::StatusOr<Approval> FromJson(std::string_view id, std::string_view text) {
  const std::string what = RowName(id);
  try {
    json j = json::parse(text);
    if (j.at("v").get<int>() != kRecordVersion) return absl::DataLossError(what + " has an unsupported version");
    Approval a;
    a.id = j.at("id").get<std::string>();
    if (a.id != id) return absl::DataLossError(what + " holds a different id");
    ASSIGN_OR_RETURN(Bytes hash, HexDecode(j.at("payload_hash").get<std::string>()));
    if (hash.size() != a.payload_hash.size()) return absl::DataLossError(what + " has a bad payload hash");
    std::copy(hash.begin(), hash.end(), a.payload_hash.begin());
    a.key = j.at("key").get<std::string>();
    a.agent = j.at("agent").get<std::string>();
    a.rule_id = j.at("rule").get<std::string>();
    a.quorum = j.at("quorum").get<int>();
    a.required_role = j.at("role").get<std::string>();
    auto sf = ParseSecondFactor(j.at("second_factor").get<std::string>());
    auto state = ParseApprovalState(j.at("state").get<std::string>());
    if (!sf || !state) return absl::DataLossError(what + " has an unknown state or second factor");
    a.second_factor = *sf;
    a.state = *state;
    a.created = TimeFromJson(j.at("created_ms"));
    a.expires = TimeFromJson(j.at("expires_ms"));
    for (const json& v : j.at("approvals")) {
      a.approvals.push_back({v.at("approver").get<std::string>(), TimeFromJson(v.at("time_ms"))});
    }
    a.decided = TimeFromJson(j.at("decided_ms"));
    a.rejected_by = j.at("rejected_by").get<std::string>();
    a.reject_reason = j.at("reject_reason").get<std::string>();
    a.consumed = TimeFromJson(j.at("consumed_ms"));
    ASSIGN_OR_RETURN(a.canonical_request, HexDecode(j.at("request").get<std::string>()));
    return a;
  } catch (const json::exception&) {
    return absl::DataLossError(what + " is not a valid approval record");
  }
}

absl::StatusOr<Approval> OpenRecord(const SecretBytes& key, std::string_view id, std::span<const uint8_t> row) {
  if (row.empty() || row[0] != kRowFormatV1) {
    return absl::DataLossError(RowName(id) + " has an unknown format (expected version 1)");
  }
  auto plain = crypto::AeadOpen(key, row.subspan(1), AsBytes(AssociatedData(id)));
  if (!plain.ok()) return absl::DataLossError(RowName(id) + " failed authentication");
  return FromJson(id, plain->RevealText(SecretAccess::Get()));
}

}  // namespace

struct ApprovalBook::Outcome {
  absl::Status status;
  std::optional<Approval> record;
  bool expired_now = false;
};

ApprovalBook::ApprovalBook(store::Store& store, SecretBytes state_key, const Clock& clock,
                           SecondFactorVerifier* second_factor)
    : store_(store), state_key_(std::move(state_key)), clock_(clock), second_factor_(second_factor) {}

ApprovalBook::~ApprovalBook() = default;

absl::StatusOr<std::unique_ptr<ApprovalBook>> ApprovalBook::Open(store::Store& store, SecretBytes state_key,
                                                                 const Clock& clock, SecondFactorVerifier* second_factor) {
  if (state_key.size() != crypto::kAeadKeySize) {
    return absl::InvalidArgumentError("approval state key must be 32 bytes");
  }
  std::unique_ptr<ApprovalBook> book(new ApprovalBook(store, std::move(state_key), clock, second_factor));
  RETURN_IF_ERROR(book->ReadAll().status());  // fail closed: every row must authenticate
  return book;
}

absl::StatusOr<std::optional<Approval>> ApprovalBook::Read(store::Transaction* txn, std::string_view id) const {
  absl::StatusOr<std::optional<store::Bytes>> value = txn ? txn->Get(kApprovalsTable, id) : store_.Get(kApprovalsTable, id);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::optional<Approval>();
  ASSIGN_OR_RETURN(Approval a, OpenRecord(state_key_, id, **value));
  return std::optional<Approval>(std::move(a));
}

absl::StatusOr<std::vector<Approval>> ApprovalBook::ReadAll() const {
  ASSIGN_OR_RETURN(std::vector<store::Entry> entries, store_.Scan(kApprovalsTable, {}));
  std::vector<Approval> out;
  out.reserve(entries.size());
  for (const store::Entry& e : entries) {
    ASSIGN_OR_RETURN(Approval a, OpenRecord(state_key_, e.key, e.value));
    out.push_back(std::move(a));
  }
  return out;
}

absl::Status ApprovalBook::Write(store::Transaction& txn, const Approval& a) const {
  ASSIGN_OR_RETURN(store::Bytes value, SealRecord(state_key_, a.id, ToJson(a).dump()));
  return txn.Put(kApprovalsTable, a.id, value);
}

ApprovalBook::Outcome ApprovalBook::Update(std::string_view id, absl::Time now, bool apply,
                                           const std::function<absl::Status(Approval&)>& rule) {
  Outcome out;
  // The verdict lives outside the transaction: a refused step still commits
  // an expiry it noticed. The lambda may run more than once (store retries),
  // so it resets what it sets.
  absl::Status committed = store_.RunTransaction([&](store::Transaction& txn) -> absl::Status {
    out = Outcome{};
    ASSIGN_OR_RETURN(std::optional<Approval> found, Read(&txn, id));
    if (!found) {
      out.status = absl::NotFoundError("no " + Quoted(id));
      return absl::OkStatus();
    }
    Approval current = std::move(*found);
    out.expired_now = ApplyExpiry(current, now);
    Approval next = current;
    out.status = rule(next);
    if (out.status.ok() && apply) {
      RETURN_IF_ERROR(Write(txn, next));
      out.record = std::move(next);
    } else {
      if (out.expired_now) RETURN_IF_ERROR(Write(txn, current));
      out.record = std::move(current);
    }
    return absl::OkStatus();
  });
  if (!committed.ok()) {
    out = Outcome{};
    out.status = committed;
  }
  return out;
}

ApprovalEvent ApprovalBook::Create(const ApprovalRequest& request) {
  const absl::Time now = Millis(clock_.Now());
  ApprovalEvent ev;
  ev.step = ApprovalStep::kCreate;
  ev.actor = request.agent;
  ev.time = now;
  ev.status = ValidateRequest(request);
  if (!ev.status.ok()) return ev;

  std::array<uint8_t, kIdHexSize / 2> rnd{};
  crypto::RandomBytes(rnd);
  Approval a;
  a.id = kIdPrefix + HexEncode(rnd);
  a.payload_hash = request.payload_hash;
  a.key = request.key;
  a.agent = request.agent;
  a.rule_id = request.rule_id;
  a.quorum = request.quorum;
  a.required_role = request.required_role;
  a.second_factor = request.second_factor;
  a.created = now;
  a.expires = Millis(now + request.ttl);
  a.state = ApprovalState::kPending;
  a.canonical_request = request.canonical_request;
  ev.id = a.id;

  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::vector<Approval>> all = ReadAll();
  if (!all.ok()) {
    ev.status = all.status();
    return ev;
  }
  size_t pending = 0;  // the agent's
  for (Approval& open : *all) {
    ApplyExpiry(open, now);
    if (open.state == ApprovalState::kPending && open.agent == a.agent) ++pending;
    if ((open.state == ApprovalState::kPending || open.state == ApprovalState::kApproved) &&
        open.agent == a.agent && open.key == a.key && open.payload_hash == a.payload_hash &&
        open.rule_id == a.rule_id && open.quorum == a.quorum && open.required_role == a.required_role &&
        open.second_factor == a.second_factor) {
      ev.id = open.id;
      ev.existing = true;
      ev.approval = std::move(open);
      return ev;
    }
  }
  // One agent must not fill the store (up to 1 MiB a request) and the
  // approvers' queue, nor slow every Create (each reads the whole book).
  // A retry of a held request joined it above, cap or not.
  if (pending >= kMaxPendingPerAgent) {
    ev.status = absl::ResourceExhaustedError(
        "agent '" + a.agent + "' already has " + std::to_string(pending) +
        " requests waiting for approval (the most one agent may have); nothing was held. Ask the approvers to "
        "decide them, or wait for them to expire, before submitting more");
    return ev;
  }
  ev.status = store_.RunTransaction([&](store::Transaction& txn) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<store::Bytes> existing, txn.Get(kApprovalsTable, a.id));
    if (existing) return absl::AlreadyExistsError("approval id collision; try again");
    return Write(txn, a);
  });
  if (ev.status.ok()) ev.approval = std::move(a);
  return ev;
}

ApprovalEvent ApprovalBook::Approve(std::string_view id, std::string_view approver,
                                    std::span<const std::string> roles, std::string_view totp_code) {
  const absl::Time now = Millis(clock_.Now());
  ApprovalEvent ev;
  ev.step = ApprovalStep::kApprove;
  ev.id = std::string(id);
  ev.actor = std::string(approver);
  ev.time = now;
  if (!IsApprovalId(id)) {
    ev.status = absl::InvalidArgumentError("'" + Printable(id) + "' is not an approval id (ap_ + 16 hex)");
    return ev;
  }
  ev.status = ValidateName("approver name", approver);
  if (!ev.status.ok()) return ev;

  auto rule = [&](Approval& a) -> absl::Status {
    RETURN_IF_ERROR(NotPending(a));
    RETURN_IF_ERROR(CheckRole(a, approver, roles));
    if (approver == a.agent) {
      return absl::PermissionDeniedError("'" + a.agent + "' requested " + Quoted(a.id) + " and cannot approve it");
    }
    for (const ApprovalVote& v : a.approvals) {
      if (v.approver == approver) {
        return absl::AlreadyExistsError("'" + v.approver + "' has already approved " + Quoted(a.id) + "; it needs " +
                                        std::to_string(a.quorum) + " distinct approvers");
      }
    }
    a.approvals.push_back({std::string(approver), now});
    if (static_cast<int>(a.approvals.size()) >= a.quorum) {
      a.state = ApprovalState::kApproved;
      a.decided = now;
    }
    return absl::OkStatus();
  };

  absl::MutexLock lock(&mu_);
  // First every rule except the second factor, without writing, so a code is
  // not spent on a step that would be refused anyway.
  Outcome pre = Update(id, now, /*apply=*/false, rule);
  if (!pre.status.ok()) {
    ev.status = pre.status;
    ev.approval = std::move(pre.record);
    return ev;
  }
  if (pre.record->second_factor == SecondFactor::kTotp) {
    absl::Status sf;
    if (second_factor_ == nullptr) {
      sf = absl::FailedPreconditionError(Quoted(id) + " requires a second factor but none is configured");
    } else if (totp_code.empty()) {
      sf = absl::PermissionDeniedError(Quoted(id) + " requires a TOTP code from '" + std::string(approver) + "'");
    } else {
      sf = second_factor_->Verify(approver, totp_code);
    }
    if (!sf.ok()) {
      ev.status = sf;
      ev.approval = std::move(pre.record);
      return ev;
    }
  }
  // Then for real: the rules are checked again inside the transaction, as
  // another node may have decided the request meanwhile.
  Outcome done = Update(id, now, /*apply=*/true, rule);
  ev.status = done.status;
  ev.approval = std::move(done.record);
  return ev;
}

ApprovalEvent ApprovalBook::Reject(std::string_view id, std::string_view approver, std::span<const std::string> roles,
                                   std::string_view reason) {
  const absl::Time now = Millis(clock_.Now());
  ApprovalEvent ev;
  ev.step = ApprovalStep::kReject;
  ev.id = std::string(id);
  ev.actor = std::string(approver);
  ev.time = now;
  if (!IsApprovalId(id)) {
    ev.status = absl::InvalidArgumentError("'" + Printable(id) + "' is not an approval id (ap_ + 16 hex)");
    return ev;
  }
  ev.status = ValidateName("approver name", approver);
  if (!ev.status.ok()) return ev;
  if (reason.size() > kMaxRejectReasonSize) {
    ev.status = absl::InvalidArgumentError("rejection reason must be at most 512 bytes");
    return ev;
  }
  auto rule = [&](Approval& a) -> absl::Status {
    // An approved request not yet used can still be vetoed.
    if (a.state != ApprovalState::kApproved) RETURN_IF_ERROR(NotPending(a));
    RETURN_IF_ERROR(CheckRole(a, approver, roles));
    a.state = ApprovalState::kRejected;
    a.decided = now;
    a.rejected_by = std::string(approver);
    a.reject_reason = std::string(reason);
    return absl::OkStatus();
  };
  absl::MutexLock lock(&mu_);
  Outcome done = Update(id, now, /*apply=*/true, rule);
  ev.status = done.status;
  ev.approval = std::move(done.record);
  return ev;
}

ApprovalEvent ApprovalBook::Step(ApprovalStep step, std::string_view id, absl::Time now,
                                 const std::function<absl::Status(Approval&)>& rule) {
  ApprovalEvent ev;
  ev.step = step;
  ev.id = std::string(id);
  ev.time = now;
  if (!IsApprovalId(id)) {
    ev.status = absl::InvalidArgumentError("'" + Printable(id) + "' is not an approval id (ap_ + 16 hex)");
    return ev;
  }
  absl::MutexLock lock(&mu_);
  Outcome done = Update(id, now, /*apply=*/true, rule);
  ev.status = done.status;
  if (done.record) ev.actor = done.record->agent;
  ev.approval = std::move(done.record);
  return ev;
}

ApprovalEvent ApprovalBook::Consume(std::string_view id, const crypto::Hash256& payload_hash) {
  const absl::Time now = Millis(clock_.Now());
  return Step(ApprovalStep::kConsume, id, now, [&](Approval& a) -> absl::Status {
    switch (a.state) {
      case ApprovalState::kApproved:
        break;
      case ApprovalState::kPending:
        return absl::FailedPreconditionError(Quoted(a.id) + " is still pending: " + std::to_string(a.approvals.size()) +
                                             " of " + std::to_string(a.quorum) + " approvals");
      default:
        return NotPending(a);
    }
    if (!ConstantTimeEquals(payload_hash, a.payload_hash)) {
      return absl::PermissionDeniedError("the payload does not match the one approved in " + Quoted(a.id));
    }
    a.state = ApprovalState::kConsumed;
    a.consumed = now;
    return absl::OkStatus();
  });
}

ApprovalEvent ApprovalBook::ReturnUnspent(std::string_view id) {
  const absl::Time now = Millis(clock_.Now());
  return Step(ApprovalStep::kReturn, id, now, [&](Approval& a) -> absl::Status {
    if (a.state != ApprovalState::kConsumed) {
      return absl::FailedPreconditionError(Quoted(a.id) + " is not consumed");
    }
    a.state = ApprovalState::kApproved;
    a.consumed = absl::InfinitePast();
    ApplyExpiry(a, now);
    return absl::OkStatus();
  });
}

absl::StatusOr<Approval> ApprovalBook::Status(std::string_view id) const {
  if (!IsApprovalId(id)) {
    return absl::InvalidArgumentError("'" + Printable(id) + "' is not an approval id (ap_ + 16 hex)");
  }
  ASSIGN_OR_RETURN(std::optional<Approval> found, Read(nullptr, id));
  if (!found) return absl::NotFoundError("no " + Quoted(id));
  ApplyExpiry(*found, clock_.Now());
  return std::move(*found);
}

absl::StatusOr<std::vector<Approval>> ApprovalBook::ListPending() const {
  ASSIGN_OR_RETURN(std::vector<Approval> all, ReadAll());
  const absl::Time now = clock_.Now();
  std::vector<Approval> pending;
  for (Approval& a : all) {
    ApplyExpiry(a, now);
    if (a.state == ApprovalState::kPending) pending.push_back(std::move(a));
  }
  std::stable_sort(pending.begin(), pending.end(),
                   [](const Approval& x, const Approval& y) { return x.created < y.created; });
  return pending;
}

absl::StatusOr<std::vector<ApprovalEvent>> ApprovalBook::ExpireDue() {
  const absl::Time now = Millis(clock_.Now());
  ASSIGN_OR_RETURN(std::vector<Approval> all, ReadAll());
  std::vector<ApprovalEvent> events;
  absl::MutexLock lock(&mu_);
  for (const Approval& a : all) {
    Approval probe = a;
    if (!ApplyExpiry(probe, now)) continue;
    Outcome o = Update(a.id, now, /*apply=*/false, [](Approval&) { return absl::OkStatus(); });
    if (!o.status.ok()) return o.status;
    if (!o.expired_now) continue;  // another node recorded it first
    ApprovalEvent ev;
    ev.step = ApprovalStep::kExpire;
    ev.id = a.id;
    ev.time = now;
    ev.approval = std::move(o.record);
    events.push_back(std::move(ev));
  }
  return events;
}

absl::StatusOr<size_t> ApprovalBook::PurgeDecided(absl::Time before) {
  absl::MutexLock lock(&mu_);
  size_t deleted = 0;
  RETURN_IF_ERROR(store_.RunTransaction([&](store::Transaction& txn) -> absl::Status {
    deleted = 0;
    ASSIGN_OR_RETURN(std::vector<store::Entry> entries, txn.Scan(kApprovalsTable, {}));
    for (const store::Entry& e : entries) {
      ASSIGN_OR_RETURN(std::optional<Approval> a, Read(&txn, e.key));
      if (!a) continue;
      const bool final_state = a->state == ApprovalState::kRejected || a->state == ApprovalState::kExpired ||
                               a->state == ApprovalState::kConsumed;
      const absl::Time ended = a->state == ApprovalState::kConsumed ? a->consumed : a->decided;
      if (final_state && ended < before) {
        RETURN_IF_ERROR(txn.Delete(kApprovalsTable, e.key));
        ++deleted;
      }
    }
    return absl::OkStatus();
  }));
  return deleted;
}

}  // namespace sigil::policy
