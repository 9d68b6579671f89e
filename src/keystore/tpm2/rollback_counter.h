// RollbackCounter: detects a data directory restored from an older copy,
// using a TPM NV counter (which only goes up) bound to the store (doc/tpm.md).
//
// The store keeps the counter value it last saw in table "tpm_rollback",
// row "counter": 8-byte big-endian value || HMAC-SHA256 under a key derived
// from the keystore's master key (HKDF info "sigil-tpm-rollback-v1") over
// the NV index and the value, so the row cannot be edited to match the TPM.
// At each start (CheckAndAdvance) the stored value must equal the TPM's;
// then the store is advanced first (write-ahead) and the TPM counter after,
// so a crash between the two leaves store = TPM + 1, which is accepted.
//
// Granularity: the counter moves once per start. A copy of the data
// directory taken while the daemon ran and restored before its next start
// is not detected.
//
// Thread-compatible; call at start, after the keystore is unlocked.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "base/secret.h"
#include "keystore/tpm2/tpm2_device.h"
#include "store/store.h"

namespace sigil::keystore::tpm2 {

class RollbackCounter {
 public:
  static constexpr char kTable[] = "tpm_rollback";
  static constexpr char kRow[] = "counter";

  // Returns the new counter value. FailedPrecondition "rollback detected"
  // if the store's value differs from the TPM's (an older copy of the data
  // directory, or another data directory using the same NV index), or the
  // TPM counter exists but the store has no record of it; DataLoss if the
  // stored record fails its MAC; the device's and store's errors otherwise.
  static absl::StatusOr<uint64_t> CheckAndAdvance(Tpm2Device& tpm, store::Store& store, uint32_t nv_index,
                                                  const SecretBytes& master_key);
};

}  // namespace sigil::keystore::tpm2
