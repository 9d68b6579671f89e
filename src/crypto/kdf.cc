#include "crypto/kdf.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sodium.h>

#include <memory>
#include <string>

#include "crypto/internal/sodium_runtime.h"

namespace sigil::crypto {

Argon2Params Argon2Params::Moderate() {
  return {crypto_pwhash_argon2id_OPSLIMIT_MODERATE, crypto_pwhash_argon2id_MEMLIMIT_MODERATE};
}

Argon2Params Argon2Params::ForTesting() {
  return {crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN};
}

absl::StatusOr<SecretBytes> Argon2id(const SecretBytes& passphrase, std::span<const uint8_t> salt,
                                     const Argon2Params& params, size_t out_len) {
  static_assert(kArgon2SaltSize == crypto_pwhash_argon2id_SALTBYTES);
  if (salt.size() != kArgon2SaltSize) {
    return absl::InvalidArgumentError("Argon2id salt must be 16 bytes, got " + std::to_string(salt.size()));
  }
  if (params.ops_limit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      params.ops_limit > crypto_pwhash_argon2id_OPSLIMIT_MAX) {
    return absl::InvalidArgumentError("Argon2id ops_limit " + std::to_string(params.ops_limit) +
                                      " is outside libsodium's range [" +
                                      std::to_string(crypto_pwhash_argon2id_OPSLIMIT_MIN) + ", " +
                                      std::to_string(crypto_pwhash_argon2id_OPSLIMIT_MAX) + "]");
  }
  if (params.mem_limit < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
      params.mem_limit > crypto_pwhash_argon2id_MEMLIMIT_MAX) {
    return absl::InvalidArgumentError("Argon2id mem_limit " + std::to_string(params.mem_limit) +
                                      " bytes is outside libsodium's range (minimum " +
                                      std::to_string(crypto_pwhash_argon2id_MEMLIMIT_MIN) + ")");
  }
  if (out_len < crypto_pwhash_argon2id_BYTES_MIN || out_len > 1024) {
    return absl::InvalidArgumentError("Argon2id output length must be between 16 and 1024 bytes");
  }
  if (passphrase.size() > crypto_pwhash_argon2id_PASSWD_MAX) {
    return absl::InvalidArgumentError("passphrase is too long");
  }
  internal::EnsureSodiumInitialized();
  SecretBytes out = SecretBytes::Zeroed(out_len);
  static const char kEmpty = 0;
  const char* pass =
      passphrase.empty() ? &kEmpty : reinterpret_cast<const char*>(passphrase.Reveal(SecretAccess::Get()).data());
  if (crypto_pwhash(out.RevealMutable(SecretAccess::Get()).data(), out_len, pass, passphrase.size(), salt.data(),
                    params.ops_limit, static_cast<size_t>(params.mem_limit), crypto_pwhash_ALG_ARGON2ID13) != 0) {
    // libsodium's only runtime failure here is allocating mem_limit bytes.
    return absl::ResourceExhaustedError("Argon2id could not allocate " + std::to_string(params.mem_limit) +
                                        " bytes of memory");
  }
  return out;
}

absl::StatusOr<SecretBytes> HkdfSha256(const SecretBytes& ikm, std::span<const uint8_t> salt, std::string_view info,
                                       size_t out_len) {
  if (out_len == 0 || out_len > 255 * 32) {
    return absl::InvalidArgumentError("HKDF-SHA256 output length must be between 1 and 8160 bytes, got " +
                                      std::to_string(out_len));
  }
  if (ikm.empty()) return absl::InvalidArgumentError("HKDF-SHA256 input keying material is empty");

  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr), &EVP_KDF_free);
  if (!kdf) return absl::InternalError("OpenSSL has no HKDF implementation");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()), &EVP_KDF_CTX_free);
  if (!ctx) return absl::InternalError("EVP_KDF_CTX_new failed");

  // OSSL_PARAM takes non-const pointers but only reads these buffers.
  char digest[] = "SHA256";
  auto* key_ptr = const_cast<uint8_t*>(ikm.Reveal(SecretAccess::Get()).data());
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, key_ptr, ikm.size());
  // An absent salt is, per RFC 5869, HashLen zero bytes; OpenSSL applies that
  // default when the parameter is not set (HMAC pads a short key with zeros,
  // so an empty salt and the default are the same function).
  if (!salt.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()),
                                                    salt.size());
  }
  if (!info.empty()) {
    params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size());
  }
  params[n] = OSSL_PARAM_construct_end();

  SecretBytes out = SecretBytes::Zeroed(out_len);
  if (EVP_KDF_derive(ctx.get(), out.RevealMutable(SecretAccess::Get()).data(), out_len, params) != 1) {
    return absl::InternalError("OpenSSL HKDF-SHA256 derivation failed");
  }
  return out;
}

}  // namespace sigil::crypto
