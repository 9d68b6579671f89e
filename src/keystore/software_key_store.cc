#include "keystore/software_key_store.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_set.h"
#include "base/hex.h"
#include "base/status.h"
#include "crypto/random.h"
#include "keystore/key_material.h"

namespace sigil::keystore {
namespace {

constexpr const char* kKeysTable = SoftwareKeyStore::kKeysTable;
constexpr const char* kNamesTable = SoftwareKeyStore::kNamesTable;


bool ParseRecordKey(std::string_view key, std::string* id, uint32_t* version) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos || key.size() - slash - 1 != 10) return false;
  uint64_t v = 0;
  for (char c : key.substr(slash + 1)) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v == 0 || v > UINT32_MAX) return false;
  *id = std::string(key.substr(0, slash));
  *version = static_cast<uint32_t>(v);
  return LooksLikeKeyId(*id);
}

std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return out;
}

std::string Who(std::string_view name, std::string_view id, uint32_t version) {
  if (name.empty()) return "key with id " + std::string(id) + " (version " + std::to_string(version) + ")";
  return DescribeKey(name, id, version);
}

// The verified records of one key, versions ascending.
struct KeyVersions {
  std::string id;
  std::string name;
  std::vector<SealedKeyRecord> records;

  const SealedKeyRecord* active() const {
    for (const auto& r : records) {
      if (r.info.status == KeyStatus::kActive) return &r;
    }
    return nullptr;
  }
  // The active version, or for an archived key the latest.
  const SealedKeyRecord& current() const {
    const SealedKeyRecord* a = active();
    return a != nullptr ? *a : records.back();
  }
};

// A consistent history: versions 1..n in order, one name/type/purpose, and
// either exactly the latest version active or every version archived.
absl::Status CheckHistory(std::string_view id, const std::vector<const KeyInfo*>& versions) {
  const KeyInfo& first = *versions.front();
  std::string key = "key '" + first.name + "' (id " + std::string(id) + ")";
  size_t active = 0, archived = 0;
  for (size_t i = 0; i < versions.size(); ++i) {
    const KeyInfo& info = *versions[i];
    if (info.version != i + 1) {
      return absl::DataLossError("version " + std::to_string(i + 1) + " of " + key +
                                 " is missing; restore the keystore from a backup");
    }
    if (info.id != id || info.name != first.name || info.type != first.type || info.purpose != first.purpose) {
      return absl::DataLossError("the records of " + key +
                                 " disagree about its id, name, type or purpose; restore the keystore from a backup");
    }
    if (info.status == KeyStatus::kActive) ++active;
    if (info.status == KeyStatus::kArchived) ++archived;
  }
  bool archived_key = archived == versions.size();
  bool live_key = active == 1 && versions.back()->status == KeyStatus::kActive && archived == 0;
  if (!archived_key && !live_key) {
    return absl::DataLossError(key +
                               " has no consistent history (its newest version is missing, or a retired version was "
                               "made active again); restore the keystore from a backup");
  }
  return absl::OkStatus();
}

// Reads a key's records through `reader` (a Store or a Transaction), checks
// each record's MAC, that it sits under its own id and version, that the
// name index agrees, and that the versions form a consistent history.
template <typename Reader>
absl::StatusOr<KeyVersions> LocateKey(Reader& reader, const RecordSealer& sealer, std::string_view name_or_id) {
  KeyVersions out;
  std::string requested_name;
  if (LooksLikeKeyId(name_or_id)) {
    out.id = std::string(name_or_id);
  } else {
    if (!ValidateKeyName(name_or_id).ok()) {
      return absl::NotFoundError("no key named '" + Printable(name_or_id) + "' (not a valid key name or id)");
    }
    ASSIGN_OR_RETURN(std::optional<store::Bytes> id, reader.Get(kNamesTable, name_or_id));
    if (!id.has_value()) return absl::NotFoundError("no key named '" + std::string(name_or_id) + "'");
    out.id.assign(id->begin(), id->end());
    requested_name = std::string(name_or_id);
    if (!LooksLikeKeyId(out.id)) {
      return absl::DataLossError("the name index entry for key '" + requested_name +
                                 "' is corrupt; restore the keystore from a backup");
    }
  }
  store::ScanOptions scan;
  scan.prefix = out.id + "/";
  ASSIGN_OR_RETURN(std::vector<store::Entry> entries, reader.Scan(kKeysTable, scan));
  if (entries.empty()) {
    if (!requested_name.empty()) {
      return absl::DataLossError("key '" + requested_name + "' (id " + out.id +
                                 ") has no sealed records: they were deleted from the store; restore the keystore "
                                 "from a backup");
    }
    return absl::NotFoundError("no key with id " + out.id);
  }
  for (const store::Entry& entry : entries) {
    std::string entry_id;
    uint32_t version = 0;
    if (!ParseRecordKey(entry.key, &entry_id, &version) || entry_id != out.id) {
      return absl::DataLossError("the keystore holds a record under a malformed key beside " +
                                 Who(requested_name, out.id, 0) + "; restore the keystore from a backup");
    }
    std::string who = Who(requested_name, out.id, version);
    ASSIGN_OR_RETURN(SealedKeyRecord record, DecodeSealedKeyRecord(entry.value, who));
    if (requested_name.empty()) who = Who(record.info.name, out.id, version);
    RETURN_IF_ERROR(sealer.Verify(record, who));
    if (record.info.id != out.id || record.info.version != version) {
      return absl::DataLossError("sealed record for " + who + " failed authentication: it is the record of id " +
                                 record.info.id + " version " + std::to_string(record.info.version) +
                                 " (records swapped or moved); restore the keystore from a backup");
    }
    if (!requested_name.empty() && record.info.name != requested_name) {
      return absl::DataLossError("sealed record for " + who + " failed authentication: it belongs to key '" +
                                 record.info.name + "' (name index swapped); restore the keystore from a backup");
    }
    out.records.push_back(std::move(record));
  }
  out.name = out.records.front().info.name;
  std::vector<const KeyInfo*> history;
  for (const SealedKeyRecord& r : out.records) history.push_back(&r.info);
  RETURN_IF_ERROR(CheckHistory(out.id, history));
  return out;
}

absl::Status NotAnId(std::string_view key_id) {
  return absl::InvalidArgumentError("signing takes a key id (" + std::string(kKeyIdPrefix) + "...); '" +
                                    Printable(key_id) + "' is not one: look the key up by name first");
}

}  // namespace

std::string SoftwareKeyStore::RecordKey(std::string_view id, uint32_t version) {
  // Zero padding makes a prefix scan return the versions of a key in order.
  char digits[16];
  std::snprintf(digits, sizeof digits, "%010u", version);
  return std::string(id) + "/" + digits;
}

SoftwareKeyStore::SoftwareKeyStore(store::Store& store, std::unique_ptr<RecordSealer> sealer,
                                   const SoftwareKeyStoreOptions& options)
    : store_(store),
      sealer_(std::move(sealer)),
      clock_(options.clock != nullptr ? *options.clock : RealClock::Instance()),
      options_(options),
      cache_(options.unsealed_key_cache_size) {}

absl::Time SoftwareKeyStore::Now() const {
  // Records keep whole seconds; keep KeyInfo equal to what a re-read returns.
  return absl::FromUnixSeconds(clock_.NowUnixSeconds());
}

// ---- creating and unlocking ----

absl::StatusOr<std::unique_ptr<SoftwareKeyStore>> SoftwareKeyStore::Initialize(
    store::Store& store, MasterKeyRecord record, const SecretBytes& master, const SoftwareKeyStoreOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<RecordSealer> sealer, RecordSealer::Create(master.Clone()));
  ASSIGN_OR_RETURN(record.check_value, sealer->MakeCheckValue());
  std::string encoded = EncodeMasterKeyRecord(record);
  RETURN_IF_ERROR(store.RunTransaction([&](store::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<store::Bytes> existing, tx.Get(kMasterTable, kMasterRow));
    if (existing.has_value()) {
      return absl::AlreadyExistsError("this store already holds a keystore; open it instead of creating one");
    }
    store::ScanOptions one;
    one.limit = 1;
    ASSIGN_OR_RETURN(std::vector<store::Entry> orphans, tx.Scan(kKeysTable, one));
    if (!orphans.empty()) {
      return absl::FailedPreconditionError(
          "this store holds key records but no master key record; it cannot be reused for a new keystore");
    }
    return tx.Put(kMasterTable, kMasterRow, AsBytes(encoded));
  }));
  return std::unique_ptr<SoftwareKeyStore>(new SoftwareKeyStore(store, std::move(sealer), options));
}

absl::StatusOr<MasterKeyRecord> SoftwareKeyStore::ReadMasterKeyRecord(store::Store& store) {
  ASSIGN_OR_RETURN(std::optional<store::Bytes> bytes, store.Get(kMasterTable, kMasterRow));
  if (!bytes.has_value()) {
    return absl::NotFoundError("no keystore has been set up in this store; create one first (sigil init)");
  }
  return DecodeMasterKeyRecord(*bytes);
}

absl::StatusOr<std::unique_ptr<SoftwareKeyStore>> SoftwareKeyStore::Unlock(store::Store& store,
                                                                           const MasterKeyRecord& record,
                                                                           const SecretBytes& master,
                                                                           std::string_view wrong,
                                                                           const SoftwareKeyStoreOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<RecordSealer> sealer, RecordSealer::Create(master.Clone()));
  if (!sealer->CheckValueOpens(record.check_value)) {
    return absl::PermissionDeniedError(std::string(wrong) +
                                       ": it does not unlock this keystore; nothing was changed");
  }
  return std::unique_ptr<SoftwareKeyStore>(new SoftwareKeyStore(store, std::move(sealer), options));
}

absl::StatusOr<std::unique_ptr<SoftwareKeyStore>> SoftwareKeyStore::CreateWithPassphrase(
    store::Store& store, const SecretBytes& passphrase, const crypto::Argon2Params& params,
    const SoftwareKeyStoreOptions& options) {
  if (passphrase.size() < kMinPassphraseSize) {
    return absl::InvalidArgumentError("the keystore passphrase must be at least " +
                                      std::to_string(kMinPassphraseSize) + " characters");
  }
  ASSIGN_OR_RETURN(bool exists, Exists(store));
  if (exists) return absl::AlreadyExistsError("this store already holds a keystore; open it instead of creating one");
  MasterKeyRecord record;
  record.source = MasterKeySource::kPassphrase;
  record.argon2 = params;
  crypto::RandomBytes(record.salt);
  ASSIGN_OR_RETURN(SecretBytes master, crypto::Argon2id(passphrase, record.salt, params, kMasterKeySize));
  return Initialize(store, std::move(record), master, options);
}

absl::StatusOr<std::unique_ptr<SoftwareKeyStore>> SoftwareKeyStore::OpenWithPassphrase(
    store::Store& store, const SecretBytes& passphrase, const SoftwareKeyStoreOptions& options) {
  ASSIGN_OR_RETURN(MasterKeyRecord record, ReadMasterKeyRecord(store));
  if (record.source != MasterKeySource::kPassphrase) {
    return absl::FailedPreconditionError(
        "this keystore is unlocked with a master key (a key file or a TPM), not a passphrase");
  }
  ASSIGN_OR_RETURN(SecretBytes master, crypto::Argon2id(passphrase, record.salt, record.argon2, kMasterKeySize));
  return Unlock(store, record, master, "wrong passphrase", options);
}

absl::StatusOr<std::unique_ptr<SoftwareKeyStore>> SoftwareKeyStore::CreateWithMasterKey(
    store::Store& store, const SecretBytes& master_key, const SoftwareKeyStoreOptions& options) {
  if (master_key.size() != kMasterKeySize) {
    return absl::InvalidArgumentError("the master key must be 32 bytes, got " + std::to_string(master_key.size()));
  }
  MasterKeyRecord record;
  record.source = MasterKeySource::kExternal;
  return Initialize(store, std::move(record), master_key, options);
}

absl::StatusOr<std::unique_ptr<SoftwareKeyStore>> SoftwareKeyStore::OpenWithMasterKey(
    store::Store& store, const SecretBytes& master_key, const SoftwareKeyStoreOptions& options) {
  if (master_key.size() != kMasterKeySize) {
    return absl::InvalidArgumentError("the master key must be 32 bytes, got " + std::to_string(master_key.size()));
  }
  ASSIGN_OR_RETURN(MasterKeyRecord record, ReadMasterKeyRecord(store));
  if (record.source != MasterKeySource::kExternal) {
    return absl::FailedPreconditionError("this keystore is unlocked with a passphrase, not a master key");
  }
  return Unlock(store, record, master_key, "wrong master key", options);
}

absl::StatusOr<bool> SoftwareKeyStore::Exists(store::Store& store) {
  ASSIGN_OR_RETURN(std::optional<store::Bytes> bytes, store.Get(kMasterTable, kMasterRow));
  return bytes.has_value();
}

// ---- keys ----

absl::StatusOr<KeyInfo> SoftwareKeyStore::AddKey(std::string_view name, KeyType type, KeyPurpose purpose,
                                                 const SecretBytes& private_key) {
  RETURN_IF_ERROR(ValidateKeyName(name));
  KeyInfo info;
  info.id = NewKeyId();
  info.name = std::string(name);
  info.type = type;
  info.purpose = purpose;
  info.backend = std::string(kBackendName);
  info.version = 1;
  info.status = KeyStatus::kActive;
  info.created_at = Now();
  ASSIGN_OR_RETURN(info.public_key, DerivePublicKey(type, private_key));
  ASSIGN_OR_RETURN(SealedKeyRecord record, sealer_->Seal(info, private_key));
  std::vector<uint8_t> encoded = EncodeSealedKeyRecord(record);
  RETURN_IF_ERROR(store_.RunTransaction([&](store::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<store::Bytes> existing, tx.Get(kNamesTable, info.name));
    if (existing.has_value()) {
      return absl::AlreadyExistsError("a key named '" + info.name + "' already exists (id " +
                                      std::string(existing->begin(), existing->end()) +
                                      "); names are never reused, not even after archiving");
    }
    RETURN_IF_ERROR(tx.Put(kNamesTable, info.name, AsBytes(info.id)));
    return tx.Put(kKeysTable, RecordKey(info.id, info.version), encoded);
  }));
  ForgetRecords();
  // A new key is usually used right away.
  cache_.Insert(info.id, info.version, std::make_shared<const SecretBytes>(private_key.Clone()));
  return info;
}

absl::StatusOr<KeyInfo> SoftwareKeyStore::Generate(std::string_view name, KeyType type, KeyPurpose purpose) {
  RETURN_IF_ERROR(ValidateKeyName(name));
  ASSIGN_OR_RETURN(SecretBytes private_key, GeneratePrivateKey(type));
  return AddKey(name, type, purpose, private_key);
}

absl::StatusOr<KeyInfo> SoftwareKeyStore::Import(std::string_view name, KeyType type, KeyPurpose purpose,
                                                 const SecretBytes& private_key) {
  if (!options_.allow_import) {
    return absl::PermissionDeniedError(
        "importing private keys is disabled; an administrator can enable it in the keystore configuration "
        "(allow_import)");
  }
  if (private_key.size() != 32) {
    return absl::InvalidArgumentError("an imported private key must be 32 bytes, got " +
                                      std::to_string(private_key.size()));
  }
  return AddKey(name, type, purpose, private_key);
}

absl::StatusOr<KeyInfo> SoftwareKeyStore::Get(std::string_view name_or_id) {
  ASSIGN_OR_RETURN(std::shared_ptr<const SealedKeyRecord> current, CurrentRecord(name_or_id));
  return current->info;
}

absl::StatusOr<std::shared_ptr<const SealedKeyRecord>> SoftwareKeyStore::CurrentRecord(std::string_view name_or_id) {
  const absl::Duration max_age = options_.key_record_max_age;
  const bool caching = max_age > absl::ZeroDuration() && options_.key_record_cache_size > 0;
  const absl::Time now = clock_.Now();
  const std::string lookup(name_or_id);
  uint64_t generation = 0;
  if (caching) {
    absl::MutexLock lock(&records_mu_);
    auto it = records_.find(lookup);
    // A clock that went back does not extend an entry's life.
    if (it != records_.end() && now >= it->second.read_at && now - it->second.read_at < max_age) {
      return it->second.record;
    }
    generation = records_generation_;
  }
  ASSIGN_OR_RETURN(KeyVersions versions, LocateKey(store_, *sealer_, name_or_id));
  auto current = std::make_shared<const SealedKeyRecord>(versions.current());
  if (caching) {
    absl::MutexLock lock(&records_mu_);
    // Not cached if a change finished while the store was read: what was
    // read may predate it.
    if (generation == records_generation_) {
      if (records_.size() >= options_.key_record_cache_size) records_.clear();
      records_[lookup] = CachedRecord{current, now};
    }
  }
  return current;
}

void SoftwareKeyStore::ForgetRecords() {
  absl::MutexLock lock(&records_mu_);
  records_.clear();
  ++records_generation_;
}

void SoftwareKeyStore::DropCaches() {
  ForgetRecords();
  cache_.Clear();
}

absl::StatusOr<std::vector<KeyInfo>> SoftwareKeyStore::List() {
  ASSIGN_OR_RETURN(std::vector<store::Entry> entries, store_.Scan(kKeysTable, {}));
  std::vector<KeyInfo> out;
  out.reserve(entries.size());
  for (const store::Entry& entry : entries) {
    std::string id;
    uint32_t version = 0;
    if (!ParseRecordKey(entry.key, &id, &version)) {
      return absl::DataLossError("the keystore holds a record under a malformed key; restore it from a backup");
    }
    std::string who = Who("", id, version);
    ASSIGN_OR_RETURN(SealedKeyRecord record, DecodeSealedKeyRecord(entry.value, who));
    who = Who(record.info.name, id, version);
    RETURN_IF_ERROR(sealer_->Verify(record, who));
    if (record.info.id != id || record.info.version != version) {
      return absl::DataLossError("sealed record for " + who + " failed authentication: it is the record of id " +
                                 record.info.id + " version " + std::to_string(record.info.version) +
                                 " (records swapped or moved); restore the keystore from a backup");
    }
    out.push_back(std::move(record.info));
  }
  std::sort(out.begin(), out.end(), [](const KeyInfo& a, const KeyInfo& b) {
    return std::tie(a.name, a.version) < std::tie(b.name, b.version);
  });
  return out;
}

absl::StatusOr<std::shared_ptr<const SecretBytes>> SoftwareKeyStore::ActiveKey(std::string_view key_id,
                                                                               const KeyType* type,
                                                                               KeyPurpose purpose, KeyInfo* info) {
  if (!LooksLikeKeyId(key_id)) return NotAnId(key_id);
  ASSIGN_OR_RETURN(std::shared_ptr<const SealedKeyRecord> record, CurrentRecord(key_id));
  const SealedKeyRecord& current = *record;
  RETURN_IF_ERROR(CheckKeyUsable(current.info, type != nullptr ? *type : current.info.type, purpose));
  *info = current.info;
  if (auto cached = cache_.Find(current.info.id, current.info.version)) return cached;
  ASSIGN_OR_RETURN(SecretBytes private_key,
                   sealer_->Unseal(current, Who(current.info.name, current.info.id, current.info.version)));
  auto shared = std::make_shared<const SecretBytes>(std::move(private_key));
  cache_.Insert(current.info.id, current.info.version, shared);
  return shared;
}

absl::StatusOr<crypto::RecoverableSignature> SoftwareKeyStore::SignEcdsa(std::string_view key_id,
                                                                         KeyPurpose purpose,
                                                                         const crypto::Hash256& digest) {
  KeyInfo info;
  const KeyType type = KeyType::kSecp256k1;
  ASSIGN_OR_RETURN(std::shared_ptr<const SecretBytes> key, ActiveKey(key_id, &type, purpose, &info));
  return crypto::SignRecoverable(*key, digest);
}

absl::StatusOr<crypto::SchnorrSignature> SoftwareKeyStore::SignSchnorr(std::string_view key_id, KeyPurpose purpose,
                                                                       const crypto::Hash256& message) {
  KeyInfo info;
  const KeyType type = KeyType::kSchnorr;
  ASSIGN_OR_RETURN(std::shared_ptr<const SecretBytes> key, ActiveKey(key_id, &type, purpose, &info));
  return crypto::SchnorrSign(*key, message);
}

absl::StatusOr<crypto::Ed25519Signature> SoftwareKeyStore::SignEd25519(std::string_view key_id, KeyPurpose purpose,
                                                                       std::span<const uint8_t> message) {
  KeyInfo info;
  const KeyType type = KeyType::kEd25519;
  ASSIGN_OR_RETURN(std::shared_ptr<const SecretBytes> key, ActiveKey(key_id, &type, purpose, &info));
  return crypto::Ed25519Sign(*key, message);
}

absl::Status SoftwareKeyStore::WithUnsealedKey(
    std::string_view key_id, KeyPurpose purpose,
    absl::FunctionRef<absl::Status(const KeyInfo&, const SecretBytes&)> fn) {
  KeyInfo info;
  ASSIGN_OR_RETURN(std::shared_ptr<const SecretBytes> key, ActiveKey(key_id, nullptr, purpose, &info));
  return fn(info, *key);
}

absl::StatusOr<KeyInfo> SoftwareKeyStore::Rotate(std::string_view name_or_id) {
  ASSIGN_OR_RETURN(KeyVersions before, LocateKey(store_, *sealer_, name_or_id));
  if (before.active() == nullptr) {
    return absl::FailedPreconditionError("key '" + before.name + "' (id " + before.id +
                                         ") is archived and cannot be rotated");
  }
  // Sigil's own keys (the audit log's checkpoint key, the attestation key,
  // the state key) are held by the running daemon and named by what they
  // signed or sealed: a new version would leave checkpoints unverifiable,
  // attestation refused and the sealed state unreadable at the next start.
  if (before.current().info.purpose != KeyPurpose::kSigning) {
    return absl::FailedPreconditionError("key '" + before.name + "' is Sigil's own " +
                                         std::string(KeyPurposeName(before.current().info.purpose)) +
                                         " key; only signing keys can be rotated");
  }
  // Key generation stays outside the transaction, which may be re-run.
  const KeyType type = before.current().info.type;
  ASSIGN_OR_RETURN(SecretBytes private_key, GeneratePrivateKey(type));
  ASSIGN_OR_RETURN(std::vector<uint8_t> public_key, DerivePublicKey(type, private_key));
  const absl::Time now = Now();
  KeyInfo next;
  // Also after a failed transaction: a commit can fail after it took effect.
  absl::Cleanup forget = [this] { ForgetRecords(); };
  RETURN_IF_ERROR(store_.RunTransaction([&](store::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(KeyVersions versions, LocateKey(tx, *sealer_, before.id));
    const SealedKeyRecord* active = versions.active();
    if (active == nullptr) {
      return absl::FailedPreconditionError("key '" + versions.name + "' (id " + versions.id +
                                           ") was archived meanwhile and cannot be rotated");
    }
    SealedKeyRecord retired = *active;
    retired.info.status = KeyStatus::kRetired;
    retired.info.retired_at = now;
    RETURN_IF_ERROR(sealer_->UpdateMac(retired));
    next = active->info;
    next.version = active->info.version + 1;
    next.status = KeyStatus::kActive;
    next.created_at = now;
    next.retired_at.reset();
    next.public_key = public_key;
    ASSIGN_OR_RETURN(SealedKeyRecord fresh, sealer_->Seal(next, private_key));
    RETURN_IF_ERROR(tx.Put(kKeysTable, RecordKey(retired.info.id, retired.info.version),
                           EncodeSealedKeyRecord(retired)));
    return tx.Put(kKeysTable, RecordKey(next.id, next.version), EncodeSealedKeyRecord(fresh));
  }));
  std::move(forget).Invoke();
  cache_.Erase(next.id);
  cache_.Insert(next.id, next.version, std::make_shared<const SecretBytes>(std::move(private_key)));
  return next;
}

absl::Status SoftwareKeyStore::Archive(std::string_view name_or_id) {
  ASSIGN_OR_RETURN(KeyVersions before, LocateKey(store_, *sealer_, name_or_id));
  const absl::Time now = Now();
  absl::Cleanup forget = [this] { ForgetRecords(); };
  RETURN_IF_ERROR(store_.RunTransaction([&](store::Transaction& tx) -> absl::Status {
    ASSIGN_OR_RETURN(KeyVersions versions, LocateKey(tx, *sealer_, before.id));
    for (SealedKeyRecord record : versions.records) {
      if (record.info.status == KeyStatus::kArchived) continue;
      record.info.status = KeyStatus::kArchived;
      if (!record.info.retired_at.has_value()) record.info.retired_at = now;
      RETURN_IF_ERROR(sealer_->UpdateMac(record));
      RETURN_IF_ERROR(tx.Put(kKeysTable, RecordKey(record.info.id, record.info.version),
                             EncodeSealedKeyRecord(record)));
    }
    return absl::OkStatus();
  }));
  std::move(forget).Invoke();
  cache_.Erase(before.id);
  return absl::OkStatus();
}

// ---- backup support ----

absl::StatusOr<std::vector<ExportedKey>> SoftwareKeyStore::ExportKeys(BackupAccess) {
  // One transaction: a consistent snapshot even while keys are rotated.
  std::vector<ExportedKey> out;
  RETURN_IF_ERROR(store_.RunTransaction([&](store::Transaction& tx) -> absl::Status {
    out.clear();
    ASSIGN_OR_RETURN(std::vector<store::Entry> names, tx.Scan(kNamesTable, {}));
    absl::flat_hash_set<std::string> exported;  // record keys
    for (const store::Entry& entry : names) {
      ASSIGN_OR_RETURN(KeyVersions versions, LocateKey(tx, *sealer_, entry.key));
      for (const SealedKeyRecord& record : versions.records) {
        ASSIGN_OR_RETURN(SecretBytes private_key,
                         sealer_->Unseal(record, Who(record.info.name, record.info.id, record.info.version)));
        exported.insert(RecordKey(record.info.id, record.info.version));
        out.push_back(ExportedKey{record.info, std::move(private_key)});
      }
    }
    // The names lead to the keys; a key record no name leads to (its name
    // row deleted outside Sigil) would be left out of the backup without a
    // word, and lost with the machine.
    ASSIGN_OR_RETURN(std::vector<store::Entry> records, tx.Scan(kKeysTable, {}));
    for (const store::Entry& entry : records) {
      if (!exported.contains(entry.key)) {
        return absl::DataLossError("key record '" + Printable(entry.key) +
                                   "' has no name leading to it (the store was changed outside Sigil); no backup "
                                   "was made, since it would leave that key out");
      }
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::Status SoftwareKeyStore::ImportExportedKeys(BackupAccess, const std::vector<ExportedKey>& keys) {
  // Seal everything first: the transaction below only writes.
  std::vector<std::pair<std::string, std::vector<uint8_t>>> records;  // record key -> encoded record
  std::map<std::string, std::string> names;                  // name -> id
  records.reserve(keys.size());
  for (const ExportedKey& key : keys) {
    const KeyInfo& info = key.info;
    std::string who = Who(info.name, info.id, info.version);
    RETURN_IF_ERROR(ValidateKeyName(info.name));
    if (!LooksLikeKeyId(info.id) || info.version == 0) {
      return absl::InvalidArgumentError("cannot restore " + who + ": malformed id or version");
    }
    auto [it, inserted] = names.emplace(info.name, info.id);
    if (!inserted && it->second != info.id) {
      return absl::InvalidArgumentError("cannot restore: two keys are named '" + info.name + "'");
    }
    KeyInfo restored = info;
    restored.backend = std::string(kBackendName);
    ASSIGN_OR_RETURN(SealedKeyRecord record, sealer_->Seal(restored, key.private_key));
    records.emplace_back(RecordKey(info.id, info.version), EncodeSealedKeyRecord(record));
  }
  std::map<std::string, std::vector<const KeyInfo*>> histories;
  for (const ExportedKey& key : keys) histories[key.info.id].push_back(&key.info);
  for (auto& [id, history] : histories) {
    std::sort(history.begin(), history.end(), [](const KeyInfo* a, const KeyInfo* b) { return a->version < b->version; });
    RETURN_IF_ERROR(CheckHistory(id, history));
  }
  RETURN_IF_ERROR(store_.RunTransaction([&](store::Transaction& tx) -> absl::Status {
    store::ScanOptions one;
    one.limit = 1;
    ASSIGN_OR_RETURN(std::vector<store::Entry> existing_keys, tx.Scan(kKeysTable, one));
    ASSIGN_OR_RETURN(std::vector<store::Entry> existing_names, tx.Scan(kNamesTable, one));
    if (!existing_keys.empty() || !existing_names.empty()) {
      return absl::FailedPreconditionError(
          "a backup can only be restored into an empty keystore; this one already holds keys");
    }
    for (const auto& [name, id] : names) RETURN_IF_ERROR(tx.Put(kNamesTable, name, AsBytes(id)));
    for (const auto& [record_key, encoded] : records) RETURN_IF_ERROR(tx.Put(kKeysTable, record_key, encoded));
    return absl::OkStatus();
  }));
  ForgetRecords();
  return absl::OkStatus();
}

}  // namespace sigil::keystore
