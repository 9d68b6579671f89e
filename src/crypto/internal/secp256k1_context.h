// The one process-wide libsecp256k1 context every secp256k1 function in
// sigil_crypto uses. Signing and key derivation are blinded by
// secp256k1_context_randomize (side-channel hardening); after the one-time
// set-up at first use the context is only read, which libsecp256k1
// documents as safe from any number of threads.
#pragma once

#include <secp256k1.h>

namespace sigil::crypto::internal {

// Never null; aborts the process if libsecp256k1 cannot set up a context.
const secp256k1_context* Secp256k1Context();

}  // namespace sigil::crypto::internal
