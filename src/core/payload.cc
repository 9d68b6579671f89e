#include "core/payload.h"

#include "base/status.h"
#include "chains/ethereum/address.h"
#include "chains/ethereum/erc20.h"
#include "chains/ethereum/message.h"
#include "chains/ethereum/permit.h"
#include "chains/solana/base58.h"
#include "chains/solana/message.h"
#include "chains/solana/message_facts.h"
#include "policy/address_text.h"

namespace sigil::core {
namespace {

std::string Lower(const eth::Address& a) { return a.ToLowerHex(); }

absl::Status RequireScheme(const DecodeOptions& options, keystore::KeyType needed, std::string_view kind) {
  if (options.key_type == needed) return absl::OkStatus();
  return absl::InvalidArgumentError("a " + std::string(kind) + " payload needs a " +
                                    std::string(keystore::KeyTypeName(needed)) + " key; this key is " +
                                    std::string(keystore::KeyTypeName(options.key_type)));
}

absl::Status DecodeEthTx(std::span<const uint8_t> bytes, const DecodeOptions& options, DecodedPayload& out) {
  eth::ParseOptions parse;
  parse.allow_pre_eip155 = options.allow_pre_eip155;
  ASSIGN_OR_RETURN(eth::Transaction tx, eth::Transaction::ParseUnsigned(bytes, parse));
  if (tx.type() == eth::TxType::kBlob) {
    return absl::InvalidArgumentError("EIP-4844 blob transactions are decoded but not signed by Sigil");
  }
  out.digest = tx.SigningHash();
  policy::Facts& f = out.facts;
  f.chain_id = tx.chain_id();
  if (tx.to()) f.to = Lower(*tx.to());
  f.value = tx.value();
  f.nonce = tx.nonce();
  f.gas_limit = Uint256(tx.gas_limit());
  if (tx.type() == eth::TxType::kDynamicFee) {
    f.max_fee_per_gas = tx.max_fee_per_gas();
    f.max_priority_fee_per_gas = tx.max_priority_fee_per_gas();
  } else {
    f.gas_price = tx.gas_price();
  }
  const Bytes& data = tx.data();
  f.has_calldata = !data.empty();
  if (data.size() >= 4) f.method_selector = HexEncode0x(std::span<const uint8_t>(data.data(), 4));
  if (tx.to()) {
    ASSIGN_OR_RETURN(auto call, eth::DecodeErc20Call(data));
    if (call) {
      policy::Erc20Facts e;
      e.token = Lower(*tx.to());
      switch (call->method) {
        case eth::Erc20Method::kTransfer: e.method = policy::Erc20Method::kTransfer; break;
        case eth::Erc20Method::kTransferFrom: e.method = policy::Erc20Method::kTransferFrom; break;
        case eth::Erc20Method::kApprove: e.method = policy::Erc20Method::kApprove; break;
      }
      if (call->from) e.from = Lower(*call->from);
      e.to = Lower(call->to);
      e.amount = call->amount;
      e.unlimited = call->unlimited_approval;
      f.erc20 = std::move(e);
    }
  }
  out.tx = std::move(tx);
  return absl::OkStatus();
}

absl::Status DecodeTypedData(std::span<const uint8_t> bytes, DecodedPayload& out) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  ASSIGN_OR_RETURN(eth::TypedData td, eth::TypedData::Parse(text));
  out.digest = td.Digest();
  policy::TypedDataFacts t;
  const eth::Eip712Domain& d = td.domain();
  t.domain_name = d.name;
  t.domain_version = d.version;
  t.domain_chain_id = d.chain_id_u64();
  if (d.chain_id && !t.domain_chain_id) {
    return absl::InvalidArgumentError("domain.chainId does not fit in 64 bits");
  }
  if (d.verifying_contract) t.verifying_contract = Lower(*d.verifying_contract);
  t.primary_type = td.primary_type();
  if (auto permit = eth::RecognizePermit(td)) {
    policy::PermitFacts p;
    p.kind = std::string(eth::PermitKindName(permit->kind));
    p.spender = Lower(permit->spender);
    p.deadline = permit->deadline;
    // A DAI permit with expiry 0 never expires on chain: unbounded for policy.
    if (permit->kind == eth::PermitKind::kDaiPermit && permit->deadline.IsZero()) p.deadline = Uint256::Max();
    p.unlimited = permit->unlimited;
    // Every entry of a batch: policy conditions see each token and amount.
    for (const auto& a : permit->allowances) {
      policy::PermitAllowance pa;
      if (a.token) pa.token = Lower(*a.token);
      pa.amount = a.amount;
      pa.unlimited = a.unlimited;
      pa.expiration = a.expiration;
      p.allowances.push_back(std::move(pa));
    }
    t.permit = std::move(p);
  }
  out.facts.chain_id = t.domain_chain_id;
  out.facts.typed_data = std::move(t);
  out.typed_data = std::move(td);
  return absl::OkStatus();
}

absl::Status DecodeNostr(std::span<const uint8_t> bytes, const DecodeOptions& options, DecodedPayload& out) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  ASSIGN_OR_RETURN(nostr::UnsignedEvent ev, nostr::UnsignedEvent::Parse(text));
  if (options.public_key.size() != 32) return absl::InvalidArgumentError("nostr signing needs a 32-byte x-only key");
  crypto::XOnlyPublicKey pub;
  std::copy(options.public_key.begin(), options.public_key.end(), pub.begin());
  if (ev.expected_pubkey() && *ev.expected_pubkey() != pub) {
    return absl::InvalidArgumentError("event.pubkey names a different key than the one asked to sign");
  }
  out.digest = nostr::ComputeEventId(pub, ev);
  policy::NostrFacts n;
  n.event_kind = ev.kind();
  n.tags = ev.tags();
  out.facts.nostr = std::move(n);
  out.event = std::move(ev);
  return absl::OkStatus();
}

absl::Status DecodeSolana(std::span<const uint8_t> bytes, DecodedPayload& out) {
  ASSIGN_OR_RETURN(solana::Message message, solana::Message::Parse(bytes));
  solana::MessageFacts mf = solana::ExtractFacts(message);
  policy::SolanaFacts s;
  for (const auto& program : mf.program_ids) s.programs.push_back(program.ToBase58());
  Uint256 native;
  for (const auto& t : mf.transfers) {
    policy::SolanaTransfer pt;
    pt.program = t.program.ToBase58();
    pt.to = t.to.ToString();
    pt.amount = t.amount;
    if (t.mint) pt.mint = t.mint->ToString();
    bool is_native = t.kind == solana::TransferKind::kSystemTransfer ||
                     t.kind == solana::TransferKind::kSystemTransferWithSeed ||
                     t.kind == solana::TransferKind::kSystemCreateAccount;
    if (is_native) {
      // Lamports are summed exactly; a total past 2^256 cannot be a real message.
      ASSIGN_OR_RETURN(native, native.Add(t.amount));
      if (!out.facts.to) out.facts.to = pt.to;
    }
    s.transfers.push_back(std::move(pt));
  }
  out.facts.value = native;
  out.facts.solana = std::move(s);
  out.message.assign(bytes.begin(), bytes.end());
  return absl::OkStatus();
}

}  // namespace

std::string SolanaAddress(std::span<const uint8_t> public_key) { return solana::Base58Encode(public_key); }
std::string SolanaSignatureText(std::span<const uint8_t> signature) { return solana::Base58Encode(signature); }

absl::StatusOr<DecodedPayload> DecodePayload(policy::Kind kind, std::span<const uint8_t> canonical,
                                             const DecodeOptions& options) {
  if (canonical.size() > kMaxPayloadBytes) {
    return absl::InvalidArgumentError("payload is " + std::to_string(canonical.size()) + " bytes; the limit is " +
                                      std::to_string(kMaxPayloadBytes));
  }
  DecodedPayload out;
  out.kind = kind;
  out.facts.kind = kind;
  out.payload_hash = crypto::Sha256(canonical);
  switch (kind) {
    case policy::Kind::kEthTx:
      RETURN_IF_ERROR(RequireScheme(options, keystore::KeyType::kSecp256k1, "eth_tx"));
      out.scheme = keystore::KeyType::kSecp256k1;
      RETURN_IF_ERROR(DecodeEthTx(canonical, options, out));
      break;
    case policy::Kind::kEthMessage:
      RETURN_IF_ERROR(RequireScheme(options, keystore::KeyType::kSecp256k1, "eth_message"));
      if (canonical.size() > eth::kMaxPersonalMessageSize) return absl::InvalidArgumentError("message too large");
      out.scheme = keystore::KeyType::kSecp256k1;
      out.digest = eth::PersonalMessageHash(canonical);
      break;
    case policy::Kind::kEthTypedData:
      RETURN_IF_ERROR(RequireScheme(options, keystore::KeyType::kSecp256k1, "eth_typed_data"));
      out.scheme = keystore::KeyType::kSecp256k1;
      RETURN_IF_ERROR(DecodeTypedData(canonical, out));
      break;
    case policy::Kind::kNostrEvent:
      RETURN_IF_ERROR(RequireScheme(options, keystore::KeyType::kSchnorr, "nostr_event"));
      out.scheme = keystore::KeyType::kSchnorr;
      RETURN_IF_ERROR(DecodeNostr(canonical, options, out));
      break;
    case policy::Kind::kSolanaTx:
      RETURN_IF_ERROR(RequireScheme(options, keystore::KeyType::kEd25519, "solana_tx"));
      out.scheme = keystore::KeyType::kEd25519;
      RETURN_IF_ERROR(DecodeSolana(canonical, out));
      break;
    case policy::Kind::kRawDigest:
      if (canonical.size() != 32) return absl::InvalidArgumentError("a raw digest is exactly 32 bytes");
      out.scheme = options.key_type;
      if (out.scheme == keystore::KeyType::kEd25519) {
        out.message.assign(canonical.begin(), canonical.end());
      } else {
        std::copy(canonical.begin(), canonical.end(), out.digest.begin());
      }
      break;
  }
  out.facts.from = KeyAddress(options.key_type, options.public_key);
  if (options.key_type == keystore::KeyType::kSecp256k1) out.facts.from = policy::NormalizeAddress(*out.facts.from);
  return out;
}

std::string KeyAddress(keystore::KeyType type, std::span<const uint8_t> public_key) {
  switch (type) {
    case keystore::KeyType::kSecp256k1: {
      if (public_key.size() != 65) return HexEncode0x(public_key);
      crypto::Secp256k1PublicKey pk;
      std::copy(public_key.begin(), public_key.end(), pk.begin());
      return eth::Address::FromPublicKey(pk).ToChecksumHex();
    }
    case keystore::KeyType::kSchnorr:
      return HexEncode(public_key);
    case keystore::KeyType::kEd25519:
      return SolanaAddress(public_key);
  }
  return HexEncode(public_key);
}

}  // namespace sigil::core
