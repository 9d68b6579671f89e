#include "crypto/aead.h"

#include <sodium.h>

#include <string>

#include "crypto/internal/sodium_runtime.h"
#include "crypto/random.h"

namespace sigil::crypto {
namespace {

static_assert(kAeadKeySize == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kAeadNonceSize == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kAeadTagSize == crypto_aead_xchacha20poly1305_ietf_ABYTES);

absl::Status CheckKey(const SecretBytes& key) {
  if (key.size() != kAeadKeySize) {
    return absl::InvalidArgumentError("AEAD key must be 32 bytes, got " + std::to_string(key.size()));
  }
  return absl::OkStatus();
}

// libsodium feeds these pointers to memcpy-like code; never pass null, even
// for an empty buffer.
const uint8_t* NonNull(std::span<const uint8_t> bytes) {
  static const uint8_t kEmpty = 0;
  return bytes.empty() ? &kEmpty : bytes.data();
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> AeadSeal(const SecretBytes& key, std::span<const uint8_t> plaintext,
                                              std::span<const uint8_t> associated_data) {
  if (absl::Status st = CheckKey(key); !st.ok()) return st;
  if (plaintext.size() > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX) {
    return absl::InvalidArgumentError("AEAD plaintext is too long");
  }
  internal::EnsureSodiumInitialized();
  std::vector<uint8_t> sealed(kAeadNonceSize + plaintext.size() + kAeadTagSize);
  // 192-bit random nonces: collisions are negligible even for 2^64 messages
  // under one key, so no nonce state has to be kept.
  RandomBytes(std::span<uint8_t>(sealed.data(), kAeadNonceSize));
  unsigned long long ciphertext_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data() + kAeadNonceSize, &ciphertext_len, NonNull(plaintext),
                                                 plaintext.size(), NonNull(associated_data), associated_data.size(),
                                                 nullptr, sealed.data(), key.Reveal(SecretAccess::Get()).data()) != 0 ||
      ciphertext_len != plaintext.size() + kAeadTagSize) {
    return absl::InternalError("XChaCha20-Poly1305 encryption failed");
  }
  return sealed;
}

absl::StatusOr<SecretBytes> AeadOpen(const SecretBytes& key, std::span<const uint8_t> sealed,
                                     std::span<const uint8_t> associated_data) {
  if (absl::Status st = CheckKey(key); !st.ok()) return st;
  if (sealed.size() < kAeadNonceSize + kAeadTagSize) {
    return absl::DataLossError("sealed data is shorter than nonce and tag (" + std::to_string(sealed.size()) +
                               " bytes): truncated or not sealed by Sigil");
  }
  internal::EnsureSodiumInitialized();
  const std::span<const uint8_t> nonce = sealed.first(kAeadNonceSize);
  const std::span<const uint8_t> ciphertext = sealed.subspan(kAeadNonceSize);
  // Decrypt straight into locked memory; libsodium verifies the tag before
  // writing any plaintext.
  SecretBytes plaintext = SecretBytes::Zeroed(ciphertext.size() - kAeadTagSize);
  uint8_t scratch = 0;
  uint8_t* out = plaintext.empty() ? &scratch : plaintext.RevealMutable(SecretAccess::Get()).data();
  unsigned long long plaintext_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &plaintext_len, nullptr, ciphertext.data(), ciphertext.size(),
                                                 NonNull(associated_data), associated_data.size(), nonce.data(),
                                                 key.Reveal(SecretAccess::Get()).data()) != 0) {
    return absl::DataLossError(
        "authentication failed: wrong key, wrong associated data, or the sealed bytes were altered");
  }
  return plaintext;
}

}  // namespace sigil::crypto
