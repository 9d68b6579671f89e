#include "keystore/tpm2/tpm2_device.h"

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "base/status.h"
#include "keystore/tpm2/tss2_status.h"

namespace sigil::keystore::tpm2 {

struct Tpm2Device::Context {
  TSS2_TCTI_CONTEXT* tcti = nullptr;
  ESYS_CONTEXT* esys = nullptr;
  ~Context() {
    if (esys != nullptr) Esys_Finalize(&esys);
    if (tcti != nullptr) Tss2_TctiLdr_Finalize(&tcti);
  }
};

namespace {

// Owns one transient object or session: flushed from the TPM when the guard
// dies, whatever path the operation took.
class FlushedHandle {
 public:
  explicit FlushedHandle(ESYS_CONTEXT* esys) : esys_(esys) {}
  ~FlushedHandle() {
    if (tr_ != ESYS_TR_NONE) (void)Esys_FlushContext(esys_, tr_);
  }
  FlushedHandle(const FlushedHandle&) = delete;
  FlushedHandle& operator=(const FlushedHandle&) = delete;
  ESYS_TR* out() { return &tr_; }
  ESYS_TR get() const { return tr_; }

 private:
  ESYS_CONTEXT* esys_;
  ESYS_TR tr_ = ESYS_TR_NONE;
};

// Owns an ESYS_TR for a persistent entity (an NV index): closed (forgotten
// by ESAPI), not flushed, when the guard dies.
class ClosedHandle {
 public:
  explicit ClosedHandle(ESYS_CONTEXT* esys) : esys_(esys) {}
  ~ClosedHandle() {
    if (tr_ != ESYS_TR_NONE) (void)Esys_TR_Close(esys_, &tr_);
  }
  ClosedHandle(const ClosedHandle&) = delete;
  ClosedHandle& operator=(const ClosedHandle&) = delete;
  ESYS_TR* out() { return &tr_; }
  ESYS_TR get() const { return tr_; }
  void Release() { tr_ = ESYS_TR_NONE; }

 private:
  ESYS_CONTEXT* esys_;
  ESYS_TR tr_ = ESYS_TR_NONE;
};

// ESAPI allocates outputs with calloc; the caller frees them.
template <typename T>
struct EsysFree {
  void operator()(T* p) const { Esys_Free(p); }
};
template <typename T>
using EsysPtr = std::unique_ptr<T, EsysFree<T>>;

TPML_PCR_SELECTION PcrSelection(std::span<const uint32_t> pcrs) {
  TPML_PCR_SELECTION sel{};
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  for (uint32_t p : pcrs) sel.pcrSelections[0].pcrSelect[p / 8] |= static_cast<uint8_t>(1u << (p % 8));
  return sel;
}

// The storage parent: an ECC P-256 restricted decryption key (the usual SRK
// template), re-derived from the owner seed.
TPM2B_PUBLIC StorageTemplate() {
  TPM2B_PUBLIC t{};
  t.publicArea.type = TPM2_ALG_ECC;
  t.publicArea.nameAlg = TPM2_ALG_SHA256;
  t.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                  TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT |
                                  TPMA_OBJECT_NODA;
  auto& p = t.publicArea.parameters.eccDetail;
  p.symmetric.algorithm = TPM2_ALG_AES;
  p.symmetric.keyBits.aes = 128;
  p.symmetric.mode.aes = TPM2_ALG_CFB;
  p.scheme.scheme = TPM2_ALG_NULL;
  p.curveID = TPM2_ECC_NIST_P256;
  p.kdf.scheme = TPM2_ALG_NULL;
  return t;
}

// The attestation key: a restricted ECDSA-SHA256 signing key under the
// endorsement hierarchy.
TPM2B_PUBLIC AttestationKeyTemplate() {
  TPM2B_PUBLIC t{};
  t.publicArea.type = TPM2_ALG_ECC;
  t.publicArea.nameAlg = TPM2_ALG_SHA256;
  t.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                  TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
                                  TPMA_OBJECT_NODA;
  auto& p = t.publicArea.parameters.eccDetail;
  p.symmetric.algorithm = TPM2_ALG_NULL;
  p.scheme.scheme = TPM2_ALG_ECDSA;
  p.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  p.curveID = TPM2_ECC_NIST_P256;
  p.kdf.scheme = TPM2_ALG_NULL;
  return t;
}

absl::Status CreatePrimary(ESYS_CONTEXT* esys, ESYS_TR hierarchy, const TPM2B_PUBLIC& tmpl, FlushedHandle& out,
                           EsysPtr<TPM2B_PUBLIC>* public_out) {
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcr{};
  TPM2B_PUBLIC* pub = nullptr;
  TPM2B_CREATION_DATA* creation = nullptr;
  TPM2B_DIGEST* creation_hash = nullptr;
  TPMT_TK_CREATION* ticket = nullptr;
  TSS2_RC rc = Esys_CreatePrimary(esys, hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &tmpl,
                                  &outside, &creation_pcr, out.out(), &pub, &creation, &creation_hash, &ticket);
  Esys_Free(creation);
  Esys_Free(creation_hash);
  Esys_Free(ticket);
  if (public_out != nullptr) {
    public_out->reset(pub);
  } else {
    Esys_Free(pub);
  }
  return Tss2Status(rc, "TPM2_CreatePrimary");
}

template <typename T, TSS2_RC (*Marshal)(const T*, uint8_t*, size_t, size_t*)>
std::vector<uint8_t> MarshalToBytes(const T& value) {
  std::vector<uint8_t> out(sizeof(T) + 16);
  size_t offset = 0;
  if (Marshal(&value, out.data(), out.size(), &offset) != TSS2_RC_SUCCESS) return {};
  out.resize(offset);
  return out;
}

template <typename T, TSS2_RC (*Unmarshal)(const uint8_t*, size_t, size_t*, T*)>
absl::StatusOr<T> UnmarshalBytes(std::span<const uint8_t> bytes, const char* what) {
  T value{};
  size_t offset = 0;
  if (Unmarshal(bytes.data(), bytes.size(), &offset, &value) != TSS2_RC_SUCCESS || offset != bytes.size()) {
    return absl::InvalidArgumentError(std::string("malformed ") + what);
  }
  return value;
}

// A policy session bound to nothing; salted with `salt_key` if given (so
// parameter encryption has a secret session key).
absl::Status StartPolicySession(ESYS_CONTEXT* esys, TPM2_SE type, ESYS_TR salt_key, FlushedHandle& out) {
  TPMT_SYM_DEF sym{};
  if (salt_key != ESYS_TR_NONE) {
    sym.algorithm = TPM2_ALG_AES;
    sym.keyBits.aes = 128;
    sym.mode.aes = TPM2_ALG_CFB;
  } else {
    sym.algorithm = TPM2_ALG_NULL;
  }
  RETURN_IF_ERROR(Tss2Status(Esys_StartAuthSession(esys, salt_key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                                   ESYS_TR_NONE, nullptr, type, &sym, TPM2_ALG_SHA256, out.out()),
                             "TPM2_StartAuthSession"));
  // continueSession: the guard, not the TPM, ends the session, so the two
  // never disagree about whether it still exists.
  TPMA_SESSION attrs = TPMA_SESSION_CONTINUESESSION;
  if (salt_key != ESYS_TR_NONE) attrs |= TPMA_SESSION_ENCRYPT;
  return Tss2Status(Esys_TRSess_SetAttributes(esys, out.get(), attrs, 0xFF), "Esys_TRSess_SetAttributes");
}

absl::StatusOr<std::vector<TPM2_HANDLE>> ListHandles(ESYS_CONTEXT* esys, TPM2_HANDLE first) {
  std::vector<TPM2_HANDLE> out;
  TPM2_HANDLE next = first;
  for (int round = 0; round < 64; ++round) {
    TPMI_YES_NO more = TPM2_NO;
    TPMS_CAPABILITY_DATA* data = nullptr;
    RETURN_IF_ERROR(Tss2Status(Esys_GetCapability(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                                  next, TPM2_MAX_CAP_HANDLES, &more, &data),
                               "TPM2_GetCapability(handles)"));
    EsysPtr<TPMS_CAPABILITY_DATA> owned(data);
    const auto& h = data->data.handles;
    for (uint32_t i = 0; i < h.count; ++i) {
      // The TPM answers from `first` upwards; stop at the end of the type.
      if ((h.handle[i] & TPM2_HR_RANGE_MASK) != (first & TPM2_HR_RANGE_MASK)) return out;
      out.push_back(h.handle[i]);
    }
    if (more != TPM2_YES || h.count == 0) break;
    next = h.handle[h.count - 1] + 1;
  }
  return out;
}

}  // namespace

Tpm2Device::Tpm2Device(std::unique_ptr<Context> ctx) : ctx_(std::move(ctx)) {}
Tpm2Device::~Tpm2Device() = default;

absl::StatusOr<std::unique_ptr<Tpm2Device>> Tpm2Device::Open(const std::string& tcti) {
  if (tcti.empty()) return absl::InvalidArgumentError("no TPM TCTI given (e.g. swtpm:host=127.0.0.1,port=2321 or device:/dev/tpmrm0)");
  // tpm2-tss logs every TPM error (including expected ones such as an
  // undefined NV index) to stderr; Sigil reports errors itself. An operator
  // can still set TSS2_LOG to see them.
  ::setenv("TSS2_LOG", "all+NONE", /*overwrite=*/0);
  auto ctx = std::make_unique<Context>();
  RETURN_IF_ERROR(Tss2Status(Tss2_TctiLdr_Initialize(tcti.c_str(), &ctx->tcti), "TCTI " + tcti));
  RETURN_IF_ERROR(Tss2Status(Esys_Initialize(&ctx->esys, ctx->tcti, nullptr), "Esys_Initialize over " + tcti));
  std::unique_ptr<Tpm2Device> dev(new Tpm2Device(std::move(ctx)));
  RETURN_IF_ERROR(dev->FlushLeftovers());
  return dev;
}

absl::Status Tpm2Device::FlushLeftovers() {
  absl::MutexLock lock(&mu_);
  return FlushLeftoversLocked();
}

absl::Status Tpm2Device::FlushLeftoversLocked() {
  ESYS_CONTEXT* esys = ctx_->esys;
  for (TPM2_HANDLE first : {TPM2_TRANSIENT_FIRST, TPM2_LOADED_SESSION_FIRST}) {
    ASSIGN_OR_RETURN(auto handles, ListHandles(esys, first));
    for (TPM2_HANDLE h : handles) {
      ESYS_TR tr = ESYS_TR_NONE;
      TSS2_RC rc = Esys_TR_FromTPMPublic(esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr);
      if (rc != TSS2_RC_SUCCESS) return Tss2Status(rc, "reading leftover TPM handle");
      RETURN_IF_ERROR(Tss2Status(Esys_FlushContext(esys, tr), "flushing leftover TPM handle"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<HandleCounts> Tpm2Device::CountHandles() {
  absl::MutexLock lock(&mu_);
  HandleCounts counts;
  ASSIGN_OR_RETURN(auto transient, ListHandles(ctx_->esys, TPM2_TRANSIENT_FIRST));
  ASSIGN_OR_RETURN(auto sessions, ListHandles(ctx_->esys, TPM2_LOADED_SESSION_FIRST));
  counts.transient = transient.size();
  counts.loaded_sessions = sessions.size();
  return counts;
}

absl::StatusOr<crypto::Hash256> Tpm2Device::ReadPcr(uint32_t pcr) {
  absl::MutexLock lock(&mu_);
  return ReadPcrLocked(pcr);
}

absl::StatusOr<crypto::Hash256> Tpm2Device::ReadPcrLocked(uint32_t pcr) {
  if (pcr > kMaxPcr) return absl::InvalidArgumentError("PCR index must be 0..23");
  uint32_t idx[1] = {pcr};
  TPML_PCR_SELECTION sel = PcrSelection(idx);
  UINT32 update = 0;
  TPML_PCR_SELECTION* out_sel = nullptr;
  TPML_DIGEST* values = nullptr;
  RETURN_IF_ERROR(Tss2Status(
      Esys_PCR_Read(ctx_->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &update, &out_sel, &values),
      "TPM2_PCR_Read"));
  EsysPtr<TPML_PCR_SELECTION> s(out_sel);
  EsysPtr<TPML_DIGEST> v(values);
  if (values->count != 1 || values->digests[0].size != 32) {
    return absl::FailedPreconditionError("the TPM has no SHA-256 bank for PCR " + std::to_string(pcr));
  }
  crypto::Hash256 out;
  std::memcpy(out.data(), values->digests[0].buffer, 32);
  return out;
}

absl::Status Tpm2Device::ExtendPcr(uint32_t pcr, const crypto::Hash256& digest) {
  if (pcr > kMaxPcr) return absl::InvalidArgumentError("PCR index must be 0..23");
  absl::MutexLock lock(&mu_);
  TPML_DIGEST_VALUES values{};
  values.count = 1;
  values.digests[0].hashAlg = TPM2_ALG_SHA256;
  std::memcpy(values.digests[0].digest.sha256, digest.data(), 32);
  return Tss2Status(Esys_PCR_Extend(ctx_->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &values),
                    "TPM2_PCR_Extend(" + std::to_string(pcr) + ")");
}

absl::Status Tpm2Device::ResetPcr(uint32_t pcr) {
  if (pcr > kMaxPcr) return absl::InvalidArgumentError("PCR index must be 0..23");
  absl::MutexLock lock(&mu_);
  return Tss2Status(Esys_PCR_Reset(ctx_->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE),
                    "TPM2_PCR_Reset(" + std::to_string(pcr) + ")");
}

absl::StatusOr<SealedObject> Tpm2Device::Seal(const SecretBytes& secret, uint32_t pcr, const crypto::Hash256& pcr_value) {
  if (pcr > kMaxPcr) return absl::InvalidArgumentError("PCR index must be 0..23");
  if (secret.empty() || secret.size() > 128) return absl::InvalidArgumentError("a sealed secret is 1..128 bytes");
  absl::MutexLock lock(&mu_);
  ESYS_CONTEXT* esys = ctx_->esys;

  // The policy digest, computed by the TPM in a trial session from the
  // PCR value the secret must be released under.
  uint32_t idx[1] = {pcr};
  TPML_PCR_SELECTION sel = PcrSelection(idx);
  TPM2B_DIGEST pcr_digest{};
  pcr_digest.size = 32;
  crypto::Hash256 h = crypto::Sha256(pcr_value);
  std::memcpy(pcr_digest.buffer, h.data(), 32);
  TPM2B_DIGEST policy{};
  {
    FlushedHandle trial(esys);
    RETURN_IF_ERROR(StartPolicySession(esys, TPM2_SE_TRIAL, ESYS_TR_NONE, trial));
    RETURN_IF_ERROR(Tss2Status(
        Esys_PolicyPCR(esys, trial.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pcr_digest, &sel),
        "TPM2_PolicyPCR (trial)"));
    TPM2B_DIGEST* d = nullptr;
    RETURN_IF_ERROR(Tss2Status(Esys_PolicyGetDigest(esys, trial.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &d),
                               "TPM2_PolicyGetDigest"));
    policy = *d;
    Esys_Free(d);
  }

  FlushedHandle parent(esys);
  RETURN_IF_ERROR(CreatePrimary(esys, ESYS_TR_RH_OWNER, StorageTemplate(), parent, nullptr));

  TPM2B_SENSITIVE_CREATE sensitive{};
  sensitive.sensitive.data.size = static_cast<UINT16>(secret.size());
  std::memcpy(sensitive.sensitive.data.buffer, secret.Reveal(SecretAccess::Get()).data(), secret.size());
  TPM2B_PUBLIC tmpl{};
  tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
  tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
  // No USERWITHAUTH: the policy is the only way in.
  tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_NODA;
  tmpl.publicArea.authPolicy = policy;
  tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcr{};
  TPM2B_PRIVATE* priv = nullptr;
  TPM2B_PUBLIC* pub = nullptr;
  TPM2B_CREATION_DATA* creation = nullptr;
  TPM2B_DIGEST* creation_hash = nullptr;
  TPMT_TK_CREATION* ticket = nullptr;
  TSS2_RC rc = Esys_Create(esys, parent.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &tmpl,
                           &outside, &creation_pcr, &priv, &pub, &creation, &creation_hash, &ticket);
  SecureWipe({reinterpret_cast<uint8_t*>(&sensitive), sizeof(sensitive)});
  EsysPtr<TPM2B_PRIVATE> p1(priv);
  EsysPtr<TPM2B_PUBLIC> p2(pub);
  Esys_Free(creation);
  Esys_Free(creation_hash);
  Esys_Free(ticket);
  RETURN_IF_ERROR(Tss2Status(rc, "TPM2_Create (seal)"));
  SealedObject out;
  out.public_area = MarshalToBytes<TPM2B_PUBLIC, Tss2_MU_TPM2B_PUBLIC_Marshal>(*pub);
  out.private_area = MarshalToBytes<TPM2B_PRIVATE, Tss2_MU_TPM2B_PRIVATE_Marshal>(*priv);
  if (out.public_area.empty() || out.private_area.empty()) return absl::InternalError("cannot marshal the sealed object");
  return out;
}

absl::StatusOr<SecretBytes> Tpm2Device::Unseal(const SealedObject& sealed, uint32_t pcr) {
  if (pcr > kMaxPcr) return absl::InvalidArgumentError("PCR index must be 0..23");
  ASSIGN_OR_RETURN(TPM2B_PUBLIC pub, (UnmarshalBytes<TPM2B_PUBLIC, Tss2_MU_TPM2B_PUBLIC_Unmarshal>(
                                         sealed.public_area, "sealed object (public part)")));
  ASSIGN_OR_RETURN(TPM2B_PRIVATE priv, (UnmarshalBytes<TPM2B_PRIVATE, Tss2_MU_TPM2B_PRIVATE_Unmarshal>(
                                           sealed.private_area, "sealed object (private part)")));
  absl::MutexLock lock(&mu_);
  ESYS_CONTEXT* esys = ctx_->esys;
  FlushedHandle parent(esys);
  RETURN_IF_ERROR(CreatePrimary(esys, ESYS_TR_RH_OWNER, StorageTemplate(), parent, nullptr));
  FlushedHandle object(esys);
  TSS2_RC rc = Esys_Load(esys, parent.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, object.out());
  if (rc != TSS2_RC_SUCCESS) {
    absl::Status st = Tss2Status(rc, "TPM2_Load (sealed object)");
    if (st.code() == absl::StatusCode::kUnavailable) return st;
    return absl::InvalidArgumentError("the TPM does not accept the sealed master key (sealed by another TPM, or "
                                      "the TPM was cleared): " + std::string(st.message()));
  }
  FlushedHandle session(esys);
  RETURN_IF_ERROR(StartPolicySession(esys, TPM2_SE_POLICY, parent.get(), session));
  uint32_t idx[1] = {pcr};
  TPML_PCR_SELECTION sel = PcrSelection(idx);
  TPM2B_DIGEST current{};  // empty: the TPM uses the PCR's current value
  RETURN_IF_ERROR(Tss2Status(Esys_PolicyPCR(esys, session.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &current, &sel),
                             "TPM2_PolicyPCR"));
  TPM2B_SENSITIVE_DATA* data = nullptr;
  rc = Esys_Unseal(esys, object.get(), session.get(), ESYS_TR_NONE, ESYS_TR_NONE, &data);
  if (rc != TSS2_RC_SUCCESS) {
    absl::Status st = Tss2Status(rc, "TPM2_Unseal");
    if (IsPolicyFailure(rc)) {
      return absl::FailedPreconditionError("PCR " + std::to_string(pcr) +
                                           " does not hold the value the secret was sealed to (" +
                                           std::string(st.message()) + ")");
    }
    return st;
  }
  SecretBytes out = SecretBytes::CopyFrom(std::span<const uint8_t>(data->buffer, data->size));
  SecureWipe({reinterpret_cast<uint8_t*>(data), sizeof(*data)});
  Esys_Free(data);
  return out;
}

absl::StatusOr<std::vector<uint8_t>> Tpm2Device::AttestationKeyPublic() {
  absl::MutexLock lock(&mu_);
  FlushedHandle ak(ctx_->esys);
  EsysPtr<TPM2B_PUBLIC> pub;
  RETURN_IF_ERROR(CreatePrimary(ctx_->esys, ESYS_TR_RH_ENDORSEMENT, AttestationKeyTemplate(), ak, &pub));
  return MarshalToBytes<TPM2B_PUBLIC, Tss2_MU_TPM2B_PUBLIC_Marshal>(*pub);
}

absl::StatusOr<Quote> Tpm2Device::MakeQuote(std::span<const uint32_t> pcrs, std::span<const uint8_t> qualifying_data) {
  if (pcrs.empty()) return absl::InvalidArgumentError("quote at least one PCR");
  for (size_t i = 0; i < pcrs.size(); ++i) {
    if (pcrs[i] > kMaxPcr || (i > 0 && pcrs[i] <= pcrs[i - 1])) {
      return absl::InvalidArgumentError("quoted PCRs must be ascending, unique, each 0..23");
    }
  }
  if (qualifying_data.empty() || qualifying_data.size() > 32) {
    return absl::InvalidArgumentError("quote qualifying data must be 1..32 bytes");
  }
  absl::MutexLock lock(&mu_);
  ESYS_CONTEXT* esys = ctx_->esys;
  Quote q;
  q.pcrs.assign(pcrs.begin(), pcrs.end());
  for (uint32_t p : pcrs) {
    ASSIGN_OR_RETURN(auto v, ReadPcrLocked(p));
    q.pcr_values.push_back(v);
  }
  FlushedHandle ak(esys);
  EsysPtr<TPM2B_PUBLIC> pub;
  RETURN_IF_ERROR(CreatePrimary(esys, ESYS_TR_RH_ENDORSEMENT, AttestationKeyTemplate(), ak, &pub));
  TPM2B_DATA qd{};
  qd.size = static_cast<UINT16>(qualifying_data.size());
  std::memcpy(qd.buffer, qualifying_data.data(), qualifying_data.size());
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;  // the key's own: ECDSA-SHA256
  TPML_PCR_SELECTION sel = PcrSelection(pcrs);
  TPM2B_ATTEST* attest = nullptr;
  TPMT_SIGNATURE* sig = nullptr;
  RETURN_IF_ERROR(Tss2Status(Esys_Quote(esys, ak.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qd, &scheme,
                                        &sel, &attest, &sig),
                             "TPM2_Quote"));
  EsysPtr<TPM2B_ATTEST> a(attest);
  EsysPtr<TPMT_SIGNATURE> s(sig);
  q.attest.assign(attest->attestationData, attest->attestationData + attest->size);
  q.signature = MarshalToBytes<TPMT_SIGNATURE, Tss2_MU_TPMT_SIGNATURE_Marshal>(*sig);
  q.ak_public = MarshalToBytes<TPM2B_PUBLIC, Tss2_MU_TPM2B_PUBLIC_Marshal>(*pub);
  if (q.signature.empty() || q.ak_public.empty()) return absl::InternalError("cannot marshal the quote");
  return q;
}

namespace {

TPM2B_NV_PUBLIC CounterPublic(uint32_t nv_index) {
  TPM2B_NV_PUBLIC p{};
  p.nvPublic.nvIndex = nv_index;
  p.nvPublic.nameAlg = TPM2_ALG_SHA256;
  p.nvPublic.attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_NO_DA |
                          (TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT);
  p.nvPublic.dataSize = 8;
  return p;
}

absl::Status CheckNvIndex(uint32_t nv_index) {
  if ((nv_index & TPM2_HR_RANGE_MASK) != TPM2_HR_NV_INDEX) {
    return absl::InvalidArgumentError("an NV index is 0x01xxxxxx");
  }
  return absl::OkStatus();
}

// NotFound if the index is not defined.
absl::Status OpenNv(ESYS_CONTEXT* esys, uint32_t nv_index, ClosedHandle& out) {
  TSS2_RC rc = Esys_TR_FromTPMPublic(esys, nv_index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, out.out());
  if (rc != TSS2_RC_SUCCESS) {
    absl::Status st = Tss2Status(rc, "NV index lookup");
    if (IsHandleError(rc)) {
      char hex[16];
      std::snprintf(hex, sizeof(hex), "0x%08X", nv_index);
      return absl::NotFoundError(std::string("TPM NV index ") + hex + " is not defined");
    }
    return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ReadNvCounter(ESYS_CONTEXT* esys, ESYS_TR nv) {
  TPM2B_MAX_NV_BUFFER* data = nullptr;
  RETURN_IF_ERROR(Tss2Status(Esys_NV_Read(esys, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, 8,
                                          0, &data),
                             "TPM2_NV_Read (counter)"));
  EsysPtr<TPM2B_MAX_NV_BUFFER> owned(data);
  if (data->size != 8) return absl::InternalError("the TPM counter is not 8 bytes");
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | data->buffer[i];
  return v;
}

}  // namespace

absl::StatusOr<uint64_t> Tpm2Device::ReadCounter(uint32_t nv_index) {
  RETURN_IF_ERROR(CheckNvIndex(nv_index));
  absl::MutexLock lock(&mu_);
  ClosedHandle nv(ctx_->esys);
  RETURN_IF_ERROR(OpenNv(ctx_->esys, nv_index, nv));
  return ReadNvCounter(ctx_->esys, nv.get());
}

absl::StatusOr<uint64_t> Tpm2Device::IncrementCounter(uint32_t nv_index) {
  RETURN_IF_ERROR(CheckNvIndex(nv_index));
  absl::MutexLock lock(&mu_);
  ESYS_CONTEXT* esys = ctx_->esys;
  ClosedHandle nv(esys);
  absl::Status found = OpenNv(esys, nv_index, nv);
  if (absl::IsNotFound(found)) {
    TPM2B_AUTH auth{};
    TPM2B_NV_PUBLIC pub = CounterPublic(nv_index);
    RETURN_IF_ERROR(Tss2Status(Esys_NV_DefineSpace(esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                                   ESYS_TR_NONE, &auth, &pub, nv.out()),
                               "TPM2_NV_DefineSpace (counter)"));
  } else {
    RETURN_IF_ERROR(found);
  }
  RETURN_IF_ERROR(Tss2Status(
      Esys_NV_Increment(esys, ESYS_TR_RH_OWNER, nv.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE),
      "TPM2_NV_Increment"));
  return ReadNvCounter(esys, nv.get());
}

absl::Status Tpm2Device::UndefineCounter(uint32_t nv_index) {
  RETURN_IF_ERROR(CheckNvIndex(nv_index));
  absl::MutexLock lock(&mu_);
  ClosedHandle nv(ctx_->esys);
  RETURN_IF_ERROR(OpenNv(ctx_->esys, nv_index, nv));
  RETURN_IF_ERROR(Tss2Status(Esys_NV_UndefineSpace(ctx_->esys, ESYS_TR_RH_OWNER, nv.get(), ESYS_TR_PASSWORD,
                                                   ESYS_TR_NONE, ESYS_TR_NONE),
                             "TPM2_NV_UndefineSpace"));
  nv.Release();  // UndefineSpace already dropped ESAPI's record of it
  return absl::OkStatus();
}

}  // namespace sigil::keystore::tpm2
