#include "crypto/internal/secp256k1_context.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "base/secret.h"
#include "crypto/random.h"

namespace sigil::crypto::internal {

const secp256k1_context* Secp256k1Context() {
  static const secp256k1_context* const ctx = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (c == nullptr) {
      std::fputs("sigil: secp256k1_context_create failed\n", stderr);
      std::abort();
    }
    std::array<uint8_t, 32> seed;
    RandomBytes(seed);
    const int ok = secp256k1_context_randomize(c, seed.data());
    SecureWipe(seed);
    if (!ok) {
      std::fputs("sigil: secp256k1_context_randomize failed\n", stderr);
      std::abort();
    }
    return c;
  }();
  return ctx;
}

}  // namespace sigil::crypto::internal
