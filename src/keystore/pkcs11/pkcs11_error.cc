#include "keystore/pkcs11/pkcs11_error.h"

#include <cstdio>

namespace sigil::keystore::pkcs11 {
namespace {

struct ReturnCodeEntry {
  CK_RV rv;
  const char* name;
  const char* sentence;
  absl::StatusCode code;
};

// Every code of Cryptoki 2.40 as p11-kit defines it. The status category is
// what a caller can do: Unavailable means "the token is not reachable right
// now, nothing happened, try later" and becomes JSON-RPC -32006 upstream.
constexpr ReturnCodeEntry kEntries[] = {
    {CKR_CANCEL, "CKR_CANCEL", "the application cancelled the operation", absl::StatusCode::kUnavailable},
    {CKR_HOST_MEMORY, "CKR_HOST_MEMORY", "the PKCS#11 module ran out of host memory", absl::StatusCode::kUnavailable},
    {CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID", "the slot does not exist (the token may have been removed or re-inserted)", absl::StatusCode::kUnavailable},
    {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR", "the token reported an unrecoverable error", absl::StatusCode::kUnavailable},
    {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED", "the token could not perform the operation", absl::StatusCode::kUnavailable},
    {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD", "the module rejected the arguments of the call", absl::StatusCode::kInvalidArgument},
    {CKR_NO_EVENT, "CKR_NO_EVENT", "no slot event is pending", absl::StatusCode::kInternal},
    {CKR_NEED_TO_CREATE_THREADS, "CKR_NEED_TO_CREATE_THREADS", "the module needs to create threads but was not allowed to", absl::StatusCode::kUnavailable},
    {CKR_CANT_LOCK, "CKR_CANT_LOCK", "the module cannot provide the locking Sigil asked for", absl::StatusCode::kUnavailable},
    {CKR_ATTRIBUTE_READ_ONLY, "CKR_ATTRIBUTE_READ_ONLY", "the attribute cannot be set or changed", absl::StatusCode::kInvalidArgument},
    {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE", "the attribute is sensitive and the token will not reveal it", absl::StatusCode::kPermissionDenied},
    {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID", "the token does not know this attribute type", absl::StatusCode::kInvalidArgument},
    {CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID", "an attribute value is invalid for this token", absl::StatusCode::kInvalidArgument},
    {CKR_ACTION_PROHIBITED, "CKR_ACTION_PROHIBITED", "the token's policy forbids this action", absl::StatusCode::kPermissionDenied},
    {CKR_DATA_INVALID, "CKR_DATA_INVALID", "the data to sign is invalid for this mechanism", absl::StatusCode::kInvalidArgument},
    {CKR_DATA_LEN_RANGE, "CKR_DATA_LEN_RANGE", "the data to sign has a length the mechanism does not accept", absl::StatusCode::kInvalidArgument},
    {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR", "the device reported an error", absl::StatusCode::kUnavailable},
    {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY", "the token has no memory left", absl::StatusCode::kUnavailable},
    {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED", "the token was removed", absl::StatusCode::kUnavailable},
    {CKR_ENCRYPTED_DATA_INVALID, "CKR_ENCRYPTED_DATA_INVALID", "the encrypted data is invalid", absl::StatusCode::kInternal},
    {CKR_ENCRYPTED_DATA_LEN_RANGE, "CKR_ENCRYPTED_DATA_LEN_RANGE", "the encrypted data has an invalid length", absl::StatusCode::kInternal},
    {CKR_FUNCTION_CANCELED, "CKR_FUNCTION_CANCELED", "the operation was cancelled", absl::StatusCode::kUnavailable},
    {CKR_FUNCTION_NOT_PARALLEL, "CKR_FUNCTION_NOT_PARALLEL", "no function is executing in parallel", absl::StatusCode::kInternal},
    {CKR_FUNCTION_NOT_SUPPORTED, "CKR_FUNCTION_NOT_SUPPORTED", "the module does not support this function", absl::StatusCode::kFailedPrecondition},
    {CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID", "the key handle is not valid (the token may have been reset)", absl::StatusCode::kUnavailable},
    {CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE", "the key size is outside what the token supports", absl::StatusCode::kInvalidArgument},
    {CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT", "the key type does not fit the mechanism", absl::StatusCode::kInvalidArgument},
    {CKR_KEY_NOT_NEEDED, "CKR_KEY_NOT_NEEDED", "a key was given where none is needed", absl::StatusCode::kInternal},
    {CKR_KEY_CHANGED, "CKR_KEY_CHANGED", "the key changed since it was last used", absl::StatusCode::kInternal},
    {CKR_KEY_NEEDED, "CKR_KEY_NEEDED", "the operation needs a key that was not given", absl::StatusCode::kInternal},
    {CKR_KEY_INDIGESTIBLE, "CKR_KEY_INDIGESTIBLE", "the key cannot be digested", absl::StatusCode::kInternal},
    {CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED", "the key's attributes do not permit this use", absl::StatusCode::kPermissionDenied},
    {CKR_KEY_NOT_WRAPPABLE, "CKR_KEY_NOT_WRAPPABLE", "the key cannot be wrapped", absl::StatusCode::kInternal},
    {CKR_KEY_UNEXTRACTABLE, "CKR_KEY_UNEXTRACTABLE", "the key is not extractable", absl::StatusCode::kPermissionDenied},
    {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID", "the token does not support this mechanism", absl::StatusCode::kInvalidArgument},
    {CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID", "the mechanism parameters are invalid", absl::StatusCode::kInvalidArgument},
    {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID", "the object handle is not valid (the object was deleted or the token reset)", absl::StatusCode::kUnavailable},
    {CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE", "another operation is already active in this session", absl::StatusCode::kFailedPrecondition},
    {CKR_OPERATION_NOT_INITIALIZED, "CKR_OPERATION_NOT_INITIALIZED", "no operation was initialised in this session", absl::StatusCode::kFailedPrecondition},
    {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT", "the PIN is wrong", absl::StatusCode::kPermissionDenied},
    {CKR_PIN_INVALID, "CKR_PIN_INVALID", "the PIN contains characters the token does not accept", absl::StatusCode::kPermissionDenied},
    {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE", "the PIN is too long or too short for the token", absl::StatusCode::kPermissionDenied},
    {CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED", "the PIN has expired and must be changed on the token", absl::StatusCode::kPermissionDenied},
    {CKR_PIN_LOCKED, "CKR_PIN_LOCKED", "the PIN is locked after too many wrong attempts; the security officer must unlock it", absl::StatusCode::kPermissionDenied},
    {CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED", "the session was closed", absl::StatusCode::kUnavailable},
    {CKR_SESSION_COUNT, "CKR_SESSION_COUNT", "the token cannot open more sessions", absl::StatusCode::kUnavailable},
    {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID", "the session is no longer valid (the token may have been reset)", absl::StatusCode::kUnavailable},
    {CKR_SESSION_PARALLEL_NOT_SUPPORTED, "CKR_SESSION_PARALLEL_NOT_SUPPORTED", "the token does not support parallel sessions", absl::StatusCode::kFailedPrecondition},
    {CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY", "the session is read-only", absl::StatusCode::kFailedPrecondition},
    {CKR_SESSION_EXISTS, "CKR_SESSION_EXISTS", "a session is already open", absl::StatusCode::kFailedPrecondition},
    {CKR_SESSION_READ_ONLY_EXISTS, "CKR_SESSION_READ_ONLY_EXISTS", "a read-only session exists, so the security officer cannot log in", absl::StatusCode::kFailedPrecondition},
    {CKR_SESSION_READ_WRITE_SO_EXISTS, "CKR_SESSION_READ_WRITE_SO_EXISTS", "a security-officer session exists", absl::StatusCode::kFailedPrecondition},
    {CKR_SIGNATURE_INVALID, "CKR_SIGNATURE_INVALID", "the signature is invalid", absl::StatusCode::kInvalidArgument},
    {CKR_SIGNATURE_LEN_RANGE, "CKR_SIGNATURE_LEN_RANGE", "the signature has an invalid length", absl::StatusCode::kInvalidArgument},
    {CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE", "the object template lacks a required attribute", absl::StatusCode::kInvalidArgument},
    {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT", "the object template has conflicting attributes", absl::StatusCode::kInvalidArgument},
    {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT", "the token is not present in its slot", absl::StatusCode::kUnavailable},
    {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED", "the module does not recognise the token in the slot", absl::StatusCode::kUnavailable},
    {CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED", "the token is write protected", absl::StatusCode::kFailedPrecondition},
    {CKR_UNWRAPPING_KEY_SIZE_RANGE, "CKR_UNWRAPPING_KEY_SIZE_RANGE", "the unwrapping key size is out of range", absl::StatusCode::kInternal},
    {CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, "CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT", "the unwrapping key type is inconsistent", absl::StatusCode::kInternal},
    {CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN", "the user is already logged in", absl::StatusCode::kFailedPrecondition},
    {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN", "the user is not logged in to the token (the token may have been reset)", absl::StatusCode::kUnavailable},
    {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED", "the token's user PIN is not initialised", absl::StatusCode::kFailedPrecondition},
    {CKR_USER_TYPE_INVALID, "CKR_USER_TYPE_INVALID", "the user type is invalid", absl::StatusCode::kPermissionDenied},
    {CKR_USER_ANOTHER_ALREADY_LOGGED_IN, "CKR_USER_ANOTHER_ALREADY_LOGGED_IN", "another user is already logged in to the token", absl::StatusCode::kPermissionDenied},
    {CKR_USER_TOO_MANY_TYPES, "CKR_USER_TOO_MANY_TYPES", "too many user types are logged in", absl::StatusCode::kInternal},
    {CKR_WRAPPED_KEY_INVALID, "CKR_WRAPPED_KEY_INVALID", "the wrapped key is invalid", absl::StatusCode::kInternal},
    {CKR_WRAPPED_KEY_LEN_RANGE, "CKR_WRAPPED_KEY_LEN_RANGE", "the wrapped key has an invalid length", absl::StatusCode::kInternal},
    {CKR_WRAPPING_KEY_HANDLE_INVALID, "CKR_WRAPPING_KEY_HANDLE_INVALID", "the wrapping key handle is invalid", absl::StatusCode::kInternal},
    {CKR_WRAPPING_KEY_SIZE_RANGE, "CKR_WRAPPING_KEY_SIZE_RANGE", "the wrapping key size is out of range", absl::StatusCode::kInternal},
    {CKR_WRAPPING_KEY_TYPE_INCONSISTENT, "CKR_WRAPPING_KEY_TYPE_INCONSISTENT", "the wrapping key type is inconsistent", absl::StatusCode::kInternal},
    {CKR_RANDOM_SEED_NOT_SUPPORTED, "CKR_RANDOM_SEED_NOT_SUPPORTED", "the token's random generator cannot be seeded", absl::StatusCode::kInternal},
    {CKR_RANDOM_NO_RNG, "CKR_RANDOM_NO_RNG", "the token has no random number generator", absl::StatusCode::kUnavailable},
    {CKR_DOMAIN_PARAMS_INVALID, "CKR_DOMAIN_PARAMS_INVALID", "the token rejected the curve parameters", absl::StatusCode::kInvalidArgument},
    {CKR_CURVE_NOT_SUPPORTED, "CKR_CURVE_NOT_SUPPORTED", "the token does not support this curve", absl::StatusCode::kInvalidArgument},
    {CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL", "the output buffer is too small", absl::StatusCode::kInvalidArgument},
    {CKR_SAVED_STATE_INVALID, "CKR_SAVED_STATE_INVALID", "the saved state is invalid", absl::StatusCode::kInternal},
    {CKR_INFORMATION_SENSITIVE, "CKR_INFORMATION_SENSITIVE", "the information is sensitive", absl::StatusCode::kPermissionDenied},
    {CKR_STATE_UNSAVEABLE, "CKR_STATE_UNSAVEABLE", "the state cannot be saved", absl::StatusCode::kInternal},
    {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED", "the PKCS#11 module is not initialised (it was finalised or reset)", absl::StatusCode::kUnavailable},
    {CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED", "the PKCS#11 module is already initialised", absl::StatusCode::kFailedPrecondition},
    {CKR_MUTEX_BAD, "CKR_MUTEX_BAD", "the module was given a bad mutex", absl::StatusCode::kInternal},
    {CKR_MUTEX_NOT_LOCKED, "CKR_MUTEX_NOT_LOCKED", "the module unlocked a mutex that was not locked", absl::StatusCode::kInternal},
    {CKR_NEW_PIN_MODE, "CKR_NEW_PIN_MODE", "the token asks for a new PIN", absl::StatusCode::kPermissionDenied},
    {CKR_NEXT_OTP, "CKR_NEXT_OTP", "the token asks for the next one-time password", absl::StatusCode::kPermissionDenied},
    {CKR_EXCEEDED_MAX_ITERATIONS, "CKR_EXCEEDED_MAX_ITERATIONS", "the token exceeded its iteration limit", absl::StatusCode::kInternal},
    {CKR_FIPS_SELF_TEST_FAILED, "CKR_FIPS_SELF_TEST_FAILED", "the token's FIPS self-test failed", absl::StatusCode::kUnavailable},
    {CKR_LIBRARY_LOAD_FAILED, "CKR_LIBRARY_LOAD_FAILED", "the module could not load a library it needs", absl::StatusCode::kUnavailable},
    {CKR_PIN_TOO_WEAK, "CKR_PIN_TOO_WEAK", "the PIN is too weak", absl::StatusCode::kPermissionDenied},
    {CKR_PUBLIC_KEY_INVALID, "CKR_PUBLIC_KEY_INVALID", "the public key is invalid", absl::StatusCode::kInvalidArgument},
    {CKR_FUNCTION_REJECTED, "CKR_FUNCTION_REJECTED", "the token rejected the function", absl::StatusCode::kInternal},
};

const ReturnCodeEntry* Find(CK_RV rv) {
  for (const auto& e : kEntries) {
    if (e.rv == rv) return &e;
  }
  return nullptr;
}

}  // namespace

std::string ReturnCodeName(CK_RV rv) {
  if (rv == CKR_OK) return "CKR_OK";
  if (const auto* e = Find(rv)) return e->name;
  char buf[48];
  if (rv >= CKR_VENDOR_DEFINED) {
    std::snprintf(buf, sizeof buf, "CKR_VENDOR_DEFINED+0x%lx", static_cast<unsigned long>(rv - CKR_VENDOR_DEFINED));
  } else {
    std::snprintf(buf, sizeof buf, "CKR_0x%08lx", static_cast<unsigned long>(rv));
  }
  return buf;
}

std::string_view ReturnCodeSentence(CK_RV rv) {
  if (rv == CKR_OK) return "success";
  if (const auto* e = Find(rv)) return e->sentence;
  if (rv >= CKR_VENDOR_DEFINED) return "the module returned a vendor-specific error; see its documentation";
  return "the module returned an error code Sigil does not know";
}

absl::StatusCode ReturnCodeStatus(CK_RV rv) {
  if (rv == CKR_OK) return absl::StatusCode::kOk;
  if (const auto* e = Find(rv)) return e->code;
  return absl::StatusCode::kInternal;
}

absl::Status Pkcs11Error(CK_RV rv, std::string_view call) {
  if (rv == CKR_OK) return absl::OkStatus();
  char hex[24];
  std::snprintf(hex, sizeof hex, "0x%08lx", static_cast<unsigned long>(rv));
  std::string message = std::string(call) + " failed: " + ReturnCodeName(rv) + " (" + hex + "): " +
                        std::string(ReturnCodeSentence(rv));
  return absl::Status(ReturnCodeStatus(rv), message);
}

bool IsSessionLost(CK_RV rv) {
  switch (rv) {
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_DEVICE_ERROR:
    case CKR_SLOT_ID_INVALID:
    case CKR_OBJECT_HANDLE_INVALID:
    case CKR_KEY_HANDLE_INVALID:
      return true;
    default:
      return false;
  }
}

}  // namespace sigil::keystore::pkcs11
