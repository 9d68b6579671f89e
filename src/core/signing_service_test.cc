#include "core/signing_service.h"

#include <cctype>
#include <functional>
#include <optional>
#include <utility>
#include <gtest/gtest.h>

#include "audit/checkpoint_signer.h"
#include "audit/fault_injecting_env.h"
#include "chains/ethereum/transaction.h"
#include "chains/ethereum/transaction_request.h"
#include "crypto/random.h"
#include "keystore/forwarding_key_store.h"
#include "policy/ledger_journal.h"
#include "testing/memory_key_store.h"
#include "testing/memory_store.h"
#include "testing/scoped_temp_dir.h"

namespace sigil::core {
namespace {

constexpr char kPolicy[] = R"({"version":1,"rules":[
  {"id":"small","effect":"allow","keys":["trader"],"match":{"kind":"eth_tx","value":{"lte":"1 ether"}},
   "budgets":[{"window":"24h","max_value":"2 ether","on_exceed":"deny"}]},
  {"id":"big","effect":"require_approval","match":{"kind":"eth_tx","value":{"gt":"1 ether"}},
   "approval":{"quorum":1,"role":"approver","second_factor":"none","expires":"1h"}}]})";

class NoSecondFactor final : public policy::SecondFactorVerifier {
 public:
  absl::Status Verify(std::string_view, std::string_view) override { return absl::PermissionDeniedError("no"); }
};

class SigningServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fault_env_ = std::make_unique<audit::FaultInjectingEnv>(audit::PosixEnv());
    signer_ = *audit::Ed25519SeedSigner::Create(crypto::RandomSecret(32));
    audit::AuditLogOptions ao;
    ao.env = fault_env_.get();
    ao.clock = &clock_;
    ao.signer = signer_.get();
    ao.background_checkpoints = false;
    log_ = *audit::AuditLog::Open(dir_.path() + "/audit.log", ao);
    ledger_ = *policy::Ledger::Open(journal_, clock_);
    auto parsed = policy::Policy::Parse(kPolicy);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    engine_ = std::make_unique<policy::PolicyEngine>(std::make_shared<const policy::Policy>(std::move(*parsed)), *ledger_, clock_);
    approvals_ = *policy::ApprovalBook::Open(store_, crypto::RandomSecret(32), clock_, &second_factor_);
    lockdown_ = *policy::Lockdown::Open(store_, crypto::RandomSecret(32), clock_, &second_factor_);
    service_ = std::make_unique<SigningService>(SigningService::Deps{keys_, *log_, *engine_, *approvals_, *lockdown_, clock_, {}});
    key_ = *keys_.Generate("trader", keystore::KeyType::kSecp256k1, keystore::KeyPurpose::kSigning);
    ASSERT_TRUE(service_->RefreshKeys().ok());
    agent_.name = "bot-1";
    agent_.role = tokens::Role::kAgent;
    agent_.keys = {"trader"};
  }

  SignRequest Tx(const std::string& value_wei, uint64_t nonce) {
    eth::TransactionFields f;
    f.type = eth::TxType::kDynamicFee;
    f.chain_id = 31337;
    f.nonce = nonce;
    f.gas_limit = 21000;
    f.max_fee_per_gas = Uint256(1000000000);
    f.max_priority_fee_per_gas = Uint256(1);
    f.to = *eth::Address::Parse("0x1111111111111111111111111111111111111111");
    f.value = *Uint256::ParseAmount(value_wei);
    auto tx = eth::Transaction::Create(f);
    EXPECT_TRUE(tx.ok()) << tx.status();
    return SignRequest{"trader", policy::Kind::kEthTx, tx->EncodeUnsigned()};
  }

  // Tx, of another type: kLegacy and kAccessList pay gas_price, the others
  // max_fee_per_gas (1 gwei each, 21000 gas: 0.000021 ether of fees at most).
  SignRequest TxOfType(eth::TxType type, const std::string& value_wei, uint64_t nonce) {
    eth::TransactionFields f;
    f.type = type;
    f.chain_id = 31337;
    f.nonce = nonce;
    f.gas_limit = 21000;
    if (type == eth::TxType::kLegacy || type == eth::TxType::kAccessList) {
      f.gas_price = Uint256(1000000000);
    } else {
      f.max_fee_per_gas = Uint256(1000000000);
      f.max_priority_fee_per_gas = Uint256(1);
    }
    f.to = *eth::Address::Parse("0x1111111111111111111111111111111111111111");
    f.value = *Uint256::ParseAmount(value_wei);
    auto tx = eth::Transaction::Create(f);
    EXPECT_TRUE(tx.ok()) << tx.status();
    return SignRequest{"trader", policy::Kind::kEthTx, tx->EncodeUnsigned()};
  }

  void UsePolicy(const char* text) {
    auto parsed = policy::Policy::Parse(text);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    engine_->SetPolicy(std::make_shared<const policy::Policy>(std::move(*parsed)));
  }

  // Holds `request` for approval and has one approver approve it; the
  // approval's id, or "" after a failed assertion.
  std::string HoldAndApprove(const SignRequest& request) {
    SignResponse held = service_->Sign(agent_, request);
    EXPECT_EQ(held.outcome, Outcome::kPendingApproval) << held.message;
    if (!held.approval) return "";
    std::vector<std::string> roles = {"approver"};
    EXPECT_TRUE(approvals_->Approve(held.approval->id, "alice", roles, "").ok());
    return held.approval->id;
  }

  // Rotates "trader"; its old and new addresses.
  std::pair<std::string, std::string> RotateTrader() {
    const std::string old_address = KeyAddress(key_.type, key_.public_key);
    auto rotated = keys_.Rotate("trader");
    EXPECT_TRUE(rotated.ok()) << rotated.status();
    EXPECT_TRUE(service_->RefreshKeys().ok());
    if (!rotated.ok()) return {old_address, ""};
    return {old_address, KeyAddress(rotated->type, rotated->public_key)};
  }

  FakeClock clock_;
  ScopedTempDir dir_;
  std::unique_ptr<audit::FaultInjectingEnv> fault_env_;
  std::unique_ptr<audit::Ed25519SeedSigner> signer_;
  std::unique_ptr<audit::AuditLog> log_;
  policy::MemoryLedgerJournal journal_;
  std::unique_ptr<policy::Ledger> ledger_;
  std::unique_ptr<policy::PolicyEngine> engine_;
  store::MemoryStore store_;
  NoSecondFactor second_factor_;
  std::unique_ptr<policy::ApprovalBook> approvals_;
  std::unique_ptr<policy::Lockdown> lockdown_;
  keystore::MemoryKeyStore keys_{nullptr};
  std::unique_ptr<SigningService> service_;
  keystore::KeyInfo key_;
  tokens::Principal agent_;
};

TEST_F(SigningServiceTest, SignsWhatPolicyAllowsAndTheSenderIsTheKey) {
  SignResponse r = service_->Sign(agent_, Tx("0.5 ether", 0));
  ASSERT_EQ(r.outcome, Outcome::kSigned) << r.message;
  auto raw = HexDecode(r.result["raw"].get<std::string>());
  auto signed_tx = eth::SignedTransaction::Parse(*raw);
  ASSERT_TRUE(signed_tx.ok());
  EXPECT_EQ(signed_tx->RecoverSender()->ToChecksumHex(), r.address);
  ASSERT_TRUE(r.receipt.has_value());
  EXPECT_EQ(log_->Size(), r.receipt->seq + 1);  // the record is durable before the answer
}

// A keystore whose ECDSA signatures can be corrupted on the way out, as a
// faulty signer or HSM would return them.
class CorruptingKeyStore final : public keystore::ForwardingKeyStore {
 public:
  enum class Fault { kNone, kFlipBitInS, kFlipRecoveryId };
  using ForwardingKeyStore::ForwardingKeyStore;
  void Set(Fault fault) { fault_ = fault; }
  absl::StatusOr<crypto::RecoverableSignature> SignEcdsa(std::string_view key_id, keystore::KeyPurpose purpose,
                                                         const crypto::Hash256& digest) override {
    auto sig = ForwardingKeyStore::SignEcdsa(key_id, purpose, digest);
    if (!sig.ok()) return sig;
    if (fault_ == Fault::kFlipBitInS) sig->s[20] ^= 0x10;
    if (fault_ == Fault::kFlipRecoveryId) sig->recovery_id ^= 1;
    return sig;
  }
  absl::StatusOr<crypto::SchnorrSignature> SignSchnorr(std::string_view key_id, keystore::KeyPurpose purpose,
                                                       const crypto::Hash256& message) override {
    auto sig = ForwardingKeyStore::SignSchnorr(key_id, purpose, message);
    if (sig.ok() && fault_ == Fault::kFlipBitInS) (*sig)[52] ^= 0x10;
    return sig;
  }
  absl::StatusOr<crypto::Ed25519Signature> SignEd25519(std::string_view key_id, keystore::KeyPurpose purpose,
                                                       std::span<const uint8_t> message) override {
    auto sig = ForwardingKeyStore::SignEd25519(key_id, purpose, message);
    if (sig.ok() && fault_ == Fault::kFlipBitInS) (*sig)[52] ^= 0x10;
    return sig;
  }

 private:
  Fault fault_ = Fault::kNone;
};

// Verify before release: a signature that is not by the key (a fault in
// the signer) never leaves, before and after the key's precomputed table
// takes over the check (from its 64th signature).
TEST_F(SigningServiceTest, AFaultySignatureNeverLeaves) {
  CorruptingKeyStore keys(keys_);
  SigningService service(SigningService::Deps{keys, *log_, *engine_, *approvals_, *lockdown_, clock_, {}});
  ASSERT_TRUE(service.RefreshKeys().ok());
  uint64_t nonce = 0;
  for (int round = 0; round < 2; ++round) {
    for (auto fault : {CorruptingKeyStore::Fault::kFlipBitInS, CorruptingKeyStore::Fault::kFlipRecoveryId}) {
      keys.Set(fault);
      SignResponse r = service.Sign(agent_, Tx("1", nonce++));
      EXPECT_NE(r.outcome, Outcome::kSigned) << round;
      EXPECT_FALSE(r.result.contains("raw")) << round;
      EXPECT_NE(r.message.find("does not recover to the key"), std::string::npos) << r.message;
    }
    keys.Set(CorruptingKeyStore::Fault::kNone);
    for (int i = 0; i < 70; ++i) {
      SignResponse ok = service.Sign(agent_, Tx("1", nonce++));
      ASSERT_EQ(ok.outcome, Outcome::kSigned) << ok.message;
      auto signed_tx = eth::SignedTransaction::Parse(*HexDecode(ok.result["raw"].get<std::string>()));
      ASSERT_TRUE(signed_tx.ok());
      EXPECT_EQ(signed_tx->RecoverSender()->ToChecksumHex(), ok.address);
    }
  }
}

// The same for Ed25519 (Solana) and BIP-340 outside Nostr: verified against
// the key's recorded public key before release. Both signed unchecked
// before; a second Ed25519 signature of one message that differs can give
// the key away. The refusal is audited.
TEST_F(SigningServiceTest, FaultyEd25519AndSchnorrSignaturesNeverLeave) {
  CorruptingKeyStore keys(keys_);
  SigningService service(SigningService::Deps{keys, *log_, *engine_, *approvals_, *lockdown_, clock_, {}});
  ASSERT_TRUE(keys_.Generate("sol", keystore::KeyType::kEd25519, keystore::KeyPurpose::kSigning).ok());
  ASSERT_TRUE(keys_.Generate("nostr", keystore::KeyType::kSchnorr, keystore::KeyPurpose::kSigning).ok());
  ASSERT_TRUE(service.RefreshKeys().ok());
  auto raw = policy::Policy::Parse(R"({"version":1,"rules":[{"id":"raw","effect":"allow","match":{"kind":"raw_digest"}}]})");
  ASSERT_TRUE(raw.ok()) << raw.status();
  engine_->SetPolicy(std::make_shared<const policy::Policy>(std::move(*raw)));
  tokens::Principal agent = agent_;
  agent.id = "tok_0123456789abcdef";
  agent.keys = {"sol", "nostr"};
  for (const std::string key : {"sol", "nostr"}) {
    SignRequest request{key, policy::Kind::kRawDigest, Bytes(32, 0x5a)};
    keys.Set(CorruptingKeyStore::Fault::kFlipBitInS);
    const uint64_t before = log_->Size();
    SignResponse r = service.Sign(agent, request);
    EXPECT_NE(r.outcome, Outcome::kSigned) << key;
    EXPECT_TRUE(r.result.is_null()) << key;
    EXPECT_NE(r.message.find("does not verify under the key"), std::string::npos) << r.message;
    ASSERT_EQ(log_->Size(), before + 1) << key;  // the refusal is on record, with the token's id
    auto records = log_->ReadRecords(before, 1);
    ASSERT_TRUE(records.ok() && records->size() == 1) << records.status();
    EXPECT_EQ(records->front().decision, "error");
    EXPECT_EQ(records->front().extra.at("token_id"), "tok_0123456789abcdef");
    keys.Set(CorruptingKeyStore::Fault::kNone);
    EXPECT_EQ(service.Sign(agent, request).outcome, Outcome::kSigned) << key;
  }
}

// A legacy Solana message, byte by byte from the documented layout
// (https://solana.com/docs/core/transactions): header, compact-u16 key count,
// keys, recent blockhash, compact-u16 instruction count, instructions. Keys
// are [payer, recipient 1..n, System Program]; transfer i is a System
// Program Transfer (u32 LE 2, u64 LE lamports) from the payer to account
// transfers[i].first. Counts stay below 128, so each compact-u16 is one byte.
Bytes LegacySolanaTransfers(std::span<const uint8_t> payer, uint8_t recipients,
                            const std::vector<std::pair<uint8_t, uint64_t>>& transfers) {
  Bytes m = {1, 0, 1};  // the payer signs; the System Program is read-only
  m.push_back(static_cast<uint8_t>(recipients + 2));
  m.insert(m.end(), payer.begin(), payer.end());
  for (uint8_t i = 1; i <= recipients; ++i) m.insert(m.end(), 32, static_cast<uint8_t>(0x10 + i));
  m.insert(m.end(), 32, 0);     // System Program id: 32 zero bytes ("1111...1")
  m.insert(m.end(), 32, 0xbb);  // recent blockhash
  m.push_back(static_cast<uint8_t>(transfers.size()));
  for (const auto& [to, lamports] : transfers) {
    m.insert(m.end(), {static_cast<uint8_t>(recipients + 1), 2, 0, to, 12, 2, 0, 0, 0});
    for (int i = 0; i < 8; ++i) m.push_back(static_cast<uint8_t>(lamports >> (8 * i)));
  }
  return m;
}

std::string SolanaRecipient(uint8_t i) { return SolanaAddress(Bytes(32, static_cast<uint8_t>(0x10 + i))); }

// `to` names the first native recipient only, but the policy judged every
// one: the record lists them all, with their lamports, whatever it decided.
TEST_F(SigningServiceTest, ASolanaRecordNamesEveryNativeRecipient) {
  auto sol = keys_.Generate("sol", keystore::KeyType::kEd25519, keystore::KeyPurpose::kSigning);
  ASSERT_TRUE(sol.ok()) << sol.status();
  ASSERT_TRUE(service_->RefreshKeys().ok());
  tokens::Principal agent = agent_;
  agent.keys = {"sol"};
  const Bytes message = LegacySolanaTransfers(sol->public_key, 2, {{1, 1000}, {2, 2'500'000'000}});
  const nlohmann::json both = nlohmann::json::array({{{"to", SolanaRecipient(1)}, {"lamports", "1000"}},
                                                    {{"to", SolanaRecipient(2)}, {"lamports", "2500000000"}}});
  // The second recipient is the one a deny rule stops.
  auto policy = policy::Policy::Parse(R"({"version":1,"rules":[
    {"id":"blocked","effect":"deny","match":{"kind":"solana_tx","to":{"in":[")" + SolanaRecipient(2) + R"("]}}},
    {"id":"sol","effect":"allow","match":{"kind":"solana_tx"}}]})");
  ASSERT_TRUE(policy.ok()) << policy.status();
  engine_->SetPolicy(std::make_shared<const policy::Policy>(std::move(*policy)));
  for (const bool blocked : {true, false}) {
    if (!blocked) {
      auto open = policy::Policy::Parse(R"({"version":1,"rules":[{"id":"sol","effect":"allow","match":{"kind":"solana_tx"}}]})");
      ASSERT_TRUE(open.ok()) << open.status();
      engine_->SetPolicy(std::make_shared<const policy::Policy>(std::move(*open)));
    }
    SignResponse r = service_->Sign(agent, SignRequest{"sol", policy::Kind::kSolanaTx, message});
    EXPECT_EQ(r.outcome, blocked ? Outcome::kDenied : Outcome::kSigned) << r.message;
    auto records = log_->ReadRecords(log_->Size() - 1, 1);
    ASSERT_TRUE(records.ok() && records->size() == 1) << records.status();
    const audit::AuditRecord& rec = records->front();
    EXPECT_EQ(rec.decision, blocked ? "deny" : "allow");
    EXPECT_EQ(rec.rule, blocked ? "blocked" : "sol");
    EXPECT_EQ(rec.extra.at("to"), SolanaRecipient(1));  // as before, for readers of one recipient
    EXPECT_EQ(rec.extra.at("value"), "2500001000");
    ASSERT_TRUE(rec.extra.contains("solana_recipients"));
    EXPECT_EQ(nlohmann::json::parse(rec.extra.at("solana_recipients")), both);
    EXPECT_FALSE(rec.extra.contains("solana_recipients_omitted"));
  }
}

// A message can hold more transfers than a record lists: the list is cut
// at 32 and the record says how many were left out.
TEST_F(SigningServiceTest, ASolanaRecordBoundsItsRecipientList) {
  auto sol = keys_.Generate("sol", keystore::KeyType::kEd25519, keystore::KeyPurpose::kSigning);
  ASSERT_TRUE(sol.ok()) << sol.status();
  ASSERT_TRUE(service_->RefreshKeys().ok());
  auto policy = policy::Policy::Parse(R"({"version":1,"rules":[{"id":"sol","effect":"allow","match":{"kind":"solana_tx"}}]})");
  ASSERT_TRUE(policy.ok()) << policy.status();
  engine_->SetPolicy(std::make_shared<const policy::Policy>(std::move(*policy)));
  tokens::Principal agent = agent_;
  agent.keys = {"sol"};
  std::vector<std::pair<uint8_t, uint64_t>> transfers;
  for (uint64_t i = 0; i < 40; ++i) transfers.emplace_back(static_cast<uint8_t>(1 + i % 3), 1 + i);
  SignResponse r = service_->Sign(agent, SignRequest{"sol", policy::Kind::kSolanaTx,
                                                     LegacySolanaTransfers(sol->public_key, 3, transfers)});
  ASSERT_EQ(r.outcome, Outcome::kSigned) << r.message;
  auto records = log_->ReadRecords(log_->Size() - 1, 1);
  ASSERT_TRUE(records.ok() && records->size() == 1) << records.status();
  ASSERT_TRUE(records->front().extra.contains("solana_recipients"));
  const auto listed = nlohmann::json::parse(records->front().extra.at("solana_recipients"));
  ASSERT_EQ(listed.size(), 32u);
  EXPECT_EQ(listed[31], nlohmann::json({{"to", SolanaRecipient(2)}, {"lamports", "32"}}));
  EXPECT_EQ(records->front().extra.at("solana_recipients_omitted"), "8");
}

TEST_F(SigningServiceTest, BudgetHoldsAndRefusalNamesTheRule) {
  for (uint64_t n = 0; n < 4; ++n) EXPECT_EQ(service_->Sign(agent_, Tx("0.5 ether", n)).outcome, Outcome::kSigned);
  SignResponse r = service_->Sign(agent_, Tx("0.5 ether", 4));
  EXPECT_EQ(r.outcome, Outcome::kDenied);
  ASSERT_TRUE(r.decision.has_value());
  EXPECT_EQ(r.decision->rule_id, "small");
  EXPECT_NE(r.message.find("budget"), std::string::npos);
}

TEST_F(SigningServiceTest, FailsClosedWhenTheAuditLogCannotBeWrittenAndResumes) {
  fault_env_->InjectFault(audit::FaultInjectingEnv::Op::kSync, {});
  SignResponse r = service_->Sign(agent_, Tx("0.5 ether", 0));
  EXPECT_EQ(r.outcome, Outcome::kUnavailable);
  EXPECT_TRUE(r.result.is_null());  // no signature leaves
  EXPECT_FALSE(service_->AuditWritable());
  // The reservation was released: the whole budget is still there.
  fault_env_->ClearAllFaults();
  for (uint64_t n = 0; n < 4; ++n) {
    SignResponse ok = service_->Sign(agent_, Tx("0.5 ether", n));
    EXPECT_EQ(ok.outcome, Outcome::kSigned) << ok.message;
  }
  EXPECT_TRUE(service_->AuditWritable());
  EXPECT_TRUE(log_->Verify().valid);
}

// The daemon's wiring: the ledger defers its syncs and the audit log syncs
// the journal alongside each batch of records. A signature leaves only when its
// reservation is durable: one sync covers it, and a failed sync (whether in
// the audit log's hook or in MakeDurable) withholds the signature and gives
// the budget back.
TEST_F(SigningServiceTest, ASignatureLeavesOnlyWithItsReservationDurable) {
  for (bool hook : {true, false}) {
    SCOPED_TRACE(hook ? "audit log syncs the journal" : "MakeDurable syncs the journal");
    policy::MemoryLedgerJournal journal;
    audit::AuditLogOptions ao;
    ao.clock = &clock_;
    ao.signer = signer_.get();
    ao.background_checkpoints = false;
    if (hook) ao.sync_alongside = [&journal] { return journal.SyncAll(); };
    auto log = *audit::AuditLog::Open(dir_.path() + (hook ? "/hooked.log" : "/plain.log"), ao);
    auto ledger = *policy::Ledger::Open(journal, clock_, policy::LedgerOptions{.defer_reserve_sync = true});
    policy::PolicyEngine engine(std::make_shared<const policy::Policy>(*policy::Policy::Parse(kPolicy)), *ledger, clock_);
    SigningService service(SigningService::Deps{keys_, *log, engine, *approvals_, *lockdown_, clock_, {}});
    ASSERT_TRUE(service.RefreshKeys().ok());

    SignResponse first = service.Sign(agent_, Tx("0.5 ether", 0));
    ASSERT_EQ(first.outcome, Outcome::kSigned) << first.message;
    EXPECT_EQ(journal.unsynced_reserves(), 0u);
    EXPECT_EQ(journal.effective_syncs(), 1u);

    journal.FailSyncs(true);
    const uint64_t size = log->Size();
    SignResponse refused = service.Sign(agent_, Tx("0.5 ether", 1));
    EXPECT_EQ(refused.outcome, Outcome::kUnavailable) << refused.message;
    EXPECT_TRUE(refused.result.is_null());
    if (hook) {
      EXPECT_EQ(log->Size(), size);  // the batch failed as a whole
    } else {
      // The audit record made it; a second one says the signature was withheld.
      auto tail = log->ReadRecords(size, log->Size() - size);
      ASSERT_TRUE(tail.ok());
      ASSERT_EQ(tail->size(), 2u);
      EXPECT_EQ(tail->back().type, "sign.withheld");
    }
    journal.FailSyncs(false);
    // The refused request's reservation was released: 1.5 ether are left.
    for (uint64_t n = 2; n < 5; ++n) EXPECT_EQ(service.Sign(agent_, Tx("0.5 ether", n)).outcome, Outcome::kSigned);
    EXPECT_EQ(service.Sign(agent_, Tx("0.5 ether", 5)).outcome, Outcome::kDenied);
    EXPECT_EQ(journal.unsynced_reserves(), 0u);
    EXPECT_TRUE(log->Verify().valid);
  }
}

TEST_F(SigningServiceTest, HeldRequestIsSignedOnceForTheRequesterOnly) {
  SignResponse held = service_->Sign(agent_, Tx("5 ether", 0));
  ASSERT_EQ(held.outcome, Outcome::kPendingApproval) << held.message;
  const std::string id = held.approval->id;
  // A retry of the same request joins it; the approvers are asked once.
  SignResponse retried = service_->Sign(agent_, Tx("5 ether", 0));
  ASSERT_EQ(retried.outcome, Outcome::kPendingApproval) << retried.message;
  EXPECT_EQ(retried.approval->id, id);
  EXPECT_EQ(approvals_->ListPending()->size(), 1u);
  // Not approved yet: no signature.
  EXPECT_TRUE(service_->ApprovalStatus(agent_, id).result.is_null());
  std::vector<std::string> roles = {"approver"};
  ASSERT_TRUE(approvals_->Approve(id, "alice", roles, "").ok());
  tokens::Principal other = agent_;
  other.name = "bot-2";
  EXPECT_EQ(service_->ApprovalStatus(other, id).outcome, Outcome::kUnauthorized);
  SignResponse done = service_->ApprovalStatus(agent_, id);
  ASSERT_EQ(done.outcome, Outcome::kSigned) << done.message;
  auto raw = HexDecode(done.result["raw"].get<std::string>());
  auto signed_tx = eth::SignedTransaction::Parse(*raw);
  ASSERT_TRUE(signed_tx.ok());
  EXPECT_EQ(signed_tx->tx().value(), *Uint256::ParseAmount("5 ether"));
  // One-time: a second poll does not sign again.
  EXPECT_NE(service_->ApprovalStatus(agent_, id).outcome, Outcome::kSigned);
}

// Approvers approve under the terms of the hold. If the policy asks for more
// by the time the requester collects (here: two approvers instead of one),
// nothing is signed and the approval is not spent.
TEST_F(SigningServiceTest, AnApprovalGivenUnderWeakerTermsSignsNothing) {
  const std::string id = HoldAndApprove(Tx("5 ether", 0));
  ASSERT_FALSE(id.empty());
  std::string stricter = kPolicy;
  const std::string quorum_one = R"("approval":{"quorum":1,)";
  stricter.replace(stricter.find(quorum_one), quorum_one.size(), R"("approval":{"quorum":2,)");
  auto parsed = policy::Policy::Parse(stricter);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  engine_->SetPolicy(std::make_shared<const policy::Policy>(std::move(*parsed)));
  SignResponse r = service_->ApprovalStatus(agent_, id);
  EXPECT_EQ(r.outcome, Outcome::kDenied) << r.message;
  EXPECT_NE(r.message.find("now needs 2 approvals"), std::string::npos) << r.message;
  EXPECT_TRUE(r.result.is_null());
  EXPECT_EQ(approvals_->Status(id)->state, policy::ApprovalState::kApproved);
  // Back to the terms it was approved under: it is signed.
  engine_->SetPolicy(std::make_shared<const policy::Policy>(*policy::Policy::Parse(kPolicy)));
  EXPECT_EQ(service_->ApprovalStatus(agent_, id).outcome, Outcome::kSigned);
}

// An approved request is released to its requester's name, and names are
// unique among live tokens only: a token reissued under that name with
// fewer keys or another role must not collect it.
TEST_F(SigningServiceTest, AnApprovalIsCollectedOnlyByATokenThatMaySignWithTheKey) {
  const std::string id = HoldAndApprove(Tx("5 ether", 0));
  ASSERT_FALSE(id.empty());
  tokens::Principal narrowed = agent_;
  narrowed.keys = {"other"};
  tokens::Principal auditor = agent_;
  auditor.role = tokens::Role::kAuditor;
  for (const tokens::Principal& reissued : {narrowed, auditor}) {
    SignResponse r = service_->ApprovalStatus(reissued, id);
    // The narrowed agent is refused; a role that may not sign sees the status.
    EXPECT_EQ(r.outcome, reissued.role == tokens::Role::kAgent ? Outcome::kUnauthorized : Outcome::kPendingApproval)
        << r.message;
    EXPECT_TRUE(r.result.is_null());
    EXPECT_EQ(approvals_->Status(id)->state, policy::ApprovalState::kApproved);  // not spent
  }
  EXPECT_EQ(service_->ApprovalStatus(agent_, id).outcome, Outcome::kSigned);
}

// A keystore that runs a hook when it is asked for an ECDSA signature: the
// moment a collecting poll is between its claim and its signature.
class HookedKeyStore final : public keystore::ForwardingKeyStore {
 public:
  using ForwardingKeyStore::ForwardingKeyStore;
  std::function<void()> on_sign;
  absl::StatusOr<crypto::RecoverableSignature> SignEcdsa(std::string_view key_id, keystore::KeyPurpose purpose,
                                                         const crypto::Hash256& digest) override {
    if (on_sign) std::exchange(on_sign, nullptr)();
    return ForwardingKeyStore::SignEcdsa(key_id, purpose, digest);
  }
};

// A client's retry arriving while the first poll collects the approval is
// told it is being collected: it neither races the first for the budget
// nor records a denial beside the first's signature.
TEST_F(SigningServiceTest, ASecondPollWhileOneCollectsWaitsItsTurn) {
  HookedKeyStore keys(keys_);
  SigningService service(SigningService::Deps{keys, *log_, *engine_, *approvals_, *lockdown_, clock_, {}});
  ASSERT_TRUE(service.RefreshKeys().ok());
  SignResponse held = service.Sign(agent_, Tx("5 ether", 0));
  ASSERT_EQ(held.outcome, Outcome::kPendingApproval) << held.message;
  const std::string id = held.approval->id;
  std::vector<std::string> roles = {"approver"};
  ASSERT_TRUE(approvals_->Approve(id, "alice", roles, "").ok());
  std::optional<SignResponse> retry;
  uint64_t records_before_retry = 0;
  keys.on_sign = [&] {
    records_before_retry = log_->Size();
    retry = service.ApprovalStatus(agent_, id);
  };
  SignResponse first = service.ApprovalStatus(agent_, id);
  EXPECT_EQ(first.outcome, Outcome::kSigned) << first.message;
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->outcome, Outcome::kPendingApproval) << retry->message;
  EXPECT_NE(retry->message.find("being collected"), std::string::npos) << retry->message;
  EXPECT_TRUE(retry->result.is_null());
  EXPECT_EQ(log_->Size(), records_before_retry + 1);  // the first's allow only: the retry recorded nothing
}

// An approval is spent only by a signature that leaves: if the audit log
// cannot take the record when the requester collects, the approvers' work
// is kept and a later poll signs.
TEST_F(SigningServiceTest, AnApprovalIsNotSpentWhenNothingIsSigned) {
  const std::string id = HoldAndApprove(Tx("5 ether", 0));
  ASSERT_FALSE(id.empty());
  fault_env_->InjectFault(audit::FaultInjectingEnv::Op::kSync, {});
  SignResponse refused = service_->ApprovalStatus(agent_, id);
  EXPECT_EQ(refused.outcome, Outcome::kUnavailable) << refused.message;
  EXPECT_TRUE(refused.result.is_null());
  EXPECT_EQ(approvals_->Status(id)->state, policy::ApprovalState::kApproved);
  fault_env_->ClearAllFaults();
  EXPECT_EQ(service_->ApprovalStatus(agent_, id).outcome, Outcome::kSigned);
  EXPECT_EQ(approvals_->Status(id)->state, policy::ApprovalState::kConsumed);
}

// Approval never overrides a deny budget: two requests held for approval
// under a 10-ether daily budget, 6 ether each, both approved; the second
// collected finds no room and is denied, its approval kept.
TEST_F(SigningServiceTest, ApprovedRequestsStayWithinADenyBudget) {
  auto parsed = policy::Policy::Parse(R"({"version":1,"rules":[
    {"id":"pay","effect":"allow","keys":["trader"],"match":{"kind":"eth_tx","value":{"lte":"100 ether"}},
     "budgets":[{"window":"24h","max_value":"10 ether","on_exceed":"deny"}]},
    {"id":"big","effect":"require_approval","match":{"kind":"eth_tx","value":{"gt":"1 ether"}},
     "approval":{"quorum":1,"role":"approver","second_factor":"none","expires":"1h"}}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  engine_->SetPolicy(std::make_shared<const policy::Policy>(std::move(*parsed)));
  std::vector<std::string> ids;
  for (uint64_t nonce : {0, 1}) {
    ids.push_back(HoldAndApprove(Tx("6 ether", nonce)));
    ASSERT_FALSE(ids.back().empty());
  }
  EXPECT_EQ(service_->ApprovalStatus(agent_, ids[0]).outcome, Outcome::kSigned);
  SignResponse second = service_->ApprovalStatus(agent_, ids[1]);
  EXPECT_EQ(second.outcome, Outcome::kDenied) << second.message;
  EXPECT_TRUE(second.result.is_null());
  EXPECT_NE(second.message.find("budget"), std::string::npos) << second.message;
  EXPECT_EQ(approvals_->Status(ids[1])->state, policy::ApprovalState::kApproved);
}

// max_spend counts the fees the transaction itself allows, from the field
// its type pays with: two 0.5 ether payments fit a 1 ether max_value budget
// exactly, but not a 1 ether max_spend one (each also risks 0.000021 ether).
TEST_F(SigningServiceTest, MaxSpendCountsTheFeesEachTransactionTypeAllows) {
  for (eth::TxType type : {eth::TxType::kLegacy, eth::TxType::kAccessList, eth::TxType::kDynamicFee}) {
    SCOPED_TRACE(static_cast<int>(type));
    UsePolicy(R"({"version":1,"rules":[
      {"id":"pay","effect":"allow","keys":["trader"],"match":{"kind":"eth_tx"},
       "budgets":[{"window":"24h","max_spend":"1 ether","on_exceed":"deny"}]}]})");
    clock_.Advance(absl::Hours(25));  // a fresh window for each type
    SignResponse first = service_->Sign(agent_, TxOfType(type, "0.5 ether", 0));
    ASSERT_EQ(first.outcome, Outcome::kSigned) << first.message;
    SignResponse second = service_->Sign(agent_, TxOfType(type, "0.5 ether", 1));
    EXPECT_EQ(second.outcome, Outcome::kDenied) << second.message;
    ASSERT_TRUE(second.decision.has_value());
    ASSERT_FALSE(second.decision->budgets.empty());
    EXPECT_EQ(second.decision->budgets[0].spent.ToDecimal(), "500021000000000000");
    EXPECT_EQ(second.decision->budgets[0].requested.ToDecimal(), "500021000000000000");
  }
  // The same pair under max_value: the fees are not counted there.
  UsePolicy(R"({"version":1,"rules":[
    {"id":"pay","effect":"allow","keys":["trader"],"match":{"kind":"eth_tx"},
     "budgets":[{"window":"24h","max_value":"1 ether","on_exceed":"deny"}]}]})");
  clock_.Advance(absl::Hours(25));
  EXPECT_EQ(service_->Sign(agent_, Tx("0.5 ether", 0)).outcome, Outcome::kSigned);
  EXPECT_EQ(service_->Sign(agent_, Tx("0.5 ether", 1)).outcome, Outcome::kSigned);
}

// Approved requests are held to a deny max_spend budget at collection too.
TEST_F(SigningServiceTest, ApprovedRequestsStayWithinADenySpendBudget) {
  UsePolicy(R"({"version":1,"rules":[
    {"id":"pay","effect":"allow","keys":["trader"],"match":{"kind":"eth_tx","value":{"lte":"100 ether"}},
     "budgets":[{"window":"24h","max_spend":"10 ether","on_exceed":"deny"}]},
    {"id":"big","effect":"require_approval","match":{"kind":"eth_tx","value":{"gt":"1 ether"}},
     "approval":{"quorum":1,"role":"approver","second_factor":"none","expires":"1h"}}]})");
  std::vector<std::string> ids;
  for (uint64_t nonce : {0, 1}) {
    ids.push_back(HoldAndApprove(Tx("5 ether", nonce)));
    ASSERT_FALSE(ids.back().empty());
  }
  EXPECT_EQ(service_->ApprovalStatus(agent_, ids[0]).outcome, Outcome::kSigned);
  // 5 ether + fees already spent; another 5 ether + fees is past 10 ether.
  SignResponse second = service_->ApprovalStatus(agent_, ids[1]);
  EXPECT_EQ(second.outcome, Outcome::kDenied) << second.message;
  EXPECT_TRUE(second.result.is_null());
  EXPECT_EQ(approvals_->Status(ids[1])->state, policy::ApprovalState::kApproved);
}

// An agent past its cap of pending approval requests is told to slow down,
// not that the service is unavailable.
TEST_F(SigningServiceTest, TooManyPendingApprovalsIsRateLimitedNotUnavailable) {
  for (uint64_t nonce = 0; nonce < policy::ApprovalBook::kMaxPendingPerAgent; ++nonce) {
    ASSERT_EQ(service_->Sign(agent_, Tx("5 ether", nonce)).outcome, Outcome::kPendingApproval) << nonce;
  }
  const uint64_t before = log_->Size();
  SignResponse r = service_->Sign(agent_, Tx("5 ether", policy::ApprovalBook::kMaxPendingPerAgent));
  EXPECT_EQ(r.outcome, Outcome::kRateLimited) << r.message;
  EXPECT_NE(r.message.find("waiting for approval"), std::string::npos) << r.message;
  // The log says it was not held after all, right after the hold decision.
  auto records = log_->ReadRecords(before, log_->Size() - before);
  ASSERT_TRUE(records.ok() && records->size() == 2) << records.status();
  EXPECT_EQ((*records)[0].decision, "require_approval");
  EXPECT_EQ((*records)[1].decision, "rate_limited");
  EXPECT_NE((*records)[1].reason.find("not held"), std::string::npos) << (*records)[1].reason;
}

// A retired address is public on-chain: naming it must not tell a token
// outside the key's scope the key's name or current address.
TEST_F(SigningServiceTest, ARetiredAddressTellsAStrangerNothing) {
  const auto [old_address, new_address] = RotateTrader();
  ASSERT_FALSE(new_address.empty());
  tokens::Principal stranger = agent_;
  stranger.keys = {};
  SignRequest by_old = Tx("0.1 ether", 0);
  by_old.key = old_address;
  for (const SignResponse& r : {service_->Sign(stranger, by_old), service_->Explain(stranger, by_old)}) {
    EXPECT_EQ(r.outcome, Outcome::kUnauthorized) << r.message;
    EXPECT_EQ(r.message.find("trader"), std::string::npos) << r.message;
    EXPECT_EQ(r.message.find(new_address), std::string::npos) << r.message;
  }
  // The key's own agent is still told where the key went.
  EXPECT_NE(service_->Sign(agent_, by_old).message.find(new_address), std::string::npos);
}

TEST_F(SigningServiceTest, AHeldRequestIsNotSignedByAKeyRotatedMeanwhile) {
  SignResponse held = service_->Sign(agent_, Tx("5 ether", 0));
  ASSERT_EQ(held.outcome, Outcome::kPendingApproval) << held.message;
  const std::string id = held.approval->id;
  ASSERT_TRUE(keys_.Rotate("trader").ok());
  ASSERT_TRUE(service_->RefreshKeys().ok());
  std::vector<std::string> roles = {"approver"};
  ASSERT_TRUE(approvals_->Approve(id, "alice", roles, "").ok());
  SignResponse r = service_->ApprovalStatus(agent_, id);
  EXPECT_EQ(r.outcome, Outcome::kInvalid);
  EXPECT_TRUE(r.result.is_null());
  EXPECT_NE(r.message.find("was rotated from version 1 to 2"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("Submit the request again"), std::string::npos) << r.message;
}

TEST(HeldRequestTest, RoundTripsAndReadsTheFormatWithoutAVersion) {
  const Bytes payload = {0x02, 0xc0, 0x01};
  auto held = DecodeHeldRequest(EncodeHeldRequest("key_abc", 7, policy::Kind::kRawDigest, payload));
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->key_id, "key_abc");
  EXPECT_EQ(held->key_version, 7u);
  EXPECT_EQ(held->kind, policy::Kind::kRawDigest);
  EXPECT_EQ(held->payload, payload);
  // Format 1 (held by an older daemon): no version.
  Bytes v1 = {1, static_cast<uint8_t>(policy::Kind::kEthTx), 3, 'k', 'e', 'y', 0x02, 0xc0};
  auto old = DecodeHeldRequest(v1);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->key_id, "key");
  EXPECT_FALSE(old->key_version.has_value());
  EXPECT_EQ(old->payload, (Bytes{0x02, 0xc0}));
  // Truncated, unknown format, unknown kind.
  for (const Bytes& bad : {Bytes{2, 0, 5, 'k'}, Bytes{2, 0, 1, 'k', 0, 0}, Bytes{9, 0, 0},
                           Bytes{2, static_cast<uint8_t>(policy::kKindCount), 0, 0, 0, 0, 1}}) {
    EXPECT_EQ(DecodeHeldRequest(bad).status().code(), absl::StatusCode::kDataLoss);
  }
}

TEST_F(SigningServiceTest, LockdownRefusesAndAgentsSeeOnlyTheirKeys) {
  std::vector<std::string> roles = {"operator"};
  ASSERT_TRUE(lockdown_->Lock("ops", roles, "drill").ok());
  EXPECT_EQ(service_->Sign(agent_, Tx("0.1 ether", 0)).outcome, Outcome::kLockdown);
  tokens::Principal stranger = agent_;
  stranger.keys = {};
  EXPECT_EQ(service_->Sign(stranger, Tx("0.1 ether", 0)).outcome, Outcome::kUnauthorized);
  EXPECT_TRUE(service_->ListKeys(stranger)->empty());
  // Naming the key by its address does not tell the stranger its name.
  SignRequest by_address = Tx("0.1 ether", 0);
  by_address.key = KeyAddress(key_.type, key_.public_key);
  for (const SignResponse& r : {service_->Sign(stranger, by_address), service_->Explain(stranger, by_address)}) {
    EXPECT_EQ(r.outcome, Outcome::kUnauthorized);
    EXPECT_NE(r.message.find(by_address.key), std::string::npos) << r.message;
    EXPECT_EQ(r.message.find("trader"), std::string::npos) << r.message;
  }
}

TEST_F(SigningServiceTest, MalformedPayloadsAreInvalidNotFatal) {
  SignRequest bad{"trader", policy::Kind::kEthTx, {0x02, 0xff, 0x00}};
  EXPECT_EQ(service_->Sign(agent_, bad).outcome, Outcome::kInvalid);
  SignRequest digest{"trader", policy::Kind::kRawDigest, Bytes(31, 1)};
  EXPECT_EQ(service_->Sign(agent_, digest).outcome, Outcome::kInvalid);
  SignRequest nostr{"trader", policy::Kind::kNostrEvent, Bytes{'{', '}'}};
  EXPECT_EQ(service_->Sign(agent_, nostr).outcome, Outcome::kInvalid);  // wrong key type
  SignRequest unknown{"nobody", policy::Kind::kEthTx, Tx("1 wei", 0).payload};
  EXPECT_EQ(service_->Sign(agent_, unknown).outcome, Outcome::kNotFound);
}

TEST_F(SigningServiceTest, ARotatedAddressNeverGetsTheNewKeysSignature) {
  const auto [old_address, new_address] = RotateTrader();
  ASSERT_FALSE(new_address.empty());
  ASSERT_NE(old_address, new_address);
  SignRequest by_old = Tx("0.1 ether", 0);
  by_old.key = old_address;
  SignResponse refused = service_->Sign(agent_, by_old);
  EXPECT_EQ(refused.outcome, Outcome::kInvalid);
  EXPECT_NE(refused.message.find("verify-only"), std::string::npos) << refused.message;
  EXPECT_NE(refused.message.find(new_address), std::string::npos) << refused.message;
  SignRequest by_new = Tx("0.1 ether", 0);
  by_new.key = new_address;
  EXPECT_EQ(service_->Sign(agent_, by_new).outcome, Outcome::kSigned);
  EXPECT_EQ(service_->Sign(agent_, Tx("0.1 ether", 1)).outcome, Outcome::kSigned);  // by name: the active version
}

TEST_F(SigningServiceTest, AMixedCaseAddressMustCarryItsChecksum) {
  const std::string address = KeyAddress(key_.type, key_.public_key);  // EIP-55 form
  std::string lower = address, upper = address;
  for (size_t i = 2; i < address.size(); ++i) {
    lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(address[i])));
    upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(address[i])));
  }
  // One letter's case flipped: still the same key by bytes, but a typo.
  std::string wrong = address;
  size_t letter = wrong.find_first_of("abcdefABCDEF", 2);
  ASSERT_NE(letter, std::string::npos);
  wrong[letter] = static_cast<char>(std::islower(static_cast<unsigned char>(wrong[letter]))
                                        ? std::toupper(static_cast<unsigned char>(wrong[letter]))
                                        : std::tolower(static_cast<unsigned char>(wrong[letter])));
  uint64_t nonce = 0;
  for (const std::string& good : {address, lower, upper, "0X" + lower.substr(2)}) {
    SignRequest r = Tx("1 wei", nonce++);
    r.key = good;
    EXPECT_EQ(service_->Sign(agent_, r).outcome, Outcome::kSigned) << good;
  }
  SignRequest r = Tx("1 wei", nonce);
  r.key = wrong;
  SignResponse refused = service_->Sign(agent_, r);
  EXPECT_EQ(refused.outcome, Outcome::kInvalid) << wrong;
  EXPECT_NE(refused.message.find("checksum"), std::string::npos) << refused.message;
}

}  // namespace
}  // namespace sigil::core
