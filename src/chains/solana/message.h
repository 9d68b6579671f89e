// Message: a Solana transaction message (legacy or v0), decoded strictly
// from the exact bytes that get signed.
//
// Wire format (little-endian; "shortvec" is compact-u16: 7 bits per byte,
// high bit = continuation, at most 3 bytes, value <= 0xffff):
//   v0 only: prefix byte 0x80 (high bit set; low 7 bits = version 0).
//            A first byte with the high bit clear starts a legacy message.
//   header:  num_required_signatures u8, num_readonly_signed u8,
//            num_readonly_unsigned u8
//   account keys:    shortvec n, n x 32 bytes
//   recent blockhash: 32 bytes
//   instructions:    shortvec n, each: program_id_index u8,
//                    shortvec m + m account indexes (u8), shortvec k + k data bytes
//   v0 only: address table lookups: shortvec n, each: table key 32 bytes,
//            shortvec w + w writable indexes (u8), shortvec r + r readonly indexes (u8)
//
// Parse refuses (InvalidArgument, naming the byte offset or the rule):
//   * non-canonical shortvec (a trailing zero byte such as 0x80 0x00, a third
//     byte above 0x03 or with the continuation bit) and truncated input;
//   * trailing bytes after the message; versions other than legacy and 0;
//   * the Solana sanitize rules: num_required_signatures +
//     num_readonly_unsigned <= static keys; num_readonly_signed <
//     num_required_signatures (the fee payer is writable); at least one key;
//     static + looked-up keys <= 256; a program id index must name a static
//     key other than the fee payer (index 0); every account index in range;
//     every lookup table loads at least one account;
//   * duplicate static account keys;
//   * input longer than MessageLimits::max_bytes (checked first).
// Hence for every accepted input, Serialize() returns exactly the input.
//
// A validated value type: built only by Parse; immutable, copyable, safe to
// share between threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/hex.h"
#include "chains/solana/pubkey.h"

namespace sigil::solana {

struct MessageLimits {
  // A whole transaction (signatures + message) must fit one 1232-byte
  // packet, so no valid message is longer; this is the default bound.
  size_t max_bytes = 1232;
};

enum class MessageVersion { kLegacy, kV0 };

struct MessageHeader {
  uint8_t num_required_signatures = 0;
  uint8_t num_readonly_signed = 0;
  uint8_t num_readonly_unsigned = 0;
};

struct CompiledInstruction {
  uint8_t program_id_index = 0;
  std::vector<uint8_t> accounts;
  Bytes data;
};

struct AddressTableLookup {
  Pubkey table;
  std::vector<uint8_t> writable_indexes;
  std::vector<uint8_t> readonly_indexes;
};

// What an account index in an instruction refers to. Static keys are known;
// keys loaded from an address lookup table are known only on chain, so they
// are described by (table, index in table).
struct AccountRef {
  uint8_t index = 0;
  std::optional<Pubkey> key;            // set for static keys
  std::optional<Pubkey> lookup_table;   // set for looked-up keys
  uint8_t lookup_index = 0;             // index within lookup_table
  bool signer = false;
  bool writable = false;

  // The base58 key, or "lookup:<table base58>#<index>".
  std::string ToString() const;
};

class Message {
 public:
  static absl::StatusOr<Message> Parse(std::span<const uint8_t> bytes, const MessageLimits& limits = {});

  MessageVersion version() const { return version_; }
  const MessageHeader& header() const { return header_; }
  // The static account keys; [0] is the fee payer.
  const std::vector<Pubkey>& account_keys() const { return account_keys_; }
  const std::array<uint8_t, 32>& recent_blockhash() const { return recent_blockhash_; }
  const std::vector<CompiledInstruction>& instructions() const { return instructions_; }
  const std::vector<AddressTableLookup>& address_table_lookups() const { return lookups_; }

  const Pubkey& fee_payer() const { return account_keys_[0]; }
  // The first num_required_signatures static keys, in signature order.
  std::vector<Pubkey> RequiredSigners() const;
  // Static keys plus every looked-up key.
  size_t total_account_count() const;
  // REQUIRES: index < total_account_count() (true for every index inside a
  // parsed message's instructions).
  AccountRef ResolveAccount(uint8_t index) const;

  // The exact bytes parsed (what a signature covers).
  const Bytes& bytes() const { return bytes_; }
  // Re-encodes from the decoded fields; equals bytes() (see above).
  Bytes Serialize() const;

 private:
  Message() = default;
  MessageVersion version_ = MessageVersion::kLegacy;
  MessageHeader header_;
  std::vector<Pubkey> account_keys_;
  std::array<uint8_t, 32> recent_blockhash_{};
  std::vector<CompiledInstruction> instructions_;
  std::vector<AddressTableLookup> lookups_;
  Bytes bytes_;
};

}  // namespace sigil::solana
