// libsodium must be initialised once before any other call (it picks CPU
// feature implementations and opens the randomness source). This is the one
// place that does it. Thread-safe; cheap after the first call.
#pragma once

namespace sigil::crypto::internal {

// Calls sodium_init() exactly once per process; aborts the process if
// libsodium cannot initialise (no usable randomness source), since no
// cryptographic operation can then be trusted.
void EnsureSodiumInitialized();

}  // namespace sigil::crypto::internal
