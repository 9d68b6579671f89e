// Pubkey: a 32-byte Solana account address (an ed25519 public key or a
// program-derived address), written in base58.
//
// A value type: copyable, comparable, immutable; thread-safe. FromBase58
// accepts exactly the canonical encoding of 32 bytes (Base58Encode of the
// result gives the input back).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sigil::solana {

class Pubkey {
 public:
  static constexpr size_t kSize = 32;

  // The all-zero key, which is also the System Program's id.
  constexpr Pubkey() = default;
  static Pubkey FromBytes(std::span<const uint8_t, kSize> bytes);
  // InvalidArgument unless `text` is base58 for exactly 32 bytes.
  static absl::StatusOr<Pubkey> FromBase58(std::string_view text);

  std::string ToBase58() const;
  const std::array<uint8_t, kSize>& bytes() const { return bytes_; }

  friend bool operator==(const Pubkey&, const Pubkey&) = default;
  friend std::strong_ordering operator<=>(const Pubkey&, const Pubkey&) = default;

 private:
  std::array<uint8_t, kSize> bytes_{};
};

}  // namespace sigil::solana
