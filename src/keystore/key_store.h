// KeyStore: where private keys live and the only thing that signs with them.
//
// Security contract: private keys never leave a KeyStore through this
// interface -- there is no call that returns one -- so a backend may keep
// them where they cannot be extracted (a PKCS#11 token generates them
// non-extractable; the software backend keeps them sealed at rest and
// unsealed only in locked memory). A key signs only with the scheme of its
// type and only for its purpose; a retired or archived version never signs.
// Signatures are made over exactly the digest or message given.
//
// Keys: a key has a stable id and a unique name; each rotation adds a new
// version with a new key pair and retires the previous version
// (verify-only). KeyInfo describes one version. Lookups accept the name or
// the id; signing takes the id, and always uses the active version.
//
// Backends: SoftwareKeyStore (sealed records in a store::Store, master key
// from a passphrase, a key file or a TPM), a PKCS#11 backend, and the memory
// fake in src/testing. Only daemon/ picks one.
//
// Failure codes shared by every backend:
//  * NotFound: no key with that name or id.
//  * AlreadyExists: Generate with a name already in use (names are never reused,
//    not even after Archive).
//  * InvalidArgument: a bad name; a key used with the wrong scheme.
//  * PermissionDenied: a key used for a purpose other than its own.
//  * FailedPrecondition: signing with an archived key; rotating an archived key.
//  * DataLoss: a stored key record failed authentication (tampered, swapped or
//    truncated); the message names the key.
//  * Unavailable: the backing store, token or TPM cannot be reached or written;
//    nothing was changed.
//
// Thread-safety: every implementation is safe to call from many threads.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "keystore/key_info.h"

namespace sigil::keystore {

class KeyStore {
 public:
  virtual ~KeyStore() = default;

  // A new key (version 1, active) with a fresh key pair.
  [[nodiscard]] virtual absl::StatusOr<KeyInfo> Generate(std::string_view name, KeyType type,
                                                         KeyPurpose purpose) = 0;
  // The current version of a key (the active one; for an archived key, the
  // latest), by name or id.
  [[nodiscard]] virtual absl::StatusOr<KeyInfo> Get(std::string_view name_or_id) = 0;
  // Every version of every key, ordered by name, then version.
  [[nodiscard]] virtual absl::StatusOr<std::vector<KeyInfo>> List() = 0;

  // ECDSA over a 32-byte digest (RFC 6979, low-s, with recovery id) with a
  // kSecp256k1 key.
  [[nodiscard]] virtual absl::StatusOr<crypto::RecoverableSignature> SignEcdsa(std::string_view key_id,
                                                                               KeyPurpose purpose,
                                                                               const crypto::Hash256& digest) = 0;
  // BIP-340 Schnorr over a 32-byte message with a kSchnorr key.
  [[nodiscard]] virtual absl::StatusOr<crypto::SchnorrSignature> SignSchnorr(std::string_view key_id,
                                                                             KeyPurpose purpose,
                                                                             const crypto::Hash256& message) = 0;
  // Ed25519 over a message with a kEd25519 key.
  [[nodiscard]] virtual absl::StatusOr<crypto::Ed25519Signature> SignEd25519(std::string_view key_id,
                                                                             KeyPurpose purpose,
                                                                             std::span<const uint8_t> message) = 0;

  // Retires the active version (verify-only, retired_at = now) and makes a
  // new version with a new key pair, same type and purpose. Returns it.
  [[nodiscard]] virtual absl::StatusOr<KeyInfo> Rotate(std::string_view name_or_id) = 0;
  // Takes every version of the key out of service for good. Its public keys
  // stay listed; its name stays taken.
  [[nodiscard]] virtual absl::Status Archive(std::string_view name_or_id) = 0;
};

}  // namespace sigil::keystore
