#include "testing/memory_key_store.h"

#include <algorithm>
#include <tuple>

#include "base/status.h"
#include "keystore/key_material.h"

namespace sigil::keystore {

MemoryKeyStore::MemoryKeyStore(const Clock* clock) : clock_(clock != nullptr ? *clock : RealClock::Instance()) {}

absl::Time MemoryKeyStore::Now() const { return absl::FromUnixSeconds(clock_.NowUnixSeconds()); }

absl::StatusOr<std::string> MemoryKeyStore::Resolve(std::string_view name_or_id) const {
  if (LooksLikeKeyId(name_or_id)) {
    if (keys_.count(std::string(name_or_id))) return std::string(name_or_id);
    return absl::NotFoundError("no key with id " + std::string(name_or_id));
  }
  auto it = names_.find(name_or_id);
  if (it == names_.end()) return absl::NotFoundError("no key named '" + std::string(name_or_id.substr(0, 64)) + "'");
  return it->second;
}

absl::StatusOr<KeyInfo> MemoryKeyStore::Generate(std::string_view name, KeyType type, KeyPurpose purpose) {
  RETURN_IF_ERROR(ValidateKeyName(name));
  ASSIGN_OR_RETURN(SecretBytes private_key, GeneratePrivateKey(type));
  KeyInfo info;
  info.id = NewKeyId();
  info.name = std::string(name);
  info.type = type;
  info.purpose = purpose;
  info.backend = std::string(kBackendName);
  info.created_at = Now();
  ASSIGN_OR_RETURN(info.public_key, DerivePublicKey(type, private_key));
  absl::MutexLock lock(&mu_);
  if (names_.count(name)) return absl::AlreadyExistsError("a key named '" + info.name + "' already exists");
  names_[info.name] = info.id;
  keys_[info.id].push_back(Version{info, std::make_shared<const SecretBytes>(std::move(private_key))});
  return info;
}

absl::StatusOr<KeyInfo> MemoryKeyStore::Get(std::string_view name_or_id) {
  absl::ReaderMutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::string id, Resolve(name_or_id));
  const auto& versions = keys_.at(id);
  for (const Version& v : versions) {
    if (v.info.status == KeyStatus::kActive) return v.info;
  }
  return versions.back().info;
}

absl::StatusOr<std::vector<KeyInfo>> MemoryKeyStore::List() {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<KeyInfo> out;
  for (const auto& [id, versions] : keys_) {
    for (const Version& v : versions) out.push_back(v.info);
  }
  std::sort(out.begin(), out.end(), [](const KeyInfo& a, const KeyInfo& b) {
    return std::tie(a.name, a.version) < std::tie(b.name, b.version);
  });
  return out;
}

absl::StatusOr<std::shared_ptr<const SecretBytes>> MemoryKeyStore::ActiveKey(std::string_view key_id, KeyType type,
                                                                             KeyPurpose purpose) {
  absl::ReaderMutexLock lock(&mu_);
  if (!LooksLikeKeyId(key_id)) return absl::InvalidArgumentError("signing takes a key id");
  ASSIGN_OR_RETURN(std::string id, Resolve(key_id));
  const auto& versions = keys_.at(id);
  const Version* current = &versions.back();
  for (const Version& v : versions) {
    if (v.info.status == KeyStatus::kActive) current = &v;
  }
  RETURN_IF_ERROR(CheckKeyUsable(current->info, type, purpose));
  return current->private_key;
}

absl::StatusOr<crypto::RecoverableSignature> MemoryKeyStore::SignEcdsa(std::string_view key_id, KeyPurpose purpose,
                                                                       const crypto::Hash256& digest) {
  ASSIGN_OR_RETURN(auto key, ActiveKey(key_id, KeyType::kSecp256k1, purpose));
  return crypto::SignRecoverable(*key, digest);
}

absl::StatusOr<crypto::SchnorrSignature> MemoryKeyStore::SignSchnorr(std::string_view key_id, KeyPurpose purpose,
                                                                     const crypto::Hash256& message) {
  ASSIGN_OR_RETURN(auto key, ActiveKey(key_id, KeyType::kSchnorr, purpose));
  return crypto::SchnorrSign(*key, message);
}

absl::StatusOr<crypto::Ed25519Signature> MemoryKeyStore::SignEd25519(std::string_view key_id, KeyPurpose purpose,
                                                                     std::span<const uint8_t> message) {
  ASSIGN_OR_RETURN(auto key, ActiveKey(key_id, KeyType::kEd25519, purpose));
  return crypto::Ed25519Sign(*key, message);
}

absl::StatusOr<KeyInfo> MemoryKeyStore::Rotate(std::string_view name_or_id) {
  KeyType type;
  {
    absl::ReaderMutexLock lock(&mu_);
    ASSIGN_OR_RETURN(std::string id, Resolve(name_or_id));
    type = keys_.at(id).front().info.type;
  }
  ASSIGN_OR_RETURN(SecretBytes private_key, GeneratePrivateKey(type));
  ASSIGN_OR_RETURN(std::vector<uint8_t> public_key, DerivePublicKey(type, private_key));
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::string id, Resolve(name_or_id));
  auto& versions = keys_.at(id);
  Version& current = versions.back();
  if (current.info.status != KeyStatus::kActive) {
    return absl::FailedPreconditionError("key '" + current.info.name + "' is archived and cannot be rotated");
  }
  const absl::Time now = Now();
  KeyInfo next = current.info;
  current.info.status = KeyStatus::kRetired;
  current.info.retired_at = now;
  next.version += 1;
  next.created_at = now;
  next.retired_at.reset();
  next.public_key = std::move(public_key);
  versions.push_back(Version{next, std::make_shared<const SecretBytes>(std::move(private_key))});
  return next;
}

absl::Status MemoryKeyStore::Archive(std::string_view name_or_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::string id, Resolve(name_or_id));
  const absl::Time now = Now();
  for (Version& v : keys_.at(id)) {
    if (v.info.status == KeyStatus::kArchived) continue;
    v.info.status = KeyStatus::kArchived;
    if (!v.info.retired_at.has_value()) v.info.retired_at = now;
  }
  return absl::OkStatus();
}

}  // namespace sigil::keystore
