#include "chains/solana/message.h"

#include <algorithm>
#include <set>
#include <utility>

#include "base/status.h"

namespace sigil::solana {
namespace {

constexpr uint8_t kVersionPrefixBit = 0x80;
constexpr size_t kMaxAccounts = 256;  // account indexes are u8

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}

  size_t offset() const { return pos_; }
  bool done() const { return pos_ == in_.size(); }

  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError("solana message: " + what + " at byte " + std::to_string(pos_));
  }

  absl::StatusOr<uint8_t> U8(const char* what) {
    if (pos_ >= in_.size()) return Error(std::string("truncated ") + what);
    return in_[pos_++];
  }

  absl::StatusOr<std::span<const uint8_t>> Take(size_t n, const char* what) {
    if (in_.size() - pos_ < n) return Error(std::string("truncated ") + what);
    auto out = in_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

  // compact-u16, accepting only the one canonical encoding of each value
  // (Solana's short_vec rules).
  absl::StatusOr<uint16_t> ShortVec(const char* what) {
    const size_t start = pos_;
    uint32_t value = 0;
    for (int i = 0; i < 3; ++i) {
      if (pos_ >= in_.size()) return Error(std::string("truncated length of ") + what);
      const uint8_t b = in_[pos_++];
      if (i > 0 && b == 0) {
        pos_ = start;
        return Error(std::string("non-canonical length of ") + what);
      }
      if (i == 2 && b > 0x03) {
        pos_ = start;
        return Error(std::string("length of ") + what + " does not fit 16 bits");
      }
      value |= static_cast<uint32_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) return static_cast<uint16_t>(value);
    }
    pos_ = start;
    return Error(std::string("length of ") + what + " does not fit 16 bits");
  }

  absl::StatusOr<std::vector<uint8_t>> ByteVec(const char* what) {
    ASSIGN_OR_RETURN(uint16_t n, ShortVec(what));
    ASSIGN_OR_RETURN(auto span, Take(n, what));
    return std::vector<uint8_t>(span.begin(), span.end());
  }

  absl::StatusOr<Pubkey> Key(const char* what) {
    ASSIGN_OR_RETURN(auto span, Take(Pubkey::kSize, what));
    return Pubkey::FromBytes(std::span<const uint8_t, Pubkey::kSize>(span.data(), Pubkey::kSize));
  }

 private:
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
};

void PutShortVec(Bytes& out, size_t n) {
  do {
    uint8_t b = n & 0x7f;
    n >>= 7;
    if (n) b |= 0x80;
    out.push_back(b);
  } while (n);
}

void PutBytes(Bytes& out, std::span<const uint8_t> b) { out.insert(out.end(), b.begin(), b.end()); }

absl::Status Invalid(const std::string& what) { return absl::InvalidArgumentError("solana message: " + what); }

}  // namespace

std::string AccountRef::ToString() const {
  if (key) return key->ToBase58();
  if (lookup_table) return "lookup:" + lookup_table->ToBase58() + "#" + std::to_string(lookup_index);
  return "account#" + std::to_string(index);
}

absl::StatusOr<Message> Message::Parse(std::span<const uint8_t> bytes, const MessageLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    return Invalid(std::to_string(bytes.size()) + " bytes; the limit is " + std::to_string(limits.max_bytes));
  }
  Reader r(bytes);
  Message m;
  ASSIGN_OR_RETURN(uint8_t first, r.U8("header"));
  if (first & kVersionPrefixBit) {
    const uint8_t version = first & ~kVersionPrefixBit;
    if (version != 0) return Invalid("unsupported message version " + std::to_string(version));
    m.version_ = MessageVersion::kV0;
    ASSIGN_OR_RETURN(m.header_.num_required_signatures, r.U8("header"));
  } else {
    m.version_ = MessageVersion::kLegacy;
    m.header_.num_required_signatures = first;
  }
  ASSIGN_OR_RETURN(m.header_.num_readonly_signed, r.U8("header"));
  ASSIGN_OR_RETURN(m.header_.num_readonly_unsigned, r.U8("header"));

  ASSIGN_OR_RETURN(uint16_t num_keys, r.ShortVec("account keys"));
  if (num_keys > kMaxAccounts) return r.Error("more than 256 account keys");
  std::set<Pubkey> seen;
  for (uint16_t i = 0; i < num_keys; ++i) {
    ASSIGN_OR_RETURN(Pubkey k, r.Key("account key"));
    if (!seen.insert(k).second) return Invalid("account key " + k.ToBase58() + " is listed twice");
    m.account_keys_.push_back(k);
  }
  ASSIGN_OR_RETURN(auto blockhash, r.Take(32, "recent blockhash"));
  std::copy(blockhash.begin(), blockhash.end(), m.recent_blockhash_.begin());

  ASSIGN_OR_RETURN(uint16_t num_instructions, r.ShortVec("instructions"));
  for (uint16_t i = 0; i < num_instructions; ++i) {
    CompiledInstruction ix;
    ASSIGN_OR_RETURN(ix.program_id_index, r.U8("instruction"));
    ASSIGN_OR_RETURN(ix.accounts, r.ByteVec("instruction accounts"));
    ASSIGN_OR_RETURN(ix.data, r.ByteVec("instruction data"));
    m.instructions_.push_back(std::move(ix));
  }
  if (m.version_ == MessageVersion::kV0) {
    ASSIGN_OR_RETURN(uint16_t num_lookups, r.ShortVec("address table lookups"));
    for (uint16_t i = 0; i < num_lookups; ++i) {
      AddressTableLookup l;
      ASSIGN_OR_RETURN(l.table, r.Key("lookup table key"));
      ASSIGN_OR_RETURN(l.writable_indexes, r.ByteVec("lookup writable indexes"));
      ASSIGN_OR_RETURN(l.readonly_indexes, r.ByteVec("lookup readonly indexes"));
      m.lookups_.push_back(std::move(l));
    }
  }
  if (!r.done()) return r.Error("trailing bytes after the message");

  // Solana's sanitize rules.
  const MessageHeader& h = m.header_;
  const size_t num_static = m.account_keys_.size();
  if (num_static == 0) return Invalid("no account keys (a fee payer is required)");
  if (size_t{h.num_required_signatures} + h.num_readonly_unsigned > num_static) {
    return Invalid("header describes more accounts than the message lists");
  }
  if (h.num_readonly_signed >= h.num_required_signatures) {
    return Invalid("no writable signer for the fee payer (num_readonly_signed >= num_required_signatures)");
  }
  size_t looked_up = 0;
  for (size_t i = 0; i < m.lookups_.size(); ++i) {
    const size_t n = m.lookups_[i].writable_indexes.size() + m.lookups_[i].readonly_indexes.size();
    if (n == 0) return Invalid("address table lookup " + std::to_string(i) + " loads no accounts");
    looked_up += n;
  }
  if (num_static + looked_up > kMaxAccounts) return Invalid("more than 256 accounts including lookups");
  const size_t total = num_static + looked_up;
  for (size_t i = 0; i < m.instructions_.size(); ++i) {
    const CompiledInstruction& ix = m.instructions_[i];
    const std::string where = "instruction " + std::to_string(i);
    if (ix.program_id_index >= num_static) return Invalid(where + ": program id index out of range of static keys");
    if (ix.program_id_index == 0) return Invalid(where + ": the fee payer cannot be the program");
    for (uint8_t a : ix.accounts) {
      if (a >= total) return Invalid(where + ": account index " + std::to_string(a) + " out of range");
    }
  }
  m.bytes_.assign(bytes.begin(), bytes.end());
  return m;
}

std::vector<Pubkey> Message::RequiredSigners() const {
  return {account_keys_.begin(), account_keys_.begin() + header_.num_required_signatures};
}

size_t Message::total_account_count() const {
  size_t n = account_keys_.size();
  for (const auto& l : lookups_) n += l.writable_indexes.size() + l.readonly_indexes.size();
  return n;
}

AccountRef Message::ResolveAccount(uint8_t index) const {
  AccountRef ref;
  ref.index = index;
  const size_t num_static = account_keys_.size();
  const size_t num_signed = header_.num_required_signatures;
  if (index < num_static) {
    ref.key = account_keys_[index];
    ref.signer = index < num_signed;
    if (ref.signer) {
      ref.writable = index < num_signed - header_.num_readonly_signed;
    } else {
      ref.writable = index < num_static - header_.num_readonly_unsigned;
    }
    return ref;
  }
  // Looked-up keys: every table's writable indexes in order, then every
  // table's readonly indexes in order.
  size_t k = index - num_static;
  for (const auto& l : lookups_) {
    if (k < l.writable_indexes.size()) {
      ref.lookup_table = l.table;
      ref.lookup_index = l.writable_indexes[k];
      ref.writable = true;
      return ref;
    }
    k -= l.writable_indexes.size();
  }
  for (const auto& l : lookups_) {
    if (k < l.readonly_indexes.size()) {
      ref.lookup_table = l.table;
      ref.lookup_index = l.readonly_indexes[k];
      return ref;
    }
    k -= l.readonly_indexes.size();
  }
  return ref;  // out of range: not reachable for indexes in a parsed message
}

Bytes Message::Serialize() const {
  Bytes out;
  if (version_ == MessageVersion::kV0) out.push_back(kVersionPrefixBit);
  out.push_back(header_.num_required_signatures);
  out.push_back(header_.num_readonly_signed);
  out.push_back(header_.num_readonly_unsigned);
  PutShortVec(out, account_keys_.size());
  for (const Pubkey& k : account_keys_) PutBytes(out, k.bytes());
  PutBytes(out, recent_blockhash_);
  PutShortVec(out, instructions_.size());
  for (const auto& ix : instructions_) {
    out.push_back(ix.program_id_index);
    PutShortVec(out, ix.accounts.size());
    PutBytes(out, ix.accounts);
    PutShortVec(out, ix.data.size());
    PutBytes(out, ix.data);
  }
  if (version_ == MessageVersion::kV0) {
    PutShortVec(out, lookups_.size());
    for (const auto& l : lookups_) {
      PutBytes(out, l.table.bytes());
      PutShortVec(out, l.writable_indexes.size());
      PutBytes(out, l.writable_indexes);
      PutShortVec(out, l.readonly_indexes.size());
      PutBytes(out, l.readonly_indexes);
    }
  }
  return out;
}

}  // namespace sigil::solana
