// Tpm2Device: the one connection Sigil holds to a TPM 2.0 (tpm2-tss ESAPI
// over a TCTI named in configuration: "swtpm:host=127.0.0.1,port=2321" for
// the simulator, "device:/dev/tpmrm0" for a real TPM behind the kernel
// resource manager). It offers exactly what Sigil needs: PCR read / extend /
// reset, sealing a secret under a PolicyPCR policy, a quote by an
// attestation key, and a monotonic NV counter. doc/tpm.md is the design.
//
// Handles: every transient object and session this class creates is held
// by a guard that flushes it when the operation ends, success or error, so
// nothing accumulates in a TPM without a resource manager (swtpm). Open()
// also flushes transient objects and loaded sessions left over by a crashed
// process (TPM2_CAP_HANDLES). CountHandles() lets tests prove it.
//
// Keys: the storage parent (sealing) and the attestation key (quotes) are
// primary ECC P-256 keys re-derived from the owner and endorsement seeds on
// every use with fixed templates, so they are the same key across restarts
// without anything persistent in the TPM. The attestation key is a
// restricted ECDSA-SHA256 signing key: it signs only TPM-generated
// structures (quotes), never arbitrary data. Hierarchy authorizations are
// assumed empty (the default on swtpm and on most Linux hosts).
//
// Sealed objects have no user auth (no userWithAuth): the only way to unseal
// is a policy session whose PolicyPCR matches the PCR value they were sealed
// to. Unsealing runs in a salted session with response encryption so the
// secret does not cross the bus in the clear.
//
// Thread-safety: thread-safe; calls are serialised on one ESAPI context.
// Failure codes: Unavailable (TCTI/IO: TPM unreachable), FailedPrecondition
// (a PCR policy failed), NotFound (an NV index is not defined),
// ResourceExhausted (TPM out of context slots), InvalidArgument (bad
// argument or sealed blob), Internal (any other TPM error, decoded).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/secret.h"
#include "crypto/hash.h"

namespace sigil::keystore::tpm2 {

// A sealed data object as TPM2_Create returned it: the marshalled
// TPM2B_PUBLIC and TPM2B_PRIVATE. Not secret (the private part is encrypted
// under the TPM's storage key), but useless on any other TPM.
struct SealedObject {
  std::vector<uint8_t> public_area;
  std::vector<uint8_t> private_area;
};

// TPM2_Quote output over SHA-256 PCRs. attest is the TPMS_ATTEST (contents
// of the TPM2B_ATTEST), signature a marshalled TPMT_SIGNATURE, ak_public the
// marshalled TPM2B_PUBLIC of the attestation key; pcr_values are the values
// of `pcrs` read just before the quote, in the same order.
struct Quote {
  std::vector<uint8_t> attest;
  std::vector<uint8_t> signature;
  std::vector<uint8_t> ak_public;
  std::vector<uint32_t> pcrs;
  std::vector<crypto::Hash256> pcr_values;
};

struct HandleCounts {
  size_t transient = 0;        // TPM2_HT_TRANSIENT objects loaded
  size_t loaded_sessions = 0;  // TPM2_HT_LOADED_SESSION
};

inline constexpr uint32_t kMaxPcr = 23;
// Default NV index of the rollback counter: owner range (TCG handle registry).
inline constexpr uint32_t kDefaultCounterIndex = 0x01005347;  // "SG"

class Tpm2Device {
 public:
  // Connects through `tcti` and flushes leftover transient objects and
  // sessions. Unavailable if the TPM cannot be reached; InvalidArgument if
  // the TCTI string is empty.
  static absl::StatusOr<std::unique_ptr<Tpm2Device>> Open(const std::string& tcti);
  ~Tpm2Device();
  Tpm2Device(const Tpm2Device&) = delete;
  Tpm2Device& operator=(const Tpm2Device&) = delete;

  // SHA-256 bank.
  absl::StatusOr<crypto::Hash256> ReadPcr(uint32_t pcr);
  absl::Status ExtendPcr(uint32_t pcr, const crypto::Hash256& digest);
  // TPM2_PCR_Reset; only PCRs resettable at locality 0 (16 and 23 on a PC
  // client TPM). The TPM's error otherwise.
  absl::Status ResetPcr(uint32_t pcr);

  // Seals `secret` (1..128 bytes) so that it unseals only while SHA-256 PCR
  // `pcr` holds `pcr_value`.
  absl::StatusOr<SealedObject> Seal(const SecretBytes& secret, uint32_t pcr, const crypto::Hash256& pcr_value);
  // Unseals under a PolicyPCR session over the current value of `pcr`.
  // FailedPrecondition if the PCR no longer holds the sealed-to value;
  // InvalidArgument if the blob does not parse or belongs to another TPM.
  absl::StatusOr<SecretBytes> Unseal(const SealedObject& sealed, uint32_t pcr);

  // A quote over `pcrs` (ascending, unique, each <= kMaxPcr) by the
  // attestation key with qualifyingData = `qualifying_data` (1..32 bytes).
  absl::StatusOr<Quote> MakeQuote(std::span<const uint32_t> pcrs, std::span<const uint8_t> qualifying_data);
  // The marshalled TPM2B_PUBLIC of the attestation key (stable per TPM).
  absl::StatusOr<std::vector<uint8_t>> AttestationKeyPublic();

  // The NV counter at `nv_index`. NotFound if it is not defined.
  absl::StatusOr<uint64_t> ReadCounter(uint32_t nv_index);
  // Increments the counter (defining it first if needed: owner-read/write,
  // no DA) and returns the new value. Counters only go up, even across an
  // undefine/define (the TPM starts a new counter at its highest value).
  absl::StatusOr<uint64_t> IncrementCounter(uint32_t nv_index);
  // Removes the counter (tests, decommissioning). NotFound if not defined.
  absl::Status UndefineCounter(uint32_t nv_index);

  absl::StatusOr<HandleCounts> CountHandles();
  // Flushes every transient object and loaded session in the TPM.
  absl::Status FlushLeftovers();

  struct Context;  // ESAPI + TCTI state, in the .cc

 private:
  explicit Tpm2Device(std::unique_ptr<Context> ctx);
  absl::Status FlushLeftoversLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<crypto::Hash256> ReadPcrLocked(uint32_t pcr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::unique_ptr<Context> ctx_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::keystore::tpm2
