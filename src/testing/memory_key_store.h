// MemoryKeyStore: a KeyStore fake that keeps keys in process memory (in
// SecretBytes) with real key generation and real signatures, for tests of
// code that signs (core, audit, attest) without a store or a passphrase.
// It follows the whole KeyStore contract (key_store.h); nothing persists.
// Backend name "memory".
//
// Thread-safety: thread-safe (one mutex; signing happens outside it).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/clock.h"
#include "keystore/key_store.h"

namespace sigil::keystore {

class MemoryKeyStore final : public KeyStore {
 public:
  static constexpr std::string_view kBackendName = "memory";

  // Borrows `clock` (nullptr: the real clock).
  explicit MemoryKeyStore(const Clock* clock = nullptr);

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
  struct Version {
    KeyInfo info;
    std::shared_ptr<const SecretBytes> private_key;
  };

  absl::Time Now() const;
  // The id for a name or id, or NotFound.
  absl::StatusOr<std::string> Resolve(std::string_view name_or_id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::shared_ptr<const SecretBytes>> ActiveKey(std::string_view key_id, KeyType type,
                                                               KeyPurpose purpose);

  const Clock& clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::vector<Version>> keys_ ABSL_GUARDED_BY(mu_);  // id -> versions 1..n
  std::map<std::string, std::string, std::less<>> names_ ABSL_GUARDED_BY(mu_);  // name -> id
};

}  // namespace sigil::keystore
