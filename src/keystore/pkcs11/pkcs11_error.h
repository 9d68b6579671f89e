// PKCS#11 return codes (CK_RV) as absl::Status values a user can act on.
//
// Every CKR_* code defined by Cryptoki 2.40 has a stable name
// ("CKR_PIN_INCORRECT") and one sentence saying what it means for Sigil;
// vendor-defined and unknown codes are named by their hex value. The status
// code says what a caller can do about it:
//  * Unavailable: the token, slot, session or module cannot be reached
//    (removed, reset, not initialised, out of device memory, general
//    failure). Nothing was signed or changed; retrying later may succeed.
//  * PermissionDenied: the PIN is wrong, locked or expired; the token refuses
//    to reveal or use a key that way (sensitive, not permitted).
//  * InvalidArgument: the module rejected a mechanism, attribute, template,
//    curve or data length (a configuration or token capability mismatch).
//  * FailedPrecondition: the token is write protected, the user PIN is not
//    initialised, or the session is in the wrong state.
//  * Internal: anything else.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include <p11-kit/pkcs11.h>

#include "absl/status/status.h"

namespace sigil::keystore::pkcs11 {

// "CKR_PIN_INCORRECT"; "CKR_VENDOR_DEFINED+0x12" or "CKR_0x000001F0" for
// codes this table does not know.
std::string ReturnCodeName(CK_RV rv);
// One sentence, e.g. "the PIN is wrong".
std::string_view ReturnCodeSentence(CK_RV rv);
// The status category of `rv` (see above). kOk for CKR_OK.
absl::StatusCode ReturnCodeStatus(CK_RV rv);

// Status for a failed call: "<call> failed: CKR_X (0x...): <sentence>".
// OK for CKR_OK. `call` names the operation ("C_Sign on key 'trader'").
absl::Status Pkcs11Error(CK_RV rv, std::string_view call);

// True for the codes after which the session (or the login it carried) is
// gone and a fresh session with a fresh login may succeed: a token reset,
// closed or invalid session, logged-out user, removed or re-inserted device,
// stale object handles.
bool IsSessionLost(CK_RV rv);

}  // namespace sigil::keystore::pkcs11
