// The OS CSPRNG (libsodium randombytes, getrandom(2) underneath). Thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "base/secret.h"

namespace sigil::crypto {

void RandomBytes(std::span<uint8_t> out);
SecretBytes RandomSecret(size_t size);

}  // namespace sigil::crypto
