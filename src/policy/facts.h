// Facts: the neutral, decoder-independent description of one signing request
// that the policy engine evaluates.
//
// The core fills a Facts from ITS OWN decoding of exactly the bytes it will
// sign (DESIGN.md §2, invariant 3); the policy module never sees the chain
// decoders' types, so it can be tested from plain values. A fact that the
// payload does not carry is an empty std::optional, and a condition on an
// absent fact never holds (see doc/policy.md, "Absent facts").
//
// Conventions the core must follow when filling a Facts:
//  * Ethereum addresses are lower-case "0x" + 40 hex digits; Solana addresses
//    and program ids are base58 as printed by Solana tools; Nostr pubkeys are
//    lower-case hex. NormalizeAddress() (address_text.h) does this.
//  * Every amount (wei, token base units, lamports) is a sigil::Uint256.
//  * method_selector is "0x" + 8 lower-case hex digits.
//  * `time` is the time the request reached the core (the engine fills it
//    from its Clock when empty).
//
// A Facts is a plain value: copyable, no invariants beyond the conventions
// above, not synchronised.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "base/uint256.h"

namespace sigil::policy {

// What is being signed. The names are the policy language's `kind` values.
enum class Kind : uint8_t {
  kEthTx,         // "eth_tx": an Ethereum transaction (legacy, EIP-2930, EIP-1559)
  kEthMessage,    // "eth_message": an EIP-191 personal message
  kEthTypedData,  // "eth_typed_data": an EIP-712 typed-data document
  kNostrEvent,    // "nostr_event": a NIP-01 event
  kSolanaTx,      // "solana_tx": a Solana transaction message
  kRawDigest,     // "raw_digest": a bare 32-byte hash (refused unless a rule names it)
};
inline constexpr int kKindCount = 6;

std::string_view KindName(Kind kind);
// Returns nullopt for a name that is not one of the kinds above.
std::optional<Kind> ParseKind(std::string_view name);

enum class Erc20Method : uint8_t { kTransfer, kTransferFrom, kApprove };
std::string_view Erc20MethodName(Erc20Method method);  // "transfer", "transferFrom", "approve"
std::optional<Erc20Method> ParseErc20Method(std::string_view name);

// A decoded ERC-20 call carried by an eth_tx (the tx `to` is the token).
struct Erc20Facts {
  std::string token;                // the token contract (the transaction's `to`)
  Erc20Method method = Erc20Method::kTransfer;
  std::optional<std::string> from;  // transferFrom only: the account debited
  std::string to;                   // recipient (transfer, transferFrom) or spender (approve)
  Uint256 amount;                   // token base units
  bool unlimited = false;           // approve of 2^256-1 (or another "infinite" sentinel)
};

// Permit kinds. A policy writes a family or a variant; the core reports the
// variant it recognised (chains/ethereum/permit.h PermitKindName):
//   family "permit"      (EIP-2612):   variant "eip2612"
//   family "dai_permit"  (DAI-style):  variant "dai_permit"
//   family "permit2"     (Uniswap):    "permit2_single", "permit2_batch",
//     "permit2_transfer_from", "permit2_batch_transfer_from",
//     "permit2_witness_transfer_from", "permit2_batch_witness_transfer_from"
// Facts written by hand may carry a family name instead ("permit2": some
// Permit2 variant); "permit" is read as "eip2612".
//
// The names come from eth::PermitKind (eth::PermitKindName and
// eth::PermitKindFamily), so every kind the core reports is known here.
//
// The family of a family or variant name; nullopt for an unknown name.
std::optional<std::string_view> PermitKindFamily(std::string_view name);
// Every name a policy may write for permit.kind, families first, as text for
// a message: "permit, dai_permit, permit2, eip2612, ...".
std::string PermitKindNames();
// The names a policy's permit.kind value matches in facts: itself and, for a
// family, each of its variants. Empty for an unknown name.
std::vector<std::string_view> PermitKindsMatching(std::string_view name);

// One token a permit lets the spender move. A Permit2 batch has one per
// entry; the other permits have exactly one.
struct PermitAllowance {
  std::string token;  // the token (the verifying contract for EIP-2612 and DAI permits)
  Uint256 amount;     // token base units
  bool unlimited = false;
  // Permit2 AllowanceTransfer: when the allowance itself expires (unix
  // seconds; 0 means the block in which the permit is used).
  std::optional<Uint256> expiration;
};

// A token approval signed as typed data: EIP-2612 Permit, Uniswap Permit2,
// DAI-style permit. Token and amount conditions are quantified over the
// allowances like any multi-valued fact (every entry for an allow rule, any
// entry for a deny rule), and max_amount budgets are charged per token.
struct PermitFacts {
  std::string kind;   // a variant ("eip2612", "permit2_batch", ...) or, from hand-written facts, a family
  std::string spender;
  std::vector<PermitAllowance> allowances;
  // When the signature stops being usable, unix seconds as signed; 2^256-1
  // for a permit that never expires (a DAI permit with expiry 0).
  std::optional<Uint256> deadline;
  bool unlimited = false;           // some allowance is unlimited
};

// How long what the permit grants can be used: the later of its signature
// deadline and every allowance's expiration (a Permit2 PermitSingle or
// PermitBatch signed to be used within minutes may grant an allowance for
// years). nullopt when the permit has no deadline. The `deadline` and
// `max_deadline_in` conditions compare this.
std::optional<Uint256> PermitLifetimeEnd(const PermitFacts& permit);

struct TypedDataFacts {
  std::optional<std::string> domain_name;
  std::optional<std::string> domain_version;
  std::optional<uint64_t> domain_chain_id;
  std::optional<std::string> verifying_contract;
  std::string primary_type;
  std::optional<PermitFacts> permit;
};

struct NostrFacts {
  int64_t event_kind = 0;
  std::vector<std::vector<std::string>> tags;  // NIP-01 tags as signed, e.g. {"p", "<hex>"}
};

// The System Program: its transfers move native SOL.
inline constexpr std::string_view kSolanaSystemProgram = "11111111111111111111111111111111";

struct SolanaTransfer {
  std::string program;              // the program that moves the funds
  std::string to;                   // destination account (owner for SPL when known)
  Uint256 amount;                   // lamports, or token base units when `mint` is set
  std::optional<std::string> mint;  // SPL token mint; empty for native SOL
};

struct SolanaFacts {
  std::vector<std::string> programs;  // every program the message invokes
  std::vector<SolanaTransfer> transfers;
};

struct Facts {
  Kind kind = Kind::kEthTx;
  std::string key;    // key name the request signs with
  std::string agent;  // name of the agent token (empty for an operator request)

  std::optional<uint64_t> chain_id;  // absent: pre-EIP-155 transaction (or not applicable)
  std::optional<std::string> from;   // the signing key's address
  // Absent for contract creation. solana_tx: the first native transfer's
  // recipient (for records); a rule's `to` sees every native recipient.
  std::optional<std::string> to;
  std::optional<Uint256> value;      // wei (eth_tx); lamports moved by native transfers (solana_tx)
  std::optional<uint64_t> nonce;
  std::optional<Uint256> gas_limit;
  std::optional<Uint256> max_fee_per_gas;           // EIP-1559
  std::optional<Uint256> max_priority_fee_per_gas;  // EIP-1559
  std::optional<Uint256> gas_price;                 // legacy and EIP-2930
  std::optional<std::string> method_selector;       // first 4 calldata bytes, "0xa9059cbb"
  bool has_calldata = false;

  std::optional<Erc20Facts> erc20;
  std::optional<TypedDataFacts> typed_data;
  std::optional<NostrFacts> nostr;
  std::optional<SolanaFacts> solana;

  std::optional<int> risk_score;    // 0..100, filled by RiskScorer when empty
  std::optional<absl::Time> time;   // request time; the engine fills it when empty
};

}  // namespace sigil::policy
