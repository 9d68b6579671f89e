// ForwardingKeyStore: a KeyStore that passes every call to another one.
// Decorators (fault injection, metrics, per-key rate limits) derive from it
// and override only what they change.
//
// Ownership: borrows `base`, which must outlive this object.
// Thread-safety: as thread-safe as `base`.
#pragma once

#include "keystore/key_store.h"

namespace sigil::keystore {

class ForwardingKeyStore : public KeyStore {
 public:
  explicit ForwardingKeyStore(KeyStore& base) : base_(base) {}

  absl::StatusOr<KeyInfo> Generate(std::string_view name, KeyType type, KeyPurpose purpose) override {
    return base_.Generate(name, type, purpose);
  }
  absl::StatusOr<KeyInfo> Get(std::string_view name_or_id) override { return base_.Get(name_or_id); }
  absl::StatusOr<std::vector<KeyInfo>> List() override { return base_.List(); }
  absl::StatusOr<crypto::RecoverableSignature> SignEcdsa(std::string_view key_id, KeyPurpose purpose,
                                                         const crypto::Hash256& digest) override {
    return base_.SignEcdsa(key_id, purpose, digest);
  }
  absl::StatusOr<crypto::SchnorrSignature> SignSchnorr(std::string_view key_id, KeyPurpose purpose,
                                                       const crypto::Hash256& message) override {
    return base_.SignSchnorr(key_id, purpose, message);
  }
  absl::StatusOr<crypto::Ed25519Signature> SignEd25519(std::string_view key_id, KeyPurpose purpose,
                                                       std::span<const uint8_t> message) override {
    return base_.SignEd25519(key_id, purpose, message);
  }
  absl::StatusOr<KeyInfo> Rotate(std::string_view name_or_id) override { return base_.Rotate(name_or_id); }
  absl::Status Archive(std::string_view name_or_id) override { return base_.Archive(name_or_id); }

 protected:
  KeyStore& base() { return base_; }

 private:
  KeyStore& base_;
};

}  // namespace sigil::keystore
