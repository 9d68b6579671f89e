#include "chains/solana/pubkey.h"

#include <algorithm>

#include "chains/solana/base58.h"

namespace sigil::solana {

Pubkey Pubkey::FromBytes(std::span<const uint8_t, kSize> bytes) {
  Pubkey p;
  std::copy(bytes.begin(), bytes.end(), p.bytes_.begin());
  return p;
}

absl::StatusOr<Pubkey> Pubkey::FromBase58(std::string_view text) {
  auto bytes = Base58Decode(text, kSize);
  if (!bytes.ok()) return absl::InvalidArgumentError("not a Solana public key: " + std::string(bytes.status().message()));
  if (bytes->size() != kSize) {
    return absl::InvalidArgumentError("not a Solana public key: decodes to " + std::to_string(bytes->size()) +
                                      " bytes, expected 32");
  }
  return FromBytes(std::span<const uint8_t, kSize>(bytes->data(), kSize));
}

std::string Pubkey::ToBase58() const { return Base58Encode(bytes_); }

}  // namespace sigil::solana
