// Address: a 20-byte Ethereum account address (EIP-55 checksummed text form).
//
// A validated value type: built only by Parse, FromPublicKey or FromBytes, so
// a live Address always holds exactly 20 bytes. Copyable, comparable, hashable
// (absl::Hash and std::hash), immutable; safe to share between threads.
//
// Parse accepts "0x" + 40 hex digits. All-lower-case and all-upper-case digits
// are accepted as unchecksummed; mixed case must match the EIP-55 checksum
// exactly, otherwise InvalidArgument (a mistyped address is refused, never
// silently "fixed").
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "crypto/secp256k1.h"

namespace sigil::eth {

class Address {
 public:
  static constexpr size_t kSize = 20;

  // "0x" + 40 hex digits (prefix "0x" or "0X"). InvalidArgument on a wrong
  // length, a non-hex digit, a missing prefix, or a mixed-case string whose
  // EIP-55 checksum does not match.
  static absl::StatusOr<Address> Parse(std::string_view text);
  // keccak256(X || Y)[12:] of the uncompressed key (0x04 || X || Y).
  static Address FromPublicKey(const crypto::Secp256k1PublicKey& public_key);
  static Address FromBytes(std::span<const uint8_t, kSize> bytes);
  // The all-zero address (a valid value; note it is NOT "contract creation":
  // transactions model creation with an absent `to`).
  static Address Zero() { return Address(); }

  // EIP-55 mixed-case checksum form, "0x" + 40 digits.
  std::string ToChecksumHex() const;
  // "0x" + 40 lower-case digits.
  std::string ToLowerHex() const;
  const std::array<uint8_t, kSize>& bytes() const { return bytes_; }
  bool IsZero() const;

  friend bool operator==(const Address&, const Address&) = default;
  friend std::strong_ordering operator<=>(const Address&, const Address&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const Address& a) {
    return H::combine_contiguous(std::move(h), a.bytes_.data(), a.bytes_.size());
  }

 private:
  Address() = default;
  std::array<uint8_t, kSize> bytes_{};
};

}  // namespace sigil::eth

template <>
struct std::hash<sigil::eth::Address> {
  size_t operator()(const sigil::eth::Address& a) const noexcept {
    // Addresses are keccak outputs (or chosen by users); FNV-1a over all 20
    // bytes keeps chosen addresses from colliding trivially.
    uint64_t h = 1469598103934665603ull;
    for (uint8_t b : a.bytes()) {
      h ^= b;
      h *= 1099511628211ull;
    }
    return static_cast<size_t>(h);
  }
};
