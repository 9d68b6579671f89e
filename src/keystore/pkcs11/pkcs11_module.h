// Pkcs11Module: one PKCS#11 shared object (libsofthsm2.so, a YubiHSM or
// CloudHSM module), loaded with dlopen, its function list fetched with
// C_GetFunctionList and initialised with C_Initialize (OS locking, so the
// module may be called from many threads).
//
// Cryptoki is initialised once per process per module, so Load shares one
// initialised module between every caller that names the same path; the
// last owner to let go calls C_Finalize. The shared object itself is never
// unloaded (several modules register exit handlers that would run after
// dlclose); loading it again later calls C_Initialize again.
//
// Interpose wraps a loaded module with another function list (tests use it to
// inject faults: a forwarding CK_FUNCTION_LIST that returns
// CKR_DEVICE_REMOVED while switched on).
//
// Failure codes of Load: NotFound if the file does not exist;
// FailedPrecondition if it is not a PKCS#11 module (dlopen or
// C_GetFunctionList fails; the dlerror text is included); the mapped
// Pkcs11Error status if C_Initialize fails.
//
// Thread-safety: thread-safe. functions() may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include <p11-kit/pkcs11.h>

#include "absl/status/statusor.h"

namespace sigil::keystore::pkcs11 {

class Pkcs11Module {
 public:
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<Pkcs11Module>> Load(const std::string& path);
  // A module that calls `functions` instead of `base`'s list, keeping `base`
  // (and so the initialised module) alive. `functions` must outlive it.
  [[nodiscard]] static std::shared_ptr<Pkcs11Module> Interpose(std::shared_ptr<Pkcs11Module> base,
                                                               CK_FUNCTION_LIST* functions);

  ~Pkcs11Module();
  Pkcs11Module(const Pkcs11Module&) = delete;
  Pkcs11Module& operator=(const Pkcs11Module&) = delete;

  CK_FUNCTION_LIST& functions() const { return *functions_; }
  const std::string& path() const { return path_; }

 private:
  Pkcs11Module(std::string path, CK_FUNCTION_LIST* functions, std::shared_ptr<Pkcs11Module> base)
      : path_(std::move(path)), functions_(functions), base_(std::move(base)) {}

  const std::string path_;
  CK_FUNCTION_LIST* const functions_;
  // For an interposed module: the loaded one it wraps. Null for a loaded one.
  const std::shared_ptr<Pkcs11Module> base_;
};

}  // namespace sigil::keystore::pkcs11
