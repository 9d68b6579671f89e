#include "keystore/tpm2/tss2_status.h"

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tpm2_types.h>

#include <cstdio>

namespace sigil::keystore::tpm2 {
namespace {

constexpr TSS2_RC kLayerMask = 0xFFu << TSS2_RC_LAYER_SHIFT;

// The TPM's own code with the handle/session/parameter number bits removed.
TSS2_RC TpmBaseCode(TSS2_RC rc) {
  if ((rc & kLayerMask) != TSS2_TPM_RC_LAYER) return 0;
  TSS2_RC low = rc & 0xFFFF;
  if (low & TPM2_RC_FMT1) return (low & 0x3F) | TPM2_RC_FMT1;
  return low;
}

}  // namespace

bool IsPolicyFailure(TSS2_RC rc) {
  TSS2_RC base = TpmBaseCode(rc);
  return base == TPM2_RC_POLICY_FAIL || base == TPM2_RC_PCR_CHANGED;
}

bool IsHandleError(TSS2_RC rc) {
  TSS2_RC base = TpmBaseCode(rc);
  return base == TPM2_RC_HANDLE;
}

absl::Status Tss2Status(TSS2_RC rc, const std::string& what) {
  if (rc == TSS2_RC_SUCCESS) return absl::OkStatus();
  char hex[16];
  std::snprintf(hex, sizeof(hex), "0x%X", rc);
  const char* decoded = Tss2_RC_Decode(rc);
  std::string msg = what + ": " + (decoded ? decoded : "unknown error") + " (" + hex + ")";
  TSS2_RC layer = rc & kLayerMask;
  TSS2_RC base = rc & 0xFFFF;
  if (layer == TSS2_TCTI_RC_LAYER) return absl::UnavailableError("cannot reach the TPM: " + msg);
  if (layer != TSS2_TPM_RC_LAYER &&
      (base == TSS2_BASE_RC_IO_ERROR || base == TSS2_BASE_RC_NO_CONNECTION || base == TSS2_BASE_RC_TRY_AGAIN)) {
    return absl::UnavailableError("cannot reach the TPM: " + msg);
  }
  if (IsPolicyFailure(rc)) return absl::FailedPreconditionError(msg);
  if (IsHandleError(rc)) return absl::NotFoundError(msg);
  TSS2_RC tpm = TpmBaseCode(rc);
  if (tpm == TPM2_RC_OBJECT_MEMORY || tpm == TPM2_RC_SESSION_MEMORY || tpm == TPM2_RC_MEMORY ||
      tpm == TPM2_RC_SESSION_HANDLES || tpm == TPM2_RC_OBJECT_HANDLES) {
    return absl::ResourceExhaustedError(msg + "; the TPM is out of context slots (leaked handles?)");
  }
  return absl::InternalError(msg);
}

}  // namespace sigil::keystore::tpm2
