// SoftwareKeyStore: the KeyStore backend that keeps every key version as a
// sealed record (sealed_record.h) in a store::Store, under a 32-byte master
// key held in locked memory for the life of the object.
//
// Master key sources:
//  * a passphrase: master = Argon2id(passphrase, salt), parameters and salt
//    stored beside the records; derived once, in Open;
//  * 32 bytes supplied by the caller: a key file (master_key_file.h), or a
//    TPM-sealed secret the tpm2 module unseals.
// A check value in the master key record tells a wrong passphrase or key
// (PermissionDenied "wrong passphrase") from a right one; a failed Open
// writes nothing to the store.
//
// Unlock is lazy: Open derives the master key and reads one record. Key
// records are read, authenticated and unsealed on first use and the private
// keys kept in a bounded LRU cache (options.unsealed_key_cache_size), so a
// keystore with 100,000 keys is usable as soon as Open returns.
//
// Every read of a record checks its MAC and that it is stored under its own
// id and version; tampering, swapping or truncation gives DataLoss naming the
// key.
//
// Record cache: Get and signing serve the verified current record of a key
// from memory for at most options.key_record_max_age (default 1 s) after it
// was read, instead of scanning and authenticating the store on every
// request. Rotate, Archive, Generate, Import and ImportExportedKeys on this
// object drop every cached record when they finish (so they take effect at
// once here), and a read that overlapped one of them is never cached. What
// the cache delays, by at most key_record_max_age, is what only the store can
// tell: a record edited on disk while the daemon runs, a change made by
// another process sharing the store, a store that can no longer be read.
// Such a record is detected at the first read after that age (or after
// DropCaches(), or at the next start). key_record_max_age = 0 reads the store
// on every Get and every signature.
//
// Store tables: keystore_master (one record), keystore_keys ("<id>/<version
// as 10 digits>" -> sealed record), keystore_names (name -> id).
//
// Thread-safety: thread-safe. Ownership: borrows the Store and the Clock,
// which must outlive the keystore.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/secret.h"
#include "crypto/kdf.h"
#include "keystore/key_store.h"
#include "keystore/master_key_record.h"
#include "keystore/sealed_record.h"
#include "keystore/unsealed_key_cache.h"
#include "store/store.h"

namespace sigil::keystore {

struct SoftwareKeyStoreOptions {
  // Time source for created_at / retired_at. nullptr means the real clock.
  const Clock* clock = nullptr;
  // Upper bound on private keys kept unsealed in memory (each costs 32 bytes
  // of locked memory). 0 unseals on every use.
  size_t unsealed_key_cache_size = 10000;
  // Import of existing raw private keys. Off by default: an imported key has
  // existed outside Sigil, and only an administrator may choose to accept that.
  bool allow_import = false;
  // How long a key's verified current record may be served from memory (see
  // the record cache above). ZeroDuration() disables the cache.
  absl::Duration key_record_max_age = absl::Seconds(1);
  // Upper bound on cached records (metadata only, no secret); when it is
  // reached the cache is emptied and refilled by use.
  size_t key_record_cache_size = 10000;
};

// A key version with its private key, as a backup carries it.
struct ExportedKey {
  KeyInfo info;
  SecretBytes private_key;
};

// Passkey for the two calls that move private keys in and out in bulk: only
// the backup code (backup.cc) can make one, so every use is found by grep.
class BackupAccess {
 private:
  BackupAccess() = default;
  friend class BackupCodec;
};

class SoftwareKeyStore final : public KeyStore {
 public:
  static constexpr std::string_view kBackendName = "software";
  static constexpr size_t kMinPassphraseSize = 8;
  static constexpr size_t kMasterKeySize = 32;

  // Store layout (doc/keystore.md): the master key record, the sealed key
  // records under RecordKey(id, version), and the name index.
  static constexpr char kMasterTable[] = "keystore_master";
  static constexpr char kMasterRow[] = "master";
  static constexpr char kKeysTable[] = "keystore_keys";
  static constexpr char kNamesTable[] = "keystore_names";
  // "<id>/<version as 10 digits>", so a prefix scan returns versions in order.
  static std::string RecordKey(std::string_view id, uint32_t version);

  // Sets up a new keystore in `store` unlocked by `passphrase` (at least
  // kMinPassphraseSize bytes). AlreadyExists if the store already holds one.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SoftwareKeyStore>> CreateWithPassphrase(
      store::Store& store, const SecretBytes& passphrase, const crypto::Argon2Params& params,
      const SoftwareKeyStoreOptions& options);
  // Unlocks an existing keystore. PermissionDenied "wrong passphrase";
  // NotFound if the store holds no keystore; FailedPrecondition if it is
  // unlocked by a master key instead.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SoftwareKeyStore>> OpenWithPassphrase(
      store::Store& store, const SecretBytes& passphrase, const SoftwareKeyStoreOptions& options);
  // The same with a 32-byte master key from a key file or a TPM.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SoftwareKeyStore>> CreateWithMasterKey(
      store::Store& store, const SecretBytes& master_key, const SoftwareKeyStoreOptions& options);
  // PermissionDenied "wrong master key".
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SoftwareKeyStore>> OpenWithMasterKey(
      store::Store& store, const SecretBytes& master_key, const SoftwareKeyStoreOptions& options);
  // Whether `store` already holds a keystore (a master key record).
  [[nodiscard]] static absl::StatusOr<bool> Exists(store::Store& store);

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

  // ADMIN ONLY. Adds an existing raw private key (32 bytes) as a new key.
  // PermissionDenied unless options.allow_import; the daemon additionally
  // requires an admin principal. InvalidArgument for an invalid key.
  [[nodiscard]] absl::StatusOr<KeyInfo> Import(std::string_view name, KeyType type, KeyPurpose purpose,
                                               const SecretBytes& private_key);

  // Lends the unsealed private key of the active version of `key_id` to fn
  // for the duration of the call, after the same status/purpose checks as
  // signing (any type). For core code that needs a primitive the KeyStore
  // interface does not offer. fn must not copy the key out of SecretBytes.
  [[nodiscard]] absl::Status WithUnsealedKey(
      std::string_view key_id, KeyPurpose purpose,
      absl::FunctionRef<absl::Status(const KeyInfo&, const SecretBytes&)> fn);

  // Wipes every cached private key (they are unsealed again on next use).
  void DropUnsealedKeys() { cache_.Clear(); }
  // Drops the cached records and private keys: the next use of every key
  // reads, authenticates and unseals its records again.
  void DropCaches();
  size_t unsealed_key_count() const { return cache_.size(); }

  // Backup support (backup.h): every version of every key with its private
  // key, and the reverse into an empty keystore (FailedPrecondition if it
  // holds any key), written in one transaction with ids, names, versions,
  // status and dates unchanged.
  [[nodiscard]] absl::StatusOr<std::vector<ExportedKey>> ExportKeys(BackupAccess);
  [[nodiscard]] absl::Status ImportExportedKeys(BackupAccess, const std::vector<ExportedKey>& keys);

 private:
  SoftwareKeyStore(store::Store& store, std::unique_ptr<RecordSealer> sealer, const SoftwareKeyStoreOptions& options);
  // Writes the master key record (with a fresh check value) to an empty store.
  static absl::StatusOr<std::unique_ptr<SoftwareKeyStore>> Initialize(store::Store& store, MasterKeyRecord record,
                                                                      const SecretBytes& master,
                                                                      const SoftwareKeyStoreOptions& options);
  // Checks `master` against the record's check value; PermissionDenied `wrong` if it fails.
  static absl::StatusOr<std::unique_ptr<SoftwareKeyStore>> Unlock(store::Store& store, const MasterKeyRecord& record,
                                                                  const SecretBytes& master, std::string_view wrong,
                                                                  const SoftwareKeyStoreOptions& options);
  static absl::StatusOr<MasterKeyRecord> ReadMasterKeyRecord(store::Store& store);

  absl::Time Now() const;
  absl::StatusOr<KeyInfo> AddKey(std::string_view name, KeyType type, KeyPurpose purpose,
                                 const SecretBytes& private_key);
  // The unsealed private key of the active version of `key_id`, after
  // CheckKeyUsable(type, purpose); fills *info.
  absl::StatusOr<std::shared_ptr<const SecretBytes>> ActiveKey(std::string_view key_id, const KeyType* type,
                                                               KeyPurpose purpose, KeyInfo* info);
  // The verified current record (the active version, or for an archived key
  // the latest) of the key named or with id `name_or_id`, from the record
  // cache when fresh, else read and authenticated from the store.
  absl::StatusOr<std::shared_ptr<const SealedKeyRecord>> CurrentRecord(std::string_view name_or_id);
  // Empties the record cache and invalidates reads still in flight; called
  // after every change to the key records.
  void ForgetRecords();

  struct CachedRecord {
    std::shared_ptr<const SealedKeyRecord> record;
    absl::Time read_at;  // taken before the store was read
  };

  store::Store& store_;
  const std::unique_ptr<RecordSealer> sealer_;
  const Clock& clock_;
  const SoftwareKeyStoreOptions options_;
  UnsealedKeyCache cache_;

  absl::Mutex records_mu_;
  // By the name or id it was looked up with.
  absl::flat_hash_map<std::string, CachedRecord> records_ ABSL_GUARDED_BY(records_mu_);
  // Bumped by ForgetRecords: a read that started under an older generation
  // may have seen the store before a change and is not cached.
  uint64_t records_generation_ ABSL_GUARDED_BY(records_mu_) = 0;
};

}  // namespace sigil::keystore
