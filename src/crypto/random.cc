#include "crypto/random.h"

#include <sodium.h>

#include "crypto/internal/sodium_runtime.h"

namespace sigil::crypto {

void RandomBytes(std::span<uint8_t> out) {
  internal::EnsureSodiumInitialized();
  if (!out.empty()) randombytes_buf(out.data(), out.size());
}

SecretBytes RandomSecret(size_t size) {
  SecretBytes secret = SecretBytes::Zeroed(size);
  RandomBytes(secret.RevealMutable(SecretAccess::Get()));
  return secret;
}

}  // namespace sigil::crypto
