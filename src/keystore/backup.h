// Backups of the software keystore: one versioned, authenticated, encrypted
// file holding every version of every key (public information and private
// key), and its restore into a new, empty keystore with the same ids, names,
// versions, status, dates and public keys (so the same addresses).
//
// Two ways to protect the file (format in doc/backup.md):
//  * a backup passphrase: key = Argon2id(passphrase, salt), parameters and
//    salt in the file header;
//  * M-of-N shares: a random 32-byte backup key split with Shamir's scheme
//    into N share files (backup_share.h), any M of which restore; fewer fail
//    with a clear error, and shares of another backup are refused.
// The header (magic, version, mode, backup id, creation time, KDF parameters
// or M and N, key count) is authenticated as associated data of the
// XChaCha20-Poly1305 seal around the payload, so any change to the file is
// detected (DataLoss) before anything is restored.
//
// Security: private keys are handled only in SecretBytes; the payload is
// built in locked memory and only its ciphertext leaves. Backups can be
// turned off (BackupOptions::enabled = false); the call then refuses with
// FailedPrecondition and touches nothing.
//
// Thread-safety: the functions are thread-safe if the keystore is.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/secret.h"
#include "crypto/kdf.h"
#include "keystore/backup_share.h"
#include "keystore/software_key_store.h"

namespace sigil::keystore {

inline constexpr int kBackupFormatVersion = 1;
inline constexpr size_t kMaxBackupFileSize = 256u << 20;
inline constexpr size_t kMinBackupPassphraseSize = 8;

struct BackupOptions {
  // Configuration switch: false makes CreateBackup and CreateSharedBackup
  // refuse (FailedPrecondition), e.g. where policy forbids key export.
  bool enabled = true;
  // Cost of deriving the key from a backup passphrase.
  crypto::Argon2Params argon2 = crypto::Argon2Params::Moderate();
  // Time source for the creation date; nullptr means the real clock.
  const Clock* clock = nullptr;
};

enum class BackupProtection { kPassphrase, kShares };

// What the header of a backup file says (readable without any secret).
struct BackupSummary {
  BackupId backup_id{};
  BackupProtection protection = BackupProtection::kPassphrase;
  absl::Time created_at;
  uint32_t key_count = 0;  // key versions in the file
  int threshold = 0;       // kShares only
  int share_count = 0;     // kShares only
};

struct SharedBackup {
  std::vector<uint8_t> file;        // the encrypted backup
  std::vector<SecretBytes> shares;  // N share files (text); store each apart from the others
  BackupSummary summary;
};

// Backup protected by a passphrase (at least 8 characters).
// FailedPrecondition if backups are disabled; InvalidArgument for a short
// passphrase; DataLoss if a key record fails authentication.
[[nodiscard]] absl::StatusOr<std::vector<uint8_t>> CreateBackup(SoftwareKeyStore& keystore,
                                                                const SecretBytes& passphrase,
                                                                const BackupOptions& options);

// Backup protected by M-of-N shares (2 <= M <= N <= 255).
[[nodiscard]] absl::StatusOr<SharedBackup> CreateSharedBackup(SoftwareKeyStore& keystore, int threshold, int count,
                                                              const BackupOptions& options);

// Reads the header. InvalidArgument if this is not a Sigil backup file,
// FailedPrecondition for an unknown format version.
[[nodiscard]] absl::StatusOr<BackupSummary> InspectBackup(std::span<const uint8_t> file);

// Restores a passphrase backup into `target`, which must hold no keys
// (FailedPrecondition otherwise). PermissionDenied "wrong backup passphrase"
// (which also covers a damaged file); FailedPrecondition if the file needs shares.
[[nodiscard]] absl::StatusOr<BackupSummary> RestoreBackup(std::span<const uint8_t> file,
                                                          const SecretBytes& passphrase, SoftwareKeyStore& target);

// Restores a shared backup from share files. FailedPrecondition if fewer
// than M distinct shares are given; InvalidArgument for a share of another
// backup, a repeated share or a malformed file; DataLoss for a damaged share
// or backup file.
[[nodiscard]] absl::StatusOr<BackupSummary> RestoreSharedBackup(std::span<const uint8_t> file,
                                                                std::span<const SecretBytes> share_files,
                                                                SoftwareKeyStore& target);

}  // namespace sigil::keystore
