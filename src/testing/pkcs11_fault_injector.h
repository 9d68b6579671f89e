// Pkcs11FaultInjector: a forwarding CK_FUNCTION_LIST over a loaded PKCS#11
// module (SoftHSM2 in the tests) that makes chosen Cryptoki calls fail on
// cue, so tests can prove how the PKCS#11 backend retries, recovers and
// cleans up against a real token.
//
// A rule makes the next `times` calls of one function answer a chosen
// CK_RV, either instead of the real call or after it (the real call's
// effects stay: a C_GenerateKeyPair that "fails" after the real one ran has
// left a key pair on the token, as a module that loses its session or
// errors out half-way would). SetRemoved makes the token look unplugged.
// Misreport* make the module lie about sizes, as a buggy module may.
// Every call through the injector is counted, failed or not.
//
// Cryptoki functions carry no context pointer, so the forwarding functions
// find the injector through a process-wide pointer.
// REQUIRES: at most one Pkcs11FaultInjector alive per process; it outlives
// every module() it handed out and every call through them.
//
// Ownership: shares the real module. Thread-safety: thread-safe (rules and
// counters under a mutex; the real module is called without it).
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <utility>

#include <p11-kit/pkcs11.h>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "keystore/pkcs11/pkcs11_module.h"

namespace sigil::keystore::pkcs11 {

class Pkcs11FaultInjector {
 public:
  // The Cryptoki functions the injector can fail (every one the backend uses
  // on a token; the rest are forwarded untouched).
  enum class Function {
    kGetSlotList,
    kGetTokenInfo,
    kOpenSession,
    kLogin,
    kGenerateKeyPair,
    kGetAttributeValue,
    kFindObjectsInit,
    kFindObjects,
    kFindObjectsFinal,
    kDestroyObject,
    kSignInit,
    kSign,
  };
  static constexpr size_t kFunctionCount = static_cast<size_t>(Function::kSign) + 1;

  enum class Mode {
    kInsteadOfCall,  // the real function is not called
    kAfterCall,      // the real function runs first; its result is replaced
    // As kAfterCall, then the session the call ran in is closed for real
    // (the token was reset under it), so every later call on it fails as
    // the module itself reports. For functions that take a session.
    kCloseSessionAfterCall,
  };

  explicit Pkcs11FaultInjector(std::shared_ptr<Pkcs11Module> real);
  ~Pkcs11FaultInjector();
  Pkcs11FaultInjector(const Pkcs11FaultInjector&) = delete;
  Pkcs11FaultInjector& operator=(const Pkcs11FaultInjector&) = delete;

  // The real module seen through the injector.
  std::shared_ptr<Pkcs11Module> module() const { return module_; }

  // The next `times` calls of `function` answer `rv` (replacing any earlier
  // rule for it; times = 0 removes it).
  void FailNext(Function function, int times, CK_RV rv, Mode mode = Mode::kInsteadOfCall);
  // While set, no slot holds the token: C_GetSlotList lists none,
  // C_OpenSession answers CKR_TOKEN_NOT_PRESENT and every other call
  // CKR_DEVICE_REMOVED.
  void SetRemoved(bool removed);
  // After a successful real C_GetAttributeValue, attribute `type` reports
  // ulValueLen = `length` (e.g. more than the caller's buffer holds).
  void MisreportAttributeLength(CK_ATTRIBUTE_TYPE type, CK_ULONG length);
  // A successful C_GetSlotList answers `count` slots: when asked for the
  // count only (no buffer), or, with `when_filling`, when filling a buffer.
  void MisreportSlotCount(CK_ULONG count, bool when_filling = false);
  // A successful C_FindObjects answers `count` objects found, whatever it
  // found and however many the caller had room for.
  void MisreportFoundCount(CK_ULONG count);
  // Ends every Misreport*.
  void StopMisreporting();
  // Calls of `function` so far, failed or not.
  int calls(Function function) const;

 private:
  struct Rule {
    int times = 0;
    CK_RV rv = CKR_OK;
    Mode mode = Mode::kInsteadOfCall;
  };
  struct Forwarders;  // the CK_FUNCTION_LIST entries (in the .cc)

  // Counts the call and applies the rule for `function` around `real`;
  // `session` is the session the call runs in, if any.
  CK_RV Call(Function function, CK_SESSION_HANDLE session, absl::FunctionRef<CK_RV(CK_FUNCTION_LIST& real)> real);

  const std::shared_ptr<Pkcs11Module> real_;
  CK_FUNCTION_LIST functions_{};
  std::shared_ptr<Pkcs11Module> module_;

  mutable absl::Mutex mu_;
  std::array<Rule, kFunctionCount> rules_ ABSL_GUARDED_BY(mu_){};
  std::array<int, kFunctionCount> calls_ ABSL_GUARDED_BY(mu_){};
  bool removed_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<std::pair<CK_ATTRIBUTE_TYPE, CK_ULONG>> attribute_length_ ABSL_GUARDED_BY(mu_);
  std::optional<CK_ULONG> slot_count_ ABSL_GUARDED_BY(mu_);
  bool slot_count_when_filling_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<CK_ULONG> found_count_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::keystore::pkcs11
