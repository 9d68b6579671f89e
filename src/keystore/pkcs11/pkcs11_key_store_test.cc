#include "keystore/pkcs11/pkcs11_key_store.h"

#include <atomic>
#include <fstream>
#include <thread>

#include "base/hex.h"
#include "crypto/ed25519.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keystore/pkcs11/pkcs11_error.h"
#include "keystore/pkcs11/pkcs11_settings.h"
#include "keystore/sign_and_verify_test.h"
#include "testing/memory_store.h"
#include "testing/pkcs11_fault_injector.h"
#include "testing/scoped_temp_dir.h"
#include "testing/softhsm_token.h"

namespace sigil::keystore::pkcs11 {
namespace {

using ::testing::HasSubstr;

class Pkcs11KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!SoftHsmToken::Installed()) GTEST_SKIP() << "softhsm2 is not installed";
    auto token = SoftHsmToken::Create("sigil-unit");
    ASSERT_TRUE(token.ok()) << token.status();
    token_ = std::move(*token);
    auto module = Pkcs11Module::Load(token_->module_path());
    ASSERT_TRUE(module.ok()) << module.status();
    module_ = *module;
    ks_ = OpenStore(module_);
    ASSERT_NE(ks_, nullptr);
  }
  void TearDown() override {
    ks_.reset();
    faults_.reset();
    module_.reset();
  }

  // Reopens the keystore over a fault injector wrapping the real module.
  Pkcs11FaultInjector& InjectFaults(size_t max_sessions = 4) {
    ks_.reset();
    faults_ = std::make_unique<Pkcs11FaultInjector>(module_);
    ks_ = OpenStore(faults_->module(), max_sessions);
    EXPECT_NE(ks_, nullptr);
    return *faults_;
  }

  std::unique_ptr<Pkcs11KeyStore> OpenStore(std::shared_ptr<Pkcs11Module> module, size_t max_sessions = 4) {
    SessionPoolOptions po;
    po.max_sessions = max_sessions;
    auto pool = SessionPool::Open(std::move(module), token_->label(), SecretBytes::CopyFrom(token_->pin()), po);
    EXPECT_TRUE(pool.ok()) << pool.status();
    if (!pool.ok()) return nullptr;
    Pkcs11KeyStoreOptions options;
    options.clock = &clock_;
    auto ks = Pkcs11KeyStore::Open(store_, std::move(*pool), options);
    EXPECT_TRUE(ks.ok()) << ks.status();
    return ks.ok() ? std::move(*ks) : nullptr;
  }

  // A raw logged-in session of the test itself, as another application
  // (or an attacker with the PIN) would have.
  CK_SESSION_HANDLE RawSession() {
    CK_FUNCTION_LIST& f = module_->functions();
    CK_ULONG count = 8;
    CK_SLOT_ID slots[8];
    EXPECT_EQ(f.C_GetSlotList(CK_TRUE, slots, &count), CKR_OK);
    for (CK_ULONG i = 0; i < count; ++i) {
      CK_TOKEN_INFO info{};
      if (f.C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
      if (std::string(reinterpret_cast<char*>(info.label), token_->label().size()) != token_->label()) continue;
      slot_ = slots[i];
      CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
      EXPECT_EQ(f.C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s), CKR_OK);
      std::string pin = token_->pin();
      CK_RV rv = f.C_Login(s, CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(pin.data()), pin.size());
      EXPECT_TRUE(rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) << ReturnCodeName(rv);
      return s;
    }
    ADD_FAILURE() << "token not found";
    return CK_INVALID_HANDLE;
  }

  CK_OBJECT_HANDLE FindPrivate(CK_SESSION_HANDLE s, const std::vector<uint8_t>& id) {
    CK_FUNCTION_LIST& f = module_->functions();
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE q[] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_ID, const_cast<uint8_t*>(id.data()), id.size()}};
    EXPECT_EQ(f.C_FindObjectsInit(s, q, 2), CKR_OK);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    EXPECT_EQ(f.C_FindObjects(s, &h, 1, &n), CKR_OK);
    EXPECT_EQ(f.C_FindObjectsFinal(s), CKR_OK);
    EXPECT_EQ(n, 1u);
    return h;
  }

  std::vector<uint8_t> CkaId(const KeyInfo& key) {
    auto hex = ks_->TokenObjectId(key.id, key.version);
    EXPECT_TRUE(hex.ok());
    return *HexDecode(*hex);
  }

  static constexpr uint8_t kSecp256k1Params[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
  static constexpr uint8_t kP384Params[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

  // Another application destroys the key's private key object and makes a
  // new one on `curve` under the same CKA_ID: sensitive and never
  // extractable if `protected_key`, readable and extractable otherwise.
  void ReplacePrivateKey(const KeyInfo& key, std::span<const uint8_t> curve, bool protected_key) {
    CK_SESSION_HANDLE s = RawSession();
    CK_FUNCTION_LIST& f = module_->functions();
    std::vector<uint8_t> id = CkaId(key);
    ASSERT_EQ(f.C_DestroyObject(s, FindPrivate(s, id)), CKR_OK);
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_BBOOL sensitive = protected_key ? CK_TRUE : CK_FALSE, extractable = protected_key ? CK_FALSE : CK_TRUE;
    CK_ATTRIBUTE pub_t[] = {{CKA_TOKEN, &no, 1}, {CKA_EC_PARAMS, const_cast<uint8_t*>(curve.data()), curve.size()}};
    CK_ATTRIBUTE priv_t[] = {{CKA_TOKEN, &yes, 1},           {CKA_PRIVATE, &yes, 1},
                             {CKA_SIGN, &yes, 1},            {CKA_SENSITIVE, &sensitive, 1},
                             {CKA_EXTRACTABLE, &extractable, 1}, {CKA_ID, id.data(), id.size()}};
    CK_MECHANISM gen{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    CK_OBJECT_HANDLE pub = 0, priv = 0;
    ASSERT_EQ(f.C_GenerateKeyPair(s, &gen, pub_t, 2, priv_t, 6, &pub, &priv), CKR_OK);
    (void)f.C_CloseSession(s);
  }

  // The objects (public and private) on the token labelled `label`, counted
  // through the real module in a session of the test's own.
  int CountObjectsLabelled(const std::string& label) {
    CK_FUNCTION_LIST& f = module_->functions();
    CK_SESSION_HANDLE s = RawSession();
    CK_ATTRIBUTE q[] = {{CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
    EXPECT_EQ(f.C_FindObjectsInit(s, q, 1), CKR_OK);
    int total = 0;
    for (;;) {
      CK_OBJECT_HANDLE found[16];
      CK_ULONG n = 0;
      EXPECT_EQ(f.C_FindObjects(s, found, 16, &n), CKR_OK);
      if (n == 0) break;
      total += static_cast<int>(n);
    }
    EXPECT_EQ(f.C_FindObjectsFinal(s), CKR_OK);
    (void)f.C_CloseSession(s);
    return total;
  }

  FakeClock clock_;
  store::MemoryStore store_;
  std::unique_ptr<SoftHsmToken> token_;
  std::shared_ptr<Pkcs11Module> module_;
  std::unique_ptr<Pkcs11FaultInjector> faults_;  // outlives ks_ when set
  std::unique_ptr<Pkcs11KeyStore> ks_;
  CK_SLOT_ID slot_ = 0;
};

TEST_F(Pkcs11KeyStoreTest, Secp256k1AndEd25519KeysSignAndVerify) {
  for (KeyType type : {KeyType::kSecp256k1, KeyType::kEd25519}) {
    auto key = ks_->Generate("k-" + std::string(KeyTypeName(type)), type, KeyPurpose::kSigning);
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(key->backend, "pkcs11");
    EXPECT_EQ(key->version, 1u);
    EXPECT_EQ(key->created_at, clock_.Now());
    EXPECT_EQ(key->public_key.size(), PublicKeySize(type));
    ExpectSignsAndVerifies(*ks_, *key, KeyPurpose::kSigning);
  }
}

// CKM_ECDSA returns high-s about half the time; every signature Sigil
// returns must be low-s with the right recovery id (VerifyEcdsa rejects
// high-s; recovery must give the key back).
TEST_F(Pkcs11KeyStoreTest, EcdsaSignaturesAreLowSWithRecoveryId) {
  auto key = ks_->Generate("eth", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok()) << key.status();
  auto pub = crypto::ParseSecp256k1PublicKey(key->public_key);
  ASSERT_TRUE(pub.ok());
  int recid_one = 0;
  for (int i = 0; i < 24; ++i) {
    const crypto::Hash256 digest = crypto::Keccak256(AsBytes("tx " + std::to_string(i)));
    auto sig = ks_->SignEcdsa(key->id, KeyPurpose::kSigning, digest);
    ASSERT_TRUE(sig.ok()) << sig.status();
    std::array<uint8_t, 64> rs{};
    std::copy(sig->r.begin(), sig->r.end(), rs.begin());
    std::copy(sig->s.begin(), sig->s.end(), rs.begin() + 32);
    EXPECT_TRUE(crypto::VerifyEcdsa(*pub, digest, rs)) << "low-s, valid";
    EXPECT_EQ(*crypto::RecoverPublicKey(digest, *sig), *pub);
    recid_one += sig->recovery_id;
  }
  EXPECT_GT(recid_one, 0) << "both recovery ids occur";
  EXPECT_LT(recid_one, 24);
}

TEST_F(Pkcs11KeyStoreTest, Ed25519SignatureVerifiesWithLibsodium) {
  auto key = ks_->Generate("sol", KeyType::kEd25519, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok()) << key.status();
  const std::string message = "solana message bytes";
  auto sig = ks_->SignEd25519(key->id, KeyPurpose::kSigning, AsBytes(message));
  ASSERT_TRUE(sig.ok()) << sig.status();
  crypto::Ed25519PublicKey pub{};
  std::copy(key->public_key.begin(), key->public_key.end(), pub.begin());
  EXPECT_TRUE(crypto::Ed25519Verify(pub, AsBytes(message), *sig));  // libsodium crypto_sign_verify_detached
  (*sig)[0] ^= 1;
  EXPECT_FALSE(crypto::Ed25519Verify(pub, AsBytes(message), *sig));
}

TEST_F(Pkcs11KeyStoreTest, PrivateKeyValueCannotBeRead) {
  auto key = ks_->Generate("secret", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok()) << key.status();
  CK_SESSION_HANDLE s = RawSession();
  CK_OBJECT_HANDLE priv = FindPrivate(s, CkaId(*key));
  CK_FUNCTION_LIST& f = module_->functions();
  uint8_t value[64];
  CK_ATTRIBUTE attr{CKA_VALUE, value, sizeof value};
  EXPECT_EQ(f.C_GetAttributeValue(s, priv, &attr, 1), static_cast<CK_RV>(CKR_ATTRIBUTE_SENSITIVE));
  CK_BBOOL sensitive = CK_FALSE, extractable = CK_TRUE, priv_flag = CK_FALSE, token_flag = CK_FALSE, sign = CK_FALSE;
  CK_ATTRIBUTE attrs[] = {{CKA_SENSITIVE, &sensitive, 1}, {CKA_EXTRACTABLE, &extractable, 1},
                          {CKA_PRIVATE, &priv_flag, 1},   {CKA_TOKEN, &token_flag, 1},
                          {CKA_SIGN, &sign, 1}};
  ASSERT_EQ(f.C_GetAttributeValue(s, priv, attrs, 5), CKR_OK);
  EXPECT_EQ(sensitive, CK_TRUE);
  EXPECT_EQ(extractable, CK_FALSE);
  EXPECT_EQ(priv_flag, CK_TRUE);
  EXPECT_EQ(token_flag, CK_TRUE);
  EXPECT_EQ(sign, CK_TRUE);
  (void)f.C_CloseSession(s);
}

TEST_F(Pkcs11KeyStoreTest, SchnorrIsRefusedWithAClearError) {
  auto key = ks_->Generate("nostr", KeyType::kSchnorr, KeyPurpose::kSigning);
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(key.status().message()), HasSubstr("BIP-340"));
  auto ecdsa = ks_->Generate("ecdsa", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(ecdsa.ok());
  auto sig = ks_->SignSchnorr(ecdsa->id, KeyPurpose::kSigning, DigestOf("x"));
  EXPECT_EQ(sig.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(sig.status().message()), HasSubstr("BIP-340"));
}

TEST_F(Pkcs11KeyStoreTest, KeyStoreContractWhereItApplies) {
  auto a = ks_->Generate("alpha", KeyType::kSecp256k1, KeyPurpose::kSigning);
  auto b = ks_->Generate("beta", KeyType::kEd25519, KeyPurpose::kAudit);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*ks_->Get("alpha"), *a);
  EXPECT_EQ(*ks_->Get(b->id), *b);
  EXPECT_THAT(*ks_->List(), ::testing::ElementsAre(*a, *b));
  EXPECT_EQ(ks_->Get("gamma").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ks_->Generate("alpha", KeyType::kEd25519, KeyPurpose::kSigning).status().code(),
            absl::StatusCode::kAlreadyExists);
  for (const char* bad : {"", "has space", "key_x", "0xabc"}) {
    EXPECT_EQ(ks_->Generate(bad, KeyType::kSecp256k1, KeyPurpose::kSigning).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  // Scheme, purpose and id checks.
  EXPECT_EQ(ks_->SignEd25519(a->id, KeyPurpose::kSigning, AsBytes("x")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ks_->SignEcdsa("alpha", KeyPurpose::kSigning, DigestOf("x")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ks_->SignEd25519(b->id, KeyPurpose::kSigning, AsBytes("x")).status().code(),
            absl::StatusCode::kPermissionDenied);
  ExpectSignsAndVerifies(*ks_, *b, KeyPurpose::kAudit);

  // Rotation: new key pair in the token, old version verify-only.
  const crypto::Hash256 digest = DigestOf("before rotation");
  clock_.Advance(absl::Hours(1));
  auto v2 = ks_->Rotate("alpha");
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->id, a->id);
  EXPECT_EQ(v2->version, 2u);
  EXPECT_NE(v2->public_key, a->public_key);
  auto list = ks_->List();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].status, KeyStatus::kRetired);
  EXPECT_EQ((*list)[0].retired_at, clock_.Now());
  auto sig = ks_->SignEcdsa(a->id, KeyPurpose::kSigning, digest);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(*crypto::RecoverPublicKey(digest, *sig), *crypto::ParseSecp256k1PublicKey(v2->public_key));

  // Archive.
  ASSERT_TRUE(ks_->Archive("alpha").ok());
  auto refused = ks_->SignEcdsa(a->id, KeyPurpose::kSigning, digest);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("archived"));
  EXPECT_EQ(ks_->Rotate("alpha").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ks_->Archive("alpha").ok());
}

TEST_F(Pkcs11KeyStoreTest, ConcurrentSigningUsesSeveralSessionsAndRotationIsSafe) {
  auto key = ks_->Generate("busy", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok());
  std::atomic<int> failures{0};
  absl::Mutex mu;
  std::vector<std::string> errors;
  auto fail = [&](const absl::Status& st) {
    failures++;
    absl::MutexLock lock(&mu);
    errors.push_back(std::string(st.message()));
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) {
        auto sig = ks_->SignEcdsa(key->id, KeyPurpose::kSigning, DigestOf(std::to_string(t * 100 + i)));
        if (!sig.ok()) fail(sig.status());
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 2; ++i) {
      auto rotated = ks_->Rotate("busy");
      if (!rotated.ok()) fail(rotated.status());
    }
  });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0) << (errors.empty() ? "" : errors.front());
  EXPECT_EQ(ks_->Get("busy")->version, 3u);
  EXPECT_GE(ks_->pool().open_sessions(), 1u);
  EXPECT_LE(ks_->pool().open_sessions(), 4u);
}

// A key whose token object became extractable (here: replaced by another
// application with an extractable key under the same CKA_ID) is refused and
// reported, by a running keystore and at the next start.
TEST_F(Pkcs11KeyStoreTest, KeyThatBecameExtractableIsRefusedAndReported) {
  auto key = ks_->Generate("victim", KeyType::kSecp256k1, KeyPurpose::kSigning);
  auto other = ks_->Generate("fine", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok() && other.ok());
  ASSERT_TRUE(ks_->SignEcdsa(key->id, KeyPurpose::kSigning, DigestOf("a")).ok());

  ASSERT_NO_FATAL_FAILURE(ReplacePrivateKey(*key, kSecp256k1Params, /*protected_key=*/false));

  // The running keystore: its cached handle is gone, the lookup finds the
  // replacement and refuses it.
  auto sig = ks_->SignEcdsa(key->id, KeyPurpose::kSigning, DigestOf("b"));
  EXPECT_EQ(sig.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(sig.status().message()), HasSubstr("CKA_EXTRACTABLE"));
  EXPECT_THAT(std::string(sig.status().message()), HasSubstr("victim"));

  // A fresh start reports it and still signs with the healthy key.
  ks_.reset();
  ks_ = OpenStore(module_);
  ASSERT_NE(ks_, nullptr);
  auto problems = ks_->Problems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].name, "victim");
  EXPECT_THAT(problems[0].reason, HasSubstr("CKA_EXTRACTABLE is true"));
  // ... and so do key list and key show (the other key is not refused).
  auto listed = ks_->List();
  ASSERT_TRUE(listed.ok());
  for (const KeyInfo& k : *listed) {
    if (k.id == key->id) {
      EXPECT_THAT(k.refused, HasSubstr("CKA_EXTRACTABLE is true"));
    } else {
      EXPECT_EQ(k.refused, "");
    }
  }
  EXPECT_THAT(ks_->Get("victim")->refused, HasSubstr("CKA_EXTRACTABLE is true"));
  EXPECT_EQ(ks_->Get(other->id)->refused, "");
  EXPECT_EQ(ks_->SignEcdsa(key->id, KeyPurpose::kSigning, DigestOf("c")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(ks_->SignEcdsa(other->id, KeyPurpose::kSigning, DigestOf("c")).ok());
}

TEST_F(Pkcs11KeyStoreTest, WrongPinAndUnknownTokenAreClearErrors) {
  ks_.reset();  // closing every session logs the application out; the PIN is checked again
  auto bad = SessionPool::Open(module_, token_->label(), SecretBytes::CopyFrom(std::string_view("9999")), {});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("CKR_PIN_INCORRECT"));
  EXPECT_THAT(std::string(bad.status().message()), ::testing::Not(HasSubstr("9999")));
  auto missing = SessionPool::Open(module_, "no-such-token", SecretBytes::CopyFrom(token_->pin()), {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("no-such-token"));
  auto no_module = Pkcs11Module::Load("/nonexistent/libpkcs11.so");
  EXPECT_EQ(no_module.status().code(), absl::StatusCode::kNotFound);
}

// Real token resets from outside: every session closed, or the user logged
// out. The next signature reopens, logs in again and succeeds.
TEST_F(Pkcs11KeyStoreTest, RecoversAfterSessionsClosedOrLoggedOutFromOutside) {
  auto key = ks_->Generate("steady", KeyType::kEd25519, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(ks_->SignEd25519(key->id, KeyPurpose::kSigning, AsBytes("1")).ok());
  CK_FUNCTION_LIST& f = module_->functions();
  uint64_t gen = ks_->pool().generation();

  CK_SESSION_HANDLE s = RawSession();
  ASSERT_EQ(f.C_CloseAllSessions(slot_), CKR_OK);  // closes Sigil's sessions and s
  auto after_close = ks_->SignEd25519(key->id, KeyPurpose::kSigning, AsBytes("2"));
  EXPECT_TRUE(after_close.ok()) << after_close.status();
  EXPECT_GT(ks_->pool().generation(), gen);

  gen = ks_->pool().generation();
  s = RawSession();
  ASSERT_EQ(f.C_Logout(s), CKR_OK);  // login state is per application: Sigil's sessions are logged out too
  auto after_logout = ks_->SignEd25519(key->id, KeyPurpose::kSigning, AsBytes("3"));
  EXPECT_TRUE(after_logout.ok()) << after_logout.status();
  EXPECT_GT(ks_->pool().generation(), gen);
  (void)f.C_CloseSession(s);
}

TEST_F(Pkcs11KeyStoreTest, RemovedTokenMakesSigningUnavailableUntilItReturns) {
  Pkcs11FaultInjector& faults = InjectFaults();
  ASSERT_NE(ks_, nullptr);
  auto key = ks_->Generate("hsm", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok()) << key.status();
  ASSERT_TRUE(ks_->SignEcdsa(key->id, KeyPurpose::kSigning, DigestOf("before")).ok());

  faults.SetRemoved(true);
  for (int i = 0; i < 3; ++i) {
    auto sig = ks_->SignEcdsa(key->id, KeyPurpose::kSigning, DigestOf("during"));
    EXPECT_EQ(sig.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(std::string(sig.status().message()), HasSubstr("not present"));
  }
  EXPECT_EQ(ks_->Get("hsm")->name, "hsm") << "metadata stays readable";

  faults.SetRemoved(false);
  auto back = ks_->SignEcdsa(key->id, KeyPurpose::kSigning, DigestOf("after"));
  EXPECT_TRUE(back.ok()) << back.status();
}

using Fault = Pkcs11FaultInjector::Function;
using FaultMode = Pkcs11FaultInjector::Mode;

// SoftHSM2 sometimes answers C_GenerateKeyPair with CKR_GENERAL_ERROR under
// load. Here the failing call has made its pair all the same (the worst
// case): the retry must use a fresh CKA_ID and the half-made pair must go.
TEST_F(Pkcs11KeyStoreTest, GenerationRetriesAGeneralErrorOnceAndRemovesTheHalfMadePair) {
  Pkcs11FaultInjector& faults = InjectFaults();
  ASSERT_NE(ks_, nullptr);
  for (KeyType type : {KeyType::kSecp256k1, KeyType::kEd25519}) {
    const std::string name = "flaky-" + std::string(KeyTypeName(type));
    const int calls_before = faults.calls(Fault::kGenerateKeyPair);
    faults.FailNext(Fault::kGenerateKeyPair, 1, CKR_GENERAL_ERROR, FaultMode::kAfterCall);
    auto key = ks_->Generate(name, type, KeyPurpose::kSigning);
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(faults.calls(Fault::kGenerateKeyPair) - calls_before, 2);
    EXPECT_EQ(CountObjectsLabelled("sigil:" + name + ":v1"), 2) << "one public and one private key, no leftovers";
    ExpectSignsAndVerifies(*ks_, *key, KeyPurpose::kSigning);
  }
  EXPECT_TRUE(ks_->Problems().empty());
}

TEST_F(Pkcs11KeyStoreTest, GenerationGivesUpAfterThreeGeneralErrorsAndLeavesNothingOnTheToken) {
  Pkcs11FaultInjector& faults = InjectFaults();
  ASSERT_NE(ks_, nullptr);
  faults.FailNext(Fault::kGenerateKeyPair, 3, CKR_GENERAL_ERROR, FaultMode::kAfterCall);
  auto key = ks_->Generate("doomed", KeyType::kSecp256k1, KeyPurpose::kSigning);
  EXPECT_EQ(key.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(key.status().message()), HasSubstr("CKR_GENERAL_ERROR"));
  EXPECT_THAT(std::string(key.status().message()), HasSubstr("3 attempts"));
  EXPECT_EQ(faults.calls(Fault::kGenerateKeyPair), 3);
  EXPECT_EQ(CountObjectsLabelled("sigil:doomed:v1"), 0);
  EXPECT_TRUE(ks_->List()->empty());
  // Nothing was recorded either: the name is free and the token works.
  auto again = ks_->Generate("doomed", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(CountObjectsLabelled("sigil:doomed:v1"), 2);
}

// Only CKR_GENERAL_ERROR is retried: an error that will not go away by
// itself (no memory left, a template the token refuses) is reported at once,
// and the pair the failing call made anyway is removed.
TEST_F(Pkcs11KeyStoreTest, GenerationDoesNotRetryOtherErrors) {
  Pkcs11FaultInjector& faults = InjectFaults();
  ASSERT_NE(ks_, nullptr);
  for (CK_RV rv : {CKR_DEVICE_MEMORY, CKR_TEMPLATE_INCONSISTENT, CKR_FUNCTION_FAILED}) {
    const int calls_before = faults.calls(Fault::kGenerateKeyPair);
    faults.FailNext(Fault::kGenerateKeyPair, 1, rv, FaultMode::kAfterCall);
    auto key = ks_->Generate("once", KeyType::kSecp256k1, KeyPurpose::kSigning);
    EXPECT_EQ(key.status().code(), ReturnCodeStatus(rv)) << ReturnCodeName(rv);
    EXPECT_THAT(std::string(key.status().message()), HasSubstr(ReturnCodeName(rv)));
    EXPECT_EQ(faults.calls(Fault::kGenerateKeyPair) - calls_before, 1) << ReturnCodeName(rv);
    EXPECT_EQ(CountObjectsLabelled("sigil:once:v1"), 0) << ReturnCodeName(rv);
  }
}

// The session is lost after C_GenerateKeyPair made the pair (the HSM was
// reset or the network to it dropped before the answer came back).
// WithSession reruns the generation on a fresh session; the pair the lost
// attempt made must not stay behind as an orphan no record points to.
TEST_F(Pkcs11KeyStoreTest, SessionLostAfterThePairWasMadeLeavesNoOrphan) {
  Pkcs11FaultInjector& faults = InjectFaults();
  ASSERT_NE(ks_, nullptr);
  const uint64_t generation = ks_->pool().generation();
  faults.FailNext(Fault::kGenerateKeyPair, 1, CKR_SESSION_HANDLE_INVALID, FaultMode::kCloseSessionAfterCall);
  auto key = ks_->Generate("rerun", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_GT(ks_->pool().generation(), generation) << "the pool started over";
  EXPECT_EQ(faults.calls(Fault::kGenerateKeyPair), 2);
  EXPECT_EQ(CountObjectsLabelled("sigil:rerun:v1"), 2);
  ExpectSignsAndVerifies(*ks_, *key, KeyPurpose::kSigning);

  // Lost on the rerun too: the error says the token is unreachable, and
  // neither attempt's pair remains.
  faults.FailNext(Fault::kGenerateKeyPair, 2, CKR_DEVICE_ERROR, FaultMode::kCloseSessionAfterCall);
  auto lost = ks_->Generate("lost", KeyType::kEd25519, KeyPurpose::kSigning);
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CountObjectsLabelled("sigil:lost:v1"), 0);

  // Lost while the new pair's attributes were read back: the same.
  faults.FailNext(Fault::kGetAttributeValue, 1, CKR_SESSION_HANDLE_INVALID, FaultMode::kCloseSessionAfterCall);
  auto v2 = ks_->Rotate("rerun");
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(CountObjectsLabelled("sigil:rerun:v2"), 2);
  ExpectSignsAndVerifies(*ks_, *v2, KeyPurpose::kSigning);
}

// A module that lies about sizes (a buggy vendor library) gets a clear
// error; nothing is allocated or read by its word alone.
TEST_F(Pkcs11KeyStoreTest, ModuleThatMisreportsSizesGetsAClearErrorNotACrash) {
  Pkcs11FaultInjector& faults = InjectFaults();
  ASSERT_NE(ks_, nullptr);
  auto bystander = ks_->Generate("bystander", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(bystander.ok()) << bystander.status();

  // CKA_EC_POINT "longer" than the buffer it was read into (here
  // CK_UNAVAILABLE_INFORMATION with CKR_OK).
  faults.MisreportAttributeLength(CKA_EC_POINT, CK_UNAVAILABLE_INFORMATION);
  auto key = ks_->Generate("liar", KeyType::kSecp256k1, KeyPurpose::kSigning);
  EXPECT_FALSE(key.ok());
  EXPECT_THAT(std::string(key.status().message()), HasSubstr("CKA_EC_POINT"));
  EXPECT_EQ(CountObjectsLabelled("sigil:liar:v1"), 0);
  faults.StopMisreporting();

  // More slots than any machine has.
  faults.MisreportSlotCount(CK_ULONG{1} << 60);
  auto pool = SessionPool::Open(faults.module(), token_->label(), SecretBytes::CopyFrom(token_->pin()), {});
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(pool.status().message()), HasSubstr("slots"));
  // ... or when it fills the list: only what fitted is read.
  faults.MisreportSlotCount(CK_ULONG{1} << 60, /*when_filling=*/true);
  pool = SessionPool::Open(faults.module(), token_->label(), SecretBytes::CopyFrom(token_->pin()), {});
  EXPECT_TRUE(pool.ok()) << pool.status();
  pool = absl::UnavailableError("closed");
  faults.StopMisreporting();

  // C_FindObjects "finding" more objects than there was room for, while a
  // half-made pair is removed: only real handles are destroyed.
  const int destroys_before = faults.calls(Fault::kDestroyObject);
  faults.MisreportFoundCount(64);
  faults.FailNext(Fault::kGenerateKeyPair, 1, CKR_GENERAL_ERROR, FaultMode::kAfterCall);
  auto retried = ks_->Generate("retried", KeyType::kSecp256k1, KeyPurpose::kSigning);
  faults.StopMisreporting();
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_LE(faults.calls(Fault::kDestroyObject) - destroys_before, 2);
  EXPECT_EQ(CountObjectsLabelled("sigil:retried:v1"), 2);
  EXPECT_EQ(CountObjectsLabelled("sigil:bystander:v1"), 2);
  ExpectSignsAndVerifies(*ks_, *bystander, KeyPurpose::kSigning);
  ExpectSignsAndVerifies(*ks_, *retried, KeyPurpose::kSigning);
}

// A C_Sign that answers CKR_BUFFER_TOO_SMALL leaves the signing operation
// active in its session (PKCS#11 2.40 section 5.2); a session that failed a
// call must not be lent out again, or every later signature on it fails
// with CKR_OPERATION_ACTIVE.
TEST_F(Pkcs11KeyStoreTest, AFailedSignatureDoesNotSpoilTheSessionForTheNextOne) {
  ks_.reset();
  ks_ = OpenStore(module_, /*max_sessions=*/1);
  ASSERT_NE(ks_, nullptr);
  auto good = ks_->Generate("good", KeyType::kSecp256k1, KeyPurpose::kSigning);
  auto swapped = ks_->Generate("swapped", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(good.ok() && swapped.ok());

  // Another application replaces the private key with a P-384 one (well
  // protected, so it passes the attribute check): its signature is 96 bytes.
  ASSERT_NO_FATAL_FAILURE(ReplacePrivateKey(*swapped, kP384Params, /*protected_key=*/true));

  for (int i = 0; i < 2; ++i) {
    auto refused = ks_->SignEcdsa(swapped->id, KeyPurpose::kSigning, DigestOf("x"));
    EXPECT_FALSE(refused.ok());
    EXPECT_THAT(std::string(refused.status().message()), HasSubstr("CKR_BUFFER_TOO_SMALL"));
    auto sig = ks_->SignEcdsa(good->id, KeyPurpose::kSigning, DigestOf("y"));
    EXPECT_TRUE(sig.ok()) << sig.status();
  }
}

// After a token reset the pool logs in again; if the token now refuses the
// PIN, no further login is tried with it (each wrong one brings the token
// closer to locking the PIN), and the PIN never reaches a message.
TEST_F(Pkcs11KeyStoreTest, ARefusedPinIsNotTriedAgain) {
  Pkcs11FaultInjector& faults = InjectFaults();
  ASSERT_NE(ks_, nullptr);
  auto key = ks_->Generate("locked", KeyType::kEd25519, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok()) << key.status();
  ASSERT_TRUE(ks_->SignEd25519(key->id, KeyPurpose::kSigning, AsBytes("1")).ok());

  faults.FailNext(Fault::kSignInit, 1, CKR_USER_NOT_LOGGED_IN);
  faults.FailNext(Fault::kLogin, 1, CKR_PIN_INCORRECT);
  const int logins = faults.calls(Fault::kLogin);
  for (int i = 0; i < 3; ++i) {
    auto sig = ks_->SignEd25519(key->id, KeyPurpose::kSigning, AsBytes("2"));
    EXPECT_EQ(sig.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(std::string(sig.status().message()), HasSubstr("CKR_PIN_INCORRECT"));
    EXPECT_THAT(std::string(sig.status().message()), ::testing::Not(HasSubstr(token_->pin())));
  }
  EXPECT_EQ(faults.calls(Fault::kLogin) - logins, 1);
}

// With one session, a failed signature closes the application's only
// session, which logs it out; SoftHSM2 then drops every object handle. The
// next signature must look the key up again at once, not try the stale
// handle, take it for a lost session and start the pool over (a module that
// reuses handle numbers could even sign with another key).
TEST_F(Pkcs11KeyStoreTest, ClosingTheLastSessionAfterAFailureDropsTheCachedKeyHandles) {
  Pkcs11FaultInjector& faults = InjectFaults(/*max_sessions=*/1);
  ASSERT_NE(ks_, nullptr);
  auto key = ks_->Generate("single", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok()) << key.status();
  ASSERT_TRUE(ks_->SignEcdsa(key->id, KeyPurpose::kSigning, DigestOf("1")).ok());

  faults.FailNext(Fault::kSign, 1, CKR_FUNCTION_FAILED);
  auto failed = ks_->SignEcdsa(key->id, KeyPurpose::kSigning, DigestOf("2"));
  EXPECT_THAT(std::string(failed.status().message()), HasSubstr("CKR_FUNCTION_FAILED"));
  EXPECT_EQ(ks_->pool().open_sessions(), 0u);

  const int logins = faults.calls(Fault::kLogin);
  const int sign_inits = faults.calls(Fault::kSignInit);
  const int lookups = faults.calls(Fault::kFindObjectsInit);
  auto sig = ks_->SignEcdsa(key->id, KeyPurpose::kSigning, DigestOf("3"));
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(faults.calls(Fault::kLogin) - logins, 1) << "one new session, one login, no pool reset";
  EXPECT_EQ(faults.calls(Fault::kSignInit) - sign_inits, 1) << "the stale handle was not tried";
  EXPECT_EQ(faults.calls(Fault::kFindObjectsInit) - lookups, 1) << "the key was looked up again";
}

// A cached key handle the token no longer knows (the object was replaced)
// is looked up again in the same session; the session is not at fault, so
// the pool does not start over and nobody logs in again.
TEST_F(Pkcs11KeyStoreTest, AStaleCachedKeyHandleIsLookedUpAgainInTheSameSession) {
  Pkcs11FaultInjector& faults = InjectFaults();
  ASSERT_NE(ks_, nullptr);
  auto key = ks_->Generate("renumbered", KeyType::kEd25519, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok()) << key.status();
  ASSERT_TRUE(ks_->SignEd25519(key->id, KeyPurpose::kSigning, AsBytes("1")).ok());

  for (CK_RV rv : {CKR_KEY_HANDLE_INVALID, CKR_OBJECT_HANDLE_INVALID}) {
    const uint64_t generation = ks_->pool().generation();
    const int logins = faults.calls(Fault::kLogin);
    const int sign_inits = faults.calls(Fault::kSignInit);
    const int lookups = faults.calls(Fault::kFindObjectsInit);
    faults.FailNext(Fault::kSignInit, 1, rv);
    auto sig = ks_->SignEd25519(key->id, KeyPurpose::kSigning, AsBytes("2"));
    ASSERT_TRUE(sig.ok()) << sig.status();
    EXPECT_EQ(ks_->pool().generation(), generation) << ReturnCodeName(rv);
    EXPECT_EQ(faults.calls(Fault::kLogin) - logins, 0) << ReturnCodeName(rv);
    EXPECT_EQ(faults.calls(Fault::kSignInit) - sign_inits, 2) << ReturnCodeName(rv);
    EXPECT_EQ(faults.calls(Fault::kFindObjectsInit) - lookups, 1) << ReturnCodeName(rv);
  }
  EXPECT_TRUE(ks_->Problems().empty());
}

// A C_DestroyObject that fails while a failed attempt's pair is removed is
// not taken for success: no further attempt is made (it would leave another
// pair), and when the pair cannot be removed at all the error says so,
// naming its label (and not the PIN).
TEST_F(Pkcs11KeyStoreTest, AFailedRemovalStopsGenerationAndNamesTheLeftoverLabel) {
  Pkcs11FaultInjector& faults = InjectFaults();
  ASSERT_NE(ks_, nullptr);
  faults.FailNext(Fault::kGenerateKeyPair, 1, CKR_GENERAL_ERROR, FaultMode::kAfterCall);
  faults.FailNext(Fault::kDestroyObject, 1, CKR_FUNCTION_FAILED);
  auto stuck = ks_->Generate("stuck", KeyType::kSecp256k1, KeyPurpose::kSigning);
  EXPECT_FALSE(stuck.ok());
  EXPECT_THAT(std::string(stuck.status().message()), HasSubstr("C_DestroyObject"));
  EXPECT_THAT(std::string(stuck.status().message()), HasSubstr("sigil:stuck:v1"));
  EXPECT_EQ(faults.calls(Fault::kGenerateKeyPair), 1) << "no attempt after the failed removal";
  EXPECT_EQ(CountObjectsLabelled("sigil:stuck:v1"), 0) << "the final cleanup removed the rest";

  faults.FailNext(Fault::kGenerateKeyPair, 1, CKR_GENERAL_ERROR, FaultMode::kAfterCall);
  faults.FailNext(Fault::kDestroyObject, 100, CKR_FUNCTION_FAILED);
  auto orphan = ks_->Generate("orphan", KeyType::kSecp256k1, KeyPurpose::kSigning);
  faults.FailNext(Fault::kDestroyObject, 0, CKR_OK);
  EXPECT_FALSE(orphan.ok());
  const std::string message(orphan.status().message());
  EXPECT_THAT(message, HasSubstr("cleanup failed"));
  EXPECT_THAT(message, HasSubstr("sigil:orphan:v1"));
  EXPECT_THAT(message, HasSubstr("CKR_FUNCTION_FAILED"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr(token_->pin())));
  EXPECT_EQ(faults.calls(Fault::kGenerateKeyPair), 2);
  EXPECT_EQ(CountObjectsLabelled("sigil:orphan:v1"), 2) << "reported, not hidden";
  EXPECT_TRUE(ks_->List()->empty());
}

// A removal cut short by a lost session is rerun by WithSession; when the
// rerun removes the leftovers and makes the pair, the key is made (not
// reported as stopped with its new pair left behind, unrecorded).
TEST_F(Pkcs11KeyStoreTest, ARemovalRerunAfterALostSessionDoesNotStopGeneration) {
  Pkcs11FaultInjector& faults = InjectFaults();
  ASSERT_NE(ks_, nullptr);
  faults.FailNext(Fault::kGenerateKeyPair, 1, CKR_GENERAL_ERROR, FaultMode::kAfterCall);
  faults.FailNext(Fault::kDestroyObject, 1, CKR_SESSION_HANDLE_INVALID);
  auto key = ks_->Generate("rerun", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(CountObjectsLabelled("sigil:rerun:v1"), 2) << "exactly one pair: the first attempt's was removed";
  ExpectSignsAndVerifies(*ks_, *key, KeyPurpose::kSigning);
}

TEST_F(Pkcs11KeyStoreTest, KeysSurviveReopen) {
  auto key = ks_->Generate("durable", KeyType::kSecp256k1, KeyPurpose::kSigning);
  ASSERT_TRUE(key.ok());
  ks_.reset();
  ks_ = OpenStore(module_);
  ASSERT_NE(ks_, nullptr);
  EXPECT_TRUE(ks_->Problems().empty());
  EXPECT_EQ(*ks_->Get("durable"), *key);
  ExpectSignsAndVerifies(*ks_, *key, KeyPurpose::kSigning);
}

TEST(Pkcs11PinTest, PinFileIsReadUpToItsFirstLineAndBounded) {
  ScopedTempDir dir;
  ASSERT_FALSE(dir.path().empty());
  Pkcs11Settings settings;
  settings.pin_file = dir.path() + "/pin";
  auto write = [&](const std::string& text) {
    std::ofstream(settings.pin_file, std::ios::binary | std::ios::trunc) << text;
  };
  write("4321\r\nnot the pin\n");
  auto pin = ReadPkcs11Pin(settings);
  ASSERT_TRUE(pin.ok()) << pin.status();
  EXPECT_EQ(pin->RevealText(SecretAccess::Get()), "4321");
  write("4321");
  EXPECT_EQ(ReadPkcs11Pin(settings)->RevealText(SecretAccess::Get()), "4321");
  write("\n4321\n");
  EXPECT_EQ(ReadPkcs11Pin(settings).status().code(), absl::StatusCode::kInvalidArgument);

  // A file that is not a PIN file (a log, /dev/zero) is refused, not read
  // into memory whole; its content does not reach the message.
  write(std::string(100000, 'Q'));
  auto huge = ReadPkcs11Pin(settings);
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(huge.status().message()), HasSubstr("longer than"));
  EXPECT_THAT(std::string(huge.status().message()), ::testing::Not(HasSubstr("QQ")));
  settings.pin_file = "/dev/zero";
  EXPECT_EQ(ReadPkcs11Pin(settings).status().code(), absl::StatusCode::kInvalidArgument);
  settings.pin_file = dir.path() + "/missing";
  EXPECT_EQ(ReadPkcs11Pin(settings).status().code(), absl::StatusCode::kNotFound);
}

// A PIN given in SIGIL_PKCS11_PIN leaves the environment once read: it is
// not in /proc/<pid>/environ and child processes do not inherit it.
TEST(Pkcs11PinTest, PinFromTheEnvironmentIsRemovedFromIt) {
  ASSERT_EQ(::setenv(kPinEnvironmentVariable, "98765", 1), 0);
  const char* value = ::getenv(kPinEnvironmentVariable);
  ASSERT_NE(value, nullptr);
  Pkcs11Settings settings;  // no PIN file
  auto pin = ReadPkcs11Pin(settings);
  ASSERT_TRUE(pin.ok()) << pin.status();
  EXPECT_EQ(pin->RevealText(SecretAccess::Get()), "98765");
  EXPECT_EQ(::getenv(kPinEnvironmentVariable), nullptr);
  // glibc keeps the strings setenv made (it never frees them), so the old
  // value can be read: it was overwritten before the variable went.
  EXPECT_EQ(std::string(value, 5), std::string(5, '\0'));
  EXPECT_EQ(ReadPkcs11Pin(settings).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Pkcs11ErrorTest, EveryCodeHasANameASentenceAndACategory) {
  EXPECT_EQ(ReturnCodeName(CKR_PIN_INCORRECT), "CKR_PIN_INCORRECT");
  EXPECT_EQ(ReturnCodeSentence(CKR_PIN_INCORRECT), "the PIN is wrong");
  absl::Status st = Pkcs11Error(CKR_DEVICE_REMOVED, "C_Sign");
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(st.message()), "C_Sign failed: CKR_DEVICE_REMOVED (0x00000032): the token was removed");
  EXPECT_EQ(Pkcs11Error(CKR_TOKEN_NOT_PRESENT, "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Pkcs11Error(CKR_PIN_LOCKED, "x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Pkcs11Error(CKR_ATTRIBUTE_SENSITIVE, "x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Pkcs11Error(CKR_MECHANISM_INVALID, "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Pkcs11Error(CKR_TOKEN_WRITE_PROTECTED, "x").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Pkcs11Error(CKR_OK, "x").ok());
  EXPECT_EQ(ReturnCodeName(CKR_VENDOR_DEFINED + 0x12), "CKR_VENDOR_DEFINED+0x12");
  EXPECT_EQ(ReturnCodeName(0x777), "CKR_0x00000777");
  EXPECT_EQ(ReturnCodeStatus(0x777), absl::StatusCode::kInternal);
  // Every defined code below the vendor range that the header names is known.
  for (CK_RV rv : {CKR_CANCEL, CKR_HOST_MEMORY, CKR_SESSION_HANDLE_INVALID, CKR_USER_NOT_LOGGED_IN, CKR_SESSION_CLOSED,
                   CKR_CRYPTOKI_NOT_INITIALIZED, CKR_FUNCTION_REJECTED, CKR_CURVE_NOT_SUPPORTED}) {
    EXPECT_EQ(ReturnCodeName(rv).rfind("CKR_0x", 0), std::string::npos) << rv;
  }
  EXPECT_TRUE(IsSessionLost(CKR_SESSION_HANDLE_INVALID));
  EXPECT_TRUE(IsSessionLost(CKR_USER_NOT_LOGGED_IN));
  EXPECT_TRUE(IsSessionLost(CKR_SESSION_CLOSED));
  EXPECT_FALSE(IsSessionLost(CKR_PIN_INCORRECT));
}

}  // namespace
}  // namespace sigil::keystore::pkcs11
