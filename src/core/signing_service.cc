#include "core/signing_service.h"

#include <algorithm>
#include <array>
#include <functional>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "base/status.h"
#include "chains/ethereum/address.h"
#include "chains/ethereum/transaction.h"
#include "crypto/ed25519.h"
#include "crypto/secp256k1.h"
#include "policy/address_text.h"

namespace sigil::core {
namespace {

constexpr uint8_t kHeldRequestVersion = 2;  // format of a held request (1: no key version)

std::string LowerText(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Cuts at most `max` bytes without splitting a UTF-8 sequence.
std::string TruncateUtf8(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

std::array<uint8_t, 65> EcdsaWithV(const crypto::RecoverableSignature& sig) {
  std::array<uint8_t, 65> out{};
  std::copy(sig.r.begin(), sig.r.end(), out.begin());
  std::copy(sig.s.begin(), sig.s.end(), out.begin() + 32);
  out[64] = static_cast<uint8_t>(27 + sig.recovery_id);
  return out;
}

// Verify before release for the schemes whose public key is 32 bytes
// (Ed25519, BIP-340 x-only), as CheckSignedByKey does for ECDSA: a faulty
// signature (two different signatures of one message under a deterministic
// scheme can give the key away) or one by another version of the key
// (rotated while the request was signed) is never released.
template <typename Verify>
absl::Status CheckSignedBy32ByteKey(const KeyView& key, Verify verify) {
  std::array<uint8_t, 32> pub;
  if (key.info.public_key.size() != pub.size()) return absl::InternalError("the key's public key is malformed");
  std::copy(key.info.public_key.begin(), key.info.public_key.end(), pub.begin());
  if (!verify(pub)) return absl::InternalError("signature does not verify under the key");
  return absl::OkStatus();
}

Outcome OutcomeForStatus(const absl::Status& st) {
  switch (st.code()) {
    case absl::StatusCode::kNotFound: return Outcome::kNotFound;
    case absl::StatusCode::kPermissionDenied: return Outcome::kUnauthorized;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kFailedPrecondition: return Outcome::kInvalid;
    default: return Outcome::kUnavailable;
  }
}

// At most this many native recipients are listed in one record (a 1232-byte
// message holds over 60 transfers; 32 entries stay near 3 KiB, well inside
// the record's 8 KiB field bound); the rest are counted.
constexpr size_t kMaxRecordedSolanaRecipients = 32;

// A Solana message's native (System Program) transfers, one {to, lamports}
// entry each in message order: the policy judged every recipient (a rule's
// `to` sees them all), while `to` names only the first.
void AddSolanaRecipientsToRecord(const policy::SolanaFacts& s, audit::AuditRecord& r) {
  nlohmann::json recipients = nlohmann::json::array();
  size_t total = 0;
  for (const policy::SolanaTransfer& t : s.transfers) {
    if (t.program != policy::kSolanaSystemProgram) continue;
    if (++total <= kMaxRecordedSolanaRecipients) {
      // Decimal text, as `value`: a JSON number past 2^53 loses digits in many readers.
      recipients.push_back({{"to", t.to}, {"lamports", t.amount.ToDecimal()}});
    }
  }
  if (total == 0) return;
  r.extra["solana_recipients"] = recipients.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (total > kMaxRecordedSolanaRecipients) {
    r.extra["solana_recipients_omitted"] = std::to_string(total - kMaxRecordedSolanaRecipients);
  }
}

void AddFactsToRecord(const policy::Facts& f, audit::AuditRecord& r) {
  r.extra["kind"] = std::string(policy::KindName(f.kind));
  if (f.chain_id) r.extra["chain_id"] = std::to_string(*f.chain_id);
  if (f.to) r.extra["to"] = *f.to;
  if (f.solana) AddSolanaRecipientsToRecord(*f.solana, r);
  if (f.value) r.extra["value"] = f.value->ToDecimal();
  if (f.nonce) r.extra["nonce"] = std::to_string(*f.nonce);
  if (f.erc20) {
    r.extra["erc20_token"] = f.erc20->token;
    r.extra["erc20_method"] = std::string(policy::Erc20MethodName(f.erc20->method));
    r.extra["erc20_to"] = f.erc20->to;
    r.extra["erc20_amount"] = f.erc20->amount.ToDecimal();
  }
  if (f.typed_data) r.extra["primary_type"] = f.typed_data->primary_type;
  if (f.nostr) r.extra["event_kind"] = std::to_string(f.nostr->event_kind);
}

}  // namespace

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSigned: return "signed";
    case Outcome::kExplained: return "explained";
    case Outcome::kDenied: return "denied";
    case Outcome::kPendingApproval: return "pending_approval";
    case Outcome::kLockdown: return "lockdown";
    case Outcome::kRateLimited: return "rate_limited";
    case Outcome::kUnauthorized: return "unauthorized";
    case Outcome::kInvalid: return "invalid";
    case Outcome::kNotFound: return "not_found";
    case Outcome::kUnavailable: return "unavailable";
  }
  return "invalid";
}

Bytes EncodeHeldRequest(const std::string& key_id, uint32_t key_version, policy::Kind kind,
                        std::span<const uint8_t> payload) {
  Bytes out;
  out.push_back(kHeldRequestVersion);
  out.push_back(static_cast<uint8_t>(kind));
  out.push_back(static_cast<uint8_t>(key_id.size()));
  out.insert(out.end(), key_id.begin(), key_id.end());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(key_version >> shift));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

absl::StatusOr<HeldRequest> DecodeHeldRequest(std::span<const uint8_t> held) {
  const bool has_version = held.size() >= 1 && held[0] == kHeldRequestVersion;
  const size_t version_size = has_version ? 4 : 0;
  if (held.size() < 3 || (held[0] != kHeldRequestVersion && held[0] != 1) || held[1] >= policy::kKindCount ||
      held.size() < 3u + held[2] + version_size) {
    return absl::DataLossError("held request is malformed");
  }
  HeldRequest out;
  out.kind = static_cast<policy::Kind>(held[1]);
  out.key_id.assign(reinterpret_cast<const char*>(held.data()) + 3, held[2]);
  size_t at = 3u + held[2];
  if (has_version) {
    uint32_t version = 0;
    for (size_t i = 0; i < 4; ++i) version = (version << 8) | held[at + i];
    out.key_version = version;
    at += 4;
  }
  out.payload.assign(held.begin() + at, held.end());
  return out;
}

SigningService::SigningService(Deps deps) : d_(std::move(deps)) {}

void SigningService::HandleTrigger(const policy::TriggerEvent& trigger) {
  // The system acts with operator rights: it may suspend and lock, never lift.
  static const std::vector<std::string> kSystemRoles = {"operator"};
  nlohmann::json details = {{"reason", trigger.reason}, {"agent", trigger.agent},
                            {"action", std::string(policy::TriggerActionName(trigger.action))}};
  switch (trigger.action) {
    case policy::TriggerAction::kSuspendAgent: {
      policy::LockdownEvent ev = d_.lockdown.Suspend("sigil-risk", kSystemRoles, trigger.agent, trigger.reason);
      details["decision"] = ev.ok() ? "ok" : "error";
      (void)Record("agent.suspend", "sigil-risk", details, trigger.key);
      break;
    }
    case policy::TriggerAction::kLockdown: {
      policy::LockdownEvent ev = d_.lockdown.Lock("sigil-risk", kSystemRoles, trigger.reason);
      details["decision"] = ev.ok() ? "ok" : "error";
      (void)Record("lockdown.on", "sigil-risk", details, trigger.key);
      break;
    }
    case policy::TriggerAction::kAlert:
      (void)Record("risk.alert", "sigil-risk", details, trigger.key);
      break;
  }
  if (d_.alert) d_.alert(std::string(policy::TriggerActionName(trigger.action)), details);
}

SignResponse SigningService::Refuse(Outcome outcome, std::string message) {
  SignResponse r;
  r.outcome = outcome;
  r.message = std::move(message);
  return r;
}

absl::Status SigningService::RefreshKeys() {
  ASSIGN_OR_RETURN(auto all, d_.keys.List());
  absl::flat_hash_map<std::string, AddressedVersion> index;
  for (const auto& k : all) {
    if (k.purpose != keystore::KeyPurpose::kSigning) continue;
    index[LowerText(KeyAddress(k.type, k.public_key))] = {k.id, k.version};
    index[LowerText(HexEncode(k.public_key))] = {k.id, k.version};
  }
  absl::MutexLock lock(&keys_mu_);
  key_by_address_ = std::move(index);
  return absl::OkStatus();
}

absl::StatusOr<KeyView> SigningService::ResolveKey(const std::string& name_or_address,
                                                    const tokens::Principal* scope) {
  if (name_or_address.empty() || name_or_address.size() > 200) return absl::InvalidArgumentError("key is missing or too long");
  std::string lookup = name_or_address;
  std::string lower = LowerText(name_or_address);
  if (lower.rfind("0x", 0) == 0) lower = lower.substr(2);
  // An Ethereum address written in mixed case carries an EIP-55 checksum; a
  // wrong one is a typo, refused as wallets refuse it, not matched by case.
  if (lower.size() == 40 && name_or_address.size() == 42 && lower.find_first_not_of("0123456789abcdef") == std::string::npos) {
    if (auto parsed = eth::Address::Parse("0x" + name_or_address.substr(2)); !parsed.ok()) return parsed.status();
  }
  std::optional<uint32_t> addressed_version;
  {
    absl::MutexLock lock(&keys_mu_);
    auto it = key_by_address_.find(LowerText(name_or_address));
    if (it == key_by_address_.end()) it = key_by_address_.find(lower);
    if (it == key_by_address_.end()) it = key_by_address_.find("0x" + lower);
    if (it != key_by_address_.end()) {
      lookup = it->second.id;
      addressed_version = it->second.version;
    }
  }
  auto info = d_.keys.Get(lookup);
  if (!info.ok()) {
    if (info.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError("no key named or with address '" + name_or_address.substr(0, 100) + "'");
    }
    return info.status();
  }
  KeyView v{*info, KeyAddress(info->type, info->public_key)};
  // An address names one version. Answering for a retired one with the
  // current version would hand the caller a signature from an address it
  // did not ask for.
  if (addressed_version && *addressed_version != info->version) {
    if (scope != nullptr && !scope->MayUseKey(info->name)) {
      return absl::PermissionDeniedError("this token may not use key '" + name_or_address.substr(0, 100) + "'");
    }
    return absl::FailedPreconditionError("address " + name_or_address.substr(0, 100) + " belongs to version " +
                                         std::to_string(*addressed_version) + " of key '" + info->name +
                                         "', which was rotated and is verify-only; the key's current address is " +
                                         v.address);
  }
  return v;
}

absl::StatusOr<std::vector<KeyView>> SigningService::ListKeys(const tokens::Principal& caller) {
  std::vector<KeyView> out;
  // Least privilege: a role that may neither list keys nor sign (approver,
  // auditor) sees none.
  if (!caller.Can(tokens::Permission::kKeyList) && !caller.Can(tokens::Permission::kSign)) return out;
  ASSIGN_OR_RETURN(auto all, d_.keys.List());
  absl::flat_hash_map<std::string, absl::Time> first_created;  // by key id, over every version
  for (const auto& k : all) {
    auto [it, inserted] = first_created.try_emplace(k.id, k.created_at);
    if (!inserted) it->second = std::min(it->second, k.created_at);
  }
  for (auto& k : all) {
    if (caller.role == tokens::Role::kAgent &&
        (k.purpose != keystore::KeyPurpose::kSigning || k.status != keystore::KeyStatus::kActive ||
         !caller.MayUseKey(k.name))) {
      continue;
    }
    std::string address = KeyAddress(k.type, k.public_key);
    const absl::Time first = first_created.at(k.id);
    out.push_back({std::move(k), std::move(address), first});
  }
  return out;
}

absl::StatusOr<DecodedPayload> SigningService::Decode(const KeyView& key, const SignRequest& request) {
  DecodeOptions options;
  options.key_type = key.info.type;
  options.public_key = key.info.public_key;
  ASSIGN_OR_RETURN(DecodedPayload p, DecodePayload(request.kind, request.payload, options));
  if (p.scheme != key.info.type) {
    return absl::InvalidArgumentError("key '" + key.info.name + "' is a " + std::string(keystore::KeyTypeName(key.info.type)) +
                                      " key and cannot sign a " + std::string(policy::KindName(request.kind)) + " payload");
  }
  return p;
}

absl::Status SigningService::CheckSignedByKey(const KeyView& key, const crypto::Hash256& digest,
                                              const crypto::RecoverableSignature& sig) {
  auto pub = crypto::ParseSecp256k1PublicKey(key.info.public_key);
  if (!pub.ok() || !crypto::VerifyRecoverable(digest, sig, *pub, key_tables_.Lookup(*pub).get())) {
    return absl::InternalError("signature does not recover to the key");
  }
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> SigningService::SignDecoded(const KeyView& key, const DecodedPayload& p,
                                                           crypto::Hash256* signature_hash) {
  const auto purpose = keystore::KeyPurpose::kSigning;
  nlohmann::json result;
  switch (p.scheme) {
    case keystore::KeyType::kSecp256k1: {
      ASSIGN_OR_RETURN(auto sig, d_.keys.SignEcdsa(key.info.id, purpose, p.digest));
      if (p.kind == policy::Kind::kEthTx) {
        ASSIGN_OR_RETURN(auto signed_tx, eth::SignedTransaction::Create(*p.tx, sig));
        // Verify before release: the sender must be this key (the digest is
        // the transaction's signing hash; the address is the key's).
        RETURN_IF_ERROR(CheckSignedByKey(key, p.digest, sig));
        Bytes raw = signed_tx.Encode();
        result = {{"raw", HexEncode0x(raw)}, {"hash", HexEncode0x(signed_tx.Hash())}, {"from", key.address}};
        *signature_hash = crypto::Sha256(raw);
      } else {
        auto rsv = EcdsaWithV(sig);
        RETURN_IF_ERROR(CheckSignedByKey(key, p.digest, sig));
        result = {{"signature", HexEncode0x(rsv)}, {"from", key.address}};
        *signature_hash = crypto::Sha256(rsv);
      }
      break;
    }
    case keystore::KeyType::kSchnorr: {
      ASSIGN_OR_RETURN(auto sig, d_.keys.SignSchnorr(key.info.id, purpose, p.digest));
      *signature_hash = crypto::Sha256(sig);
      if (p.kind == policy::Kind::kNostrEvent) {
        const auto& ev = *p.event;
        nlohmann::json event = {{"id", HexEncode(p.digest)},          {"pubkey", HexEncode(key.info.public_key)},
                                {"created_at", ev.created_at()},      {"kind", ev.kind()},
                                {"tags", ev.tags()},                  {"content", ev.content()},
                                {"sig", HexEncode(sig)}};
        ASSIGN_OR_RETURN(auto signed_event, nostr::SignedEvent::FromJson(event));
        RETURN_IF_ERROR(signed_event.Verify());
        result = signed_event.ToJson();
      } else {
        RETURN_IF_ERROR(CheckSignedBy32ByteKey(key, [&](const std::array<uint8_t, 32>& pub) {
          return crypto::SchnorrVerify(pub, p.digest, sig);
        }));
        result = {{"signature", HexEncode(sig)}, {"pubkey", HexEncode(key.info.public_key)}};
      }
      break;
    }
    case keystore::KeyType::kEd25519: {
      ASSIGN_OR_RETURN(auto sig, d_.keys.SignEd25519(key.info.id, purpose, p.message));
      RETURN_IF_ERROR(CheckSignedBy32ByteKey(key, [&](const std::array<uint8_t, 32>& pub) {
        return crypto::Ed25519Verify(pub, p.message, sig);
      }));
      *signature_hash = crypto::Sha256(sig);
      result = {{"signature", SolanaSignatureText(sig)}, {"signature_hex", HexEncode(sig)}, {"pubkey", key.address}};
      break;
    }
  }
  return result;
}

absl::StatusOr<audit::AuditReceipt> SigningService::AuditDecision(const tokens::Principal& caller, const KeyView& key,
                                                                  const DecodedPayload& payload,
                                                                  const policy::Decision& decision,
                                                                  const std::string& outcome,
                                                                  const crypto::Hash256* sig_hash,
                                                                  const std::string& approval_id) {
  audit::AuditRecord r;
  r.type = "sign.request";
  r.principal = caller.name;
  r.key = key.info.name;
  r.decision = outcome;
  // Names are unique among live tokens only: the id tells a reissued
  // token from the one it replaced.
  if (!caller.id.empty()) r.extra["token_id"] = caller.id;
  r.rule = decision.rule_id;
  r.reason = TruncateUtf8(decision.reason, 1000);
  r.payload_hash = HexEncode(payload.payload_hash);
  if (sig_hash != nullptr) r.signature_hash = HexEncode(*sig_hash);
  AddFactsToRecord(payload.facts, r);
  r.extra["key_id"] = key.info.id;
  r.extra["key_version"] = std::to_string(key.info.version);
  if (!decision.policy_hash.empty()) r.extra["policy_hash"] = decision.policy_hash;
  if (!approval_id.empty()) r.extra["approval_id"] = approval_id;
  if (decision.risk_score) r.extra["risk_score"] = std::to_string(*decision.risk_score);
  return Append(std::move(r));
}

void SigningService::AuditRefusal(const tokens::Principal& caller, const KeyView& key, const DecodedPayload& payload,
                                  policy::Decision decision, std::string reason, const std::string& outcome,
                                  const std::string& approval_id) {
  decision.reason = std::move(reason);  // AuditDecision bounds it
  (void)AuditDecision(caller, key, payload, decision, outcome, nullptr, approval_id);
}

absl::StatusOr<audit::AuditReceipt> SigningService::Append(audit::AuditRecord record) {
  auto receipt = d_.audit.Append(std::move(record));
  audit_ok_.store(receipt.ok(), std::memory_order_relaxed);
  return receipt;
}

absl::StatusOr<audit::AuditReceipt> SigningService::Record(const std::string& type, const std::string& principal,
                                                          nlohmann::json details, const std::string& key) {
  audit::AuditRecord r;
  r.type = type;
  r.principal = principal;
  r.key = key;
  r.decision = "ok";
  if (details.is_object()) {
    for (auto& [k, v] : details.items()) {
      if (k == "decision" && v.is_string()) {
        r.decision = v.get<std::string>();
      } else if (k == "reason" && v.is_string()) {
        r.reason = v.get<std::string>();
      } else if (k == "rule" && v.is_string()) {
        r.rule = v.get<std::string>();
      } else {
        r.extra[k] = v.is_string() ? v.get<std::string>() : v.dump();
      }
    }
  }
  return Append(std::move(r));
}

SignResponse SigningService::FinishSigned(const tokens::Principal& caller, const KeyView& key,
                                          const DecodedPayload& payload, const policy::Decision& decision,
                                          policy::ReservationId reservation, const std::string& approval_id) {
  // Lockdown is checked once more right before the key is used: a lockdown
  // that lands while the request was being decided stops it here.
  if (auto st = d_.lockdown.CheckSigning(caller.name); !st.ok()) {
    (void)d_.engine.Release(reservation);
    AuditRefusal(caller, key, payload, decision, std::string(st.message()), "lockdown", approval_id);
    return Refuse(Outcome::kLockdown, std::string(st.message()));
  }
  crypto::Hash256 sig_hash{};
  auto result = SignDecoded(key, payload, &sig_hash);
  if (!result.ok()) {
    (void)d_.engine.Release(reservation);
    SignResponse r = Refuse(OutcomeForStatus(result.status()), "signing failed: " + std::string(result.status().message()));
    // Every failure is recorded, a failed verification before release most
    // of all (a faulty signer, or a key rotated while it signed). If the log
    // cannot take it either, the refusal stands.
    AuditRefusal(caller, key, payload, decision, "signing failed: " + std::string(result.status().message()), "error",
                 approval_id);
    return r;
  }
  // Invariant 2: the signature leaves only after its record is durable.
  auto receipt = AuditDecision(caller, key, payload, decision, "allow", &sig_hash, approval_id);
  if (!receipt.ok()) {
    (void)d_.engine.Release(reservation);
    return Refuse(Outcome::kUnavailable,
                  "audit log cannot be written; nothing was signed (" + std::string(receipt.status().message()) + ")");
  }
  // The reservation must be durable too (invariant 4). In the daemon the
  // audit log's group commit synced the ledger journal alongside the record,
  // so this finds nothing left to wait for.
  if (auto st = d_.engine.MakeDurable(reservation); !st.ok()) {
    (void)d_.engine.Release(reservation);
    (void)Record("sign.withheld", caller.name,
                 {{"decision", "error"}, {"reason", "budget ledger cannot be written"}, {"seq", receipt->seq}},
                 key.info.name);
    return Refuse(Outcome::kUnavailable,
                  "budget ledger cannot be written; nothing was signed (" + std::string(st.message()) + ")");
  }
  // The reservation already counts as spent; a failed commit only delays
  // bookkeeping, and a restart keeps it spent.
  (void)d_.engine.Commit(reservation);
  SignResponse r;
  r.outcome = Outcome::kSigned;
  r.message = "signed";
  r.decision = decision;
  r.key = key.info;
  r.address = key.address;
  r.result = std::move(*result);
  r.receipt = *receipt;
  return r;
}

SignResponse SigningService::Sign(const tokens::Principal& caller, const SignRequest& request) {
  if (!caller.Can(tokens::Permission::kSign)) return Refuse(Outcome::kUnauthorized, "this token may not sign");
  auto key = ResolveKey(request.key, &caller);
  if (!key.ok()) return Refuse(OutcomeForStatus(key.status()), std::string(key.status().message()));
  if (!caller.MayUseKey(key->info.name)) {
    // The caller's own words: the key's name is not told to a token that may
    // not use it.
    return Refuse(Outcome::kUnauthorized, "this token may not use key '" + request.key + "'");
  }
  if (key->info.purpose != keystore::KeyPurpose::kSigning) {
    return Refuse(Outcome::kUnauthorized, "key '" + key->info.name + "' is not a signing key");
  }
  auto payload = Decode(*key, request);
  if (!payload.ok()) return Refuse(Outcome::kInvalid, std::string(payload.status().message()));
  payload->facts.key = key->info.name;
  payload->facts.agent = caller.name;

  if (auto st = d_.lockdown.CheckSigning(caller.name); !st.ok()) {
    AuditRefusal(caller, *key, *payload, policy::Decision{}, std::string(st.message()), "lockdown", "");
    return Refuse(Outcome::kLockdown, std::string(st.message()));
  }

  auto auth = d_.engine.Authorize(payload->facts);
  if (!auth.ok()) {
    AuditRefusal(caller, *key, *payload, policy::Decision{},
                 "budget ledger cannot be written: " + std::string(auth.status().message()), "error", "");
    return Refuse(Outcome::kUnavailable, "budget ledger cannot be written; nothing was signed (" +
                                             std::string(auth.status().message()) + ")");
  }
  for (const auto& trigger : auth->triggers) HandleTrigger(trigger);
  const policy::Decision& decision = auth->decision;

  switch (decision.effect) {
    case policy::Effect::kAllow:
      return FinishSigned(caller, *key, *payload, decision, *auth->reservation, "");
    case policy::Effect::kRequireApproval: {
      const auto& req = *decision.approval;
      policy::ApprovalRequest held;
      Bytes canonical = EncodeHeldRequest(key->info.id, key->info.version, request.kind, request.payload);
      held.payload_hash = crypto::Sha256(canonical);
      held.key = key->info.name;
      held.agent = caller.name;
      held.rule_id = req.rule_id;
      held.quorum = req.quorum;
      held.required_role = req.role;
      held.second_factor = req.second_factor;
      held.ttl = req.expires;
      held.canonical_request = std::move(canonical);
      // Audit first: an approval nobody can account for must not exist.
      auto receipt = AuditDecision(caller, *key, *payload, decision, "require_approval", nullptr, "");
      if (!receipt.ok()) {
        return Refuse(Outcome::kUnavailable, "audit log cannot be written; nothing was held or signed");
      }
      policy::ApprovalEvent ev = d_.approvals.Create(held);
      if (!ev.ok()) {
        // Past the agent's cap of pending requests: its own pace, not an outage.
        const bool capped = absl::IsResourceExhausted(ev.status);
        const Outcome outcome = capped ? Outcome::kRateLimited : OutcomeForStatus(ev.status);
        // The record above says held; this one says it was not after all.
        AuditRefusal(caller, *key, *payload, decision, "not held: " + std::string(ev.status.message()),
                     capped ? "rate_limited" : "error", "");
        return Refuse(outcome, "cannot hold the request: " + std::string(ev.status.message()));
      }
      if (!ev.existing) {
        (void)Record("approval.create", caller.name, {{"approval_id", ev.id}, {"rule", req.rule_id}}, key->info.name);
      }
      SignResponse r = Refuse(Outcome::kPendingApproval, "approval required by rule " + decision.rule_id + ": " + decision.reason);
      r.decision = decision;
      r.approval = ev.approval;
      r.receipt = *receipt;
      r.key = key->info;
      r.address = key->address;
      return r;
    }
    case policy::Effect::kDeny:
    default: {
      auto receipt = AuditDecision(caller, *key, *payload, decision, decision.rate_limited ? "rate_limited" : "deny",
                                   nullptr, "");
      if (!receipt.ok()) return Refuse(Outcome::kUnavailable, "audit log cannot be written; nothing was signed");
      SignResponse r = Refuse(decision.rate_limited ? Outcome::kRateLimited : Outcome::kDenied,
                              decision.rule_id.empty() ? "denied by policy: " + decision.reason
                                                       : "denied by policy rule " + decision.rule_id + ": " + decision.reason);
      r.decision = decision;
      r.receipt = *receipt;
      r.retry_after_ms = decision.retry_after_ms;
      r.key = key->info;
      r.address = key->address;
      return r;
    }
  }
}

SignResponse SigningService::Explain(const tokens::Principal& caller, const SignRequest& request) {
  if (!caller.Can(tokens::Permission::kExplain)) return Refuse(Outcome::kUnauthorized, "this token may not explain");
  auto key = ResolveKey(request.key, caller.role == tokens::Role::kAgent ? &caller : nullptr);
  if (!key.ok()) return Refuse(OutcomeForStatus(key.status()), std::string(key.status().message()));
  if (caller.role == tokens::Role::kAgent && !caller.MayUseKey(key->info.name)) {
    // The caller's own words: the key's name is not told to a token that may
    // not use it.
    return Refuse(Outcome::kUnauthorized, "this token may not use key '" + request.key + "'");
  }
  auto payload = Decode(*key, request);
  if (!payload.ok()) return Refuse(Outcome::kInvalid, std::string(payload.status().message()));
  payload->facts.key = key->info.name;
  payload->facts.agent = caller.name;
  SignResponse r;
  r.outcome = Outcome::kExplained;
  r.decision = d_.engine.Explain(payload->facts);
  if (auto st = d_.lockdown.CheckSigning(caller.name); !st.ok()) {
    r.message = std::string(st.message());
  } else {
    r.message = r.decision->reason;
  }
  r.key = key->info;
  r.address = key->address;
  r.result = {{"payload_hash", HexEncode(payload->payload_hash)}};
  return r;
}

namespace {

// Whether what the approvers gave (the held request's terms) covers what the
// policy asks now: as many approvers or more, of the same role, with a second
// factor if one is asked.
bool ApprovalCovers(const policy::Approval& given, const policy::ApprovalRequirement& needed) {
  return given.quorum >= needed.quorum && given.required_role == needed.role &&
         (needed.second_factor == policy::SecondFactor::kNone ||
          given.second_factor == policy::SecondFactor::kTotp);
}

}  // namespace

SignResponse SigningService::ApprovalStatus(const tokens::Principal& caller, const std::string& approval_id) {
  auto approval = d_.approvals.Status(approval_id);
  if (!approval.ok()) return Refuse(OutcomeForStatus(approval.status()), std::string(approval.status().message()));
  bool is_requester = approval->agent == caller.name;
  if (!is_requester && !caller.Can(tokens::Permission::kApprovalList)) {
    return Refuse(Outcome::kUnauthorized, "this approval belongs to another principal");
  }
  SignResponse r;
  r.approval = *approval;
  r.outcome = Outcome::kPendingApproval;
  r.message = "approval " + std::string(policy::ApprovalStateName(approval->state));
  {
    // Consumed while it is collected only until the signature leaves (or
    // goes back to approved if none does): not a final state yet.
    absl::MutexLock lock(&collecting_mu_);
    if (collecting_.contains(approval_id)) {
      r.message = "approval approved; the signature is being collected by another request";
      return r;
    }
  }
  if (approval->state != policy::ApprovalState::kApproved || !is_requester) return r;
  // The signature goes to the requester's name. Names are unique among live
  // tokens only, so the token asking now may be a reissue with another role
  // or fewer keys: it must be allowed to sign with this key itself. One that
  // may not sign at all still sees the status.
  if (!caller.Can(tokens::Permission::kSign)) {
    r.message = "approval approved; this token may not sign, so it cannot collect the signature";
    return r;
  }
  {
    absl::MutexLock lock(&collecting_mu_);
    if (!collecting_.insert(approval_id).second) {
      r.message = "approval approved; the signature is being collected by another request";
      return r;
    }
  }
  absl::Cleanup done = [&] {
    absl::MutexLock lock(&collecting_mu_);
    collecting_.erase(approval_id);
  };

  // Approved at quorum: re-decode the held bytes and sign them once.
  auto held = DecodeHeldRequest(approval->canonical_request);
  if (!held.ok()) return Refuse(Outcome::kUnavailable, std::string(held.status().message()));
  auto key = ResolveKey(held->key_id);
  if (!key.ok()) return Refuse(OutcomeForStatus(key.status()), std::string(key.status().message()));
  if (!caller.MayUseKey(key->info.name)) {
    return Refuse(Outcome::kUnauthorized, "this token may not use the key of approval " + approval_id);
  }
  if (held->key_version.has_value() && *held->key_version != key->info.version) {
    // The approvers approved a signature by the version current at the hold;
    // the rotated key has another address (and nonce), so it must not sign it.
    return Refuse(Outcome::kInvalid, "key '" + key->info.name + "' was rotated from version " +
                                         std::to_string(*held->key_version) + " to " +
                                         std::to_string(key->info.version) +
                                         " after this request was held; nothing was signed. Submit the request "
                                         "again from the key's current address " + key->address);
  }
  SignRequest request{held->key_id, held->kind, held->payload};
  auto payload = Decode(*key, request);
  if (!payload.ok()) return Refuse(Outcome::kInvalid, std::string(payload.status().message()));
  payload->facts.key = key->info.name;
  payload->facts.agent = caller.name;
  if (auto st = d_.lockdown.CheckSigning(caller.name); !st.ok()) return Refuse(Outcome::kLockdown, std::string(st.message()));
  // Denied at collection: recorded, answered, and the approval kept.
  auto deny_now = [&](const policy::Decision& decision, std::string message) {
    (void)AuditDecision(caller, *key, *payload, decision, "deny", nullptr, approval_id);
    r.outcome = Outcome::kDenied;
    r.decision = decision;
    r.message = std::move(message);
    return r;
  };
  policy::Decision decision = d_.engine.Explain(payload->facts);
  if (decision.effect == policy::Effect::kDeny) {
    // The policy changed since the hold, or a deny rule now matches: approval
    // never overrides a deny.
    return deny_now(decision, "approved, but policy now denies it: " + decision.reason);
  }
  if (decision.effect == policy::Effect::kRequireApproval && decision.approval &&
      !ApprovalCovers(*approval, *decision.approval)) {
    // The policy (or a budget since exceeded) now asks for more than these
    // approvers gave: they approved under the old terms, not these.
    return deny_now(decision, "approved, but the policy now needs " + policy::ApprovalText(*decision.approval) +
                                  "; nothing was signed. Submit the request again to have it held under the "
                                  "current terms");
  }
  if (decision.effect == policy::Effect::kAllow) {
    // Still charge budgets as a held request would.
    decision.effect = policy::Effect::kRequireApproval;
  }
  auto reservation = d_.engine.ReserveApproved(decision);
  if (!reservation.ok() && absl::IsResourceExhausted(reservation.status())) {
    // A deny budget no longer has room (another approved request, or an
    // ordinary one, spent it since the hold): approval never overrides a
    // deny. The approval is not spent; it can be collected while it lasts,
    // once the window frees enough.
    decision.effect = policy::Effect::kDeny;
    decision.reason = std::string(reservation.status().message());
    return deny_now(decision, decision.reason);
  }
  if (!reservation.ok()) return Refuse(Outcome::kUnavailable, "budget ledger cannot be written; nothing was signed");
  policy::ApprovalEvent consumed = d_.approvals.Consume(approval_id, crypto::Sha256(approval->canonical_request));
  if (!consumed.ok()) {
    (void)d_.engine.Release(*reservation);
    return Refuse(OutcomeForStatus(consumed.status), std::string(consumed.status.message()));
  }
  decision.effect = policy::Effect::kAllow;
  SignResponse signed_response = FinishSigned(caller, *key, *payload, decision, *reservation, approval_id);
  signed_response.approval = consumed.approval;
  if (signed_response.outcome != Outcome::kSigned) {
    // Nothing left: the approvers' work is not spent (a poll once the log
    // is writable again, or the lockdown lifted, collects it).
    policy::ApprovalEvent returned = d_.approvals.ReturnUnspent(approval_id);
    if (returned.ok()) signed_response.approval = returned.approval;
  }
  return signed_response;
}

}  // namespace sigil::core
