// MessageFacts: what policy needs to know about a Solana message — who pays,
// who signs, which programs run, and which transfers and token approvals it
// makes.
//
// Recognised instructions (data layouts; all integers little-endian):
//   System Program (11111111111111111111111111111111), u32 discriminant:
//     0 CreateAccount    {lamports u64, space u64, owner}  accounts [from, new]
//     2 Transfer         {lamports u64}                    accounts [from, to]
//     11 TransferWithSeed{lamports u64, seed, owner}       accounts [from, base, to]
//   SPL Token (TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA) and Token-2022
//   (TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb), u8 discriminant:
//     3 Transfer         {amount u64}                accounts [source, dest, authority, ...]
//     12 TransferChecked {amount u64, decimals u8}   accounts [source, mint, dest, authority, ...]
//     4 Approve          {amount u64}                accounts [source, delegate, owner, ...]
//     13 ApproveChecked  {amount u64, decimals u8}   accounts [source, mint, delegate, owner, ...]
//   System 4 AdvanceNonceAccount (durable nonce; no value moves).
//   Compute Budget (ComputeBudget111111111111111111111111111111), u8:
//     2 SetComputeUnitLimit {u32}, 3 SetComputeUnitPrice {u64 micro-lamports}
//     (the priority fee is limit * price / 10^6 lamports).
// The programs ignore bytes after these fields, so a transfer is recognised
// whenever the discriminant matches and the fields and accounts are present
// (appending a byte does not hide a transfer). An instruction that does not
// match is counted in `unrecognized_instructions` with its program id in
// `program_ids`; policy should treat such a message as unknown.
//
// Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/uint256.h"
#include "chains/solana/message.h"
#include "chains/solana/pubkey.h"

namespace sigil::solana {

const Pubkey& SystemProgramId();
const Pubkey& TokenProgramId();
const Pubkey& Token2022ProgramId();
const Pubkey& ComputeBudgetProgramId();

enum class TransferKind {
  kSystemTransfer,
  kSystemTransferWithSeed,
  kSystemCreateAccount,  // lamports funded into a new account
  kTokenTransfer,
  kTokenTransferChecked,
};
// "system_transfer", "system_transfer_with_seed", "system_create_account",
// "token_transfer", "token_transfer_checked".
std::string_view TransferKindName(TransferKind kind);

struct Transfer {
  TransferKind kind = TransferKind::kSystemTransfer;
  Pubkey program;
  // System: the funding account. Token: the source token account.
  AccountRef from;
  // System: the recipient. Token: the destination token account.
  AccountRef to;
  // Token: the owner or delegate authorising the transfer.
  std::optional<AccountRef> authority;
  // TransferChecked only.
  std::optional<AccountRef> mint;
  std::optional<uint8_t> decimals;
  // Lamports for System transfers, token base units for Token transfers.
  Uint256 amount;
};

// An SPL Token delegation: `delegate` may move up to `amount` from `source`.
struct TokenApproval {
  Pubkey program;
  AccountRef source;
  AccountRef delegate;
  AccountRef owner;
  std::optional<AccountRef> mint;  // ApproveChecked only
  Uint256 amount;
  bool unlimited = false;  // amount == 2^64 - 1
};

struct MessageFacts {
  MessageVersion version = MessageVersion::kLegacy;
  Pubkey fee_payer;
  std::vector<Pubkey> signers;      // required signers, in order
  std::vector<Pubkey> program_ids;  // distinct, in order of first use
  std::vector<Transfer> transfers;
  std::vector<TokenApproval> approvals;
  size_t instruction_count = 0;
  size_t unrecognized_instructions = 0;
  // From Compute Budget instructions, if present (the last one wins, as on
  // chain a duplicate fails the transaction anyway).
  std::optional<uint32_t> compute_unit_limit;
  std::optional<uint64_t> compute_unit_price;  // micro-lamports per unit
  // An AdvanceNonceAccount instruction is present (the blockhash field is a
  // durable nonce and the message does not expire).
  bool uses_durable_nonce = false;
  // True if any account comes from an address lookup table (its key is only
  // known on chain: see AccountRef).
  bool uses_lookup_tables = false;
};

MessageFacts ExtractFacts(const Message& message);

}  // namespace sigil::solana
