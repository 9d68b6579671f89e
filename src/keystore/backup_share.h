// The backup share file: one of the N pieces of a Shamir-split backup key
// (backup.h, CreateSharedBackup). Self-describing text, meant to be stored
// (or printed) separately from the others; the format is in doc/backup.md:
//
//   sigil-backup-share 1
//   backup-id <32 hex digits>
//   threshold <M>
//   count <N>
//   index <1..N>
//   share <64 hex digits>
//   checksum <8 hex digits: first 4 bytes of SHA-256 over the lines above>
//
// The checksum catches a damaged or mistyped share file; it is not a
// security check (the backup's authentication tag is). The share bytes are
// secret and are kept in SecretBytes, including the file text itself.
//
// Thread-safe (no shared state).
#pragma once

#include <array>
#include <cstdint>

#include "absl/status/statusor.h"
#include "base/secret.h"
#include "keystore/shamir.h"

namespace sigil::keystore {

inline constexpr int kBackupShareFormatVersion = 1;
inline constexpr size_t kMaxBackupShareFileSize = 1024;

using BackupId = std::array<uint8_t, 16>;

struct BackupShare {
  BackupId backup_id{};
  int threshold = 0;
  int count = 0;
  SecretShare share;
};

// The file text. REQUIRES: a well-formed share (1 <= index <= count <= 255).
SecretBytes EncodeBackupShare(const BackupShare& share);

// Parses a share file. InvalidArgument if it is not one (with the line that
// is wrong); DataLoss if the checksum does not match (damaged or mistyped);
// FailedPrecondition for an unknown format version.
absl::StatusOr<BackupShare> DecodeBackupShare(const SecretBytes& file);

}  // namespace sigil::keystore
