// CheckpointSigner: the audit log's one capability over the audit signing
// key. The keystore implements it so the key never leaves custody; tests use
// Ed25519SeedSigner.
//
// Contract: Sign returns an Ed25519 signature over exactly `message` that
// verifies under PublicKey(). An error (e.g. keystore unavailable) is
// returned as a Status; AuditLog keeps appending records and retries the
// checkpoint on the next batch. PublicKey() never changes for one instance.
// Thread-safety: the log calls Sign from one thread at a time, but not always
// the same thread; PublicKey() may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/statusor.h"
#include "base/secret.h"
#include "crypto/ed25519.h"

namespace sigil::audit {

class CheckpointSigner {
 public:
  virtual ~CheckpointSigner() = default;
  [[nodiscard]] virtual absl::StatusOr<crypto::Ed25519Signature> Sign(std::span<const uint8_t> message) = 0;
  virtual crypto::Ed25519PublicKey PublicKey() const = 0;
};

// A CheckpointSigner over an Ed25519 seed held in SecretBytes (tests, dev
// mode). Thread-safe.
class Ed25519SeedSigner final : public CheckpointSigner {
 public:
  // InvalidArgument unless the seed is 32 bytes.
  static absl::StatusOr<std::unique_ptr<Ed25519SeedSigner>> Create(SecretBytes seed);

  absl::StatusOr<crypto::Ed25519Signature> Sign(std::span<const uint8_t> message) override;
  crypto::Ed25519PublicKey PublicKey() const override { return public_key_; }

 private:
  Ed25519SeedSigner(SecretBytes seed, const crypto::Ed25519PublicKey& public_key)
      : seed_(std::move(seed)), public_key_(public_key) {}

  const SecretBytes seed_;
  const crypto::Ed25519PublicKey public_key_;
};

}  // namespace sigil::audit
