#include "keystore/routing_key_store.h"

#include <algorithm>
#include <tuple>

#include "base/status.h"

namespace sigil::keystore {

RoutingKeyStore::RoutingKeyStore(std::string default_name, KeyStore& default_backend) {
  backends_.emplace_back(std::move(default_name), &default_backend);
}

void RoutingKeyStore::AddBackend(std::string name, KeyStore& backend) { backends_.emplace_back(std::move(name), &backend); }

bool RoutingKeyStore::HasBackend(std::string_view name) const {
  return std::any_of(backends_.begin(), backends_.end(), [&](const auto& b) { return b.first == name; });
}

std::vector<std::string> RoutingKeyStore::BackendNames() const {
  std::vector<std::string> names;
  for (const auto& b : backends_) names.push_back(b.first);
  return names;
}

absl::StatusOr<KeyStore*> RoutingKeyStore::BackendOf(std::string_view name_or_id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = by_id_.find(std::string(name_or_id));
    if (it != by_id_.end()) return it->second;
  }
  absl::Status unavailable;
  for (const auto& [name, backend] : backends_) {
    auto info = backend->Get(name_or_id);
    if (info.ok()) {
      absl::MutexLock lock(&mu_);
      by_id_[info->id] = backend;
      return backend;
    }
    if (info.status().code() != absl::StatusCode::kNotFound && unavailable.ok()) unavailable = info.status();
  }
  if (!unavailable.ok()) return unavailable;
  return absl::NotFoundError("no key named or with id '" + std::string(name_or_id.substr(0, 80)) + "'");
}

absl::StatusOr<KeyInfo> RoutingKeyStore::GenerateOn(std::string_view backend, std::string_view name, KeyType type,
                                                    KeyPurpose purpose) {
  KeyStore* target = nullptr;
  for (const auto& [n, b] : backends_) {
    if (n == backend) target = b;
  }
  if (target == nullptr) {
    std::string known;
    for (const auto& b : backends_) known += (known.empty() ? "" : ", ") + b.first;
    return absl::InvalidArgumentError("no keystore backend '" + std::string(backend) + "' is configured (configured: " +
                                      known + ")");
  }
  RETURN_IF_ERROR(ValidateKeyName(name));
  for (const auto& [n, b] : backends_) {
    if (b == target) continue;  // the target checks its own names atomically
    auto existing = b->Get(name);
    if (existing.ok()) return absl::AlreadyExistsError("a key named '" + std::string(name) + "' already exists");
    if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
  }
  ASSIGN_OR_RETURN(KeyInfo info, target->Generate(name, type, purpose));
  absl::MutexLock lock(&mu_);
  by_id_[info.id] = target;
  return info;
}

absl::StatusOr<KeyInfo> RoutingKeyStore::Generate(std::string_view name, KeyType type, KeyPurpose purpose) {
  return GenerateOn(backends_.front().first, name, type, purpose);
}

absl::StatusOr<KeyInfo> RoutingKeyStore::Get(std::string_view name_or_id) {
  ASSIGN_OR_RETURN(KeyStore* backend, BackendOf(name_or_id));
  return backend->Get(name_or_id);
}

absl::StatusOr<std::vector<KeyInfo>> RoutingKeyStore::List() {
  std::vector<KeyInfo> all;
  for (const auto& [name, backend] : backends_) {
    ASSIGN_OR_RETURN(auto keys, backend->List());
    all.insert(all.end(), std::make_move_iterator(keys.begin()), std::make_move_iterator(keys.end()));
  }
  std::stable_sort(all.begin(), all.end(), [](const KeyInfo& a, const KeyInfo& b) {
    return std::tie(a.name, a.version) < std::tie(b.name, b.version);
  });
  return all;
}

// Signing takes an id; a name is passed to the default backend, which
// refuses it with the contract's InvalidArgument.
absl::StatusOr<crypto::RecoverableSignature> RoutingKeyStore::SignEcdsa(std::string_view key_id, KeyPurpose purpose,
                                                                        const crypto::Hash256& digest) {
  if (!LooksLikeKeyId(key_id)) return backends_.front().second->SignEcdsa(key_id, purpose, digest);
  ASSIGN_OR_RETURN(KeyStore* backend, BackendOf(key_id));
  return backend->SignEcdsa(key_id, purpose, digest);
}

absl::StatusOr<crypto::SchnorrSignature> RoutingKeyStore::SignSchnorr(std::string_view key_id, KeyPurpose purpose,
                                                                      const crypto::Hash256& message) {
  if (!LooksLikeKeyId(key_id)) return backends_.front().second->SignSchnorr(key_id, purpose, message);
  ASSIGN_OR_RETURN(KeyStore* backend, BackendOf(key_id));
  return backend->SignSchnorr(key_id, purpose, message);
}

absl::StatusOr<crypto::Ed25519Signature> RoutingKeyStore::SignEd25519(std::string_view key_id, KeyPurpose purpose,
                                                                      std::span<const uint8_t> message) {
  if (!LooksLikeKeyId(key_id)) return backends_.front().second->SignEd25519(key_id, purpose, message);
  ASSIGN_OR_RETURN(KeyStore* backend, BackendOf(key_id));
  return backend->SignEd25519(key_id, purpose, message);
}

absl::StatusOr<KeyInfo> RoutingKeyStore::Rotate(std::string_view name_or_id) {
  ASSIGN_OR_RETURN(KeyStore* backend, BackendOf(name_or_id));
  return backend->Rotate(name_or_id);
}

absl::Status RoutingKeyStore::Archive(std::string_view name_or_id) {
  ASSIGN_OR_RETURN(KeyStore* backend, BackendOf(name_or_id));
  return backend->Archive(name_or_id);
}

}  // namespace sigil::keystore
