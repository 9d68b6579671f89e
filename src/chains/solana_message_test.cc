#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/hex.h"
#include "chains/solana/base58.h"
#include "chains/solana/message.h"
#include "chains/solana/message_facts.h"
#include "chains/solana/sign_message.h"
#include "crypto/ed25519.h"

namespace sigil::solana {
namespace {

using ::testing::HasSubstr;

Pubkey Key(uint8_t fill) {
  std::array<uint8_t, 32> b;
  b.fill(fill);
  return Pubkey::FromBytes(b);
}

// Builds message bytes field by field, independently of Message::Serialize.
class MessageBuilder {
 public:
  explicit MessageBuilder(bool v0 = false) {
    if (v0) out_.push_back(0x80);
  }
  MessageBuilder& Header(uint8_t sigs, uint8_t ro_signed, uint8_t ro_unsigned) {
    out_.insert(out_.end(), {sigs, ro_signed, ro_unsigned});
    return *this;
  }
  MessageBuilder& Len(size_t n) {  // compact-u16
    do {
      uint8_t b = n & 0x7f;
      n >>= 7;
      if (n) b |= 0x80;
      out_.push_back(b);
    } while (n);
    return *this;
  }
  MessageBuilder& Keys(const std::vector<Pubkey>& keys) {
    Len(keys.size());
    for (const auto& k : keys) Raw(k.bytes());
    return *this;
  }
  MessageBuilder& Blockhash(uint8_t fill = 0xbb) {
    out_.insert(out_.end(), 32, fill);
    return *this;
  }
  MessageBuilder& Instruction(uint8_t program, const std::vector<uint8_t>& accounts, const Bytes& data) {
    out_.push_back(program);
    Len(accounts.size());
    Raw(accounts);
    Len(data.size());
    Raw(data);
    return *this;
  }
  MessageBuilder& Lookup(const Pubkey& table, const std::vector<uint8_t>& w, const std::vector<uint8_t>& r) {
    Raw(table.bytes());
    Len(w.size());
    Raw(w);
    Len(r.size());
    Raw(r);
    return *this;
  }
  MessageBuilder& Raw(std::span<const uint8_t> b) {
    out_.insert(out_.end(), b.begin(), b.end());
    return *this;
  }
  Bytes Build() const { return out_; }

 private:
  Bytes out_;
};

Bytes U64(uint64_t v) {
  Bytes b;
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  return b;
}

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes SystemTransferData(uint64_t lamports) { return Cat({{2, 0, 0, 0}, U64(lamports)}); }

// payer(1) -> to(2), one System transfer: the shape `solana transfer` builds.
Bytes LegacyTransfer(uint64_t lamports) {
  return MessageBuilder()
      .Header(1, 0, 1)
      .Keys({Key(1), Key(2), SystemProgramId()})
      .Blockhash()
      .Len(1)
      .Instruction(2, {0, 1}, SystemTransferData(lamports))
      .Build();
}

std::string ParseError(const Bytes& b) {
  auto m = Message::Parse(b);
  return m.ok() ? "OK" : std::string(m.status().message());
}

TEST(SolanaMessageTest, LegacySystemTransfer) {
  Bytes bytes = LegacyTransfer(1'500'000'000);
  // Layout spot checks: header, key count, first key, instruction data.
  ASSERT_EQ(bytes.size(), 3 + 1 + 3 * 32 + 32 + 1 + 1 + 1 + 2 + 1 + 12u);
  auto m = Message::Parse(bytes);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->version(), MessageVersion::kLegacy);
  EXPECT_EQ(m->header().num_required_signatures, 1);
  EXPECT_EQ(m->account_keys().size(), 3u);
  EXPECT_EQ(m->fee_payer(), Key(1));
  EXPECT_EQ(m->recent_blockhash()[0], 0xbb);
  EXPECT_EQ(m->bytes(), bytes);
  EXPECT_EQ(m->Serialize(), bytes);

  AccountRef payer = m->ResolveAccount(0), to = m->ResolveAccount(1), program = m->ResolveAccount(2);
  EXPECT_TRUE(payer.signer && payer.writable);
  EXPECT_TRUE(!to.signer && to.writable);
  EXPECT_TRUE(!program.signer && !program.writable);

  MessageFacts f = ExtractFacts(*m);
  EXPECT_EQ(f.fee_payer, Key(1));
  EXPECT_EQ(f.signers, std::vector<Pubkey>{Key(1)});
  EXPECT_EQ(f.program_ids, std::vector<Pubkey>{SystemProgramId()});
  EXPECT_EQ(f.unrecognized_instructions, 0u);
  ASSERT_EQ(f.transfers.size(), 1u);
  const Transfer& t = f.transfers[0];
  EXPECT_EQ(t.kind, TransferKind::kSystemTransfer);
  EXPECT_EQ(TransferKindName(t.kind), "system_transfer");
  EXPECT_EQ(t.from.key, Key(1));
  EXPECT_EQ(t.to.key, Key(2));
  EXPECT_EQ(t.amount, Uint256(1'500'000'000));
  EXPECT_EQ(t.to.ToString(), Key(2).ToBase58());
}

TEST(SolanaMessageTest, V0WithLookupTablesAndTokenTransferChecked) {
  const Pubkey table = Key(0x7a);
  Bytes data = Cat({{12}, U64(2'500'000), {6}});
  // Static: payer, source token account, token program. Looked up: mint
  // (readonly, table index 9), destination (writable, table index 4).
  // Indexes: 0 payer, 1 source, 2 program, 3 = writable[0], 4 = readonly[0].
  Bytes bytes = MessageBuilder(/*v0=*/true)
                    .Header(1, 0, 1)
                    .Keys({Key(1), Key(3), TokenProgramId()})
                    .Blockhash()
                    .Len(1)
                    .Instruction(2, {1, 4, 3, 0}, data)
                    .Len(1)
                    .Lookup(table, {4}, {9})
                    .Build();
  auto m = Message::Parse(bytes);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->version(), MessageVersion::kV0);
  EXPECT_EQ(m->total_account_count(), 5u);
  EXPECT_EQ(m->Serialize(), bytes);

  MessageFacts f = ExtractFacts(*m);
  EXPECT_TRUE(f.uses_lookup_tables);
  ASSERT_EQ(f.transfers.size(), 1u);
  const Transfer& t = f.transfers[0];
  EXPECT_EQ(t.kind, TransferKind::kTokenTransferChecked);
  EXPECT_EQ(t.program, TokenProgramId());
  EXPECT_EQ(t.from.key, Key(3));
  EXPECT_FALSE(t.to.key.has_value());
  EXPECT_EQ(t.to.lookup_table, table);
  EXPECT_EQ(t.to.lookup_index, 4);
  EXPECT_TRUE(t.to.writable);
  EXPECT_EQ(t.to.ToString(), "lookup:" + table.ToBase58() + "#4");
  ASSERT_TRUE(t.mint.has_value());
  EXPECT_EQ(t.mint->lookup_index, 9);
  EXPECT_FALSE(t.mint->writable);
  EXPECT_EQ(t.authority->key, Key(1));
  EXPECT_EQ(t.decimals, 6);
  EXPECT_EQ(t.amount, Uint256(2'500'000));
}

TEST(SolanaMessageTest, Token2022TransferAndTrailingBytesStillCount) {
  // The token program reads only the first 9 bytes; an appended byte must
  // not hide the transfer.
  Bytes data = Cat({{3}, U64(42), {0xff}});
  Bytes bytes = MessageBuilder()
                    .Header(1, 0, 1)
                    .Keys({Key(1), Key(3), Key(4), Token2022ProgramId()})
                    .Blockhash()
                    .Len(1)
                    .Instruction(3, {1, 2, 0}, data)
                    .Build();
  auto m = Message::Parse(bytes);
  ASSERT_TRUE(m.ok()) << m.status();
  MessageFacts f = ExtractFacts(*m);
  ASSERT_EQ(f.transfers.size(), 1u);
  EXPECT_EQ(f.transfers[0].kind, TransferKind::kTokenTransfer);
  EXPECT_EQ(f.transfers[0].program, Token2022ProgramId());
  EXPECT_EQ(f.transfers[0].from.key, Key(3));
  EXPECT_EQ(f.transfers[0].to.key, Key(4));
  EXPECT_EQ(f.transfers[0].authority->key, Key(1));
  EXPECT_EQ(f.transfers[0].amount, Uint256(42));
}

TEST(SolanaMessageTest, ApprovalsComputeBudgetNonceAndUnknownPrograms) {
  const Pubkey compute = ComputeBudgetProgramId();
  const Pubkey other = Key(0x55);
  Bytes bytes = MessageBuilder()
                    .Header(1, 0, 3)
                    .Keys({Key(1), Key(3), Key(4), TokenProgramId(), compute, other})
                    .Blockhash()
                    .Len(6)
                    .Instruction(4, {}, Cat({{2}, {0x40, 0x0d, 0x03, 0x00}}))      // limit 200000
                    .Instruction(4, {}, Cat({{3}, U64(5000)}))                     // price
                    .Instruction(3, {1, 2, 0}, Cat({{4}, U64(UINT64_MAX)}))        // Approve max
                    .Instruction(5, {0, 1}, {1, 2, 3})                            // unknown program
                    .Instruction(3, {1, 2, 0}, Cat({{9}}))                         // token CloseAccount
                    .Instruction(3, {1}, Cat({{3}, U64(1)}))                       // Transfer, too few accounts
                    .Build();
  auto m = Message::Parse(bytes);
  ASSERT_TRUE(m.ok()) << m.status();
  MessageFacts f = ExtractFacts(*m);
  EXPECT_EQ(f.compute_unit_limit, 200000u);
  EXPECT_EQ(f.compute_unit_price, 5000u);
  ASSERT_EQ(f.approvals.size(), 1u);
  EXPECT_TRUE(f.approvals[0].unlimited);
  EXPECT_EQ(f.approvals[0].delegate.key, Key(4));
  EXPECT_EQ(f.approvals[0].owner.key, Key(1));
  EXPECT_TRUE(f.transfers.empty());
  EXPECT_EQ(f.instruction_count, 6u);
  EXPECT_EQ(f.unrecognized_instructions, 3u);
  EXPECT_EQ(f.program_ids, (std::vector<Pubkey>{compute, TokenProgramId(), other}));
  EXPECT_FALSE(f.uses_durable_nonce);

  Bytes nonce = MessageBuilder()
                    .Header(1, 0, 1)
                    .Keys({Key(1), Key(7), SystemProgramId()})
                    .Blockhash()
                    .Len(2)
                    .Instruction(2, {1, 0}, {4, 0, 0, 0})
                    .Instruction(2, {0, 1}, Cat({{0, 0, 0, 0}, U64(10), U64(0), Bytes(32, 0)}))  // CreateAccount
                    .Build();
  auto mn = Message::Parse(nonce);
  ASSERT_TRUE(mn.ok()) << mn.status();
  MessageFacts fn = ExtractFacts(*mn);
  EXPECT_TRUE(fn.uses_durable_nonce);
  ASSERT_EQ(fn.transfers.size(), 1u);
  EXPECT_EQ(fn.transfers[0].kind, TransferKind::kSystemCreateAccount);
  EXPECT_EQ(fn.transfers[0].amount, Uint256(10));
}

TEST(SolanaMessageTest, EveryTruncationAndTrailingByteIsRefused) {
  Bytes bytes = LegacyTransfer(7);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(Message::Parse(std::span<const uint8_t>(bytes.data(), n)).ok()) << n;
  }
  Bytes longer = bytes;
  longer.push_back(0);
  EXPECT_THAT(ParseError(longer), HasSubstr("trailing bytes"));
}

TEST(SolanaMessageTest, ShortVecMustBeCanonical) {
  auto with_key_count = [](std::initializer_list<uint8_t> len) {
    MessageBuilder b;
    b.Header(1, 0, 1);
    b.Raw(Bytes(len));
    b.Raw(Key(1).bytes()).Raw(Key(2).bytes()).Raw(SystemProgramId().bytes());
    b.Blockhash().Len(1).Instruction(2, {0, 1}, SystemTransferData(1));
    return b.Build();
  };
  EXPECT_EQ(ParseError(with_key_count({0x03})), "OK");
  EXPECT_THAT(ParseError(with_key_count({0x83, 0x00})), HasSubstr("non-canonical length"));
  EXPECT_THAT(ParseError(with_key_count({0x83, 0x80, 0x00})), HasSubstr("non-canonical length"));
  EXPECT_THAT(ParseError(with_key_count({0xff, 0xff, 0x04})), HasSubstr("16 bits"));
  EXPECT_THAT(ParseError(with_key_count({0xff, 0xff, 0x83})), HasSubstr("16 bits"));
  EXPECT_THAT(ParseError(with_key_count({0x81, 0x02})), HasSubstr("more than 256 account keys"));
}

TEST(SolanaMessageTest, SanitizeRules) {
  auto base = [] {
    return MessageBuilder().Keys({Key(1), Key(2), SystemProgramId()}).Blockhash();
  };
  auto header_then = [](uint8_t a, uint8_t b, uint8_t c, MessageBuilder rest) {
    MessageBuilder m;
    m.Header(a, b, c);
    m.Raw(rest.Build());
    return m;
  };
  // num_readonly_signed must leave the fee payer writable.
  EXPECT_THAT(ParseError(header_then(1, 1, 1, base()).Len(0).Build()), HasSubstr("fee payer"));
  EXPECT_THAT(ParseError(header_then(0, 0, 1, base()).Len(0).Build()), HasSubstr("fee payer"));
  // Signers + readonly unsigned beyond the key list.
  EXPECT_THAT(ParseError(header_then(2, 0, 2, base()).Len(0).Build()), HasSubstr("more accounts"));
  // The fee payer cannot be the program; program index in range.
  EXPECT_THAT(ParseError(header_then(1, 0, 1, base()).Len(1).Instruction(0, {}, {}).Build()),
              HasSubstr("fee payer cannot be the program"));
  EXPECT_THAT(ParseError(header_then(1, 0, 1, base()).Len(1).Instruction(3, {}, {}).Build()),
              HasSubstr("program id index"));
  EXPECT_THAT(ParseError(header_then(1, 0, 1, base()).Len(1).Instruction(2, {0, 3}, {}).Build()),
              HasSubstr("account index 3 out of range"));
  // No keys at all.
  EXPECT_THAT(ParseError(MessageBuilder().Header(1, 0, 0).Len(0).Blockhash().Len(0).Build()),
              HasSubstr("no account keys"));
  // Duplicate static keys.
  EXPECT_THAT(
      ParseError(MessageBuilder().Header(1, 0, 0).Keys({Key(1), Key(1)}).Blockhash().Len(0).Build()),
      HasSubstr("listed twice"));
  // Unsupported version.
  Bytes v1 = MessageBuilder(true).Header(1, 0, 1).Keys({Key(1), SystemProgramId()}).Blockhash().Len(0).Len(0).Build();
  v1[0] = 0x81;
  EXPECT_THAT(ParseError(v1), HasSubstr("unsupported message version 1"));
  // A v0 lookup must load something; a program id cannot come from a lookup.
  const Pubkey table = Key(0x7a);
  EXPECT_THAT(ParseError(MessageBuilder(true)
                             .Header(1, 0, 1)
                             .Keys({Key(1), SystemProgramId()})
                             .Blockhash()
                             .Len(0)
                             .Len(1)
                             .Lookup(table, {}, {})
                             .Build()),
              HasSubstr("loads no accounts"));
  EXPECT_THAT(ParseError(MessageBuilder(true)
                             .Header(1, 0, 1)
                             .Keys({Key(1), SystemProgramId()})
                             .Blockhash()
                             .Len(1)
                             .Instruction(2, {0}, {})
                             .Len(1)
                             .Lookup(table, {1}, {})
                             .Build()),
              HasSubstr("program id index"));
  // v0 account indexes may reach into lookups, but not past them.
  EXPECT_THAT(ParseError(MessageBuilder(true)
                             .Header(1, 0, 1)
                             .Keys({Key(1), SystemProgramId()})
                             .Blockhash()
                             .Len(1)
                             .Instruction(1, {0, 3}, {})
                             .Len(1)
                             .Lookup(table, {1}, {})
                             .Build()),
              HasSubstr("account index 3"));
  // More than 256 accounts counting lookups.
  std::vector<uint8_t> many(255, 1);
  EXPECT_THAT(ParseError(MessageBuilder(true)
                             .Header(1, 0, 1)
                             .Keys({Key(1), SystemProgramId()})
                             .Blockhash()
                             .Len(0)
                             .Len(1)
                             .Lookup(table, many, {})
                             .Build()),
              HasSubstr("more than 256 accounts"));
}

TEST(SolanaMessageTest, SizeBound) {
  Bytes big = LegacyTransfer(1);
  MessageLimits limits;
  limits.max_bytes = big.size() - 1;
  EXPECT_THAT(std::string(Message::Parse(big, limits).status().message()), HasSubstr("limit"));
  EXPECT_FALSE(Message::Parse(Bytes(1233, 0)).ok());
}

// RFC 8032 section 7.1, TEST 1.
constexpr char kRfcSeed[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr char kRfcPublic[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

TEST(SolanaMessageTest, SignMessage) {
  SecretBytes seed = SecretBytes::CopyFrom(*HexDecode(kRfcSeed));
  Bytes pub = *HexDecode(kRfcPublic);
  Pubkey signer = Pubkey::FromBytes(std::span<const uint8_t, 32>(pub.data(), 32));
  Bytes bytes = MessageBuilder()
                    .Header(2, 0, 1)
                    .Keys({Key(1), signer, Key(2), SystemProgramId()})
                    .Blockhash()
                    .Len(1)
                    .Instruction(3, {1, 2}, SystemTransferData(99))
                    .Build();
  auto m = Message::Parse(bytes);
  ASSERT_TRUE(m.ok()) << m.status();
  auto sig = SignMessage(seed, *m);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->signer, signer);
  EXPECT_EQ(sig->signer_index, 1u);
  crypto::Ed25519PublicKey pk;
  std::copy(pub.begin(), pub.end(), pk.begin());
  EXPECT_TRUE(crypto::Ed25519Verify(pk, bytes, sig->signature));
  auto decoded = Base58Decode(sig->ToBase58());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, Bytes(sig->signature.begin(), sig->signature.end()));
  // Ed25519 is deterministic.
  EXPECT_EQ(SignMessage(seed, *m)->signature, sig->signature);

  // Not a required signer: refused.
  auto other = Message::Parse(LegacyTransfer(5));
  ASSERT_TRUE(other.ok());
  auto refused = SignMessage(seed, *other);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(SignMessage(SecretBytes::CopyFrom(Bytes(31, 1)), *m).ok());
}

}  // namespace
}  // namespace sigil::solana
