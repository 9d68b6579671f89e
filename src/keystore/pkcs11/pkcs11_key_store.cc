#include "keystore/pkcs11/pkcs11_key_store.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/cleanup/cleanup.h"

#include "base/hex.h"
#include "base/status.h"
#include "crypto/random.h"
#include "keystore/pkcs11/pkcs11_error.h"

namespace sigil::keystore::pkcs11 {

struct Pkcs11KeyStore::Record {
  KeyInfo info;
  std::string cka_id;  // hex of the CKA_ID shared by the public and private key objects
  std::string token;   // label of the token the objects were made on
};

namespace {

constexpr int kRecordFormat = 1;
constexpr size_t kCkaIdSize = 16;

// DER of the curve parameters (CKA_EC_PARAMS).
constexpr uint8_t kSecp256k1Oid[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
// PrintableString "edwards25519" (PKCS#11 3.0 form, what SoftHSM and
// pkcs11-tool use), and the RFC 8410 OID 1.3.101.112 some modules want.
constexpr uint8_t kEd25519Name[] = {0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9'};
constexpr uint8_t kEd25519Oid[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

std::string RecordKey(std::string_view id, uint32_t version) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%010u", version);
  return std::string(id) + "/" + digits;
}

std::vector<uint8_t> EncodeRecord(const Pkcs11KeyStore::Record& r) {
  nlohmann::json j = {{"format", kRecordFormat},
                      {"id", r.info.id},
                      {"name", r.info.name},
                      {"version", r.info.version},
                      {"type", std::string(KeyTypeName(r.info.type))},
                      {"purpose", std::string(KeyPurposeName(r.info.purpose))},
                      {"status", std::string(KeyStatusName(r.info.status))},
                      {"created_at_ns", absl::ToUnixNanos(r.info.created_at)},
                      {"public_key", HexEncode(r.info.public_key)},
                      {"cka_id", r.cka_id},
                      {"token", r.token}};
  if (r.info.retired_at) j["retired_at_ns"] = absl::ToUnixNanos(*r.info.retired_at);
  std::string text = j.dump();
  return std::vector<uint8_t>(text.begin(), text.end());
}

absl::StatusOr<Pkcs11KeyStore::Record> DecodeRecord(std::string_view row, std::span<const uint8_t> bytes) {
  auto corrupt = [&](const std::string& why) {
    return absl::DataLossError("PKCS#11 key record " + std::string(row) + " is corrupt: " + why);
  };
  Pkcs11KeyStore::Record r;
  try {
    nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end());
    if (j.at("format").get<int>() != kRecordFormat) return corrupt("unknown format");
    r.info.id = j.at("id").get<std::string>();
    r.info.name = j.at("name").get<std::string>();
    r.info.version = j.at("version").get<uint32_t>();
    auto type = ParseKeyType(j.at("type").get<std::string>());
    auto purpose = ParseKeyPurpose(j.at("purpose").get<std::string>());
    auto status = ParseKeyStatus(j.at("status").get<std::string>());
    if (!type.ok() || !purpose.ok() || !status.ok()) return corrupt("bad type, purpose or status");
    r.info.type = *type;
    r.info.purpose = *purpose;
    r.info.status = *status;
    r.info.backend = std::string(Pkcs11KeyStore::kBackendName);
    r.info.created_at = absl::FromUnixNanos(j.at("created_at_ns").get<int64_t>());
    if (j.contains("retired_at_ns")) r.info.retired_at = absl::FromUnixNanos(j.at("retired_at_ns").get<int64_t>());
    auto pub = HexDecode(j.at("public_key").get<std::string>());
    if (!pub.ok() || pub->size() != PublicKeySize(r.info.type)) return corrupt("bad public key");
    r.info.public_key = std::move(*pub);
    r.cka_id = j.at("cka_id").get<std::string>();
    r.token = j.at("token").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return corrupt(e.what());
  }
  if (RecordKey(r.info.id, r.info.version) != row) return corrupt("stored under another key's row");
  return r;
}

// CKA_EC_POINT is a DER OCTET STRING around the point (04 41 04.. for
// secp256k1, 04 20 .. for Ed25519); a few modules return the bare point.
absl::StatusOr<std::vector<uint8_t>> PublicKeyFromEcPoint(KeyType type, std::vector<uint8_t> point) {
  const size_t size = PublicKeySize(type);
  if (point.size() == size + 2 && point[0] == 0x04 && point[1] == size) point.erase(point.begin(), point.begin() + 2);
  if (point.size() != size || (type == KeyType::kSecp256k1 && point[0] != 0x04)) {
    return absl::InternalError("the token returned a public key (CKA_EC_POINT) of unexpected form");
  }
  return point;
}

std::string HexOf(std::span<const uint8_t> bytes) { return HexEncode(bytes); }

// Reads the four protection attributes of a private key object. Empty when
// they are as Sigil requires; otherwise why not.
std::string CheckProtection(CK_FUNCTION_LIST& f, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key, CK_RV* rv) {
  CK_BBOOL sensitive = CK_FALSE, extractable = CK_TRUE, always_sensitive = CK_FALSE, never_extractable = CK_FALSE;
  CK_ATTRIBUTE attrs[] = {{CKA_SENSITIVE, &sensitive, sizeof sensitive},
                          {CKA_EXTRACTABLE, &extractable, sizeof extractable},
                          {CKA_ALWAYS_SENSITIVE, &always_sensitive, sizeof always_sensitive},
                          {CKA_NEVER_EXTRACTABLE, &never_extractable, sizeof never_extractable}};
  *rv = f.C_GetAttributeValue(session, key, attrs, 4);
  if (*rv == CKR_ATTRIBUTE_TYPE_INVALID || *rv == CKR_ATTRIBUTE_SENSITIVE) {
    // A module without the history attributes: judge by the two that matter.
    *rv = CKR_OK;
    if (attrs[0].ulValueLen == CK_UNAVAILABLE_INFORMATION || attrs[1].ulValueLen == CK_UNAVAILABLE_INFORMATION) {
      return "the token does not report CKA_SENSITIVE and CKA_EXTRACTABLE for the private key";
    }
    if (attrs[2].ulValueLen == CK_UNAVAILABLE_INFORMATION) always_sensitive = CK_TRUE;
    if (attrs[3].ulValueLen == CK_UNAVAILABLE_INFORMATION) never_extractable = CK_TRUE;
  }
  if (*rv != CKR_OK) return "";
  if (extractable != CK_FALSE) return "CKA_EXTRACTABLE is true on the token: the private key can be exported";
  if (sensitive == CK_FALSE) return "CKA_SENSITIVE is false on the token: the private key can be read";
  if (never_extractable == CK_FALSE) return "CKA_NEVER_EXTRACTABLE is false: the private key was extractable at some time";
  if (always_sensitive == CK_FALSE) return "CKA_ALWAYS_SENSITIVE is false: the private key was readable at some time";
  return "";
}

// Destroys every token object (a key pair is two) with CKA_ID `id` and the
// CKA_LABEL `label` Sigil gave it; the label and CKA_TOKEN narrow the search
// so that nothing Sigil did not make is touched. Reports the first failed
// C_DestroyObject (after trying the others): the caller must not carry on as
// if the objects were gone.
Pkcs11Call DestroyObjectsWithId(CK_FUNCTION_LIST& f, CK_SESSION_HANDLE s, std::span<const uint8_t> id,
                                std::string_view label) {
  CK_BBOOL yes = CK_TRUE;
  CK_ATTRIBUTE query[] = {{CKA_TOKEN, &yes, sizeof yes},
                          {CKA_ID, const_cast<uint8_t*>(id.data()), id.size()},
                          {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
  CK_RV rv = f.C_FindObjectsInit(s, query, std::size(query));
  if (rv != CKR_OK) return {rv, "C_FindObjectsInit"};
  std::array<CK_OBJECT_HANDLE, 4> found;
  found.fill(CK_INVALID_HANDLE);
  CK_ULONG count = 0;
  rv = f.C_FindObjects(s, found.data(), found.size(), &count);
  (void)f.C_FindObjectsFinal(s);
  if (rv != CKR_OK) return {rv, "C_FindObjects"};
  // A module that claims more than there was room for is not believed (the
  // handles past the array would be whatever the stack held).
  count = std::min<CK_ULONG>(count, found.size());
  Pkcs11Call result = Pkcs11Call::Ok();
  for (CK_ULONG i = 0; i < count; ++i) {
    if (found[i] == CK_INVALID_HANDLE) continue;
    rv = f.C_DestroyObject(s, found[i]);
    if (rv != CKR_OK && result.rv == CKR_OK) result = {rv, "C_DestroyObject"};
  }
  return result;
}

}  // namespace

Pkcs11KeyStore::Pkcs11KeyStore(store::Store& store, std::unique_ptr<SessionPool> pool,
                               const Pkcs11KeyStoreOptions& options)
    : store_(store),
      pool_(std::move(pool)),
      clock_(options.clock != nullptr ? *options.clock : static_cast<const Clock&>(RealClock::Instance())) {}

absl::StatusOr<std::unique_ptr<Pkcs11KeyStore>> Pkcs11KeyStore::Open(store::Store& store,
                                                                      std::unique_ptr<SessionPool> pool,
                                                                      const Pkcs11KeyStoreOptions& options) {
  if (pool == nullptr) return absl::InvalidArgumentError("Pkcs11KeyStore needs a session pool");
  std::unique_ptr<Pkcs11KeyStore> ks(new Pkcs11KeyStore(store, std::move(pool), options));
  RETURN_IF_ERROR(ks->VerifyKeys().status());
  return ks;
}

absl::Time Pkcs11KeyStore::Now() const { return clock_.Now(); }

absl::StatusOr<std::vector<KeyProblem>> Pkcs11KeyStore::VerifyKeys() {
  ASSIGN_OR_RETURN(auto rows, store_.Scan(kKeysTable, {}));
  std::vector<Record> active;
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(Record r, DecodeRecord(row.key, row.value));
    if (r.info.status == KeyStatus::kActive) active.push_back(std::move(r));
  }
  {
    absl::MutexLock lock(&mu_);
    problems_.clear();
    handles_.clear();
  }
  std::vector<KeyProblem> found;
  for (const Record& r : active) {
    std::string problem;
    CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
    RETURN_IF_ERROR(pool_->WithSession("verifying key '" + r.info.name + "'",
                                       [&](CK_FUNCTION_LIST& f, CK_SESSION_HANDLE s) {
                                         problem.clear();
                                         return FindPrivateKey(f, s, r, &handle, &problem);
                                       }));
    if (!problem.empty()) found.push_back({r.info.id, r.info.name, r.info.version, problem});
  }
  return found;
}

std::vector<KeyProblem> Pkcs11KeyStore::Problems() const {
  absl::MutexLock lock(&mu_);
  std::vector<KeyProblem> out;
  for (const auto& [id, p] : problems_) out.push_back(p);
  std::sort(out.begin(), out.end(), [](const KeyProblem& a, const KeyProblem& b) {
    return std::tie(a.name, a.version) < std::tie(b.name, b.version);
  });
  return out;
}

void Pkcs11KeyStore::Refuse(const Record& record, const std::string& reason) {
  absl::MutexLock lock(&mu_);
  problems_[record.cka_id] = KeyProblem{record.info.id, record.info.name, record.info.version, reason};
  handles_.erase(record.cka_id);
}

KeyInfo Pkcs11KeyStore::InfoWithRefusal(const Record& record) const {
  KeyInfo info = record.info;
  absl::MutexLock lock(&mu_);
  if (auto it = problems_.find(record.cka_id); it != problems_.end()) info.refused = it->second.reason;
  return info;
}

absl::Status Pkcs11KeyStore::RefusalOf(const Record& record) const {
  absl::MutexLock lock(&mu_);
  auto it = problems_.find(record.cka_id);
  if (it == problems_.end()) return absl::OkStatus();
  return absl::FailedPreconditionError("PKCS#11 key '" + record.info.name + "' (version " +
                                       std::to_string(record.info.version) + ") is refused for signing: " +
                                       it->second.reason + "; Sigil signs only with keys that are sensitive and "
                                       "were never extractable");
}

Pkcs11Call Pkcs11KeyStore::FindPrivateKey(CK_FUNCTION_LIST& f, CK_SESSION_HANDLE session, const Record& record,
                                          CK_OBJECT_HANDLE* handle, std::string* problem, bool* from_cache) {
  const uint64_t generation = pool_->generation();
  if (from_cache != nullptr) *from_cache = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = handles_.find(record.cka_id);
    if (it != handles_.end() && it->second.generation == generation) {
      *handle = it->second.handle;
      if (from_cache != nullptr) *from_cache = true;
      return Pkcs11Call::Ok();
    }
  }
  auto id = HexDecode(record.cka_id);
  if (!id.ok()) {
    *problem = "the stored CKA_ID is not hex";
    Refuse(record, *problem);
    return Pkcs11Call::Ok();
  }
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  CK_ATTRIBUTE query[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_ID, id->data(), id->size()}};
  CK_RV rv = f.C_FindObjectsInit(session, query, 2);
  if (rv != CKR_OK) return {rv, "C_FindObjectsInit"};
  CK_OBJECT_HANDLE found[2];
  CK_ULONG count = 0;
  rv = f.C_FindObjects(session, found, 2, &count);
  CK_RV final_rv = f.C_FindObjectsFinal(session);
  if (rv != CKR_OK) return {rv, "C_FindObjects"};
  if (final_rv != CKR_OK) return {final_rv, "C_FindObjectsFinal"};
  if (count == 0) {
    *problem = "its private key (CKA_ID " + record.cka_id + ") is not on token '" + pool_->token_label() + "'";
  } else if (count > 1) {
    *problem = "two private keys on the token share its CKA_ID " + record.cka_id;
  } else {
    *problem = CheckProtection(f, session, found[0], &rv);
    if (rv != CKR_OK) return {rv, "C_GetAttributeValue"};
  }
  if (!problem->empty()) {
    Refuse(record, *problem);
    return Pkcs11Call::Ok();
  }
  *handle = found[0];
  absl::MutexLock lock(&mu_);
  handles_[record.cka_id] = CachedHandle{found[0], generation};
  return Pkcs11Call::Ok();
}

void Pkcs11KeyStore::ForgetHandle(const Record& record, CK_OBJECT_HANDLE handle) {
  absl::MutexLock lock(&mu_);
  auto it = handles_.find(record.cka_id);
  if (it != handles_.end() && it->second.handle == handle) handles_.erase(it);
}

absl::StatusOr<std::string> Pkcs11KeyStore::ResolveId(std::string_view name_or_id) {
  if (LooksLikeKeyId(name_or_id)) return std::string(name_or_id);
  if (name_or_id.empty() || name_or_id.size() > kMaxKeyNameSize) {
    return absl::NotFoundError("no key named '" + std::string(name_or_id.substr(0, kMaxKeyNameSize)) + "'");
  }
  ASSIGN_OR_RETURN(auto id, store_.Get(kNamesTable, name_or_id));
  if (!id.has_value()) return absl::NotFoundError("no key named '" + std::string(name_or_id) + "'");
  return std::string(id->begin(), id->end());
}

absl::StatusOr<std::vector<Pkcs11KeyStore::Record>> Pkcs11KeyStore::ReadVersions(std::string_view key_id) {
  store::ScanOptions scan;
  scan.prefix = std::string(key_id) + "/";
  ASSIGN_OR_RETURN(auto rows, store_.Scan(kKeysTable, scan));
  if (rows.empty()) return absl::NotFoundError("no key with id " + std::string(key_id));
  std::vector<Record> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(Record r, DecodeRecord(row.key, row.value));
    out.push_back(std::move(r));
  }
  return out;
}

absl::StatusOr<KeyInfo> Pkcs11KeyStore::Get(std::string_view name_or_id) {
  ASSIGN_OR_RETURN(std::string id, ResolveId(name_or_id));
  ASSIGN_OR_RETURN(auto versions, ReadVersions(id));
  return InfoWithRefusal(versions.back());
}

absl::StatusOr<std::vector<KeyInfo>> Pkcs11KeyStore::List() {
  ASSIGN_OR_RETURN(auto rows, store_.Scan(kKeysTable, {}));
  std::vector<KeyInfo> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(Record r, DecodeRecord(row.key, row.value));
    out.push_back(InfoWithRefusal(r));
  }
  std::sort(out.begin(), out.end(), [](const KeyInfo& a, const KeyInfo& b) {
    return std::tie(a.name, a.version) < std::tie(b.name, b.version);
  });
  return out;
}

absl::Status Pkcs11KeyStore::GenerateInToken(KeyType type, std::string_view label, Record* record) {
  if (type == KeyType::kSchnorr) {
    return absl::InvalidArgumentError(
        "BIP-340 Schnorr keys cannot be kept in a PKCS#11 token (PKCS#11 has no BIP-340 mechanism); "
        "create the key with --backend software");
  }
  std::string failure;
  std::vector<uint8_t> public_key;
  std::array<uint8_t, kCkaIdSize> id{};
  // Set once C_GenerateKeyPair has been called with `id`: from then on a
  // pair may exist under it (a call that failed, or whose session was lost
  // before its answer arrived, may still have made one) until it is removed.
  bool id_tried = false;
  CK_RV generate_rv = CKR_OK;
  // Set when what an earlier attempt left could not be removed: no further
  // attempt is made (each would leave another pair behind).
  bool removal_failed = false;
  absl::Status st;
  // SoftHSM2 answers C_GenerateKeyPair with CKR_GENERAL_ERROR now and then
  // while other sessions sign with the token's keys (seen under load in
  // ConcurrentSigningUsesSeveralSessionsAndRotationIsSafe). Generating is
  // safe to repeat: every attempt first removes what the one before it may
  // have left, then uses a new CKA_ID. At most kGenerateAttempts.
  constexpr int kGenerateAttempts = 3;
  int attempt = 0;
  for (; attempt < kGenerateAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10 * attempt));
    // Besides these attempts, WithSession reruns the callback on a fresh
    // session when the session is lost, which may happen after the pair
    // was made; the removal at the top of the callback covers that rerun.
    st = pool_->WithSession(
        "generating a " + std::string(KeyTypeName(type)) + " key pair", [&](CK_FUNCTION_LIST& f, CK_SESSION_HANDLE s) {
          generate_rv = CKR_OK;
          if (id_tried) {
            Pkcs11Call removed = DestroyObjectsWithId(f, s, id, label);
            // Set on every removal: a session lost during one is rerun by
            // WithSession, and a removal that then succeeds clears it.
            removal_failed = removed.rv != CKR_OK;
            if (removal_failed) return removed;
            id_tried = false;
          }
          failure.clear();
          crypto::RandomBytes(id);
          CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
          std::string label_text(label);
          CK_MECHANISM mechanism{type == KeyType::kSecp256k1 ? CKM_EC_KEY_PAIR_GEN : CKM_EC_EDWARDS_KEY_PAIR_GEN,
                                 nullptr, 0};
          std::span<const uint8_t> params = type == KeyType::kSecp256k1 ? std::span<const uint8_t>(kSecp256k1Oid)
                                                                        : std::span<const uint8_t>(kEd25519Name);
          CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
          CK_RV rv = CKR_OK;
          id_tried = true;
          for (int params_try = 0; params_try < 2; ++params_try) {
            CK_ATTRIBUTE pub_template[] = {
                {CKA_TOKEN, &yes, sizeof yes},  {CKA_PRIVATE, &no, sizeof no},
                {CKA_VERIFY, &yes, sizeof yes}, {CKA_EC_PARAMS, const_cast<uint8_t*>(params.data()), params.size()},
                {CKA_ID, id.data(), id.size()}, {CKA_LABEL, label_text.data(), label_text.size()},
            };
            CK_ATTRIBUTE priv_template[] = {
                {CKA_TOKEN, &yes, sizeof yes},     {CKA_PRIVATE, &yes, sizeof yes},
                {CKA_SIGN, &yes, sizeof yes},      {CKA_SENSITIVE, &yes, sizeof yes},
                {CKA_EXTRACTABLE, &no, sizeof no}, {CKA_DERIVE, &no, sizeof no},
                {CKA_ID, id.data(), id.size()},    {CKA_LABEL, label_text.data(), label_text.size()},
            };
            rv = f.C_GenerateKeyPair(s, &mechanism, pub_template, std::size(pub_template), priv_template,
                                     std::size(priv_template), &pub, &priv);
            const bool params_refused = rv == CKR_DOMAIN_PARAMS_INVALID || rv == CKR_CURVE_NOT_SUPPORTED ||
                                        rv == CKR_ATTRIBUTE_VALUE_INVALID || rv == CKR_TEMPLATE_INCONSISTENT;
            if (type != KeyType::kEd25519 || !params_refused) break;
            params = kEd25519Oid;  // the module wants the RFC 8410 OID
          }
          generate_rv = rv;
          if (rv != CKR_OK) return Pkcs11Call{rv, "C_GenerateKeyPair"};
          // Check what the token actually made, not what was asked for.
          failure = CheckProtection(f, s, priv, &rv);
          if (rv != CKR_OK) return Pkcs11Call{rv, "C_GetAttributeValue"};
          if (!failure.empty()) return Pkcs11Call::Ok();  // refused below, once the pair is removed
          std::vector<uint8_t> point(80);
          CK_ATTRIBUTE ec_point{CKA_EC_POINT, point.data(), point.size()};
          rv = f.C_GetAttributeValue(s, pub, &ec_point, 1);
          if (rv != CKR_OK) return Pkcs11Call{rv, "C_GetAttributeValue"};
          // The module's word on the length is not trusted past the buffer.
          if (ec_point.ulValueLen > point.size()) {
            failure = "the token reported a public key (CKA_EC_POINT) longer than the " +
                      std::to_string(point.size()) + "-byte buffer it was read into";
            return Pkcs11Call::Ok();
          }
          point.resize(ec_point.ulValueLen);
          auto parsed = PublicKeyFromEcPoint(type, std::move(point));
          if (!parsed.ok()) {
            failure = std::string(parsed.status().message());
            return Pkcs11Call::Ok();
          }
          public_key = std::move(*parsed);
          return Pkcs11Call::Ok();
        });
    if (st.ok() || generate_rv != CKR_GENERAL_ERROR) break;
  }
  const bool made = st.ok() && failure.empty();
  // Whatever the last attempt left under its CKA_ID goes too, unless it is
  // the key being returned.
  if (!made && id_tried) {
    absl::Status cleanup = DestroyInToken(HexOf(id), label);
    if (!cleanup.ok()) {
      return absl::Status(cleanup.code(), "key generation failed (" +
                                              std::string(st.ok() ? failure : st.message()) +
                                              ") and cleanup failed: " + std::string(cleanup.message()) +
                                              "; remove the objects labelled '" + std::string(label) +
                                              "' with the token's tools");
    }
  }
  if (removal_failed) {
    return absl::Status(st.code(), "key generation stopped: removing the objects labelled '" + std::string(label) +
                                       "' that a failed attempt left failed (" + std::string(st.message()) + ")");
  }
  if (!st.ok() && generate_rv == CKR_GENERAL_ERROR && attempt == kGenerateAttempts) {
    return absl::Status(st.code(), std::string(st.message()) + " (gave up after " +
                                       std::to_string(kGenerateAttempts) + " attempts)");
  }
  RETURN_IF_ERROR(st);
  if (!failure.empty()) {
    return absl::FailedPreconditionError("token '" + pool_->token_label() +
                                         "' made a key Sigil will not use, so it was destroyed: " + failure);
  }
  record->info.type = type;
  record->info.public_key = std::move(public_key);
  record->cka_id = HexOf(id);
  record->token = pool_->token_label();
  return absl::OkStatus();
}

absl::Status Pkcs11KeyStore::DestroyInToken(const std::string& cka_id_hex, std::string_view label) {
  auto id = HexDecode(cka_id_hex);
  if (!id.ok()) return absl::InternalError("CKA_ID " + cka_id_hex + " is not hex");
  return pool_->WithSession("removing the unused key pair labelled '" + std::string(label) + "'",
                            [&](CK_FUNCTION_LIST& f, CK_SESSION_HANDLE s) {
                              return DestroyObjectsWithId(f, s, *id, label);
                            });
}

absl::Status Pkcs11KeyStore::WithCleanup(absl::Status st, const std::string& cka_id_hex, std::string_view label) {
  absl::Status cleanup = DestroyInToken(cka_id_hex, label);
  if (cleanup.ok()) return st;
  return absl::Status(st.code(), std::string(st.message()) + "; and the new token objects could not be removed: " +
                                     std::string(cleanup.message()));
}

absl::StatusOr<KeyInfo> Pkcs11KeyStore::Generate(std::string_view name, KeyType type, KeyPurpose purpose) {
  RETURN_IF_ERROR(ValidateKeyName(name));
  absl::MutexLock write(&write_mu_);
  ASSIGN_OR_RETURN(auto taken, store_.Get(kNamesTable, name));
  if (taken.has_value()) return absl::AlreadyExistsError("a key named '" + std::string(name) + "' already exists");
  Record record;
  record.info.id = NewKeyId();
  record.info.name = std::string(name);
  record.info.purpose = purpose;
  record.info.backend = std::string(kBackendName);
  record.info.version = 1;
  record.info.status = KeyStatus::kActive;
  record.info.created_at = Now();
  const std::string label = "sigil:" + std::string(name) + ":v1";
  RETURN_IF_ERROR(GenerateInToken(type, label, &record));
  const std::string id = record.info.id;
  absl::Status st = store_.RunTransaction([&](store::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(auto again, tx.Get(kNamesTable, name));
    if (again.has_value()) return absl::AlreadyExistsError("a key named '" + std::string(name) + "' already exists");
    RETURN_IF_ERROR(tx.Put(kNamesTable, name, AsBytes(id)));
    return tx.Put(kKeysTable, RecordKey(id, 1), EncodeRecord(record));
  });
  if (!st.ok()) return WithCleanup(st, record.cka_id, label);
  return record.info;
}

absl::StatusOr<KeyInfo> Pkcs11KeyStore::Rotate(std::string_view name_or_id) {
  ASSIGN_OR_RETURN(std::string id, ResolveId(name_or_id));
  absl::MutexLock write(&write_mu_);
  ASSIGN_OR_RETURN(auto versions, ReadVersions(id));
  const Record& latest = versions.back();
  if (latest.info.status != KeyStatus::kActive) {
    return absl::FailedPreconditionError("key '" + latest.info.name + "' is " +
                                         std::string(KeyStatusName(latest.info.status)) + " and cannot be rotated");
  }
  const absl::Time now = Now();
  Record next;
  next.info = latest.info;
  next.info.version = latest.info.version + 1;
  next.info.status = KeyStatus::kActive;
  next.info.created_at = now;
  next.info.retired_at.reset();
  const std::string label = "sigil:" + latest.info.name + ":v" + std::to_string(next.info.version);
  RETURN_IF_ERROR(GenerateInToken(latest.info.type, label, &next));
  Record retired = latest;
  retired.info.status = KeyStatus::kRetired;
  retired.info.retired_at = now;
  absl::Status st = store_.RunTransaction([&](store::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(auto current, tx.Get(kKeysTable, RecordKey(id, latest.info.version)));
    if (!current.has_value()) return absl::DataLossError("key '" + latest.info.name + "' lost its active version");
    ASSIGN_OR_RETURN(Record check, DecodeRecord(RecordKey(id, latest.info.version), *current));
    if (check.info.status != KeyStatus::kActive) {
      return absl::FailedPreconditionError("key '" + latest.info.name + "' changed while it was rotated");
    }
    RETURN_IF_ERROR(tx.Put(kKeysTable, RecordKey(id, retired.info.version), EncodeRecord(retired)));
    return tx.Put(kKeysTable, RecordKey(id, next.info.version), EncodeRecord(next));
  });
  ForgetLatest(id);
  if (!st.ok()) return WithCleanup(st, next.cka_id, label);
  return next.info;
}

absl::Status Pkcs11KeyStore::Archive(std::string_view name_or_id) {
  ASSIGN_OR_RETURN(std::string id, ResolveId(name_or_id));
  absl::MutexLock write(&write_mu_);
  const absl::Time now = Now();
  // Forgotten before and after: a signer that read the record while the
  // transaction ran must not keep it.
  ForgetLatest(id);
  absl::Cleanup forget = [&] { ForgetLatest(id); };
  return store_.RunTransaction([&](store::Transaction& tx) -> absl::Status {
    store::ScanOptions scan;
    scan.prefix = id + "/";
    ASSIGN_OR_RETURN(auto rows, tx.Scan(kKeysTable, scan));
    if (rows.empty()) return absl::NotFoundError("no key with id " + id);
    for (const auto& row : rows) {
      ASSIGN_OR_RETURN(Record r, DecodeRecord(row.key, row.value));
      if (r.info.status == KeyStatus::kArchived) continue;
      r.info.status = KeyStatus::kArchived;
      if (!r.info.retired_at.has_value()) r.info.retired_at = now;
      RETURN_IF_ERROR(tx.Put(kKeysTable, row.key, EncodeRecord(r)));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> Pkcs11KeyStore::TokenObjectId(std::string_view key_id, uint32_t version) {
  ASSIGN_OR_RETURN(auto versions, ReadVersions(key_id));
  for (const auto& r : versions) {
    if (r.info.version == version) return r.cka_id;
  }
  return absl::NotFoundError("key " + std::string(key_id) + " has no version " + std::to_string(version));
}

absl::StatusOr<std::shared_ptr<const Pkcs11KeyStore::Record>> Pkcs11KeyStore::ActiveRecord(std::string_view key_id,
                                                                                          KeyType type,
                                                                                          KeyPurpose purpose) {
  if (!LooksLikeKeyId(key_id)) {
    return absl::InvalidArgumentError("signing takes a key id (key_...), not a name: '" +
                                      std::string(key_id.substr(0, kMaxKeyNameSize)) + "'");
  }
  std::shared_ptr<const Record> latest;
  uint64_t forgotten = 0;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = latest_.find(std::string(key_id)); it != latest_.end()) latest = it->second;
    forgotten = forgotten_;
  }
  if (!latest) {
    ASSIGN_OR_RETURN(auto versions, ReadVersions(key_id));
    latest = std::make_shared<const Record>(std::move(versions.back()));
    absl::MutexLock lock(&mu_);
    // Cached only if no rotation or archive ran meanwhile (it may have
    // replaced what was just read).
    if (forgotten == forgotten_) latest_[std::string(key_id)] = latest;
  }
  RETURN_IF_ERROR(CheckKeyUsable(latest->info, type, purpose));
  RETURN_IF_ERROR(RefusalOf(*latest));
  return latest;
}

void Pkcs11KeyStore::ForgetLatest(const std::string& key_id) {
  absl::MutexLock lock(&mu_);
  latest_.erase(key_id);
  ++forgotten_;
}

absl::Status Pkcs11KeyStore::SignInToken(const Record& record, CK_MECHANISM_TYPE mechanism,
                                         std::span<const uint8_t> data, std::span<uint8_t> signature) {
  std::string problem;
  CK_ULONG length = 0;
  RETURN_IF_ERROR(pool_->WithSession(
      "signing with key '" + record.info.name + "'", [&](CK_FUNCTION_LIST& f, CK_SESSION_HANDLE s) {
        problem.clear();
        CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
        bool cached = false;
        Pkcs11Call found = FindPrivateKey(f, s, record, &key, &problem, &cached);
        if (found.rv != CKR_OK || !problem.empty()) return found;
        CK_MECHANISM m{mechanism, nullptr, 0};
        CK_RV rv = f.C_SignInit(s, &m, key);
        if (cached && (rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID)) {
          // The cached handle went stale (the object was replaced, or the
          // module renumbered its objects). While the session is still
          // logged in, the key is looked up (and checked) again here rather
          // than the whole pool started over. A logged-out session sees no
          // private objects and would take the key for gone: then the code
          // goes back as a lost session and the pool logs in again.
          ForgetHandle(record, key);
          CK_SESSION_INFO info{};
          if (f.C_GetSessionInfo(s, &info) != CKR_OK || info.state != CKS_RW_USER_FUNCTIONS) {
            return Pkcs11Call{rv, "C_SignInit"};
          }
          found = FindPrivateKey(f, s, record, &key, &problem, /*from_cache=*/nullptr);
          if (found.rv != CKR_OK || !problem.empty()) return found;
          rv = f.C_SignInit(s, &m, key);
        }
        if (rv != CKR_OK) return Pkcs11Call{rv, "C_SignInit"};
        length = signature.size();
        rv = f.C_Sign(s, const_cast<CK_BYTE*>(data.data()), data.size(), signature.data(), &length);
        if (rv != CKR_OK) return Pkcs11Call{rv, "C_Sign"};
        return Pkcs11Call::Ok();
      }));
  if (!problem.empty()) return RefusalOf(record);
  if (length != signature.size()) {
    return absl::InternalError("token '" + pool_->token_label() + "' returned a " + std::to_string(length) +
                               "-byte signature for key '" + record.info.name + "' (expected " +
                               std::to_string(signature.size()) + ")");
  }
  return absl::OkStatus();
}

absl::StatusOr<crypto::RecoverableSignature> Pkcs11KeyStore::SignEcdsa(std::string_view key_id, KeyPurpose purpose,
                                                                       const crypto::Hash256& digest) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Record> active, ActiveRecord(key_id, KeyType::kSecp256k1, purpose));
  const Record& record = *active;
  std::array<uint8_t, 64> rs{};
  RETURN_IF_ERROR(SignInToken(record, CKM_ECDSA, digest, rs));
  ASSIGN_OR_RETURN(auto public_key, crypto::ParseSecp256k1PublicKey(record.info.public_key));
  // CKM_ECDSA gives r||s with s high about half the time and no recovery
  // id; Ethereum needs low-s and v. Finding v against the stored public key
  // also proves the token signed with the key Sigil recorded.
  std::shared_ptr<const crypto::Secp256k1KeyTable> table = tables_.Lookup(public_key);
  auto sig = table != nullptr ? crypto::NormalizeAndFindRecoveryId(digest, rs, *table)
                              : crypto::NormalizeAndFindRecoveryId(digest, rs, public_key);
  if (!sig.ok()) {
    return absl::InternalError("the signature token '" + pool_->token_label() + "' made with key '" +
                               record.info.name + "' does not match its recorded public key (" +
                               std::string(sig.status().message()) + ")");
  }
  return sig;
}

absl::StatusOr<crypto::SchnorrSignature> Pkcs11KeyStore::SignSchnorr(std::string_view key_id, KeyPurpose purpose,
                                                                     const crypto::Hash256&) {
  if (!LooksLikeKeyId(key_id)) return absl::InvalidArgumentError("signing takes a key id (key_...), not a name");
  ASSIGN_OR_RETURN(auto versions, ReadVersions(key_id));
  const KeyInfo& info = versions.back().info;
  RETURN_IF_ERROR(CheckKeyUsable(info, info.type, purpose));
  return absl::InvalidArgumentError("key '" + info.name +
                                    "' is held in a PKCS#11 token, which cannot make BIP-340 Schnorr signatures "
                                    "(use a software key of type schnorr for Nostr)");
}

absl::StatusOr<crypto::Ed25519Signature> Pkcs11KeyStore::SignEd25519(std::string_view key_id, KeyPurpose purpose,
                                                                     std::span<const uint8_t> message) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Record> active, ActiveRecord(key_id, KeyType::kEd25519, purpose));
  const Record& record = *active;
  crypto::Ed25519Signature sig{};
  RETURN_IF_ERROR(SignInToken(record, CKM_EDDSA, message, sig));
  crypto::Ed25519PublicKey public_key{};
  std::copy(record.info.public_key.begin(), record.info.public_key.end(), public_key.begin());
  if (!crypto::Ed25519Verify(public_key, message, sig)) {
    return absl::InternalError("the signature token '" + pool_->token_label() + "' made with key '" +
                               record.info.name + "' does not verify against its recorded public key");
  }
  return sig;
}

}  // namespace sigil::keystore::pkcs11
