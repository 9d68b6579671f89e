// EIP-191 version 0x45 signed messages: personal_sign and eth_sign.
//
//   hash = keccak256("\x19Ethereum Signed Message:\n" || decimal(len(message)) || message)
//
// geth's eth_sign uses the same prefix (accounts.TextHash), so EthSignHash is
// PersonalMessageHash; neither ever signs a caller-supplied raw digest.
// Signatures are 65 bytes r || s || v with v = 27 or 28, s always low (EIP-2).
//
// Thread-safe pure functions. Messages larger than kMaxPersonalMessageSize
// are refused (InvalidArgument) by the sign and recover functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/hex.h"
#include "base/secret.h"
#include "chains/ethereum/address.h"
#include "crypto/hash.h"

namespace sigil::eth {

inline constexpr size_t kMaxPersonalMessageSize = 1 << 20;

using MessageSignature = std::array<uint8_t, 65>;

crypto::Hash256 PersonalMessageHash(std::span<const uint8_t> message);
inline crypto::Hash256 EthSignHash(std::span<const uint8_t> message) { return PersonalMessageHash(message); }

// The message parameter of personal_sign / eth_sign as wallets interpret it:
// a "0x"-prefixed string of an even number of hex digits is the bytes it
// encodes; anything else is taken as its UTF-8 bytes (MetaMask's rule).
Bytes DecodeMessageParam(std::string_view param);

// Signs PersonalMessageHash(message); returns r || s || v (v = 27/28).
// InvalidArgument for an invalid key or an oversized message.
absl::StatusOr<MessageSignature> SignPersonalMessage(const SecretBytes& private_key,
                                                     std::span<const uint8_t> message);

// Recovers the address that produced `signature` (65 bytes, v = 27/28 or 0/1)
// over PersonalMessageHash(message). InvalidArgument for a wrong length, a v
// out of range, high-s or an unrecoverable signature.
absl::StatusOr<Address> RecoverPersonalSigner(std::span<const uint8_t> message,
                                              std::span<const uint8_t> signature);

}  // namespace sigil::eth
