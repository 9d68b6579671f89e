#include "crypto/internal/sodium_runtime.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace sigil::crypto::internal {

void EnsureSodiumInitialized() {
  // A function-local static gives a thread-safe one-time initialisation
  // (C++11 "magic statics"); sodium_init() returns 1 when already done.
  static const bool initialised = [] {
    if (sodium_init() < 0) {
      std::fputs("sigil: libsodium failed to initialise (no randomness source?)\n", stderr);
      std::abort();
    }
    return true;
  }();
  (void)initialised;
}

}  // namespace sigil::crypto::internal
