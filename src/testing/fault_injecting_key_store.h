// FaultInjectingKeyStore: a KeyStore decorator that makes chosen calls fail
// with a chosen status, so tests can drive the core through a keystore that
// is unreachable (an HSM unplugged: Unavailable), refuses (PermissionDenied),
// or reports tampering (DataLoss).
//
// "Sign" calls are SignEcdsa, SignSchnorr and SignEd25519, counted from 1
// since construction or the last Heal(); "changes" are Generate, Rotate and
// Archive. A failed call is not forwarded.
//
// Ownership: borrows `base`. Thread-safety: thread-safe.
#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "keystore/forwarding_key_store.h"

namespace sigil::keystore {

class FaultInjectingKeyStore final : public ForwardingKeyStore {
 public:
  explicit FaultInjectingKeyStore(KeyStore& base) : ForwardingKeyStore(base) {}

  // Every sign call fails with `status` until Heal().
  void FailSigning(absl::Status status);
  // Only the n-th sign call from now fails with `status`.
  void FailNthSign(int n, absl::Status status);
  // Generate, Rotate and Archive fail with `status` until Heal().
  void FailChanges(absl::Status status);
  // Get and List fail with `status` until Heal().
  void FailReads(absl::Status status);
  void Heal();
  int signs_seen() const;

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
  absl::Status NextSign();
  absl::Status ChangeFault() const;
  absl::Status ReadFault() const;

  mutable absl::Mutex mu_;
  int signs_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status sign_fault_ ABSL_GUARDED_BY(mu_);
  int nth_sign_ ABSL_GUARDED_BY(mu_) = 0;  // 0 = off
  absl::Status nth_sign_fault_ ABSL_GUARDED_BY(mu_);
  absl::Status change_fault_ ABSL_GUARDED_BY(mu_);
  absl::Status read_fault_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::keystore
