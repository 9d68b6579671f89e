#include "attest/tpm2_quote.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <tss2/tss2_mu.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "base/hex.h"

namespace sigil::attest {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using SigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;

void Add(std::vector<VerifyError>& errors, const char* code, std::string message) {
  errors.push_back(VerifyError{code, std::move(message)});
}

template <typename T, TSS2_RC (*Unmarshal)(const uint8_t*, size_t, size_t*, T*)>
bool UnmarshalExact(const std::vector<uint8_t>& bytes, T* out) {
  size_t offset = 0;
  *out = T{};
  return Unmarshal(bytes.data(), bytes.size(), &offset, out) == TSS2_RC_SUCCESS && offset == bytes.size();
}

// ECDSA-P256/SHA-256 verification of `message` with the point (x, y).
bool VerifyEcdsaP256(const TPMS_ECC_POINT& point, const TPMS_SIGNATURE_ECDSA& sig, const std::vector<uint8_t>& message) {
  if (point.x.size == 0 || point.x.size > 32 || point.y.size == 0 || point.y.size > 32) return false;
  uint8_t pub[65] = {0x04};
  std::memcpy(pub + 1 + (32 - point.x.size), point.x.buffer, point.x.size);
  std::memcpy(pub + 33 + (32 - point.y.size), point.y.buffer, point.y.size);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub))) {
    return false;
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr kctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !kctx || EVP_PKEY_fromdata_init(kctx.get()) != 1 ||
      EVP_PKEY_fromdata(kctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return false;
  }
  PkeyPtr key(raw);
  SigPtr ecdsa(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(sig.signatureR.buffer, sig.signatureR.size, nullptr);
  BIGNUM* s = BN_bin2bn(sig.signatureS.buffer, sig.signatureS.size, nullptr);
  if (!ecdsa || r == nullptr || s == nullptr || ECDSA_SIG_set0(ecdsa.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(ecdsa.get(), &der);
  if (der_len <= 0) return false;
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owned(der, [](unsigned char* p) { OPENSSL_free(p); });
  MdCtxPtr md(EVP_MD_CTX_new());
  return md && EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
         EVP_DigestVerify(md.get(), der, static_cast<size_t>(der_len), message.data(), message.size()) == 1;
}

std::string Hex(const uint8_t* p, size_t n) { return HexEncode(std::span<const uint8_t>(p, n)); }

}  // namespace

crypto::Hash256 MeasurementEvent(const crypto::Hash256& measurement, const crypto::Hash256& config_hash) {
  uint8_t buf[64];
  std::copy(measurement.begin(), measurement.end(), buf);
  std::copy(config_hash.begin(), config_hash.end(), buf + 32);
  return crypto::Sha256(buf);
}

crypto::Hash256 MeasuredPcrValue(const crypto::Hash256& measurement, const crypto::Hash256& config_hash) {
  uint8_t buf[64] = {};
  const crypto::Hash256 event = MeasurementEvent(measurement, config_hash);
  std::copy(event.begin(), event.end(), buf + 32);
  return crypto::Sha256(buf);
}

void CheckTpmQuote(const AttestationReport& report, const VerifyOptions& options, std::vector<VerifyError>& errors) {
  const TpmQuote& q = *report.tpm_quote;

  // The attestation key: a restricted ECDSA-SHA256 P-256 signing key. A
  // restricted key signs only digests the TPM produced itself, so a quote
  // under it cannot be an arbitrary signed blob.
  TPM2B_PUBLIC ak{};
  if (!UnmarshalExact<TPM2B_PUBLIC, Tss2_MU_TPM2B_PUBLIC_Unmarshal>(q.ak_public, &ak)) {
    Add(errors, kErrorTpmQuoteInvalid, "tpm_quote.ak_public is not a TPM2B_PUBLIC");
    return;
  }
  const TPMT_PUBLIC& ap = ak.publicArea;
  const TPMA_OBJECT need = TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_FIXEDTPM;
  if (ap.type != TPM2_ALG_ECC || ap.parameters.eccDetail.curveID != TPM2_ECC_NIST_P256 ||
      ap.parameters.eccDetail.scheme.scheme != TPM2_ALG_ECDSA ||
      ap.parameters.eccDetail.scheme.details.ecdsa.hashAlg != TPM2_ALG_SHA256 || (ap.objectAttributes & need) != need) {
    Add(errors, kErrorTpmQuoteInvalid,
        "the TPM attestation key is not a fixed, restricted ECDSA-SHA256 P-256 signing key");
    return;
  }
  if (options.expected_tpm_ak_public && *options.expected_tpm_ak_public != q.ak_public) {
    Add(errors, kErrorTpmAkMismatch, "the quote is signed by another TPM attestation key than the pinned one");
  }

  TPMT_SIGNATURE sig{};
  if (!UnmarshalExact<TPMT_SIGNATURE, Tss2_MU_TPMT_SIGNATURE_Unmarshal>(q.signature, &sig) ||
      sig.sigAlg != TPM2_ALG_ECDSA || sig.signature.ecdsa.hash != TPM2_ALG_SHA256) {
    Add(errors, kErrorTpmQuoteInvalid, "tpm_quote.signature is not an ECDSA-SHA256 TPMT_SIGNATURE");
    return;
  }
  if (!VerifyEcdsaP256(ap.unique.ecc, sig.signature.ecdsa, q.attest)) {
    Add(errors, kErrorTpmBadSignature,
        "the TPM quote signature does not verify under the attestation key: the quote was altered or forged");
  }

  TPMS_ATTEST attest{};
  if (!UnmarshalExact<TPMS_ATTEST, Tss2_MU_TPMS_ATTEST_Unmarshal>(q.attest, &attest) ||
      attest.magic != TPM2_GENERATED_VALUE || attest.type != TPM2_ST_ATTEST_QUOTE) {
    Add(errors, kErrorTpmQuoteInvalid, "tpm_quote.attest is not a TPM-generated quote (TPMS_ATTEST)");
    return;
  }
  const crypto::Hash256 expected_qd = TpmQuoteQualifyingData(report);
  if (attest.extraData.size != expected_qd.size() ||
      std::memcmp(attest.extraData.buffer, expected_qd.data(), expected_qd.size()) != 0) {
    Add(errors, kErrorTpmNonceMismatch,
        "the TPM quote was made for qualifying data " + Hex(attest.extraData.buffer, attest.extraData.size) +
            ", not this report's " + HexEncode(expected_qd) +
            " (hash of the report with nonce " + HexEncode(report.nonce) + "): a replayed quote or an altered report");
  }

  // The quote must cover exactly the PCRs the report lists, in the SHA-256 bank.
  const TPML_PCR_SELECTION& sel = attest.attested.quote.pcrSelect;
  std::vector<uint32_t> quoted;
  bool bank_ok = sel.count == 1 && sel.pcrSelections[0].hash == TPM2_ALG_SHA256;
  if (bank_ok) {
    const auto& s = sel.pcrSelections[0];
    for (uint32_t i = 0; i < 8u * s.sizeofSelect && i < 8u * sizeof(s.pcrSelect); ++i) {
      if (s.pcrSelect[i / 8] & (1u << (i % 8))) quoted.push_back(i);
    }
  }
  if (!bank_ok || quoted != q.pcrs) {
    Add(errors, kErrorTpmQuoteInvalid, "the quote does not cover exactly the SHA-256 PCRs the report lists");
  }
  std::vector<uint8_t> concat;
  for (const crypto::Hash256& v : q.pcr_values) concat.insert(concat.end(), v.begin(), v.end());
  const crypto::Hash256 digest = crypto::Sha256(concat);
  const TPM2B_DIGEST& quoted_digest = attest.attested.quote.pcrDigest;
  if (quoted_digest.size != digest.size() || std::memcmp(quoted_digest.buffer, digest.data(), digest.size()) != 0) {
    Add(errors, kErrorTpmPcrDigestMismatch,
        "the PCR values in the report hash to " + HexEncode(digest) + " but the TPM quoted " +
            Hex(quoted_digest.buffer, quoted_digest.size) + ": the reported PCR values were altered");
  }

  auto value_of = [&](uint32_t pcr) -> const crypto::Hash256* {
    for (size_t i = 0; i < q.pcrs.size(); ++i) {
      if (q.pcrs[i] == pcr) return &q.pcr_values[i];
    }
    return nullptr;
  };
  const crypto::Hash256 measured = MeasuredPcrValue(report.measurement, report.config_hash);
  if (const crypto::Hash256* v = value_of(q.measured_pcr); v == nullptr || *v != measured) {
    Add(errors, kErrorTpmMeasurementMismatch,
        "PCR " + std::to_string(q.measured_pcr) + " holds " + (v ? HexEncode(*v) : std::string("nothing")) +
            ", not the value the report's measurement and config_hash give (" + HexEncode(measured) +
            "): the daemon's claims about its binary and configuration are not what the TPM measured");
  }
  for (const auto& [pcr, expected] : options.expected_pcrs) {
    const crypto::Hash256* v = value_of(pcr);
    if (v == nullptr) {
      Add(errors, kErrorPcrMismatch, "PCR " + std::to_string(pcr) + " is expected but not in the quote");
    } else if (*v != expected) {
      Add(errors, kErrorPcrMismatch,
          "PCR " + std::to_string(pcr) + " is " + HexEncode(*v) + ", expected " + HexEncode(expected));
    }
  }
}

}  // namespace sigil::attest
