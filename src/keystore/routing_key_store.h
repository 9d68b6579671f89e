// RoutingKeyStore: one KeyStore over several backends ("software",
// "pkcs11", ...), so the rest of Sigil signs without knowing where a key
// lives.
//
//  * Generate goes to the default backend; GenerateOn to the one named.
//    A name is unique across all backends: AlreadyExists if any holds it.
//  * Get, sign calls, Rotate and Archive go to the backend that holds the
//    key (remembered by id after the first lookup).
//  * List merges every backend, ordered by name, then version.
//
// Failure codes: those of the backend that answers; InvalidArgument for an
// unknown backend name; NotFound if no backend holds the key. A backend that
// is Unavailable makes lookups of keys it might hold Unavailable too (rather
// than NotFound), so a missing token never looks like a missing key.
//
// Ownership: borrows every backend; they must outlive the router.
// Thread-safety: thread-safe if the backends are.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "keystore/key_store.h"

namespace sigil::keystore {

class RoutingKeyStore final : public KeyStore {
 public:
  // `default_backend` answers Generate; its name is e.g. "software".
  RoutingKeyStore(std::string default_name, KeyStore& default_backend);

  // Adds a backend under `name` (must be new). Not thread-safe: add every
  // backend before the router is shared.
  void AddBackend(std::string name, KeyStore& backend);
  bool HasBackend(std::string_view name) const;
  std::vector<std::string> BackendNames() const;

  // A new key on the named backend.
  [[nodiscard]] absl::StatusOr<KeyInfo> GenerateOn(std::string_view backend, std::string_view name, KeyType type,
                                                   KeyPurpose purpose);

  // KeyStore.
  absl::StatusOr<KeyInfo> Generate(std::string_view name, KeyType type, KeyPurpose purpose) override;
  absl::StatusOr<KeyInfo> Get(std::string_view name_or_id) override;
  absl::StatusOr<std::vector<KeyInfo>> List() override;
  absl::StatusOr<crypto::RecoverableSignature> SignEcdsa(std::string_view key_id, KeyPurpose purpose,
                                                         const crypto::Hash256& digest) override;
  absl::StatusOr<crypto::SchnorrSignature> SignSchnorr(std::string_view key_id, KeyPurpose purpose,
                                                       const crypto::Hash256& message) override;
  absl::StatusOr<crypto::Ed25519Signature> SignEd25519(std::string_view key_id, KeyPurpose purpose,
                                                       std::span<const uint8_t> message) override;
  absl::StatusOr<KeyInfo> Rotate(std::string_view name_or_id) override;
  absl::Status Archive(std::string_view name_or_id) override;

 private:
  // The backend holding `name_or_id`.
  absl::StatusOr<KeyStore*> BackendOf(std::string_view name_or_id);

  std::vector<std::pair<std::string, KeyStore*>> backends_;  // default first
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, KeyStore*> by_id_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::keystore
