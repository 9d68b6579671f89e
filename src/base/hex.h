// Hex encoding of byte strings. Not for secrets: SecretBytes cannot reach
// these functions without an explicit SecretAccess.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sigil {

using Bytes = std::vector<uint8_t>;

// Lower-case hex, no prefix.
std::string HexEncode(std::span<const uint8_t> bytes);
// Lower-case hex with a 0x prefix.
std::string HexEncode0x(std::span<const uint8_t> bytes);
// Accepts an optional 0x/0X prefix and either case; odd length and non-hex
// characters are errors (InvalidArgument).
absl::StatusOr<Bytes> HexDecode(std::string_view hex);
// The same into `out`, which must be exactly half the digits long (e.g.
// locked memory for a secret, so no other copy of the bytes is made). On an
// error `out` may hold part of the bytes; the caller clears it.
absl::Status HexDecodeInto(std::string_view hex, std::span<uint8_t> out);

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace sigil
