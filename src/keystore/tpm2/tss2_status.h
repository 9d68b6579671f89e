// Tss2Status: the one mapping from a tpm2-tss return code (TSS2_RC) to an
// absl::Status, with Tss2_RC_Decode's text in the message so an operator
// sees what the TPM said.
//
//   TCTI layer, ESAPI I/O / connection errors      -> Unavailable (the TPM cannot be reached)
//   TPM_RC_POLICY_FAIL, TPM_RC_PCR_CHANGED          -> FailedPrecondition (a policy did not hold)
//   TPM_RC_HANDLE on an NV index lookup             -> NotFound (see IsTpmHandleError)
//   TPM_RC_OBJECT_MEMORY, _SESSION_MEMORY, _MEMORY  -> ResourceExhausted (leaked contexts)
//   anything else                                   -> Internal
//
// Stateless; thread-safe.
#pragma once

#include <string>

#include <tss2/tss2_common.h>

#include "absl/status/status.h"

namespace sigil::keystore::tpm2 {

// OK for TSS2_RC_SUCCESS; otherwise "<what>: <decoded rc> (0xRC)".
absl::Status Tss2Status(TSS2_RC rc, const std::string& what);

// True if rc is a TPM policy failure (PolicyPCR digest did not match).
bool IsPolicyFailure(TSS2_RC rc);
// True if rc says a handle (e.g. an NV index) does not exist.
bool IsHandleError(TSS2_RC rc);

}  // namespace sigil::keystore::tpm2
