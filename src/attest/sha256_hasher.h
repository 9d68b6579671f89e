// Sha256Hasher: incremental SHA-256 (FIPS 180-4) over OpenSSL's EVP
// interface, for hashing a stream (a binary on disk) without holding it in
// memory. The result equals crypto::Sha256 of the concatenated input.
//
// Thread-safety: one hasher per thread; distinct hashers are independent.
// Ownership: owns its OpenSSL context, released by the destructor.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "crypto/hash.h"

namespace sigil::attest {

class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::span<const uint8_t> data);
  // The digest of everything passed to Update. REQUIRES: called once; the
  // hasher is spent afterwards.
  crypto::Hash256 Final();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sigil::attest
