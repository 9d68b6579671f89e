// Base58 (Bitcoin alphabet, no checksum), as Solana writes public keys,
// signatures and blockhashes. Stateless; thread-safe.
//
// Decoding is quadratic in the input length, so it is bounded: input longer
// than needed for `max_decoded_bytes` is refused before any work is done.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/hex.h"

namespace sigil::solana {

inline constexpr size_t kBase58DefaultMaxDecodedBytes = 128;

// Leading zero bytes become leading '1's.
std::string Base58Encode(std::span<const uint8_t> bytes);

// InvalidArgument on a character outside the alphabet (0, O, I, l, '+', ...),
// and if the result would exceed `max_decoded_bytes`.
absl::StatusOr<Bytes> Base58Decode(std::string_view text, size_t max_decoded_bytes = kBase58DefaultMaxDecodedBytes);

}  // namespace sigil::solana
