// Uint256: an exact unsigned 256-bit integer for amounts (wei, token units).
//
// No floating point anywhere. Arithmetic that would overflow or underflow
// returns an error instead of wrapping. Built only by the named constructors
// and parsers, so a live value is always in range.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sigil {

class Uint256 {
 public:
  constexpr Uint256() = default;
  constexpr explicit Uint256(uint64_t v) : limbs_{v, 0, 0, 0} {}

  static Uint256 Max();
  // Big-endian bytes, at most 32 (leading zeros allowed).
  static absl::StatusOr<Uint256> FromBigEndian(std::span<const uint8_t> bytes);
  // Decimal digits only ("0", "12345"); no sign, no spaces, no fraction.
  static absl::StatusOr<Uint256> ParseDecimal(std::string_view text);
  // "0x" followed by 1..64 hex digits.
  static absl::StatusOr<Uint256> ParseHex(std::string_view text);
  // Decimal or 0x-hex.
  static absl::StatusOr<Uint256> ParseInteger(std::string_view text);
  // An amount as the policy language and JSON-RPC accept it: decimal wei,
  // 0x-hex wei, or "<decimal> <unit>" with unit one of wei, kwei, mwei, gwei,
  // szabo, finney, ether (case-insensitive). A fraction finer than one wei is
  // an error ("0.1 wei"), as is anything that does not fit 256 bits.
  static absl::StatusOr<Uint256> ParseAmount(std::string_view text);
  // `whole` scaled by 10^decimals, with an optional fraction ("1.5", 6 -> 1500000).
  static absl::StatusOr<Uint256> ParseScaled(std::string_view text, unsigned decimals);

  std::array<uint8_t, 32> ToBigEndian() const;
  // Big-endian without leading zero bytes; zero is the empty string (RLP form).
  std::string ToMinimalBigEndian() const;
  std::string ToDecimal() const;
  // "0x" + minimal hex digits; zero is "0x0" (Ethereum JSON-RPC quantity).
  std::string ToHexQuantity() const;

  bool IsZero() const { return (limbs_[0] | limbs_[1] | limbs_[2] | limbs_[3]) == 0; }
  bool FitsUint64() const { return (limbs_[1] | limbs_[2] | limbs_[3]) == 0; }
  uint64_t Low64() const { return limbs_[0]; }
  unsigned BitLength() const;

  absl::StatusOr<Uint256> Add(const Uint256& o) const;
  absl::StatusOr<Uint256> Sub(const Uint256& o) const;
  absl::StatusOr<Uint256> Mul(const Uint256& o) const;
  // Division by zero is an error.
  absl::StatusOr<Uint256> Div(const Uint256& o) const;
  // Saturating forms, for "remaining budget" style arithmetic.
  Uint256 SaturatingAdd(const Uint256& o) const;
  Uint256 SaturatingSub(const Uint256& o) const;

  friend bool operator==(const Uint256&, const Uint256&) = default;
  friend std::strong_ordering operator<=>(const Uint256& a, const Uint256& b);

 private:
  // Little-endian 64-bit limbs.
  std::array<uint64_t, 4> limbs_{};

  bool AddInPlace(const Uint256& o);  // returns carry
  bool SubInPlace(const Uint256& o);  // returns borrow
  bool MulSmallInPlace(uint64_t m);   // returns overflow
  uint64_t DivSmallInPlace(uint64_t d);
};

}  // namespace sigil
