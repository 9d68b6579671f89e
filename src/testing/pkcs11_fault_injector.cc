#include "testing/pkcs11_fault_injector.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace sigil::keystore::pkcs11 {
namespace {

std::atomic<Pkcs11FaultInjector*> g_active{nullptr};

}  // namespace

// Each forwarder routes one Cryptoki entry point through Call(). Nested in
// the class so that it may reach Call() and the misreport settings.
struct Pkcs11FaultInjector::Forwarders {
  using F = Function;
  static Pkcs11FaultInjector& Active() { return *g_active.load(); }

  static CK_RV GetSlotList(CK_BBOOL present, CK_SLOT_ID* slots, CK_ULONG* count) {
    Pkcs11FaultInjector& self = Active();
    {
      absl::MutexLock lock(&self.mu_);
      // An unplugged token is simply absent from the list, not an error.
      if (self.removed_) {
        ++self.calls_[static_cast<size_t>(F::kGetSlotList)];
        *count = 0;
        return CKR_OK;
      }
    }
    CK_RV rv = self.Call(F::kGetSlotList, CK_INVALID_HANDLE,
                         [&](CK_FUNCTION_LIST& r) { return r.C_GetSlotList(present, slots, count); });
    absl::MutexLock lock(&self.mu_);
    if (rv == CKR_OK && self.slot_count_ && (slots != nullptr) == self.slot_count_when_filling_) {
      *count = *self.slot_count_;
    }
    return rv;
  }
  static CK_RV GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO* info) {
    return Active().Call(F::kGetTokenInfo, CK_INVALID_HANDLE,
                         [&](CK_FUNCTION_LIST& r) { return r.C_GetTokenInfo(slot, info); });
  }
  static CK_RV OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, void* app, CK_NOTIFY notify, CK_SESSION_HANDLE* s) {
    return Active().Call(F::kOpenSession, CK_INVALID_HANDLE,
                         [&](CK_FUNCTION_LIST& r) { return r.C_OpenSession(slot, flags, app, notify, s); });
  }
  static CK_RV Login(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR* pin, CK_ULONG pin_len) {
    return Active().Call(F::kLogin, s, [&](CK_FUNCTION_LIST& r) { return r.C_Login(s, user, pin, pin_len); });
  }
  static CK_RV GenerateKeyPair(CK_SESSION_HANDLE s, CK_MECHANISM* m, CK_ATTRIBUTE* pub_t, CK_ULONG pub_n,
                               CK_ATTRIBUTE* priv_t, CK_ULONG priv_n, CK_OBJECT_HANDLE* pub, CK_OBJECT_HANDLE* priv) {
    return Active().Call(F::kGenerateKeyPair, s, [&](CK_FUNCTION_LIST& r) {
      return r.C_GenerateKeyPair(s, m, pub_t, pub_n, priv_t, priv_n, pub, priv);
    });
  }
  static CK_RV GetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE* t, CK_ULONG n) {
    Pkcs11FaultInjector& self = Active();
    CK_RV rv =
        self.Call(F::kGetAttributeValue, s, [&](CK_FUNCTION_LIST& r) { return r.C_GetAttributeValue(s, o, t, n); });
    absl::MutexLock lock(&self.mu_);
    if (rv == CKR_OK && self.attribute_length_) {
      for (CK_ULONG i = 0; i < n; ++i) {
        if (t[i].type == self.attribute_length_->first) t[i].ulValueLen = self.attribute_length_->second;
      }
    }
    return rv;
  }
  static CK_RV FindObjectsInit(CK_SESSION_HANDLE s, CK_ATTRIBUTE* t, CK_ULONG n) {
    return Active().Call(F::kFindObjectsInit, s, [&](CK_FUNCTION_LIST& r) { return r.C_FindObjectsInit(s, t, n); });
  }
  static CK_RV FindObjects(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE* found, CK_ULONG max, CK_ULONG* count) {
    Pkcs11FaultInjector& self = Active();
    CK_RV rv =
        self.Call(F::kFindObjects, s, [&](CK_FUNCTION_LIST& r) { return r.C_FindObjects(s, found, max, count); });
    absl::MutexLock lock(&self.mu_);
    if (rv == CKR_OK && self.found_count_) *count = *self.found_count_;
    return rv;
  }
  static CK_RV FindObjectsFinal(CK_SESSION_HANDLE s) {
    return Active().Call(F::kFindObjectsFinal, s, [&](CK_FUNCTION_LIST& r) { return r.C_FindObjectsFinal(s); });
  }
  static CK_RV DestroyObject(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o) {
    return Active().Call(F::kDestroyObject, s, [&](CK_FUNCTION_LIST& r) { return r.C_DestroyObject(s, o); });
  }
  static CK_RV SignInit(CK_SESSION_HANDLE s, CK_MECHANISM* m, CK_OBJECT_HANDLE k) {
    return Active().Call(F::kSignInit, s, [&](CK_FUNCTION_LIST& r) { return r.C_SignInit(s, m, k); });
  }
  static CK_RV Sign(CK_SESSION_HANDLE s, CK_BYTE* data, CK_ULONG data_len, CK_BYTE* sig, CK_ULONG* sig_len) {
    return Active().Call(F::kSign, s, [&](CK_FUNCTION_LIST& r) { return r.C_Sign(s, data, data_len, sig, sig_len); });
  }
};

Pkcs11FaultInjector::Pkcs11FaultInjector(std::shared_ptr<Pkcs11Module> real) : real_(std::move(real)) {
  Pkcs11FaultInjector* expected = nullptr;
  if (!g_active.compare_exchange_strong(expected, this)) {
    // A second injector would silently steal the first one's calls.
    std::fprintf(stderr, "Pkcs11FaultInjector: only one may exist at a time\n");
    std::abort();
  }
  functions_ = real_->functions();
  functions_.C_GetSlotList = &Forwarders::GetSlotList;
  functions_.C_GetTokenInfo = &Forwarders::GetTokenInfo;
  functions_.C_OpenSession = &Forwarders::OpenSession;
  functions_.C_Login = &Forwarders::Login;
  functions_.C_GenerateKeyPair = &Forwarders::GenerateKeyPair;
  functions_.C_GetAttributeValue = &Forwarders::GetAttributeValue;
  functions_.C_FindObjectsInit = &Forwarders::FindObjectsInit;
  functions_.C_FindObjects = &Forwarders::FindObjects;
  functions_.C_FindObjectsFinal = &Forwarders::FindObjectsFinal;
  functions_.C_DestroyObject = &Forwarders::DestroyObject;
  functions_.C_SignInit = &Forwarders::SignInit;
  functions_.C_Sign = &Forwarders::Sign;
  module_ = Pkcs11Module::Interpose(real_, &functions_);
}

Pkcs11FaultInjector::~Pkcs11FaultInjector() { g_active.store(nullptr); }

void Pkcs11FaultInjector::FailNext(Function function, int times, CK_RV rv, Mode mode) {
  absl::MutexLock lock(&mu_);
  rules_[static_cast<size_t>(function)] = Rule{times, rv, mode};
}

void Pkcs11FaultInjector::SetRemoved(bool removed) {
  absl::MutexLock lock(&mu_);
  removed_ = removed;
}

void Pkcs11FaultInjector::MisreportAttributeLength(CK_ATTRIBUTE_TYPE type, CK_ULONG length) {
  absl::MutexLock lock(&mu_);
  attribute_length_ = {type, length};
}

void Pkcs11FaultInjector::MisreportSlotCount(CK_ULONG count, bool when_filling) {
  absl::MutexLock lock(&mu_);
  slot_count_ = count;
  slot_count_when_filling_ = when_filling;
}

void Pkcs11FaultInjector::MisreportFoundCount(CK_ULONG count) {
  absl::MutexLock lock(&mu_);
  found_count_ = count;
}

void Pkcs11FaultInjector::StopMisreporting() {
  absl::MutexLock lock(&mu_);
  attribute_length_.reset();
  slot_count_.reset();
  found_count_.reset();
}

int Pkcs11FaultInjector::calls(Function function) const {
  absl::MutexLock lock(&mu_);
  return calls_[static_cast<size_t>(function)];
}

CK_RV Pkcs11FaultInjector::Call(Function function, CK_SESSION_HANDLE session,
                                absl::FunctionRef<CK_RV(CK_FUNCTION_LIST& real)> real) {
  const size_t index = static_cast<size_t>(function);
  Rule rule;
  bool removed = false;
  {
    absl::MutexLock lock(&mu_);
    ++calls_[index];
    removed = removed_;
    if (rules_[index].times > 0) {
      rule = rules_[index];
      --rules_[index].times;
    }
  }
  if (removed) return function == Function::kOpenSession ? CKR_TOKEN_NOT_PRESENT : CKR_DEVICE_REMOVED;
  if (rule.times == 0) return real(real_->functions());
  if (rule.mode != Mode::kInsteadOfCall) (void)real(real_->functions());
  if (rule.mode == Mode::kCloseSessionAfterCall && session != CK_INVALID_HANDLE) {
    (void)real_->functions().C_CloseSession(session);
  }
  return rule.rv;
}

}  // namespace sigil::keystore::pkcs11
