#include "keystore/shamir.h"

#include <set>
#include <string>

#include "crypto/random.h"

namespace sigil::keystore {

uint8_t GfMultiply(uint8_t a, uint8_t b) {
  // Russian-peasant multiplication with masks instead of branches, reducing
  // by the AES polynomial (0x11b) whenever the high bit shifts out.
  uint8_t product = 0;
  for (int i = 0; i < 8; ++i) {
    product ^= static_cast<uint8_t>(-(b & 1) & a);
    uint8_t carry = static_cast<uint8_t>(-(a >> 7));
    a = static_cast<uint8_t>((a << 1) ^ (carry & 0x1b));
    b >>= 1;
  }
  return product;
}

uint8_t GfInverse(uint8_t a) {
  // a^254 = a^-1 in GF(2^8) (a^255 = 1 for a != 0); the fixed chain of
  // squarings and multiplications does not depend on a.
  uint8_t result = 1;
  uint8_t power = a;
  for (int bit = 0; bit < 8; ++bit) {
    // 254 = 0b11111110: multiply in every power but a^1.
    uint8_t use = static_cast<uint8_t>(-static_cast<uint8_t>((254 >> bit) & 1));
    uint8_t multiplied = GfMultiply(result, power);
    result = static_cast<uint8_t>((multiplied & use) | (result & ~use));
    power = GfMultiply(power, power);
  }
  return result;
}

absl::StatusOr<std::vector<SecretShare>> ShamirSplit(const SecretBytes& secret, int threshold, int count) {
  if (threshold < 2 || count < threshold || count > kMaxShares) {
    return absl::InvalidArgumentError("shares must satisfy 2 <= M <= N <= 255 (got " + std::to_string(threshold) +
                                      " of " + std::to_string(count) + ")");
  }
  if (secret.empty()) return absl::InvalidArgumentError("cannot split an empty secret");
  const size_t len = secret.size();
  const auto s = secret.Reveal(SecretAccess::Get());
  // coefficients[k * len + j]: coefficient of x^k for secret byte j (k >= 1).
  SecretBytes coefficients = crypto::RandomSecret(static_cast<size_t>(threshold - 1) * len);
  const auto c = coefficients.Reveal(SecretAccess::Get());

  std::vector<SecretShare> shares;
  shares.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    SecretShare share;
    share.index = static_cast<uint8_t>(i + 1);
    share.bytes = SecretBytes::Zeroed(len);
    auto out = share.bytes.RevealMutable(SecretAccess::Get());
    for (size_t j = 0; j < len; ++j) {
      // Horner: ((c_{t-1} x + c_{t-2}) x + ... ) x + secret.
      uint8_t y = 0;
      for (int k = threshold - 1; k >= 1; --k) {
        y = static_cast<uint8_t>(GfMultiply(y, share.index) ^ c[static_cast<size_t>(k - 1) * len + j]);
      }
      out[j] = static_cast<uint8_t>(GfMultiply(y, share.index) ^ s[j]);
    }
    shares.push_back(std::move(share));
  }
  return shares;
}

absl::StatusOr<SecretBytes> ShamirCombine(std::span<const SecretShare> shares) {
  if (shares.empty()) return absl::InvalidArgumentError("no shares to combine");
  const size_t len = shares.front().bytes.size();
  std::set<uint8_t> seen;
  for (const SecretShare& share : shares) {
    if (share.index == 0) return absl::InvalidArgumentError("share index 0 is not valid");
    if (!seen.insert(share.index).second) {
      return absl::InvalidArgumentError("share " + std::to_string(share.index) + " was given twice");
    }
    if (share.bytes.size() != len) return absl::InvalidArgumentError("shares have different lengths");
  }
  // Lagrange basis at 0: l_i = prod_{m != i} x_m / (x_m - x_i); in GF(2^8)
  // subtraction is xor.
  std::vector<uint8_t> basis(shares.size());
  for (size_t i = 0; i < shares.size(); ++i) {
    uint8_t numerator = 1, denominator = 1;
    for (size_t m = 0; m < shares.size(); ++m) {
      if (m == i) continue;
      numerator = GfMultiply(numerator, shares[m].index);
      denominator = GfMultiply(denominator, static_cast<uint8_t>(shares[m].index ^ shares[i].index));
    }
    basis[i] = GfMultiply(numerator, GfInverse(denominator));
  }
  SecretBytes secret = SecretBytes::Zeroed(len);
  auto out = secret.RevealMutable(SecretAccess::Get());
  for (size_t i = 0; i < shares.size(); ++i) {
    const auto y = shares[i].bytes.Reveal(SecretAccess::Get());
    for (size_t j = 0; j < len; ++j) out[j] ^= GfMultiply(basis[i], y[j]);
  }
  return secret;
}

}  // namespace sigil::keystore
