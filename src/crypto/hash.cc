#include "crypto/hash.h"

#include <cryptopp/keccak.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cstdio>
#include <cstdlib>

namespace sigil::crypto {

Hash256 Keccak256(std::span<const uint8_t> data) {
  CryptoPP::Keccak_256 keccak;
  keccak.Update(data.data(), data.size());
  Hash256 out;
  keccak.Final(out.data());
  return out;
}

Hash256 Sha256(std::span<const uint8_t> data) {
  Hash256 out;
  // SHA256() with an output buffer never fails; passing a null data pointer
  // with length 0 is allowed.
  SHA256(data.data(), data.size(), out.data());
  return out;
}

Hash512 Sha512(std::span<const uint8_t> data) {
  Hash512 out;
  SHA512(data.data(), data.size(), out.data());
  return out;
}

Hash256 HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  Hash256 out;
  unsigned int out_len = 0;
  // OpenSSL rejects a null key pointer even with length 0; any valid pointer works.
  static const uint8_t kEmpty = 0;
  const uint8_t* key_ptr = key.empty() ? &kEmpty : key.data();
  const uint8_t* data_ptr = data.empty() ? &kEmpty : data.data();
  if (HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()), data_ptr, data.size(), out.data(), &out_len) ==
          nullptr ||
      out_len != out.size()) {
    // Only an allocation failure inside OpenSSL can get here; a MAC we cannot
    // compute must not be replaced by a wrong one.
    std::fputs("sigil: HMAC-SHA256 failed inside OpenSSL\n", stderr);
    std::abort();
  }
  return out;
}

struct Keccak256Hasher::State {
  CryptoPP::Keccak_256 keccak;
};

Keccak256Hasher::Keccak256Hasher() : state_(new State) {}
Keccak256Hasher::~Keccak256Hasher() { delete state_; }

void Keccak256Hasher::Update(std::span<const uint8_t> data) { state_->keccak.Update(data.data(), data.size()); }

Hash256 Keccak256Hasher::Final() {
  Hash256 out;
  // Crypto++ resets the state after Final, so the hasher can be reused.
  state_->keccak.Final(out.data());
  return out;
}

}  // namespace sigil::crypto
