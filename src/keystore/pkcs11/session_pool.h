// SessionPool: logged-in read/write sessions on one PKCS#11 token, found by
// its label, lent to callers one at a time so concurrent requests sign in
// parallel (one session per in-flight call, at most max_sessions).
//
// Recovery: when a call fails with a code after which the session or its
// login is gone (IsSessionLost: CKR_SESSION_HANDLE_INVALID,
// CKR_USER_NOT_LOGGED_IN, CKR_SESSION_CLOSED, CKR_DEVICE_REMOVED,
// CKR_TOKEN_NOT_PRESENT, stale handles, ...), every pooled session is
// discarded (a new generation starts), the token is looked up by label again
// (it may sit in another slot after re-insertion), a fresh session is opened
// and logged in, and the call is retried once. A token that is not present
// gives Unavailable; signing resumes by itself when it returns. A session
// whose call failed for any other reason is closed rather than pooled again
// (the failure may have left an operation active in it); if it was the last
// open one, a new generation starts too (see generation()).
//
// PIN safety: a CKR_PIN_INCORRECT / CKR_PIN_LOCKED answer to C_Login is
// remembered and no further login is attempted with that PIN (each wrong
// attempt brings the token closer to locking it); the error is returned on
// every later call until a new pool is opened.
//
// Failure codes: Unavailable (token absent, module failure, session lost
// twice), PermissionDenied (PIN refused), others as Pkcs11Error maps the code
// the callback returned.
//
// Ownership: shares the module; owns the PIN (locked memory) and the
// sessions, which it closes on destruction. Thread-safety: thread-safe; the
// callback runs without any pool lock held.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <p11-kit/pkcs11.h>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/secret.h"
#include "keystore/pkcs11/pkcs11_module.h"

namespace sigil::keystore::pkcs11 {

// What a session callback reports: CKR_OK, or the code and the name of the
// Cryptoki function that failed ("C_Sign").
struct Pkcs11Call {
  CK_RV rv = CKR_OK;
  std::string_view function;

  static Pkcs11Call Ok() { return {}; }
};

struct SessionPoolOptions {
  // Upper bound on sessions open at once; a caller beyond it waits for one.
  size_t max_sessions = 8;
};

class SessionPool {
 public:
  // Finds the token, opens one session and logs in, so a wrong label or PIN
  // is reported now rather than at the first signature.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<SessionPool>> Open(std::shared_ptr<Pkcs11Module> module,
                                                                         std::string token_label, SecretBytes pin,
                                                                         const SessionPoolOptions& options);
  ~SessionPool();
  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;

  using SessionFn = absl::FunctionRef<Pkcs11Call(CK_FUNCTION_LIST& functions, CK_SESSION_HANDLE session)>;

  // Runs fn with a logged-in session; retries once on a lost session (see
  // above), so fn must be safe to run again after a loss at any point in it
  // (the token may have done part of its work). `what` describes the
  // operation for error messages ("signing with key 'trader'").
  [[nodiscard]] absl::Status WithSession(std::string_view what, SessionFn fn);

  // Increases each time the pooled sessions are discarded after a loss, and
  // when closing a failed session leaves none open (the application is then
  // logged out); object handles found under an older generation must be
  // looked up again.
  uint64_t generation() const;
  size_t open_sessions() const;
  const std::string& token_label() const { return label_; }
  CK_FUNCTION_LIST& functions() const { return module_->functions(); }

 private:
  struct Lease {
    CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
    uint64_t generation = 0;
  };

  SessionPool(std::shared_ptr<Pkcs11Module> module, std::string label, SecretBytes pin, const SessionPoolOptions& options)
      : module_(std::move(module)), label_(std::move(label)), pin_(std::move(pin)), options_(options) {}

  absl::StatusOr<Lease> Acquire();
  // Returns a session to the pool, or closes it if it is stale or broken.
  void Release(const Lease& lease, bool healthy);
  // Starts a new generation if `generation` is still current.
  void Invalidate(uint64_t generation);
  // Finds the slot holding the token labelled label_.
  absl::StatusOr<CK_SLOT_ID> FindSlot();
  absl::StatusOr<CK_SESSION_HANDLE> OpenLoggedIn();

  const std::shared_ptr<Pkcs11Module> module_;
  const std::string label_;
  const SecretBytes pin_;
  const SessionPoolOptions options_;

  mutable absl::Mutex mu_;
  absl::CondVar available_;
  std::vector<CK_SESSION_HANDLE> idle_ ABSL_GUARDED_BY(mu_);
  size_t open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + lent + being opened
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 1;
  absl::Status pin_refused_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::keystore::pkcs11
