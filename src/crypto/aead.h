// XChaCha20-Poly1305 (libsodium IETF variant) authenticated encryption.
// Security: a random 24-byte nonce per message is safe; the associated data
// is authenticated, not encrypted. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "base/secret.h"

namespace sigil::crypto {

inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadNonceSize = 24;
inline constexpr size_t kAeadTagSize = 16;

// Returns nonce || ciphertext || tag with a fresh random nonce.
// InvalidArgument if the key is not 32 bytes.
absl::StatusOr<std::vector<uint8_t>> AeadSeal(const SecretBytes& key, std::span<const uint8_t> plaintext,
                                              std::span<const uint8_t> associated_data);
// Opens nonce || ciphertext || tag into locked memory. DataLoss on any
// authentication failure (wrong key, altered bytes, wrong associated data)
// and for input shorter than nonce + tag. InvalidArgument if the key is not
// 32 bytes. Messages never contain key or plaintext bytes.
absl::StatusOr<SecretBytes> AeadOpen(const SecretBytes& key, std::span<const uint8_t> sealed,
                                     std::span<const uint8_t> associated_data);

}  // namespace sigil::crypto
