// Shamir secret sharing over GF(2^8), byte by byte (the field of AES:
// x^8 + x^4 + x^3 + x + 1). Splits a secret into `count` shares of the same
// length so that any `threshold` of them recover it and fewer reveal nothing
// about it.
//
// Security: polynomial coefficients come from the OS CSPRNG and live in
// SecretBytes; field arithmetic is branch-free and table-free, so timing
// does not depend on secret bytes. Shares carry no integrity check of their
// own: combining the wrong shares (or too few) yields a wrong secret, not an
// error. Callers bind shares to their use (backup_share.h adds a backup id,
// the threshold and a checksum; the backup's AEAD tag detects a wrong key).
//
// Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "base/secret.h"

namespace sigil::keystore {

struct SecretShare {
  uint8_t index = 0;  // the x coordinate, 1..255
  SecretBytes bytes;  // the polynomial values at x, one per secret byte
};

inline constexpr int kMaxShares = 255;

// InvalidArgument unless 2 <= threshold <= count <= 255 and the secret is
// not empty. Share i (0-based) has index i + 1.
absl::StatusOr<std::vector<SecretShare>> ShamirSplit(const SecretBytes& secret, int threshold, int count);

// Lagrange interpolation at 0 over the given shares. InvalidArgument if
// there are none, an index is 0 or repeated, or the lengths differ.
absl::StatusOr<SecretBytes> ShamirCombine(std::span<const SecretShare> shares);

// GF(2^8) arithmetic, exposed for tests.
uint8_t GfMultiply(uint8_t a, uint8_t b);
uint8_t GfInverse(uint8_t a);  // 0 maps to 0

}  // namespace sigil::keystore
