// Address text as the policy compares it.
//
// Ethereum addresses compare case-insensitively (a checksummed and a
// lower-case spelling are the same account), so they are stored and compared
// in lower case. Base58 (Solana) is case-sensitive and is kept as written.
//
// Stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace sigil::policy {

// Lower-cases "0x"-prefixed hex and 64-digit hex (Nostr pubkeys); returns any
// other text unchanged.
std::string NormalizeAddress(std::string_view text);

// Validates an address-like value written in a policy where an address is
// expected (Ethereum, Solana base58, Nostr hex pubkey), so that a typo is
// caught instead of silently never matching:
//  * "0x" text must be an Ethereum address: exactly 40 hex digits; if it
//    mixes upper and lower case it must be a valid EIP-55 checksum;
//  * exactly 40 hex digits without "0x" are refused (an Ethereum address
//    missing its prefix would never match);
//  * anything else (base58, 64-digit hex Nostr pubkeys, "SOL") must be
//    1..128 printable characters without spaces.
// InvalidArgument otherwise, saying what is wrong.
absl::Status CheckAddressText(std::string_view text);

// The EIP-55 checksummed spelling of a 20-byte address given as 40 hex
// digits (either case, with or without 0x). Requires valid input.
std::string Eip55Checksum(std::string_view hex40);

}  // namespace sigil::policy
