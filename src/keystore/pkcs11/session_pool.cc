#include "keystore/pkcs11/session_pool.h"

#include <algorithm>

#include "base/status.h"
#include "keystore/pkcs11/pkcs11_error.h"

namespace sigil::keystore::pkcs11 {
namespace {

// More slots than any HSM or token reader offers.
constexpr CK_ULONG kMaxSlots = 4096;

// CK_TOKEN_INFO.label is 32 bytes padded with spaces, not NUL-terminated.
std::string TrimLabel(const unsigned char (&label)[32]) {
  std::string text(reinterpret_cast<const char*>(label), sizeof label);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) text.pop_back();
  return text;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SessionPool>> SessionPool::Open(std::shared_ptr<Pkcs11Module> module,
                                                               std::string token_label, SecretBytes pin,
                                                               const SessionPoolOptions& options) {
  if (token_label.empty() || token_label.size() > 32) {
    return absl::InvalidArgumentError("PKCS#11 token label must be 1..32 characters");
  }
  if (options.max_sessions == 0) return absl::InvalidArgumentError("max_sessions must be at least 1");
  std::unique_ptr<SessionPool> pool(new SessionPool(std::move(module), std::move(token_label), std::move(pin), options));
  ASSIGN_OR_RETURN(Lease lease, pool->Acquire());
  pool->Release(lease, /*healthy=*/true);
  return pool;
}

SessionPool::~SessionPool() {
  std::vector<CK_SESSION_HANDLE> idle;
  {
    absl::MutexLock lock(&mu_);
    idle.swap(idle_);
  }
  for (CK_SESSION_HANDLE s : idle) (void)functions().C_CloseSession(s);
}

uint64_t SessionPool::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

size_t SessionPool::open_sessions() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

absl::StatusOr<CK_SLOT_ID> SessionPool::FindSlot() {
  CK_FUNCTION_LIST& f = functions();
  CK_ULONG count = 0;
  CK_RV rv = f.C_GetSlotList(CK_TRUE, nullptr, &count);
  if (rv != CKR_OK) return Pkcs11Error(rv, "listing PKCS#11 slots: C_GetSlotList");
  // The count sizes an allocation, so the module's word is bounded.
  if (count > kMaxSlots) {
    return absl::UnavailableError(module_->path() + " reports " + std::to_string(count) +
                                  " slots with a token; more than " + std::to_string(kMaxSlots) +
                                  " is not believed (a broken PKCS#11 module?)");
  }
  std::vector<CK_SLOT_ID> slots(count);
  if (count > 0) {
    rv = f.C_GetSlotList(CK_TRUE, slots.data(), &count);
    if (rv != CKR_OK) return Pkcs11Error(rv, "listing PKCS#11 slots: C_GetSlotList");
    slots.resize(std::min<size_t>(count, slots.size()));  // never more than it had room to write
  }
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (f.C_GetTokenInfo(slot, &info) != CKR_OK) continue;  // removed between the two calls
    if (TrimLabel(info.label) == label_) return slot;
  }
  return absl::UnavailableError("PKCS#11 token '" + label_ + "' is not present in any slot of " + module_->path() +
                                " (is the HSM connected and the token initialised?)");
}

absl::StatusOr<CK_SESSION_HANDLE> SessionPool::OpenLoggedIn() {
  {
    absl::MutexLock lock(&mu_);
    if (!pin_refused_.ok()) return pin_refused_;
  }
  ASSIGN_OR_RETURN(CK_SLOT_ID slot, FindSlot());
  CK_FUNCTION_LIST& f = functions();
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  CK_RV rv = f.C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session);
  if (rv != CKR_OK) return Pkcs11Error(rv, "opening a session on PKCS#11 token '" + label_ + "': C_OpenSession");
  // Login is per application and token, so every session after the first
  // usually answers CKR_USER_ALREADY_LOGGED_IN.
  std::string_view pin = pin_.RevealText(SecretAccess::Get());
  rv = f.C_Login(session, CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(pin.data())), pin.size());
  if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) return session;
  (void)f.C_CloseSession(session);
  absl::Status st = Pkcs11Error(rv, "logging in to PKCS#11 token '" + label_ + "': C_Login");
  if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED || rv == CKR_PIN_EXPIRED || rv == CKR_PIN_INVALID ||
      rv == CKR_PIN_LEN_RANGE) {
    absl::MutexLock lock(&mu_);
    pin_refused_ = absl::PermissionDeniedError(std::string(st.message()) +
                                               "; no further login is tried with this PIN (fix the PIN file and restart)");
    return pin_refused_;
  }
  return st;
}

absl::StatusOr<SessionPool::Lease> SessionPool::Acquire() {
  uint64_t generation = 0;
  {
    absl::MutexLock lock(&mu_);
    while (idle_.empty() && open_ >= options_.max_sessions) available_.Wait(&mu_);
    if (!idle_.empty()) {
      Lease lease{idle_.back(), generation_};
      idle_.pop_back();
      return lease;
    }
    ++open_;  // reserve the place while the session is opened without the lock
    generation = generation_;
  }
  auto session = OpenLoggedIn();
  if (!session.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
    available_.Signal();
    return session.status();
  }
  return Lease{*session, generation};
}

void SessionPool::Release(const Lease& lease, bool healthy) {
  bool close = !healthy;
  {
    absl::MutexLock lock(&mu_);
    if (lease.generation != generation_) close = true;
    if (!close) {
      idle_.push_back(lease.handle);
      available_.Signal();
      return;
    }
    --open_;
    // Closing the application's last session logs it out of the token, and
    // a module may then drop (SoftHSM2 does) or later reuse every object
    // handle: handles cached under this generation must be looked up again.
    // open_ also counts sessions being opened, so none is in use now.
    if (open_ == 0) ++generation_;
    available_.Signal();
  }
  (void)functions().C_CloseSession(lease.handle);
}

void SessionPool::Invalidate(uint64_t generation) {
  std::vector<CK_SESSION_HANDLE> stale;
  {
    absl::MutexLock lock(&mu_);
    if (generation != generation_) return;  // someone else already started over
    ++generation_;
    stale.swap(idle_);
    open_ -= stale.size();
    available_.SignalAll();
  }
  for (CK_SESSION_HANDLE s : stale) (void)functions().C_CloseSession(s);
}

absl::Status SessionPool::WithSession(std::string_view what, SessionFn fn) {
  for (int attempt = 0;; ++attempt) {
    auto lease = Acquire();
    if (!lease.ok()) {
      return absl::Status(lease.status().code(), std::string(what) + ": " + std::string(lease.status().message()));
    }
    Pkcs11Call call = fn(functions(), lease->handle);
    if (call.rv == CKR_OK) {
      Release(*lease, /*healthy=*/true);
      return absl::OkStatus();
    }
    const bool lost = IsSessionLost(call.rv);
    // A session whose call failed is closed, not lent again: the failure may
    // have left an operation active in it (a C_Sign answering
    // CKR_BUFFER_TOO_SMALL keeps its signing operation), and the next call
    // on it would fail with CKR_OPERATION_ACTIVE.
    Release(*lease, /*healthy=*/false);
    if (lost) {
      Invalidate(lease->generation);
      if (attempt == 0) continue;  // reopen, log in again, retry once
    }
    absl::Status st = Pkcs11Error(call.rv, std::string(what) + " on PKCS#11 token '" + label_ + "': " +
                                               std::string(call.function));
    // The token went away mid-call: whatever the module called it, the
    // caller can only wait for it to come back.
    if (lost) return absl::UnavailableError(std::string(st.message()));
    return st;
  }
}

}  // namespace sigil::keystore::pkcs11
