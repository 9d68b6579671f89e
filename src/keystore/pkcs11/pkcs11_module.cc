#include "keystore/pkcs11/pkcs11_module.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "keystore/pkcs11/pkcs11_error.h"

namespace sigil::keystore::pkcs11 {
namespace {

// C_Initialize/C_Finalize are process-wide for a module, so the count of
// live owners per path is too. The dlopen handle stays mapped for the life
// of the process (see the header).
struct LoadedLibrary {
  CK_FUNCTION_LIST* functions = nullptr;
  int owners = 0;
};

absl::Mutex g_registry_mu(absl::kConstInit);
std::map<std::string, LoadedLibrary>& Registry() ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_registry_mu) {
  static auto* registry = new std::map<std::string, LoadedLibrary>();
  return *registry;
}

absl::StatusOr<CK_FUNCTION_LIST*> OpenLibrary(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError("PKCS#11 module " + path + " does not exist (check pkcs11.module / --pkcs11-module)");
  }
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return absl::FailedPreconditionError("cannot load PKCS#11 module " + path + ": " + (why ? why : "dlopen failed"));
  }
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
  if (get_list == nullptr) {
    return absl::FailedPreconditionError(path + " is not a PKCS#11 module (it has no C_GetFunctionList)");
  }
  CK_FUNCTION_LIST* functions = nullptr;
  CK_RV rv = get_list(&functions);
  if (rv != CKR_OK || functions == nullptr) {
    if (rv == CKR_OK) return absl::FailedPreconditionError(path + ": C_GetFunctionList returned no function list");
    return Pkcs11Error(rv, path + ": C_GetFunctionList");
  }
  return functions;
}

}  // namespace

absl::StatusOr<std::shared_ptr<Pkcs11Module>> Pkcs11Module::Load(const std::string& path) {
  absl::MutexLock lock(&g_registry_mu);
  LoadedLibrary& lib = Registry()[path];
  if (lib.functions == nullptr) {
    auto functions = OpenLibrary(path);
    if (!functions.ok()) {
      Registry().erase(path);
      return functions.status();
    }
    lib.functions = *functions;
  }
  if (lib.owners == 0) {
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = lib.functions->C_Initialize(&args);
    // Another component of this process (not through Load) may have
    // initialised it; then it is theirs to finalise, and ours to use.
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) return Pkcs11Error(rv, path + ": C_Initialize");
  }
  ++lib.owners;
  return std::shared_ptr<Pkcs11Module>(new Pkcs11Module(path, lib.functions, nullptr));
}

std::shared_ptr<Pkcs11Module> Pkcs11Module::Interpose(std::shared_ptr<Pkcs11Module> base, CK_FUNCTION_LIST* functions) {
  std::string path = base->path();
  return std::shared_ptr<Pkcs11Module>(new Pkcs11Module(std::move(path), functions, std::move(base)));
}

Pkcs11Module::~Pkcs11Module() {
  if (base_ != nullptr) return;
  absl::MutexLock lock(&g_registry_mu);
  auto it = Registry().find(path_);
  if (it == Registry().end()) return;
  if (--it->second.owners == 0) (void)it->second.functions->C_Finalize(nullptr);
}

}  // namespace sigil::keystore::pkcs11
