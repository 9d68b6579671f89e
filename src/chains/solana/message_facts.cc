#include "chains/solana/message_facts.h"

#include <algorithm>

namespace sigil::solana {
namespace {

Pubkey MustParse(std::string_view base58) { return *Pubkey::FromBase58(base58); }

uint64_t ReadU64(const Bytes& data, size_t offset) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | data[offset + static_cast<size_t>(i)];
  return v;
}

uint32_t ReadU32(const Bytes& data) {
  return static_cast<uint32_t>(data[0]) | static_cast<uint32_t>(data[1]) << 8 | static_cast<uint32_t>(data[2]) << 16 |
         static_cast<uint32_t>(data[3]) << 24;
}

// True if the instruction was recognised (and facts were added).
bool AddSystemFacts(const Message& m, const CompiledInstruction& ix, MessageFacts& facts) {
  if (ix.data.size() < 4) return false;
  const uint32_t discriminant = ReadU32(ix.data);
  if (discriminant == 4 && !ix.accounts.empty()) {  // AdvanceNonceAccount
    facts.uses_durable_nonce = true;
    return true;
  }
  if (ix.data.size() < 12) return false;
  Transfer t;
  t.program = SystemProgramId();
  t.amount = Uint256(ReadU64(ix.data, 4));
  if (discriminant == 2 && ix.accounts.size() >= 2) {
    t.kind = TransferKind::kSystemTransfer;
    t.from = m.ResolveAccount(ix.accounts[0]);
    t.to = m.ResolveAccount(ix.accounts[1]);
  } else if (discriminant == 11 && ix.accounts.size() >= 3) {
    t.kind = TransferKind::kSystemTransferWithSeed;
    t.from = m.ResolveAccount(ix.accounts[0]);
    t.to = m.ResolveAccount(ix.accounts[2]);
  } else if (discriminant == 0 && ix.accounts.size() >= 2) {
    t.kind = TransferKind::kSystemCreateAccount;
    t.from = m.ResolveAccount(ix.accounts[0]);
    t.to = m.ResolveAccount(ix.accounts[1]);
  } else {
    return false;
  }
  facts.transfers.push_back(std::move(t));
  return true;
}

bool AddComputeBudgetFacts(const CompiledInstruction& ix, MessageFacts& facts) {
  if (ix.data.empty()) return false;
  if (ix.data[0] == 2 && ix.data.size() >= 5) {  // SetComputeUnitLimit(u32)
    facts.compute_unit_limit = ReadU32(Bytes(ix.data.begin() + 1, ix.data.begin() + 5));
    return true;
  }
  if (ix.data[0] == 3 && ix.data.size() >= 9) {  // SetComputeUnitPrice(u64 micro-lamports)
    facts.compute_unit_price = ReadU64(ix.data, 1);
    return true;
  }
  return false;
}

bool AddTokenFacts(const Message& m, const Pubkey& program, const CompiledInstruction& ix, MessageFacts& facts) {
  if (ix.data.size() < 9) return false;
  const uint8_t discriminant = ix.data[0];
  const Uint256 amount(ReadU64(ix.data, 1));
  const auto& acc = ix.accounts;
  switch (discriminant) {
    case 3: {  // Transfer
      if (acc.size() < 3) return false;
      Transfer t;
      t.kind = TransferKind::kTokenTransfer;
      t.program = program;
      t.from = m.ResolveAccount(acc[0]);
      t.to = m.ResolveAccount(acc[1]);
      t.authority = m.ResolveAccount(acc[2]);
      t.amount = amount;
      facts.transfers.push_back(std::move(t));
      return true;
    }
    case 12: {  // TransferChecked
      if (ix.data.size() < 10 || acc.size() < 4) return false;
      Transfer t;
      t.kind = TransferKind::kTokenTransferChecked;
      t.program = program;
      t.from = m.ResolveAccount(acc[0]);
      t.mint = m.ResolveAccount(acc[1]);
      t.to = m.ResolveAccount(acc[2]);
      t.authority = m.ResolveAccount(acc[3]);
      t.decimals = ix.data[9];
      t.amount = amount;
      facts.transfers.push_back(std::move(t));
      return true;
    }
    case 4:     // Approve
    case 13: {  // ApproveChecked
      const bool checked = discriminant == 13;
      if ((checked && (ix.data.size() < 10 || acc.size() < 4)) || (!checked && acc.size() < 3)) return false;
      TokenApproval a;
      a.program = program;
      a.source = m.ResolveAccount(acc[0]);
      if (checked) a.mint = m.ResolveAccount(acc[1]);
      a.delegate = m.ResolveAccount(acc[checked ? 2 : 1]);
      a.owner = m.ResolveAccount(acc[checked ? 3 : 2]);
      a.amount = amount;
      a.unlimited = ReadU64(ix.data, 1) == UINT64_MAX;
      facts.approvals.push_back(std::move(a));
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

const Pubkey& SystemProgramId() {
  static const Pubkey id;  // all zeros: "11111111111111111111111111111111"
  return id;
}

const Pubkey& TokenProgramId() {
  static const Pubkey id = MustParse("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
  return id;
}

const Pubkey& Token2022ProgramId() {
  static const Pubkey id = MustParse("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
  return id;
}

const Pubkey& ComputeBudgetProgramId() {
  static const Pubkey id = MustParse("ComputeBudget111111111111111111111111111111");
  return id;
}

std::string_view TransferKindName(TransferKind kind) {
  switch (kind) {
    case TransferKind::kSystemTransfer: return "system_transfer";
    case TransferKind::kSystemTransferWithSeed: return "system_transfer_with_seed";
    case TransferKind::kSystemCreateAccount: return "system_create_account";
    case TransferKind::kTokenTransfer: return "token_transfer";
    case TransferKind::kTokenTransferChecked: return "token_transfer_checked";
  }
  return "unknown";
}

MessageFacts ExtractFacts(const Message& message) {
  MessageFacts facts;
  facts.version = message.version();
  facts.fee_payer = message.fee_payer();
  facts.signers = message.RequiredSigners();
  facts.instruction_count = message.instructions().size();
  facts.uses_lookup_tables = !message.address_table_lookups().empty();
  for (const CompiledInstruction& ix : message.instructions()) {
    const Pubkey& program = message.account_keys()[ix.program_id_index];
    if (std::find(facts.program_ids.begin(), facts.program_ids.end(), program) == facts.program_ids.end()) {
      facts.program_ids.push_back(program);
    }
    bool recognised = false;
    if (program == SystemProgramId()) {
      recognised = AddSystemFacts(message, ix, facts);
    } else if (program == TokenProgramId() || program == Token2022ProgramId()) {
      recognised = AddTokenFacts(message, program, ix, facts);
    } else if (program == ComputeBudgetProgramId()) {
      recognised = AddComputeBudgetFacts(ix, facts);
    }
    if (!recognised) ++facts.unrecognized_instructions;
  }
  return facts;
}

}  // namespace sigil::solana
