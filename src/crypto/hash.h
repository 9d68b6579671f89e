// Hash functions and MACs. Stateless and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "base/secret.h"

namespace sigil::crypto {

using Hash256 = std::array<uint8_t, 32>;
using Hash512 = std::array<uint8_t, 64>;

// Keccak-256 as Ethereum uses it (original padding, not FIPS SHA3-256).
Hash256 Keccak256(std::span<const uint8_t> data);
Hash256 Sha256(std::span<const uint8_t> data);
Hash512 Sha512(std::span<const uint8_t> data);
Hash256 HmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> data);

// Incremental Keccak-256, for hashing without concatenating buffers.
class Keccak256Hasher {
 public:
  Keccak256Hasher();
  ~Keccak256Hasher();
  Keccak256Hasher(const Keccak256Hasher&) = delete;
  Keccak256Hasher& operator=(const Keccak256Hasher&) = delete;
  void Update(std::span<const uint8_t> data);
  Hash256 Final();

 private:
  struct State;
  State* state_;
};

}  // namespace sigil::crypto
