// Key derivation: Argon2id for passphrases, HKDF-SHA256 for subkeys.
// Thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/secret.h"

namespace sigil::crypto {

struct Argon2Params {
  uint64_t ops_limit;   // iterations
  uint64_t mem_limit;   // bytes
  // libsodium's MODERATE (3 passes, 256 MiB): the default for passphrases.
  static Argon2Params Moderate();
  // Cheap parameters for tests only.
  static Argon2Params ForTesting();
};

inline constexpr size_t kArgon2SaltSize = 16;

// Argon2id(passphrase, salt) -> out_len bytes. Refuses parameters below
// libsodium's minimums and salts that are not 16 bytes.
// InvalidArgument: salt size, ops/mem limits outside libsodium's range,
// out_len outside [16, 1024]. ResourceExhausted: mem_limit bytes could not be
// allocated. An empty passphrase is allowed (the caller decides policy).
absl::StatusOr<SecretBytes> Argon2id(const SecretBytes& passphrase, std::span<const uint8_t> salt,
                                     const Argon2Params& params, size_t out_len = 32);

// HKDF-SHA256 (RFC 5869) extract-and-expand. An empty salt means the RFC's
// default (32 zero bytes). InvalidArgument: empty ikm, or out_len outside
// [1, 8160] (255 * HashLen).
absl::StatusOr<SecretBytes> HkdfSha256(const SecretBytes& ikm, std::span<const uint8_t> salt,
                                       std::string_view info, size_t out_len);

}  // namespace sigil::crypto
