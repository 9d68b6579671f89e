// The software keystore's master key sealed to a TPM (doc/tpm.md): 32
// random bytes sealed under a PolicyPCR policy on the measured PCR, stored
// in the data directory as DIR/master.tpm (JSON, mode 0600, not secret:
// the sealed blob opens only on this TPM, and only while the PCR holds the
// measurement it was sealed to).
//
// The measurement is MeasurementEvent(SHA-256 of the binary, SHA-256 of the
// effective configuration) (attest/tpm2_quote.h), extended into the PCR
// from its reset value, so the PCR holds MeasuredPcrValue(...) while this
// binary with this configuration runs. PrepareMeasuredPcr leaves the PCR
// in exactly that state, also across daemon restarts within one boot.
//
// Thread-compatible (stateless functions over a thread-safe device).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "base/secret.h"
#include "crypto/hash.h"
#include "keystore/tpm2/tpm2_device.h"

namespace sigil::keystore::tpm2 {

inline constexpr int kSealedMasterKeyFormatVersion = 1;
inline constexpr char kSealedMasterKeyFile[] = "master.tpm";

struct SealedMasterKeyFile {
  uint32_t pcr = 16;                  // the measured PCR
  crypto::Hash256 event{};            // the measurement sealed to (MeasurementEvent)
  crypto::Hash256 pcr_value{};        // SHA-256(0^32 || event): the PCR value that unseals
  SealedObject sealed;
};

// The PCR value after extending `event` once from reset.
crypto::Hash256 PcrValueAfter(const crypto::Hash256& event);

// Brings `pcr` to PcrValueAfter(event): nothing if it already holds it (a
// restart within the same boot), otherwise reset (if not already zero) and
// extend. FailedPrecondition if the PCR holds another value and cannot be
// reset at this locality (reboot, or choose a resettable PCR: 16 or 23).
absl::Status PrepareMeasuredPcr(Tpm2Device& tpm, uint32_t pcr, const crypto::Hash256& event);

// Creates a fresh master key, prepares the PCR, seals the key to `event`
// and writes `path` (mode 0600, fsynced). AlreadyExists if `path` exists.
absl::StatusOr<SecretBytes> CreateSealedMasterKey(Tpm2Device& tpm, const std::string& path, uint32_t pcr,
                                                  const crypto::Hash256& event);

// Prepares the PCR for `event` and unseals. FailedPrecondition "the TPM
// refused to unseal the master key: the measured binary or configuration
// changed ..." when `event` differs from the sealed one; NotFound if `path`
// is missing; DataLoss if it is malformed; the device's errors otherwise.
absl::StatusOr<SecretBytes> UnsealMasterKey(Tpm2Device& tpm, const std::string& path, const crypto::Hash256& event);

// Upgrade path (doc/tpm.md): unseals with the measurement recorded in the
// file (re-creating the PCR state it was sealed under), seals the same key
// to `new_event` and atomically replaces the file, then leaves the PCR
// prepared for `new_event`. The key, and so the keystore, is unchanged.
absl::Status ResealMasterKey(Tpm2Device& tpm, const std::string& path, const crypto::Hash256& new_event);

absl::StatusOr<SealedMasterKeyFile> ReadSealedMasterKeyFile(const std::string& path);

}  // namespace sigil::keystore::tpm2
