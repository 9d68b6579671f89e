// The master key file: 32 raw random bytes that unlock a software keystore
// instead of a passphrase (SoftwareKeyStore::OpenWithMasterKey). Whoever can
// read the file can unseal every key, so it must be readable by its owner
// only.
//
// Thread-safe (no shared state).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/secret.h"

namespace sigil::keystore {

// Reads the key. NotFound if the file does not exist; FailedPrecondition if
// it is not a regular file or group/others may read or write it (the message
// gives the chmod that fixes it); InvalidArgument if it is not exactly 32
// bytes; Unavailable if it cannot be read.
absl::StatusOr<SecretBytes> ReadMasterKeyFile(const std::string& path);

// Writes 32 fresh random bytes to a new file with mode 0600, fsynced.
// AlreadyExists if the file exists (a key file is never overwritten).
absl::Status CreateMasterKeyFile(const std::string& path);

}  // namespace sigil::keystore
