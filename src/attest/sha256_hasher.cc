#include "attest/sha256_hasher.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace sigil::attest {

struct Sha256Hasher::State {
  EVP_MD_CTX* ctx = nullptr;
  bool finished = false;
  ~State() { EVP_MD_CTX_free(ctx); }
};

// EVP failures here mean an out-of-memory or a broken libcrypto; there is no
// caller-actionable error and a wrong digest would be worse than stopping.
Sha256Hasher::Sha256Hasher() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  if (state_->ctx == nullptr || EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr) != 1) std::abort();
}

Sha256Hasher::~Sha256Hasher() = default;

void Sha256Hasher::Update(std::span<const uint8_t> data) {
  if (state_->finished) std::abort();
  if (data.empty()) return;
  if (EVP_DigestUpdate(state_->ctx, data.data(), data.size()) != 1) std::abort();
}

crypto::Hash256 Sha256Hasher::Final() {
  if (state_->finished) std::abort();
  state_->finished = true;
  crypto::Hash256 out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(state_->ctx, out.data(), &len) != 1 || len != out.size()) std::abort();
  return out;
}

}  // namespace sigil::attest
