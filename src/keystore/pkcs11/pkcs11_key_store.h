// Pkcs11KeyStore: the KeyStore backend whose private keys are generated
// inside a PKCS#11 token and never leave it.
//
// Keys: secp256k1 (CKM_EC_KEY_PAIR_GEN on the secp256k1 OID; signs with
// CKM_ECDSA over the 32-byte digest, then Sigil normalises s to low-s and
// finds the recovery id against the stored public key, so the result is a
// valid Ethereum signature) and ed25519 (CKM_EC_EDWARDS_KEY_PAIR_GEN on
// "edwards25519"; signs with CKM_EDDSA over the message, checked against the
// stored public key before it is returned). BIP-340 Schnorr has no PKCS#11
// mechanism: Generate and SignSchnorr refuse it with InvalidArgument.
//
// Security property: private keys are created with CKA_TOKEN, CKA_PRIVATE,
// CKA_SIGN, CKA_SENSITIVE = true and CKA_EXTRACTABLE = false. After
// generation, at Open, and whenever a key's token object is looked up again
// (after a token reset), Sigil reads CKA_SENSITIVE, CKA_EXTRACTABLE,
// CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE back. A key that fails
// (extractable now or ever, not sensitive, or missing from the token) is
// refused for signing (FailedPrecondition naming the key and the attribute)
// and listed by Problems() for the daemon to report.
//
// Generation: C_GenerateKeyPair is tried up to three times when the token
// answers CKR_GENERAL_ERROR (SoftHSM2 does so now and then under load), and
// rerun once on a fresh session when the session is lost; token objects
// made by an attempt that does not become the key are destroyed.
//
// Metadata (id, name, version, type, purpose, status, dates, public key, and
// the CKA_ID of the token objects) lives in the Sigil store, tables
// pkcs11_keys ("<id>/<version as 10 digits>" -> JSON record, doc/hsm.md) and
// pkcs11_names (name -> id). Rotation generates a new key pair in the token
// and retires the old version (verify-only); Archive retires every version
// and leaves the token objects in place (deleting a private key cannot be
// undone, so it is left to the token's administrator).
//
// Failure codes: those of key_store.h; Unavailable whenever the token cannot
// be reached (removed, reset and not back yet) -- signing resumes by itself
// when it returns; PermissionDenied for a PIN the token refuses. Messages
// carry the PKCS#11 code name and a sentence (pkcs11_error.h).
//
// Thread-safety: thread-safe; signatures run in parallel on pooled sessions.
// Ownership: borrows the Store and the Clock; owns the session pool.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "base/clock.h"
#include "crypto/secp256k1_key_table.h"
#include "keystore/key_store.h"
#include "keystore/pkcs11/session_pool.h"
#include "store/store.h"

namespace sigil::keystore::pkcs11 {

struct Pkcs11KeyStoreOptions {
  // Time source for created_at / retired_at. nullptr means the real clock.
  const Clock* clock = nullptr;
};

// A key version whose token object failed verification.
struct KeyProblem {
  std::string key_id;
  std::string name;
  uint32_t version = 0;
  std::string reason;  // e.g. "CKA_EXTRACTABLE is true on the token"
};

class Pkcs11KeyStore final : public KeyStore {
 public:
  static constexpr std::string_view kBackendName = "pkcs11";
  static constexpr char kKeysTable[] = "pkcs11_keys";
  static constexpr char kNamesTable[] = "pkcs11_names";

  // Opens the keystore over `pool` and verifies the token objects of every
  // active key version (see above). Keys that fail do not make Open fail:
  // they are refused and reported by Problems(). Unavailable if the token
  // cannot be reached.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Pkcs11KeyStore>> Open(store::Store& store,
                                                                             std::unique_ptr<SessionPool> pool,
                                                                             const Pkcs11KeyStoreOptions& options);

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

  // Verifies the token objects of every active key version again (as at
  // Open); returns the problems found. Unavailable if the token is absent.
  [[nodiscard]] absl::StatusOr<std::vector<KeyProblem>> VerifyKeys();
  // The key versions refused since Open, with the reason.
  std::vector<KeyProblem> Problems() const;

  // The CKA_ID (hex) of the token objects of a key version, for operators
  // and tests that inspect the token. NotFound if there is no such version.
  [[nodiscard]] absl::StatusOr<std::string> TokenObjectId(std::string_view key_id, uint32_t version);

  SessionPool& pool() { return *pool_; }

  struct Record;  // the stored metadata of one key version (in the .cc)

 private:
  Pkcs11KeyStore(store::Store& store, std::unique_ptr<SessionPool> pool, const Pkcs11KeyStoreOptions& options);

  absl::Time Now() const;
  absl::StatusOr<std::string> ResolveId(std::string_view name_or_id);
  absl::StatusOr<std::vector<Record>> ReadVersions(std::string_view key_id);
  // Creates a key pair in the token; returns its CKA_ID (hex) and public key.
  absl::Status GenerateInToken(KeyType type, std::string_view label, Record* record);
  // Destroys the token objects Sigil made under CKA_ID cka_id_hex and label.
  absl::Status DestroyInToken(const std::string& cka_id_hex, std::string_view label);
  // st (a failed store write after generation), after the new pair is
  // destroyed; says so if it could not be.
  absl::Status WithCleanup(absl::Status st, const std::string& cka_id_hex, std::string_view label);
  // The active version of key_id after CheckKeyUsable and the refusal list.
  absl::StatusOr<std::shared_ptr<const Record>> ActiveRecord(std::string_view key_id, KeyType type,
                                                          KeyPurpose purpose);
  // Finds the private key object for a record in `session`, verifying its
  // attributes when it is not cached for the current pool generation;
  // *from_cache (if given) tells whether the handle came from the cache.
  Pkcs11Call FindPrivateKey(CK_FUNCTION_LIST& f, CK_SESSION_HANDLE session, const Record& record,
                            CK_OBJECT_HANDLE* handle, std::string* problem, bool* from_cache = nullptr);
  // Drops the cached handle of a record if it is still `handle`.
  void ForgetHandle(const Record& record, CK_OBJECT_HANDLE handle);
  void Refuse(const Record& record, const std::string& reason);
  void ForgetLatest(const std::string& key_id);
  absl::Status RefusalOf(const Record& record) const;
  // The record's KeyInfo with `refused` set if the key is refused.
  KeyInfo InfoWithRefusal(const Record& record) const;
  // Signs `data` with `mechanism` using the record's private key.
  absl::Status SignInToken(const Record& record, CK_MECHANISM_TYPE mechanism, std::span<const uint8_t> data,
                           std::span<uint8_t> signature);

  store::Store& store_;
  const std::unique_ptr<SessionPool> pool_;
  const Clock& clock_;
  absl::Mutex write_mu_;  // serialises Generate/Rotate/Archive in this process

  struct CachedHandle {
    CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
    uint64_t generation = 0;
  };
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, CachedHandle> handles_ ABSL_GUARDED_BY(mu_);  // by CKA_ID hex
  absl::flat_hash_map<std::string, KeyProblem> problems_ ABSL_GUARDED_BY(mu_);   // by CKA_ID hex
  // The latest version of each key signed with, by key id, so that signing
  // does not read and decode the store every time. Dropped by Rotate and
  // Archive (which hold write_mu_); this process is the only writer.
  absl::flat_hash_map<std::string, std::shared_ptr<const Record>> latest_ ABSL_GUARDED_BY(mu_);
  uint64_t forgotten_ ABSL_GUARDED_BY(mu_) = 0;  // ForgetLatest calls so far
  // Precomputed multiples of the secp256k1 keys that sign, so checking the
  // token's signature and finding its recovery id costs about half of the
  // generic path (built at a key's first signature, ~20 ms).
  crypto::Secp256k1KeyTableCache tables_{/*capacity=*/16, /*min_uses=*/1};
};

}  // namespace sigil::keystore::pkcs11
